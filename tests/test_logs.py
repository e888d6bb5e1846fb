"""Logs: no message text, names, usernames, phone numbers, user ids or the bot token, at any
level, from our code or from the libraries (python-telegram-bot, httpx, aiosqlite)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from conftest import TOKEN, RunningBot
from helpers import forget_confirmed
from test_bot_e2e import cb, eventually
from test_bot_e2e import sent_after as _sent_after

from bot.telegram import logs
from bot.telegram.delivery import MAX_RETRIES
from bot.telegram.logs import PrivacyFilter, hash_user, scrub

USER = 731942685
MARKER = "zq-MARKER-7f3a"
FIRST_NAME = "Yolanda-Firstname"
USERNAME = "yolanda_handle_88"
PHONE = "305 555 0199"
#: Every logger that could carry a payload, set to DEBUG by the test.
LOGGERS = (
    "",
    "bot",
    "telegram",
    "telegram.ext",
    "telegram.ext.ExtBot",
    "telegram.Bot",
    "telegram.ext.Application",
    "telegram.ext.Updater",
    "telegram.ext.AIORateLimiter",
    "telegram.request",
    "httpx",
    "httpcore",
    "aiosqlite",
    "apscheduler",
    "asyncio",
)


async def sent_after(fake, inject, **kwargs):
    return await _sent_after(fake, inject, chat_id=USER, **kwargs)


def secrets() -> list[str]:
    return [MARKER, FIRST_NAME, USERNAME, PHONE, "555 0199", str(USER), TOKEN, TOKEN.split(":")[1]]


def leaks(records: list[logging.LogRecord]) -> list[tuple[str, str]]:
    found = []
    for record in records:
        text = (
            record.getMessage()
            + "\n"
            + (record.exc_text or "")
            + (logging.Formatter().formatException(record.exc_info) if record.exc_info and not record.exc_text else "")
        )
        found += [(record.name, s) for s in secrets() if s in text]
    return found


async def test_no_text_name_phone_id_or_token_in_any_log_record(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    fake = bot.fake
    who = {"first_name": FIRST_NAME, "username": USERNAME, "language_code": "es"}

    # questions answered, unclear, escalated; a button; an edit; a non-text message
    await sent_after(fake, lambda: fake.message(USER, f"se acabó el parole? {MARKER} mi tel {PHONE}", **who))
    await sent_after(fake, lambda: fake.message(USER, f"{MARKER} capital de Mongolia", **who))
    await sent_after(fake, lambda: fake.callback_query(USER, cb("a", "work-permit"), **who))
    await sent_after(fake, lambda: fake.callback_query(USER, f"1|a|{MARKER}", **who))
    await sent_after(fake, lambda: fake.edited_message(USER, f"{MARKER} editado", **who))
    # Bot API faults: a 429, a 500 given up after the retries, a 403
    fake.fail_next("sendMessage", status=429, retry_after=1)
    await sent_after(fake, lambda: fake.message(USER, f"{MARKER} permiso de trabajo", **who))
    fake.fail_next("sendMessage", status=500, count=MAX_RETRIES + 1)
    fake.message(USER, f"{MARKER} otra pregunta", **who)
    await eventually(
        lambda: any(r.name == "bot.telegram.outbox" and "NetworkError" in r.getMessage() for r in caplog.records)
    )
    fake.block_user(USER)
    fake.message(USER, f"{MARKER} bloqueado", **who)

    async def inactive() -> bool:
        return not (await bot.storage.user(USER)).active

    await eventually(inactive)
    fake.unblock_user(USER)
    await forget_confirmed(fake, USER, **who)

    assert any(r.name.startswith("bot.") for r in caplog.records), "the bot's own records were captured"
    assert any(hash_user(USER, "test-salt") in r.getMessage() for r in caplog.records), "users appear as hashes"
    assert leaks(caplog.records) == []
    assert not [r for r in caplog.records if r.name.startswith("httpx") and r.levelno < logging.WARNING]


async def test_the_check_catches_a_leak_when_the_filter_is_off(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    """Proof that the test above can fail: without the filter PTB logs the message text at DEBUG."""
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    unfiltered = [logging.getLogger("telegram.ext.ExtBot"), *logging.getLogger().handlers]
    for where in unfiltered:
        where.removeFilter(logs._FILTER)
    try:
        await sent_after(
            bot.fake, lambda: bot.fake.message(USER, f"{MARKER} se acabó el parole?", first_name=FIRST_NAME)
        )
    finally:
        for where in unfiltered:
            where.addFilter(logs._FILTER)
    assert ("telegram.ext.ExtBot", MARKER) in leaks(caplog.records)


def test_filter_drops_payload_records_and_hides_the_token() -> None:
    logs.protect(TOKEN)
    check = PrivacyFilter()

    def record(name: str, level: int, msg: str, *args: object) -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, msg, args, None)

    assert not check.filter(
        record(
            "telegram.ext.ExtBot",
            logging.DEBUG,
            "Calling Bot API endpoint `%s` with parameters `%s`",
            "sendMessage",
            {"text": MARKER},
        )
    )
    assert not check.filter(
        record("httpx", logging.INFO, "HTTP Request: POST %s", f"https://api.telegram.org/bot{TOKEN}/getMe")
    )
    assert not check.filter(record("aiosqlite", logging.DEBUG, "executing %s", MARKER))
    kept = record(
        "telegram.ext.Updater", logging.ERROR, "Error while getting Updates: %s", f"url /bot{TOKEN}/getUpdates"
    )
    assert check.filter(kept)
    assert kept.getMessage() == f"Error while getting Updates: {logs.OMITTED}"  # a library's text argument
    prefix = "Network Retry Loop (Polling Updates): Timed out"  # the one the library's own
    kept = record("telegram.ext", logging.ERROR, "%s Failed run number %s of %s.", f"{prefix} /bot{TOKEN}/", 3, 3)
    assert check.filter(kept)
    assert kept.getMessage() == f"{prefix} /bot{logs.HIDDEN}/ Failed run number 3 of 3."
    ours = record("bot.telegram.handlers", logging.DEBUG, "user %s", hash_user(USER, "s"))
    assert check.filter(ours) and ours.getMessage() == f"user {hash_user(USER, 's')}"
    try:
        raise RuntimeError(f"token {TOKEN} in an exception")
    except RuntimeError:
        import sys

        failed = logging.LogRecord("bot.x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    assert check.filter(failed)
    assert TOKEN not in failed.exc_text and "RuntimeError" in failed.exc_text
    assert scrub(f"a {TOKEN} b") == f"a {logs.HIDDEN} b"


def test_setup_silences_httpx_below_warning(tmp_path: Path) -> None:
    logs.setup()
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("httpcore").getEffectiveLevel() >= logging.WARNING


def test_filter_keeps_no_update_content_in_library_records() -> None:
    """python-telegram-bot's records at any level keep numbers and exception classes, never what
    an update holds (its own CRITICAL "Received data was %r", an Update, an exception message)."""
    import sys

    from telegram import Update
    from telegram.error import BadRequest

    check = PrivacyFilter()
    update = Update.de_json(
        {
            "update_id": 77,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": USER, "type": "private", "first_name": FIRST_NAME},
                "text": f"{MARKER} {PHONE}",
            },
        },
        None,
    )

    def with_error(name: str, msg: str, *args: object) -> logging.LogRecord:
        try:
            try:
                int(f"{FIRST_NAME} {PHONE}")
            except ValueError as exc:
                raise KeyError(MARKER) from exc
        except KeyError:
            return logging.LogRecord(name, logging.CRITICAL, __file__, 1, msg, args, sys.exc_info())

    batch = with_error("telegram.Bot", "Error while parsing updates! Received data was %r", [update.to_dict()])
    building = with_error("telegram.ext.Application", "Error while building CallbackContext for update %s", update)
    numbers = logging.LogRecord(
        "telegram.ext.AIORateLimiter",
        logging.INFO,
        __file__,
        1,
        "Rate limit hit. Retrying after %f seconds",
        (1.5,),
        None,
    )
    try:
        raise BadRequest("Chat not found")
    except BadRequest as exc:
        refused = logging.LogRecord(
            "telegram.ext.Updater", logging.ERROR, __file__, 1, "Error while polling: %r", (exc,), sys.exc_info()
        )
    named = logging.LogRecord("telegram.ext", logging.ERROR, __file__, 1, "%(data)s", ({"data": {"t": MARKER}},), None)
    records = [batch, building, numbers, refused, named]
    for record in records:
        assert check.filter(record) and check.filter(record)  # twice: the logger's and a handler's filter
    text = "\n".join(logging.Formatter(logs.FORMAT).format(r) for r in records)
    assert leaks(records) == [] and not [s for s in secrets() if s in text], text
    assert batch.getMessage() == f"Error while parsing updates! Received data was {logs.OMITTED!r}"
    assert building.getMessage() == f"Error while building CallbackContext for update {logs.OMITTED}"
    assert numbers.getMessage() == "Rate limit hit. Retrying after 1.500000 seconds"
    assert refused.getMessage() == "Error while polling: 'BadRequest'"
    assert named.getMessage() == logs.OMITTED
    # the traceback keeps its frames and exception classes; Telegram's own answers are kept
    assert batch.exc_text is not None and batch.exc_info is None
    assert "Traceback (most recent call last):" in batch.exc_text and "int(f" in batch.exc_text
    assert f"ValueError: {logs.OMITTED}" in batch.exc_text and f"KeyError: {logs.OMITTED}" in batch.exc_text
    assert "The above exception was the direct cause of the following exception:" in batch.exc_text
    assert batch.exc_text.index("ValueError") < batch.exc_text.index("KeyError")
    assert refused.exc_text is not None and "telegram.error.BadRequest: Chat not found" in refused.exc_text
