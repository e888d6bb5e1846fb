"""Updates python-telegram-bot cannot read ("poison" updates), end to end against the fake Bot API.

Left to the library, one such update in a ``getUpdates`` batch stopped the bot: no update was
processed any more, the raw batch (names, phone numbers) was logged at CRITICAL on every poll,
and SIGTERM did not stop it; a webhook body it could not read was logged whole. Here the bad
update is skipped and confirmed (never fetched again), the good ones around it are answered,
and the log holds one line with its update id and no name, phone number or text of any update,
whatever the level (caplog at DEBUG for every logger, or the stderr of ``python -m bot run``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import make_settings, start_bot, stop_bot
from fakebotapi import FakeBotAPI
from test_webhook import SECRET, bot_env, free_port, start_process, stop_process, wait_listening

from bot.telegram import delivery, logs, updates
from bot.telegram.app import ALLOWED_UPDATES, build_application
from bot.telegram.services import Services

FIRST, SECOND, POISONED = 4242, 5151, 6363
#: (first name, phone number) of the two good updates and of the poison one.
GOOD = {FIRST: ("Marisol-Quintero", "786 555 0142"), SECOND: ("Rigoberto-Alvarez", "954 555 0123")}
POISON_NAME, POISON_PHONE = "Yolanda-Perez", "305 555 0199"
SECRETS = (*[part for pair in GOOD.values() for part in pair], POISON_NAME, POISON_PHONE, "mi telefono es")
#: Every logger that could carry a payload, set to DEBUG by the in-process tests.
LOGGERS = ("", "bot", "telegram", "httpx", "httpcore", "aiosqlite", "asyncio", "tornado", "apscheduler")


def good(fake: FakeBotAPI, user: int) -> dict:
    """A question with the sender's name and a phone number in it (the bot answers it)."""
    name, phone = GOOD[user]
    return fake.message(user, f"se acabo el parole? mi telefono es {phone}", first_name=name, language_code="es")


def poison(update_id: int | None = None) -> dict:
    """A message python-telegram-bot cannot read (its date is text), with a name and a phone."""
    person = {"id": POISONED, "is_bot": False, "first_name": POISON_NAME, "language_code": "es"}
    update: dict = {
        "message": {
            "message_id": 7,
            "date": "ayer por la tarde",
            "chat": {"id": POISONED, "type": "private", "first_name": POISON_NAME},
            "from": person,
            "text": f"mi telefono es {POISON_PHONE}",
        }
    }
    if update_id is not None:
        update["update_id"] = update_id
    return update


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def record_text(records: list[logging.LogRecord]) -> str:
    formatter = logging.Formatter(logs.FORMAT)
    return "\n".join(formatter.format(record) for record in records)


def debug_everywhere(caplog: pytest.LogCaptureFixture) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)


# -- polling ---------------------------------------------------------------------------------


async def test_a_poison_update_in_a_batch_is_skipped_and_confirmed(
    fake_api: FakeBotAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    debug_everywhere(caplog)
    app = build_application(make_settings(fake_api, tmp_path), Services.load(make_settings(fake_api, tmp_path)))
    # queued before the bot starts, so its first getUpdates returns the three in one batch
    before = good(fake_api, FIRST)
    bad = fake_api.add_update(poison())
    after = good(fake_api, SECOND)
    assert before["update_id"] < bad["update_id"] < after["update_id"]
    started = time.monotonic()
    await start_bot(app)
    try:
        for user in (FIRST, SECOND):
            await fake_api.wait_for("sendMessage", lambda c, u=user: c.ok and c.chat_id == u, timeout=5)
        answered = time.monotonic() - started
        await asyncio.sleep(0.6)  # a few more polls
    finally:
        await stop_bot(app)

    polls = fake_api.calls_to("getUpdates")
    served = [p for p in polls if any(u["update_id"] == bad["update_id"] for u in p.result or [])]
    assert len(served) == 1, "the poison update was fetched again"
    assert [p for p in polls if p.seq > served[0].seq and int(p.params.get("offset") or 0) <= bad["update_id"]] == []
    assert bad["update_id"] not in [u["update_id"] for u in fake_api.pending_updates]
    assert fake_api.sent_messages(POISONED) == []  # skipped: nobody is answered on its behalf

    text = record_text(caplog.records)
    assert leaks(text) == [], text
    skipped = [r for r in caplog.records if r.name == "bot.telegram.updates"]
    assert [r.getMessage() for r in skipped] == [f"update {bad['update_id']} cannot be read (TypeError): skipped"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # the empty update is handled quietly
    print(f"\npolling: both good updates answered {answered:.2f} s after start-up; {len(polls)} polls")


async def test_a_poison_update_does_not_stop_python_m_bot_run(fake_api: FakeBotAPI, tmp_path: Path) -> None:
    """As users run it: ``python -m bot run`` (INFO logs on stderr) answers around the bad update
    and stops on SIGTERM with exit status 0."""
    before = good(fake_api, FIRST)
    bad = fake_api.add_update(poison())
    good(fake_api, SECOND)
    process = await start_process([sys.executable, "-m", "bot", "run"], bot_env(fake_api, tmp_path))
    try:
        for user in (FIRST, SECOND):
            await fake_api.wait_for("sendMessage", lambda c, u=user: c.ok and c.chat_id == u, timeout=60)
        await asyncio.sleep(0.5)
        stopping = time.monotonic()
        log = await stop_process(process)
        stopped = time.monotonic() - stopping
    finally:
        if process.returncode is None:
            await stop_process(process)
    assert process.returncode == 0, log
    assert stopped < 10
    assert leaks(log) == [], log
    assert "CRITICAL" not in log and "Traceback" not in log
    assert log.count(f"update {bad['update_id']} cannot be read (TypeError): skipped") == 1
    served = [
        p for p in fake_api.calls_to("getUpdates") if any(u["update_id"] == bad["update_id"] for u in p.result or [])
    ]
    assert len(served) == 1
    assert before["update_id"] not in [u["update_id"] for u in fake_api.pending_updates]
    print(f"\npython -m bot run: stopped {stopped:.2f} s after SIGTERM; log {len(log)} bytes")


def test_the_application_keeps_its_options(fake_api: FakeBotAPI, tmp_path: Path) -> None:
    """The getUpdates connection is the screening one; the rate limiter, timeouts and base URL
    of every other call are still the application's."""
    settings = make_settings(fake_api, tmp_path)
    app = build_application(settings, Services.load(settings))
    assert isinstance(app.bot.rate_limiter, delivery.RetryingRateLimiter)
    assert app.bot.base_url == f"{fake_api.base_url}{settings.token}"
    assert app.bot.request.read_timeout == delivery.READ_TIMEOUT
    assert isinstance(app.bot._request[0], updates.UpdatesRequest)
    assert app.bot._request[0] is not app.bot.request


def test_screen_keeps_good_updates_and_confirms_bad_ones() -> None:
    first = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}}
    last = {"update_id": 4}
    assert updates.screen([first, poison(2), "not an update", {"no": "id"}, poison(), last]) == [
        first,
        {"update_id": 2},
        last,
    ]


# -- webhook ---------------------------------------------------------------------------------


def _post(url: str, body: bytes, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code


async def post(url: str, body: bytes, secret: str | None = SECRET) -> int:
    return await asyncio.to_thread(_post, url, body, secret)


async def test_a_webhook_body_the_library_cannot_read_is_answered_and_never_logged(
    fake_api: FakeBotAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    debug_everywhere(caplog)
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/updates"
    settings = make_settings(fake_api, tmp_path, webhook_url=url, webhook_secret=SECRET)
    app = build_application(settings, Services.load(settings))
    await app.initialize()
    await app.post_init(app)
    await app.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="telegram/updates",
        webhook_url=url,
        secret_token=SECRET,
        allowed_updates=ALLOWED_UPDATES,
    )
    await app.start()
    try:
        await wait_listening(port)
        first = good(fake_api, FIRST)
        assert await post(url, json.dumps(first).encode()) == 200
        await fake_api.wait_for("sendMessage", lambda c: c.ok and c.chat_id == FIRST, timeout=5)

        # With the right secret: an update the library cannot read, a large one, a body that is
        # not JSON, one that is not UTF-8, JSON that is not an update: 200 (Telegram does not
        # send them again), nothing processed, nothing of them in the log.
        big = poison(900001)
        big["message"]["text"] = f"{POISON_NAME} {POISON_PHONE} " * 40_000  # about 1 MB
        bodies = [
            json.dumps(poison(900000)).encode(),
            json.dumps(big).encode(),
            f"{POISON_NAME} {POISON_PHONE}".encode(),
            b"\xff\xfe" + POISON_NAME.encode("utf-16-le"),
            json.dumps([POISON_NAME, POISON_PHONE]).encode(),
        ]
        started = time.monotonic()
        assert [await post(url, body) for body in bodies] == [200] * len(bodies)
        # without the secret: refused as before, and not logged either
        assert await post(url, json.dumps(poison(900002)).encode(), None) == 403

        mark = fake_api.mark()
        assert await post(url, json.dumps(good(fake_api, SECOND)).encode()) == 200
        await fake_api.wait_for("sendMessage", lambda c: c.ok and c.chat_id == SECOND, since=mark, timeout=5)
        answered = time.monotonic() - started
    finally:
        await stop_bot(app)

    assert fake_api.sent_messages(POISONED) == []
    text = record_text(caplog.records)
    assert leaks(text) == [], text[:2000]
    skipped = [r.getMessage() for r in caplog.records if r.name == "bot.telegram.updates"]
    assert skipped[:2] == [
        "update 900000 cannot be read (TypeError): skipped",
        "update 900001 cannot be read (TypeError): skipped",
    ]
    assert [line.split(" (")[0] for line in skipped[2:]] == ["webhook: a body that is not JSON"] * 2 + [
        "update None cannot be read"
    ]
    assert len(text) < 20_000, "the log holds no body"
    print(
        f"\nwebhook: the good update after {len(bodies)} bad bodies answered in {answered:.2f} s; log {len(text)} bytes"
    )


# -- what the library logs by itself ---------------------------------------------------------


async def test_the_library_s_own_critical_record_carries_no_payload(
    fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """python-telegram-bot's own "Received data was %r" record, as it logs it when nothing screens
    the batch (a plain Bot): kept, with the exception's class, without the batch."""
    from telegram import Bot

    debug_everywhere(caplog)
    logs.protect()
    good(fake_api, FIRST)
    fake_api.add_update(poison())
    async with Bot("123:TEST", base_url=fake_api.base_url) as plain:
        with pytest.raises(TypeError):
            await plain.get_updates(timeout=0)
    [critical] = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    text = record_text([critical])
    assert critical.name == "telegram.Bot" and "Received data was" in text
    assert "TypeError" in text and logs.OMITTED in text
    assert leaks(text) == [], text


def test_the_check_sees_the_library_s_payload_without_the_filter() -> None:
    """Proof that the checks above can fail: the same kind of record, unfiltered, leaks."""
    record = logging.LogRecord(
        "telegram.Bot", logging.CRITICAL, __file__, 1, "Received data was %r", ([poison(1)],), None
    )
    assert POISON_NAME in record_text([record])
    assert logs.PrivacyFilter().filter(record)
    assert leaks(record_text([record])) == []
