"""The bot's own wording (not the answers, which live in knowledge/), through gettext.

Catalogs are ``locales/<lang>/LC_MESSAGES/bot.po``. At start-up each ``.po`` is compiled in
memory with Babel, so a fresh clone works without a build step; ``pybabel compile`` (see
README) produces the same ``.mo`` files for images that prefer them. A missing catalog stops
start-up loudly instead of silently falling back to English.

Mark strings with ``_(lang, "text")``; extraction runs with ``-k _:2`` (see ``babel.cfg``).
"""

from __future__ import annotations

import io
from functools import cache
from gettext import GNUTranslations
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.config import data_dir
from bot.core.langs import LANGS

LOCALES_DIR = data_dir("locales")
DOMAIN = "bot"


class MissingCatalog(RuntimeError):
    pass


@cache
def translations(lang: str, locales_dir: Path = LOCALES_DIR) -> GNUTranslations:
    """Compiled catalog for ``lang`` (compiled from the .po file on first use)."""
    if lang not in LANGS:
        raise MissingCatalog(f"unknown language {lang!r}")
    mo = locales_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    po = mo.with_suffix(".po")
    if po.exists() and (not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime):
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return GNUTranslations(buffer)
    if mo.exists():
        with mo.open("rb") as handle:
            return GNUTranslations(handle)
    raise MissingCatalog(f"no translation catalog for {lang!r}: expected {po}")


def load_all(locales_dir: Path = LOCALES_DIR) -> None:
    """Compile every catalog now, so a missing one stops start-up, not a conversation."""
    for lang in LANGS:
        translations(lang, locales_dir)


def _(lang: str, message: str, **values: object) -> str:
    """Translate ``message`` into ``lang`` and fill in ``{placeholders}``."""
    text = translations(lang if lang in LANGS else "en").gettext(message)
    return text.format(**values) if values else text
