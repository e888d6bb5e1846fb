"""Settings, read once from the environment into one frozen object and passed down.

Only ``bot.cli`` calls ``Settings.from_env(os.environ)``; nothing reads the environment at
import time. A missing or malformed value raises ``ConfigError`` with one clear line naming
the variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_BASE_URL = "https://api.telegram.org/bot"


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


@dataclass(frozen=True)
class Settings:
    token: str = field(default="", repr=False)
    base_url: str = DEFAULT_BASE_URL
    base_file_url: str = ""
    volunteer_chat_id: int | None = None
    admin_user_ids: frozenset[int] = frozenset()
    database_path: Path = Path("data/bot.sqlite3")
    knowledge_dir: Path = Path("knowledge")
    retention_days: int = 30
    flood_limit: int = 20  # messages per user per minute
    log_salt: str = field(default="", repr=False)
    webhook_url: str = ""
    webhook_secret: str = field(default="", repr=False)
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    health_port: int = 8080

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        base_url = env.get("TELEGRAM_BASE_URL", "").strip() or DEFAULT_BASE_URL
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"TELEGRAM_BASE_URL must start with http:// or https://, got {base_url!r}")
        file_url = env.get("TELEGRAM_BASE_FILE_URL", "").strip()
        if not file_url:
            file_url = base_url[: -len("/bot")] + "/file/bot" if base_url.endswith("/bot") else base_url.rstrip("/") + "/file/bot"
        admins: set[int] = set()
        for part in env.get("ADMIN_USER_IDS", "").replace(" ", "").split(","):
            if part:
                try:
                    admins.add(int(part))
                except ValueError:
                    raise ConfigError(f"ADMIN_USER_IDS must be numeric Telegram user ids separated by commas, got {part!r}") from None
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
        if token and (":" not in token or " " in token):
            raise ConfigError("TELEGRAM_BOT_TOKEN does not look like a bot token (expected 123456:ABC... from @BotFather)")
        return cls(
            token=token,
            base_url=base_url,
            base_file_url=file_url,
            volunteer_chat_id=_int(env, "VOLUNTEER_CHAT_ID", None),
            admin_user_ids=frozenset(admins),
            database_path=Path(env.get("DATABASE_PATH", "").strip() or "data/bot.sqlite3"),
            knowledge_dir=Path(env.get("KNOWLEDGE_DIR", "").strip() or "knowledge"),
            retention_days=_int(env, "RETENTION_DAYS", 30, minimum=1) or 30,
            flood_limit=_int(env, "FLOOD_LIMIT", 20, minimum=1) or 20,
            log_salt=env.get("LOG_SALT", "").strip(),
            webhook_url=env.get("WEBHOOK_URL", "").strip(),
            webhook_secret=env.get("WEBHOOK_SECRET", "").strip(),
            webhook_listen=env.get("WEBHOOK_LISTEN", "").strip() or "0.0.0.0",
            webhook_port=_int(env, "WEBHOOK_PORT", 8443, minimum=1) or 8443,
            health_port=_int(env, "HEALTH_PORT", 8080, minimum=0) or 0,
        )
