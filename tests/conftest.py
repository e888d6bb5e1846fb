"""Fixtures for the Telegram tests: a fake Bot API server on 127.0.0.1 and the real
``Application`` (``bot.telegram.app.build_application``) polling it over HTTP.

The bot runs on the small knowledge base in ``tests/data/knowledge`` (five entries, one of them
urgent), so these tests do not depend on the real content in ``knowledge/``. Each test gets a
fresh SQLite file in ``tmp_path``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fakebotapi import FakeBotAPI

from bot.config import Settings
from bot.telegram.app import build_application
from bot.telegram.services import Services

TESTS = Path(__file__).resolve().parent
#: The small, valid knowledge base the end-to-end tests run on.
TEST_KB = TESTS / "data" / "knowledge"
TOKEN = "123456:TEST-token_for-the-fake-bot-api-0000"
#: The volunteers' forum group and one of its members (the ``desk`` fixture).
VOLUNTEERS = -1009000
VOLUNTEER = 777


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # With filterwarnings=error, PTB 22 turns int durations (RetryAfter.retry_after ...) into a
    # deprecation warning unless the timedelta behaviour is opted in.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def fake_api():
    """A fake Bot API server (the bot has inline mode on, as README's set-up asks); getUpdates
    long polls at most 0.2 s so the bot stops quickly."""
    with FakeBotAPI(max_poll_wait=0.2, timeout_delay=2.0, inline_mode=True) as fake:
        yield fake
    assert not fake.errors, f"errors inside the fake: {fake.errors!r}"


def make_settings(fake: FakeBotAPI, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "token": TOKEN,
        "base_url": fake.base_url,
        "base_file_url": fake.base_file_url,
        "database_path": tmp_path / "bot.sqlite3",
        "knowledge_dir": TEST_KB,
        "log_salt": "test-salt",
        "health_port": 0,  # no /healthz server unless a test asks for one (tests/test_webhook.py)
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class RunningBot:
    """The started application, its fake server and its services."""

    app: Any
    fake: FakeBotAPI
    services: Services

    @property
    def storage(self):
        return self.services.storage

    @property
    def renderer(self):
        return self.services.renderer


async def start_bot(app: Any) -> None:
    """What ``run_polling`` does before it blocks: initialize, post_init, poll, start."""
    await app.initialize()
    await app.post_init(app)
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    await app.start()


async def stop_bot(app: Any) -> None:
    """What ``run_polling`` does on SIGTERM: stop polling, stop, post_stop, shutdown, post_shutdown."""
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
        if app.post_stop:
            await app.post_stop(app)
    await app.shutdown()
    await app.post_shutdown(app)


@pytest.fixture
async def bot(fake_api: FakeBotAPI, tmp_path: Path) -> AsyncIterator[RunningBot]:
    """The real application, started against ``fake_api`` with a fresh database."""
    settings = make_settings(fake_api, tmp_path)
    services = Services.load(settings)
    app = build_application(settings, services)
    await start_bot(app)
    try:
        yield RunningBot(app, fake_api, services)
    finally:
        await stop_bot(app)


class Launcher:
    """Starts applications on the same fake server and database; stops them all at the end."""

    def __init__(self, fake: FakeBotAPI, tmp_path: Path) -> None:
        self.fake, self.tmp_path = fake, tmp_path
        self.running: list[Any] = []

    async def __call__(self, *, read_timeout: float | None = None, **overrides: Any) -> RunningBot:
        overrides.setdefault("volunteer_chat_id", VOLUNTEERS)
        settings = make_settings(self.fake, self.tmp_path, **overrides)
        services = Services.load(settings)
        services.desk.retry_base = 0.2  # fast outbox retries
        app = build_application(settings, services, **({} if read_timeout is None else {"read_timeout": read_timeout}))
        await start_bot(app)
        self.running.append(app)
        return RunningBot(app, self.fake, services)

    async def stop(self, bot: RunningBot) -> None:
        self.running.remove(bot.app)
        await stop_bot(bot.app)


@pytest.fixture
async def launch(fake_api: FakeBotAPI, tmp_path: Path) -> AsyncIterator[Launcher]:
    launcher = Launcher(fake_api, tmp_path)
    try:
        yield launcher
    finally:
        for app in list(launcher.running):
            await stop_bot(app)


@pytest.fixture
async def desk(fake_api: FakeBotAPI, launch: Launcher) -> RunningBot:
    """The bot with a volunteers' forum group where it may manage topics."""
    fake_api.add_group(VOLUNTEERS, is_forum=True, title="Voluntarios")
    fake_api.set_member(VOLUNTEERS, VOLUNTEER, "member")
    return await launch()
