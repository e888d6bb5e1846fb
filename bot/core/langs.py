"""The languages the bot speaks: one tuple that feeds the CLI, detection, catalogs and tests."""

from typing import Literal

Lang = Literal["es", "ht", "en"]
LANGS: tuple[Lang, ...] = ("es", "ht", "en")
DEFAULT_LANG: Lang = "es"

#: Names shown in the language picker, each in its own language.
LANG_NAMES: dict[str, str] = {"es": "Español", "ht": "Kreyòl ayisyen", "en": "English"}


def coerce_lang(code: str | None) -> Lang | None:
    """Map a Telegram ``language_code`` such as ``"es-419"`` or ``"fr"`` to one of LANGS, or None."""
    if not code:
        return None
    base = code.replace("_", "-").split("-")[0].lower()
    if base in LANGS:
        return base
    if base == "fr":  # Haitians often run their phone in French
        return "ht"
    return None
