"""Running for real: webhook mode, ``/healthz``, and the container's start command.

The bot runs as users run it (``python -m bot run [--webhook]`` in a subprocess) against the
fake Bot API server, except where a test needs to reach inside (the database made unreachable).

- Webhook mode: the bot registers WEBHOOK_URL with its secret (setWebhook); a request with the
  right X-Telegram-Bot-Api-Secret-Token is answered, a wrong or missing one gets 403 and is
  never processed.
- ``/healthz`` answers 200 with the knowledge base version and "database": "ok", in webhook and
  polling mode, and 503 ("degraded") when the database cannot be reached.
- Docker is not available here, so the container's start-up is tested without it: the CMD of
  ``deploy/Dockerfile`` with the settings docker-compose passes (``deploy/.env.example`` filled
  in), then the Dockerfile's own HEALTHCHECK command.
- Missing or malformed WEBHOOK_URL / WEBHOOK_SECRET stop start-up with one line naming them.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_KB, TOKEN, make_settings, start_bot, stop_bot
from fakebotapi import FakeBotAPI

from bot.config import ConfigError, Settings, check_webhook, webhook_path
from bot.core import knowledge
from bot.telegram.app import ALLOWED_UPDATES, build_application
from bot.telegram.services import Services

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SECRET = "s3cr3t_Webhook-token_for-tests"
USER = 4242
STRANGER = 6161
INTRUDER = 7171


# -- helpers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kb_version() -> str:
    return knowledge.load(TEST_KB).kb.version


def kb_entries() -> int:
    return len(knowledge.load(TEST_KB).kb)


def _get(url: str, method: str = "GET") -> tuple[int, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, method=method), timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


async def http_get(port: int, path: str = "/healthz", method: str = "GET") -> tuple[int, Any]:
    """Status and decoded JSON body (None when empty) of a request to 127.0.0.1:port."""
    status, body = await asyncio.to_thread(_get, f"http://127.0.0.1:{port}{path}", method)
    return status, (json.loads(body) if body else None)


async def wait_listening(
    port: int,
    process: asyncio.subprocess.Process | None = None,
    timeout: float = 20,  # noqa: ASYNC109  a polling deadline that fails the test with a message
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if process is not None and process.returncode is not None:
                raise AssertionError(f"the bot exited with {process.returncode}") from None
            assert time.monotonic() < deadline, f"nothing listens on port {port}"
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return


def bot_env(fake: FakeBotAPI, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a ``python -m bot run`` subprocess (no setting inherited from ours)."""
    prefixes = ("TELEGRAM_", "KNOWLEDGE_", "DATABASE_", "ADMIN_", "VOLUNTEER_", "WEBHOOK_", "HEALTH_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": fake.base_url,
            "DATABASE_PATH": str(tmp_path / "data" / "bot.sqlite3"),
            "KNOWLEDGE_DIR": str(TEST_KB),
            "HEALTH_PORT": "0",
            "PYTHONPATH": str(ROOT),
            "PTB_TIMEDELTA": "true",
            "PYTHONWARNINGS": "error::ResourceWarning",
        }
    )
    env.update(extra)
    return env


async def start_process(args: list[str], env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *args,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def stop_process(process: asyncio.subprocess.Process) -> str:
    """SIGTERM, wait, and return stderr (the log); a process that hangs is killed."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), 15)
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()
    return stderr.decode()


def assert_healthy(status: int, body: Any) -> None:
    assert status == 200, body
    assert body["status"] == "ok"
    assert body["knowledge_base"] == {"version": kb_version(), "entries": kb_entries()}
    assert body["database"] == "ok"
    assert isinstance(body["uptime_seconds"], int) and body["uptime_seconds"] >= 0


# -- webhook mode ----------------------------------------------------------------------------


async def test_webhook_mode_processes_only_requests_with_the_secret(fake_api: FakeBotAPI, tmp_path: Path) -> None:
    hook_port, health_port = free_port(), free_port()
    url = f"http://127.0.0.1:{hook_port}/telegram/updates"
    env = bot_env(
        fake_api,
        tmp_path,
        WEBHOOK_URL=url,
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(hook_port),
        HEALTH_PORT=str(health_port),
    )
    process = await start_process([sys.executable, "-m", "bot", "run", "--webhook"], env)
    try:
        [registered] = await fake_api.wait_for("setWebhook", timeout=20)
        assert registered.params["url"] == url
        assert registered.params["secret_token"] == SECRET
        assert registered.params["allowed_updates"] == ALLOWED_UPDATES
        await wait_listening(hook_port, process)

        # A wrong secret and a missing one: 403, and the update is never processed.
        wrong = fake_api.command(STRANGER, "/start", language_code="en")
        assert await fake_api.apost_update(url, wrong, "not-the-secret") == 403
        missing = fake_api.command(INTRUDER, "/start", language_code="en")
        assert await fake_api.apost_update(url, missing, None) == 403
        assert await fake_api.apost_update(url, missing, SECRET + "x") == 403

        # The right secret (the one the bot gave setWebhook): processed and answered.
        mark = fake_api.mark()
        right = fake_api.command(USER, "/start", language_code="en")
        assert await fake_api.apost_update(None, right) == 200
        [answer] = await fake_api.wait_for("sendMessage", lambda c: c.ok and c.chat_id == USER, since=mark, timeout=10)
        assert answer.params["parse_mode"] == "HTML"

        # Only the right path answers (Telegram posts to the path of WEBHOOK_URL).
        other = fake_api.command(USER, "/help", language_code="en")
        assert await fake_api.apost_update(f"http://127.0.0.1:{hook_port}/elsewhere", other, SECRET) == 404

        assert_healthy(*await http_get(health_port))
        await asyncio.sleep(0.3)
        assert fake_api.sent_messages(STRANGER) == [] and fake_api.sent_messages(INTRUDER) == []
        assert fake_api.calls_to("getUpdates") == []  # no polling in webhook mode
        log = await stop_process(process)
    finally:
        if process.returncode is None:
            await stop_process(process)
    assert process.returncode == 0, log
    assert "Traceback" not in log
    assert SECRET not in log and TOKEN not in log
    assert len(fake_api.sent_messages(USER)) == 1


def test_the_webhook_path_is_the_path_of_webhook_url() -> None:
    assert webhook_path(Settings(webhook_url="https://bot.example.org/")) == ""
    assert webhook_path(Settings(webhook_url="https://bot.example.org")) == ""
    assert webhook_path(Settings(webhook_url="https://bot.example.org/telegram/hook")) == "telegram/hook"


@pytest.mark.parametrize(
    "url, secret, variable",
    [
        ("", SECRET, "WEBHOOK_URL"),
        ("bot.example.org/hook", SECRET, "WEBHOOK_URL"),
        ("ftp://bot.example.org/", SECRET, "WEBHOOK_URL"),
        ("https:///hook", SECRET, "WEBHOOK_URL"),
        ("https://bot.example.org/", "", "WEBHOOK_SECRET"),
        ("https://bot.example.org/", "has spaces in it", "WEBHOOK_SECRET"),
        ("https://bot.example.org/", "é" * 10, "WEBHOOK_SECRET"),
        ("https://bot.example.org/", "a" * 257, "WEBHOOK_SECRET"),
    ],
)
def test_check_webhook_names_the_bad_variable(url: str, secret: str, variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_webhook(Settings(webhook_url=url, webhook_secret=secret))
    message = str(caught.value)
    assert message.startswith(variable) and "\n" not in message
    if secret:
        assert secret not in message  # the secret is never printed


@pytest.mark.parametrize("secret", ["a", "A-z_0-9", "x" * 256])
def test_check_webhook_accepts_what_telegram_accepts(secret: str) -> None:
    check_webhook(Settings(webhook_url="https://bot.example.org/hook", webhook_secret=secret))
    check_webhook(Settings(webhook_url="http://127.0.0.1:8443/", webhook_secret=secret))


@pytest.mark.parametrize(
    "extra, variable",
    [
        ({"WEBHOOK_SECRET": SECRET}, "WEBHOOK_URL"),
        ({"WEBHOOK_URL": "https://bot.example.org/"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_URL": "https://bot.example.org/", "WEBHOOK_SECRET": "not a valid secret!"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_URL": "bot.example.org", "WEBHOOK_SECRET": SECRET}, "WEBHOOK_URL"),
    ],
)
async def test_webhook_mode_refuses_missing_settings_with_one_line(
    fake_api: FakeBotAPI, tmp_path: Path, extra: dict, variable: str
) -> None:
    process = await start_process(
        [sys.executable, "-m", "bot", "run", "--webhook"], bot_env(fake_api, tmp_path, **extra)
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 2  # a configuration error: systemd does not restart it
    assert len(lines) == 1 and variable in lines[0], lines
    assert "not a valid secret!" not in lines[0]
    assert fake_api.calls == []  # nothing was sent to Telegram


# -- /healthz --------------------------------------------------------------------------------


async def test_healthz_in_polling_mode_and_when_the_database_is_unreachable(
    fake_api: FakeBotAPI, tmp_path: Path
) -> None:
    port = free_port()
    settings = make_settings(fake_api, tmp_path, health_port=port)
    services = Services.load(settings)
    app = build_application(settings, services)
    await start_bot(app)
    try:
        assert_healthy(*await http_get(port))
        assert_healthy(*await http_get(port, "/healthz?probe=docker"))
        assert await http_get(port, "/healthz", method="HEAD") == (200, None)
        status, body = await http_get(port, "/")
        assert status == 404 and body["error"] == "not found"
        assert (await http_get(port, "/healthz", method="POST"))[0] == 405

        await services.storage.close()  # the database cannot be reached any more
        status, body = await http_get(port)
        assert status == 503
        assert body["status"] == "degraded" and body["database"] == "unreachable"
        assert body["knowledge_base"]["version"] == kb_version()
        await services.storage.open()
        assert (await http_get(port))[0] == 200
    finally:
        await stop_bot(app)
    with pytest.raises(OSError):  # closed with the bot
        await asyncio.open_connection("127.0.0.1", port)


async def test_healthz_port_zero_means_no_health_server(fake_api: FakeBotAPI, tmp_path: Path) -> None:
    settings = make_settings(fake_api, tmp_path, health_port=0)
    app = build_application(settings, Services.load(settings))
    await start_bot(app)
    try:
        assert app.bot_data["health"] is None
    finally:
        await stop_bot(app)


async def test_a_busy_health_port_does_not_stop_the_bot(
    fake_api: FakeBotAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = make_settings(fake_api, tmp_path, health_port=port)
        app = build_application(settings, Services.load(settings))
        await start_bot(app)
        try:
            assert app.bot_data["health"] is None
            assert any("HEALTH_PORT" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
            mark = fake_api.mark()
            fake_api.command(USER, "/start", language_code="en")
            await fake_api.wait_for("sendMessage", {"chat_id": USER}, since=mark)
        finally:
            await stop_bot(app)


# -- the container's start-up, without Docker ------------------------------------------------


def dockerfile_cmd() -> list[str]:
    """The exec-form CMD of deploy/Dockerfile."""
    [line] = [
        line for line in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines() if line.startswith("CMD ")
    ]
    return json.loads(line[len("CMD ") :])


def dockerfile_healthcheck() -> str:
    """The shell command of the Dockerfile's HEALTHCHECK (continuation lines joined)."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    [line] = [line for line in text.splitlines() if line.startswith("HEALTHCHECK ")]
    return line.split(" CMD ", 1)[1].strip()


def env_example() -> dict[str, str]:
    """The settings deploy/.env.example sets (what docker-compose passes with env_file: .env)."""
    values: dict[str, str] = {}
    for line in (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line)
        if match:
            values[match.group(1)] = match.group(2)
    return values


async def test_container_start_command_answers_healthz_without_docker(fake_api: FakeBotAPI, tmp_path: Path) -> None:
    """What `docker compose up` starts: the Dockerfile's CMD with .env (from .env.example, token
    filled in) and the image's paths moved into tmp_path; its HEALTHCHECK must pass."""
    cmd = dockerfile_cmd()
    assert cmd[:4] == ["python", "-m", "bot", "run"]
    port = free_port()
    env = bot_env(fake_api, tmp_path)
    env.update(env_example())
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": fake_api.base_url,  # the fake instead of api.telegram.org
            "DATABASE_PATH": str(tmp_path / "data" / "bot.sqlite3"),  # the image: /app/data/bot.sqlite3
            "KNOWLEDGE_DIR": str(TEST_KB),  # the image: /app/knowledge
            "HEALTH_PORT": str(port),
            "PATH": str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),  # "python" = this one
        }
    )
    process = await start_process([sys.executable, *cmd[1:]], env)
    try:
        await wait_listening(port, process)
        assert_healthy(*await http_get(port))
        probe = await asyncio.create_subprocess_exec(
            "sh",
            "-c",
            dockerfile_healthcheck(),
            env=env,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, probe_err = await asyncio.wait_for(probe.communicate(), 20)
        assert probe.returncode == 0, probe_err.decode()

        mark = fake_api.mark()
        fake_api.command(USER, "/start", language_code="es")
        await fake_api.wait_for("sendMessage", {"chat_id": USER}, since=mark, timeout=10)
        log = await stop_process(process)
    finally:
        if process.returncode is None:
            await stop_process(process)
    assert process.returncode == 0, log
    assert "Traceback" not in log and TOKEN not in log


def test_the_healthcheck_probe_fails_when_nothing_answers() -> None:
    """Negative control of the Dockerfile's HEALTHCHECK command: no server, exit status 1."""
    import subprocess

    env = {
        **os.environ,
        "HEALTH_PORT": str(free_port()),
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    }
    done = subprocess.run(["sh", "-c", dockerfile_healthcheck()], env=env, capture_output=True, timeout=30)
    assert done.returncode == 1
    assert shlex.split(dockerfile_healthcheck())[0] == "python"
