"""Settings, read once from the environment into one frozen object and passed down.

Only ``bot.cli`` calls ``Settings.from_env(os.environ)``; nothing reads the environment at
import time. A missing or malformed value raises ``ConfigError`` with one clear line naming
the variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bot.core.langs import LANGS

DEFAULT_BASE_URL = "https://api.telegram.org/bot"

#: A bot token as @BotFather issues it: the bot's numeric id, a colon, 35 letters, digits, - or _.
_TOKEN = re.compile(r"[0-9]{5,20}:[A-Za-z0-9_-]{30,64}")
#: Tokens printed in documentation (ours and Telegram's): never real, never sent to the network.
_EXAMPLE_TOKENS = frozenset(
    {"123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11", "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"}
)


def data_dir(name: str) -> Path:
    """``locales`` or ``knowledge``: the top-level folder of a checkout, or the copy a wheel carries.

    A checkout (editable install, or running from the repository) has ``<repo>/<name>`` beside the
    ``bot`` package; a wheel installs the same files as ``bot/_data/<name>`` (see pyproject.toml).
    """
    package = Path(__file__).resolve().parent
    checkout = package.parent / name
    return checkout if checkout.is_dir() else package / "_data" / name


class ConfigError(ValueError):
    pass


def _int(env: Mapping[str, str], name: str, default: int | None, minimum: int | None = None) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _lang(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in LANGS:
        raise ConfigError(f"{name} must be one of {', '.join(LANGS)}, got {raw!r}")
    return raw


@dataclass(frozen=True)
class Settings:
    token: str = field(default="", repr=False)
    base_url: str = DEFAULT_BASE_URL
    base_file_url: str = ""
    volunteer_chat_id: int | None = None
    volunteer_lang: str = "en"  # language of the bot's messages in the volunteers' group
    reply_hours: int = 24  # what users are told about the wait for a volunteer
    admin_user_ids: frozenset[int] = frozenset()
    database_path: Path = Path("data/bot.sqlite3")
    knowledge_dir: Path = field(default_factory=lambda: data_dir("knowledge"))
    #: trained models by knowledge-base version (bot.core.model); default: models/ next to the database
    model_cache_dir: Path | None = None
    operator_name: str = ""  # who runs this bot, shown by the about-bot answer
    operator_contact: str = ""  # how to reach them (e-mail, web page or @username)
    retention_days: int = 30
    flood_limit: int = 20  # messages per user per minute
    log_salt: str = field(default="", repr=False)
    webhook_url: str = ""
    webhook_secret: str = field(default="", repr=False)
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    health_port: int = 8080

    @property
    def model_cache(self) -> Path:
        """Where trained models are cached: MODEL_CACHE_DIR, else ``models/`` beside the database."""
        return self.model_cache_dir or self.database_path.parent / "models"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        base_url = env.get("TELEGRAM_BASE_URL", "").strip() or DEFAULT_BASE_URL
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"TELEGRAM_BASE_URL must start with http:// or https://, got {base_url!r}")
        file_url = env.get("TELEGRAM_BASE_FILE_URL", "").strip()
        if not file_url:
            file_url = (
                base_url[: -len("/bot")] + "/file/bot"
                if base_url.endswith("/bot")
                else base_url.rstrip("/") + "/file/bot"
            )
        admins: set[int] = set()
        for part in env.get("ADMIN_USER_IDS", "").replace(" ", "").split(","):
            if part:
                try:
                    admins.add(int(part))
                except ValueError:
                    raise ConfigError(
                        f"ADMIN_USER_IDS must be numeric Telegram user ids separated by commas, got {part!r}"
                    ) from None
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
        if token and (token in _EXAMPLE_TOKENS or not _TOKEN.fullmatch(token)):
            # never echo the token itself
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not a real bot token (expected the bot's number, a colon and 35 letters"
                " or digits, as @BotFather gives it; the README's example is a placeholder)"
            )
        return cls(
            token=token,
            base_url=base_url,
            base_file_url=file_url,
            volunteer_chat_id=_int(env, "VOLUNTEER_CHAT_ID", None),
            volunteer_lang=_lang(env, "VOLUNTEER_LANG", "en"),
            reply_hours=_int(env, "VOLUNTEER_REPLY_HOURS", 24, minimum=1) or 24,
            admin_user_ids=frozenset(admins),
            database_path=Path(env.get("DATABASE_PATH", "").strip() or "data/bot.sqlite3"),
            knowledge_dir=Path(env.get("KNOWLEDGE_DIR", "").strip() or data_dir("knowledge")),
            model_cache_dir=Path(env["MODEL_CACHE_DIR"].strip()) if env.get("MODEL_CACHE_DIR", "").strip() else None,
            operator_name=env.get("OPERATOR_NAME", "").strip(),
            operator_contact=env.get("OPERATOR_CONTACT", "").strip(),
            retention_days=_int(env, "RETENTION_DAYS", 30, minimum=1) or 30,
            flood_limit=_int(env, "FLOOD_LIMIT", 20, minimum=1) or 20,
            log_salt=env.get("LOG_SALT", "").strip(),
            webhook_url=env.get("WEBHOOK_URL", "").strip(),
            webhook_secret=env.get("WEBHOOK_SECRET", "").strip(),
            webhook_listen=env.get("WEBHOOK_LISTEN", "").strip() or "0.0.0.0",
            webhook_port=_int(env, "WEBHOOK_PORT", 8443, minimum=1) or 8443,
            health_port=_int(env, "HEALTH_PORT", 8080, minimum=0) or 0,
        )


#: What Telegram accepts as a webhook secret_token.
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def check_webhook(settings: Settings) -> None:
    """Raise ConfigError (one line naming the variable) unless the webhook settings can work:
    ``WEBHOOK_URL`` an http(s) address with a host, ``WEBHOOK_SECRET`` 1-256 of A-Z a-z 0-9 _ -."""
    url = settings.webhook_url
    if not url:
        raise ConfigError(
            "WEBHOOK_URL is not set: webhook mode needs the public https address Telegram sends updates to (see deploy/.env.example)"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url) or parts.fragment:
        raise ConfigError(f"WEBHOOK_URL must be an address like https://bot.example.org/, got {url!r}")
    secret = settings.webhook_secret
    if not secret:
        raise ConfigError(
            'WEBHOOK_SECRET is not set: webhook mode needs a secret (python3 -c "import secrets; print(secrets.token_urlsafe(32))")'
        )
    if not _WEBHOOK_SECRET.fullmatch(secret):
        # never echo the secret itself
        raise ConfigError(
            f"WEBHOOK_SECRET must be 1 to 256 characters of A-Z a-z 0-9 _ and - only (got {len(secret)} characters)"
        )


def webhook_path(settings: Settings) -> str:
    """The path of WEBHOOK_URL (the reverse proxy forwards it unchanged), without the leading /."""
    return urlsplit(settings.webhook_url).path.lstrip("/")
