"""End-to-end tests of the Telegram bot: the real ``Application`` over real HTTP against the
fake Bot API server on 127.0.0.1 (see ``conftest.py``).

Every test injects updates into the fake and asserts on the payloads the bot really sent:
chat_id, text, parse_mode, reply_markup callback_data, and what ended up in SQLite.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_KB, TOKEN, RunningBot
from fakebotapi import Call, FakeBotAPI
from helpers import eventually

from bot.core.knowledge import CATEGORIES
from bot.telegram.delivery import MAX_RETRIES
from bot.ui import callbacks
from bot.ui.i18n import _
from bot.ui.render import format_day

USER = 4242
OTHER = 5151
ROOT = Path(__file__).resolve().parent.parent


# -- helpers ---------------------------------------------------------------------------------


def buttons(call: Call) -> list[list[str]]:
    """What every inline button does, row by row: its callback_data, its url, or
    ``inline:<query>`` for a switch_inline_query button (Telegram's chat picker)."""
    markup = call.params.get("reply_markup") or {}
    return [[_does(b) for b in row] for row in markup.get("inline_keyboard", [])]


def _does(button: dict) -> str:
    if "switch_inline_query" in button:
        return "inline:" + button["switch_inline_query"]
    return button.get("callback_data", button.get("url"))


def flat(call: Call) -> list[str]:
    return [data for row in buttons(call) for data in row]


async def sent_after(
    fake: FakeBotAPI,
    inject: Callable[[], Any],
    *,
    chat_id: int = USER,
    count: int = 1,
    method: str = "sendMessage",
    timeout: float = 5.0,  # noqa: ASYNC109  handed to fake.wait_for, whose failure lists the calls seen
) -> list[Call]:
    """Inject an update and wait for ``count`` successful ``method`` calls to ``chat_id``."""
    mark = fake.mark()
    inject()
    return await fake.wait_for(
        method, lambda c: c.ok and c.chat_id == chat_id, count=count, since=mark, timeout=timeout
    )


def assert_html(call: Call, screen) -> None:
    assert call.params["parse_mode"] == "HTML"
    assert call.params["text"] == screen.html
    assert flat(call) == [
        b.url or (f"inline:{b.inline_query}" if b.inline_query is not None else b.data)
        for row in screen.buttons
        for b in row
    ]


def cb(action: str, arg: str = "") -> str:
    return callbacks.encode(action, arg)


MENU = [cb("c", c) for c in CATEGORIES]


# -- /start, /language, commands -------------------------------------------------------------


@pytest.mark.parametrize(
    "code, lang", [("es", "es"), ("es-419", "es"), ("ht", "ht"), ("fr", "ht"), ("en", "en"), ("en-US", "en")]
)
async def test_start_greets_in_the_telegram_language(bot: RunningBot, code: str, lang: str) -> None:
    [call] = await sent_after(bot.fake, lambda: bot.fake.command(USER, "/start", language_code=code))
    assert call.chat_id == USER
    assert_html(call, bot.renderer.welcome(lang))
    assert flat(call) == MENU
    assert _(lang, "Write your question in your own words, or pick a topic:") in call.text
    if lang != "en":  # really in that language, not the English fallback
        assert call.text != bot.renderer.welcome("en").html
    prefs = await bot.storage.user(USER)
    assert (prefs.lang, prefs.chosen, prefs.active) == (lang, False, True)


@pytest.mark.parametrize("code", [None, "ru"])
async def test_start_without_a_known_language_shows_the_picker(bot: RunningBot, code: str | None) -> None:
    [call] = await sent_after(bot.fake, lambda: bot.fake.command(USER, "/start", language_code=code))
    assert_html(call, bot.renderer.language_picker_any())
    assert flat(call) == [cb("l", "es"), cb("l", "ht"), cb("l", "en")]
    assert [b["text"] for row in call.params["reply_markup"]["inline_keyboard"] for b in row] == [
        "Español",
        "Kreyòl ayisyen",
        "English",
    ]
    assert (await bot.storage.user(USER)).lang is None


async def test_first_message_language_is_detected_and_remembered(bot: RunningBot) -> None:
    [call] = await sent_after(bot.fake, lambda: bot.fake.message(USER, "paròl la fini?", language_code=None))
    assert_html(call, bot.renderer.answer(bot.services.engine.kb.get("chnv-ended"), "ht"))
    assert (await bot.storage.user(USER)).lang == "ht"
    [call] = await sent_after(bot.fake, lambda: bot.fake.command(USER, "/topics", language_code=None))
    assert_html(call, bot.renderer.menu("ht"))


async def test_language_switch_is_stored_and_used(bot: RunningBot) -> None:
    fake = bot.fake
    await sent_after(fake, lambda: fake.command(USER, "/start", language_code="es"))
    [picker] = await sent_after(fake, lambda: fake.command(USER, "/language", language_code="es"))
    assert_html(picker, bot.renderer.language_picker("es"))
    assert flat(picker) == [cb("l", "es"), cb("l", "ht"), cb("l", "en")]

    [welcome] = await sent_after(fake, lambda: fake.callback_query(USER, cb("l", "ht"), language_code="es"))
    assert_html(welcome, bot.renderer.welcome("ht"))
    prefs = await bot.storage.user(USER)
    assert (prefs.lang, prefs.chosen) == ("ht", True)
    [ack] = fake.calls_to("answerCallbackQuery")
    assert ack.ok

    # /help now follows the choice, not Telegram's language_code
    [help_] = await sent_after(fake, lambda: fake.command(USER, "/help", language_code="es"))
    assert_html(help_, bot.renderer.help("ht"))
    # a one-word question whose language is unclear is answered in the chosen language ...
    entry = bot.services.engine.kb.get("chnv-ended")
    [unclear] = await sent_after(fake, lambda: fake.message(USER, "parole", language_code="es"))
    assert_html(unclear, bot.renderer.answer(entry, "ht"))
    # ... a question clearly written in English is answered in English, without changing the choice
    [english] = await sent_after(fake, lambda: fake.message(USER, "is the parole program over", language_code="es"))
    assert_html(english, bot.renderer.answer(entry, "en"))
    assert await bot.storage.user(USER) == prefs
    assert await bot.storage.daily_counts() == {("ht", "chnv-ended"): 1, ("en", "chnv-ended"): 1}


async def test_commands_are_registered_per_language(bot: RunningBot) -> None:
    names = ["start", "topics", "language", "help", "human"]
    default = '{"type": "default"}'
    for code, lang in [("es", "es"), ("ht", "ht"), ("en", "en"), ("fr", "ht"), ("", "es")]:
        registered = bot.fake.commands[(default, code)]
        assert [c["command"] for c in registered] == names
        assert registered[0]["description"] == _(lang, "Start and show the topics")


async def test_unknown_command_gets_help(bot: RunningBot) -> None:
    [call] = await sent_after(bot.fake, lambda: bot.fake.command(USER, "/whatever", language_code="en"))
    assert_html(call, bot.renderer.help("en"))


async def test_human_command_explains_how_to_get_help(bot: RunningBot) -> None:
    [call] = await sent_after(bot.fake, lambda: bot.fake.command(USER, "/human", language_code="es"))
    assert_html(call, bot.renderer.human_unavailable("es"))
    lawyer = bot.services.engine.kb.get("find-lawyer").text("es").answer
    assert lawyer.split(":")[0] in call.text


# -- free text -------------------------------------------------------------------------------


async def test_question_gets_the_answer(bot: RunningBot) -> None:
    fake = bot.fake
    [call] = await sent_after(fake, lambda: fake.message(USER, "se acabó el parole humanitario?", language_code="es"))
    entry = bot.services.engine.kb.get("chnv-ended")
    assert_html(call, bot.renderer.answer(entry, "es"))
    assert entry.text("es").answer in call.text
    assert format_day(entry.reviewed, "es") == "1 de octubre de 2025"
    assert "1 de octubre de 2025" in call.text
    assert buttons(call) == [
        [cb("a", "work-permit")],
        [cb("y", "chnv-ended"), cb("n", "chnv-ended")],
        [cb("h", "chnv-ended")],
        [cb("o", "chnv-ended")],  # follow and share behind "More": the answer stays on screen
    ]
    # "More" puts follow and share in its place; share opens Telegram's chat picker with the
    # answer's title typed after the bot's name (tests/test_inline_e2e.py: what that query shows)
    [more] = await sent_after(
        fake, lambda: fake.callback_query(USER, cb("o", "chnv-ended")), method="editMessageReplyMarkup"
    )
    assert buttons(more) == [
        [cb("a", "work-permit")],
        [cb("y", "chnv-ended"), cb("n", "chnv-ended")],
        [cb("h", "chnv-ended")],
        [cb("w", "chnv-ended"), "inline:El programa CHNV terminó"],
    ]
    question_id = fake.chat_history(USER)[0]["message_id"]
    assert call.params["reply_parameters"]["message_id"] == question_id
    assert call.params["link_preview_options"] == {"is_disabled": True}
    assert await bot.storage.daily_counts() == {("es", "chnv-ended"): 1}


async def test_answer_in_english_has_an_english_date(bot: RunningBot) -> None:
    [call] = await sent_after(
        bot.fake, lambda: bot.fake.message(USER, "is the parole program over", language_code="es")
    )
    assert "October 1, 2025" in call.text
    assert await bot.storage.daily_counts() == {("en", "chnv-ended"): 1}


async def test_urgent_answer_offers_a_person_first(bot: RunningBot) -> None:
    [call] = await sent_after(bot.fake, lambda: bot.fake.message(USER, "ice detuvo a mi esposo", language_code="es"))
    assert buttons(call)[0] == [cb("h", "ice-detention")]
    assert cb("y", "ice-detention") in flat(call)
    assert "<b>" in call.text  # the "if this is happening now" line


async def test_unclear_question_gets_suggestions(bot: RunningBot) -> None:
    text = "trabajo abogado"
    expected = bot.services.engine.respond(text, hints=(None, "es"))
    assert expected.action == "suggest" and len(expected.suggestions) >= 2  # the matcher's verdict
    [call] = await sent_after(bot.fake, lambda: bot.fake.message(USER, text, language_code="es"))
    # "g": the same answer as "a", and the pick teaches the bot (tests/test_learning_e2e.py)
    assert buttons(call) == [[cb("g", entry_id)] for entry_id in expected.suggestions] + [[cb("h")]]
    assert_html(call, bot.renderer.suggest(expected.suggestions, "es"))
    assert await bot.storage.daily_counts() == {("es", "suggest"): 1}
    # kept for the maintainers' report: the bot was not sure
    [(_day, lang, kept, closest, reason)] = await bot.storage.unanswered()
    assert (lang, kept, closest, reason) == ("es", text, expected.candidates[0].entry_id, "suggest")

    # picking a suggestion answers it, quoting the original question
    picked = expected.suggestions[0]
    [answer] = await sent_after(bot.fake, lambda: bot.fake.callback_query(USER, cb("g", picked)))
    assert_html(answer, bot.renderer.answer(bot.services.engine.kb.get(picked), "es"))
    assert answer.params["reply_parameters"]["message_id"] == bot.fake.chat_history(USER)[0]["message_id"]
    assert await bot.storage.daily_counts() == {("es", "suggest"): 1, ("es", picked): 1}


async def test_unknown_question_escalates_and_is_kept_for_maintainers(bot: RunningBot) -> None:
    text = "cuál es la capital de Mongolia"
    [call] = await sent_after(bot.fake, lambda: bot.fake.message(USER, text, language_code="es"))
    assert_html(call, bot.renderer.escalate("es", volunteers=False))
    assert buttons(call) == [[cb("h")], [cb("m")]]
    assert await bot.storage.daily_counts() == {("es", "escalate"): 1}
    [(_day, lang, kept, _closest, reason)] = await bot.storage.unanswered()
    assert (lang, kept, reason) == ("es", text, "escalate")

    # "Talk to a person" explains how to get help until volunteers are connected
    [person] = await sent_after(bot.fake, lambda: bot.fake.callback_query(USER, cb("h")))
    assert_html(person, bot.renderer.human_unavailable("es"))


async def test_greeting_gets_smalltalk_and_the_menu(bot: RunningBot) -> None:
    [call] = await sent_after(bot.fake, lambda: bot.fake.message(USER, "hola", language_code="es"))
    assert flat(call) == MENU
    assert await bot.storage.daily_counts() == {}


# -- buttons ---------------------------------------------------------------------------------


async def test_browse_categories_then_entries(bot: RunningBot) -> None:
    fake = bot.fake
    [menu] = await sent_after(fake, lambda: fake.command(USER, "/topics", language_code="en"))
    assert_html(menu, bot.renderer.menu("en"))
    assert flat(menu) == MENU

    [edit] = await sent_after(fake, lambda: fake.callback_query(USER, cb("c", "closure")), method="editMessageText")
    assert edit.params["message_id"] == menu.result["message_id"]
    assert edit.params["parse_mode"] == "HTML"
    assert flat(edit) == [cb("a", "chnv-ended"), cb("a", "work-permit"), cb("m")]
    assert edit.text == bot.renderer.category("closure", "en").html

    [answer] = await sent_after(fake, lambda: fake.callback_query(USER, cb("a", "chnv-ended")))
    assert_html(answer, bot.renderer.answer(bot.services.engine.kb.get("chnv-ended"), "en"))
    assert "reply_parameters" not in answer.params  # pressed from a menu: no question to quote

    [back] = await sent_after(
        fake, lambda: fake.callback_query(USER, cb("m"), message_id=menu.result["message_id"]), method="editMessageText"
    )
    assert flat(back) == MENU
    assert len(fake.calls_to("answerCallbackQuery")) == 3
    assert await bot.storage.daily_counts() == {("en", "chnv-ended"): 1}


@pytest.mark.parametrize(
    "data",
    [
        "1|a|../../etc/passwd",
        "0|a|chnv-ended",
        "2|m|",
        "1|a|chnv-ended|x",
        "1|zz|",
        "garbage",
        "1|a|no-such-entry",
        "1|c|nothing",
    ],
)
async def test_tampered_or_stale_button_says_it_expired(bot: RunningBot, data: str) -> None:
    fake = bot.fake
    [call] = await sent_after(fake, lambda: fake.callback_query(USER, data, language_code="en"))
    assert_html(call, bot.renderer.expired("en"))
    assert flat(call) == MENU
    [ack] = fake.calls_to("answerCallbackQuery")
    assert ack.ok
    # and the bot keeps working
    [again] = await sent_after(fake, lambda: fake.command(USER, "/topics", language_code="en"))
    assert flat(again) == MENU


async def test_feedback_yes_is_stored_without_user_and_removes_the_vote_buttons(bot: RunningBot) -> None:
    fake = bot.fake
    [answer] = await sent_after(fake, lambda: fake.message(USER, "se acabó el parole humanitario?", language_code="es"))
    [edit] = await sent_after(
        fake, lambda: fake.callback_query(USER, cb("y", "chnv-ended")), method="editMessageReplyMarkup"
    )
    assert edit.params["message_id"] == answer.result["message_id"]
    assert buttons(edit) == [
        [cb("a", "work-permit")],
        [cb("h", "chnv-ended")],
        [cb("o", "chnv-ended")],
    ]
    [ack] = fake.calls_to("answerCallbackQuery")
    assert ack.params["text"] == _("es", "Thank you for your feedback!")
    [(entry_id, lang, day, helpful)] = await bot.storage.feedback()
    assert (entry_id, lang, helpful) == ("chnv-ended", "es", True)
    assert day == bot.storage.today()
    assert await bot.storage.unanswered() == []
    assert not fake.sent_messages(USER, since=edit.seq)  # no extra message for a "yes"


async def test_feedback_no_keeps_the_question_and_offers_a_person(bot: RunningBot) -> None:
    fake = bot.fake
    question = "is the parole program over"
    await sent_after(fake, lambda: fake.message(USER, question, language_code="en"))
    [offer] = await sent_after(fake, lambda: fake.callback_query(USER, cb("n", "chnv-ended")))
    assert_html(offer, bot.renderer.not_helpful("chnv-ended", "en"))
    assert flat(offer) == [cb("h", "chnv-ended"), cb("m")]
    assert [(e, lg, h) for e, lg, _d, h in await bot.storage.feedback()] == [("chnv-ended", "en", False)]
    [(_day, lang, text, closest, reason)] = await bot.storage.unanswered()
    assert (lang, text, closest, reason) == ("en", question, "chnv-ended", "not_helpful")
    [edit] = fake.calls_to("editMessageReplyMarkup")
    assert cb("n", "chnv-ended") not in flat(edit)


# -- other input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, documents", [("sticker", False), ("voice", False), ("location", False), ("photo", True), ("document", True)]
)
async def test_non_text_messages_get_a_friendly_reply(bot: RunningBot, kind: str, documents: bool) -> None:
    [call] = await sent_after(bot.fake, lambda: getattr(bot.fake, kind)(USER, language_code="ht"))
    assert_html(call, bot.renderer.only_text("ht", documents=documents, voice=kind == "voice", volunteers=False))
    assert buttons(call) == [[cb("h")], [cb("m")]]  # no dead end: a person, or all the topics
    assert (_("ht", "For your safety, do not send photos of your documents or papers here.") in call.text) is documents


async def test_edited_message_asks_to_send_it_again(bot: RunningBot) -> None:
    fake = bot.fake
    await sent_after(fake, lambda: fake.message(USER, "se acabó el parole humanitario?", language_code="es"))
    [call] = await sent_after(fake, lambda: fake.edited_message(USER, "se acabó el parole?", language_code="es"))
    assert_html(call, bot.renderer.edited("es"))
    assert await bot.storage.daily_counts() == {("es", "chnv-ended"): 1}  # the edit was not answered again


async def test_message_over_4096_characters_asks_for_a_shorter_one(bot: RunningBot) -> None:
    [call] = await sent_after(bot.fake, lambda: bot.fake.message(USER, "parole " * 700, language_code="en"))
    assert_html(call, bot.renderer.too_long("en"))
    assert await bot.storage.daily_counts() == {}


async def test_groups_get_no_answer_and_the_bot_leaves_them(fake_api: FakeBotAPI, tmp_path: Path) -> None:
    from conftest import make_settings, start_bot, stop_bot

    from bot.telegram.app import build_application
    from bot.telegram.services import Services

    volunteers = -1009000
    settings = make_settings(fake_api, tmp_path, volunteer_chat_id=volunteers)
    app = build_application(settings, Services.load(settings))
    await start_bot(app)
    try:
        group = -1001234
        fake_api.group_message(group, USER, "se acabó el parole humanitario?", is_forum=False)
        fake_api.group_message(group, USER, "/start", is_forum=False)
        fake_api.my_chat_member(volunteers, 77)  # added to the volunteers' chat: stays
        mark = fake_api.mark()
        fake_api.my_chat_member(-1005555, 77, new_status="member")  # added to another group: leaves
        [leave] = await fake_api.wait_for("leaveChat", since=mark)
        assert leave.params["chat_id"] == -1005555
        # a private message sent after the group ones is answered: the group ones were seen
        await sent_after(fake_api, lambda: fake_api.command(USER, "/start", language_code="es"))
        assert fake_api.sent_messages(group) == []
        assert [c.params["chat_id"] for c in fake_api.calls_to("leaveChat")] == [-1005555]
    finally:
        await stop_bot(app)


# -- resilience ------------------------------------------------------------------------------


async def test_429_is_retried_after_retry_after_and_delivered(bot: RunningBot) -> None:
    fake = bot.fake
    fake.fail_next("sendMessage", status=429, retry_after=1)
    [call] = await sent_after(fake, lambda: fake.command(USER, "/start", language_code="en"))
    refused, delivered = fake.calls_to("sendMessage")
    assert refused.failed_with == 429 and refused.injected
    assert delivered is call and delivered.ok
    assert delivered.params["text"] == refused.params["text"] == bot.renderer.welcome("en").html
    assert delivered.time - refused.time >= 1.0
    assert fake.faults_injected == {429: 1}


async def test_403_marks_the_user_inactive_and_the_bot_keeps_running(bot: RunningBot) -> None:
    fake = bot.fake
    await sent_after(fake, lambda: fake.command(USER, "/start", language_code="es"))
    assert (await bot.storage.user(USER)).active
    fake.block_user(USER)
    mark = fake.mark()
    fake.message(USER, "se acabó el parole humanitario?", language_code="es")
    [refused] = await fake.wait_for("sendMessage", {"chat_id": USER}, since=mark)
    assert refused.failed_with == 403

    async def inactive() -> bool:
        return not (await bot.storage.user(USER)).active

    await eventually(inactive)
    assert await bot.storage.count_users(active_only=True) == 0
    # another user is still served
    await sent_after(fake, lambda: fake.command(OTHER, "/start", language_code="en"), chat_id=OTHER)
    # writing again means the user unblocked the bot
    fake.unblock_user(USER)
    await sent_after(fake, lambda: fake.command(USER, "/start", language_code="es"))
    assert (await bot.storage.user(USER)).active


async def test_blocking_the_bot_marks_the_user_inactive(bot: RunningBot) -> None:
    await sent_after(bot.fake, lambda: bot.fake.command(USER, "/start", language_code="es"))
    bot.fake.my_chat_member(USER, new_status="kicked", old_status="member")

    async def inactive() -> bool:
        return not (await bot.storage.user(USER)).active

    await eventually(inactive)


async def test_errors_are_logged_without_text_or_names(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    fake = bot.fake
    caplog.set_level("INFO", logger="bot")
    fake.fail_next("sendMessage", status=500, count=MAX_RETRIES + 1)  # the rate limiter gives up; the outbox retries
    mark = fake.mark()
    fake.message(USER, "secreto mi-numero-A123456789", language_code="es", first_name="Zoraida", username="zoraida77")
    await fake.wait_for("sendMessage", {"chat_id": USER}, since=mark)

    def handled() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "bot.telegram.outbox" and "NetworkError" in r.getMessage()]

    await eventually(handled)
    record = handled()[0]
    assert "a delivery to a chat failed (NetworkError" in record.getMessage()
    assert record.exc_info is None
    # the outbox tries again: the answer arrives (at least once), nothing is lost
    await fake.wait_for("sendMessage", lambda c: c.ok and c.chat_id == USER, since=mark, timeout=10)
    for secret in ("secreto", "A123456789", "Zoraida", "zoraida77", str(USER), TOKEN):
        assert secret not in caplog.text
    # still running
    [call] = await sent_after(fake, lambda: fake.command(USER, "/topics", language_code="es"))
    assert flat(call) == MENU


async def test_one_users_updates_are_handled_in_order(bot: RunningBot) -> None:
    fake = bot.fake
    mark = fake.mark()
    fake.callback_query(USER, cb("l", "en"), language_code="es")
    fake.message(USER, "parole", language_code="es")
    fake.command(OTHER, "/start", language_code="ht")
    calls = await fake.wait_for("sendMessage", lambda c: c.ok and c.chat_id == USER, count=2, since=mark)
    assert calls[0].text == bot.renderer.welcome("en").html
    assert calls[1].text == bot.renderer.answer(bot.services.engine.kb.get("chnv-ended"), "en").html


# -- python -m bot run -----------------------------------------------------------------------


def _env(fake: FakeBotAPI, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "KNOWLEDGE_", "DATABASE_", "ADMIN_", "VOLUNTEER_"))
    }
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": fake.base_url,
            "DATABASE_PATH": str(tmp_path / "data" / "bot.sqlite3"),
            "KNOWLEDGE_DIR": str(TEST_KB),
            "PYTHONPATH": str(ROOT),
            "PTB_TIMEDELTA": "true",
            "PYTHONWARNINGS": "error::ResourceWarning",
        }
    )
    env.update(extra)
    return env


async def _bot_process(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_run_polls_answers_and_stops_cleanly_on_sigterm(fake_api: FakeBotAPI, tmp_path: Path) -> None:
    process = await _bot_process(_env(fake_api, tmp_path))
    try:
        await fake_api.wait_for("getUpdates", timeout=20)
        [call] = await sent_after(
            fake_api, lambda: fake_api.command(USER, "/start", language_code="en", first_name="Zoraida"), timeout=10
        )
        assert call.params["parse_mode"] == "HTML" and flat(call) == MENU
        process.send_signal(signal.SIGTERM)
        _stdout, stderr = await asyncio.wait_for(process.communicate(), 15)
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()
    log = stderr.decode()
    assert process.returncode == 0, log
    assert "Traceback" not in log
    assert TOKEN not in log and "Zoraida" not in log and str(USER) not in log
    assert fake_api.token == TOKEN
    with sqlite3.connect(tmp_path / "data" / "bot.sqlite3") as db:
        assert db.execute("SELECT user_id, lang, active FROM users").fetchall() == [(USER, "en", 1)]
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()


@pytest.mark.parametrize(
    "extra, variable",
    [
        ({"ADMIN_USER_IDS": "12,abc"}, "ADMIN_USER_IDS"),
        ({"VOLUNTEER_CHAT_ID": "volunteers"}, "VOLUNTEER_CHAT_ID"),
        ({"TELEGRAM_BASE_URL": "api.telegram.org/bot"}, "TELEGRAM_BASE_URL"),
        ({"TELEGRAM_BOT_TOKEN": ""}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "123456:ABC..."}, "TELEGRAM_BOT_TOKEN"),  # the README's placeholder
        (
            {"TELEGRAM_BOT_TOKEN": "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"},
            "TELEGRAM_BOT_TOKEN",
        ),  # Telegram's example
    ],
)
async def test_run_refuses_bad_settings_with_one_line(
    fake_api: FakeBotAPI, tmp_path: Path, extra: dict, variable: str
) -> None:
    process = await _bot_process(_env(fake_api, tmp_path, **extra))
    _stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 2
    assert len(lines) == 1 and variable in lines[0], lines
    assert fake_api.calls == []


async def test_a_rejected_token_is_one_line_without_traceback(fake_api: FakeBotAPI, tmp_path: Path) -> None:
    fake_api.fail_next("getMe", status=401, description="Unauthorized")
    process = await _bot_process(_env(fake_api, tmp_path, LOG_SALT="s"))
    _stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 2
    assert lines == ["Not starting: Telegram refused TELEGRAM_BOT_TOKEN (check it with @BotFather)."]
    assert [c.method for c in fake_api.calls] == ["getMe"]


async def test_an_unreachable_bot_api_is_one_line_without_traceback(fake_api: FakeBotAPI, tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a local port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = await _bot_process(
        _env(fake_api, tmp_path, LOG_SALT="s", TELEGRAM_BASE_URL=f"http://127.0.0.1:{port}/bot")
    )
    _stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 1
    assert len(lines) == 1 and lines[0].startswith("Not starting: cannot reach the Bot API at http://127.0.0.1:"), lines
    assert TOKEN not in lines[0]


async def test_run_refuses_an_invalid_knowledge_base(fake_api: FakeBotAPI, tmp_path: Path) -> None:
    broken = tmp_path / "knowledge"
    shutil.copytree(TEST_KB, broken)
    path = broken / "closure" / "chnv-ended.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("related:\n- work-permit", "related:\n- no-such-entry"),
        encoding="utf-8",
    )
    process = await _bot_process(_env(fake_api, tmp_path, KNOWLEDGE_DIR=str(broken)))
    _stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    log = stderr.decode()
    assert process.returncode == 1
    assert f"{path}:" in log and "no-such-entry" in log
    assert fake_api.calls == []  # nothing was sent to Telegram


# -- before /start: the bot introduces itself ------------------------------------------------


async def test_descriptions_are_set_at_start_up_in_each_language(bot: RunningBot) -> None:
    """setMyDescription / setMyShortDescription for es, en, fr (Kreyòl: Haitians' phones are
    mostly in French) and a Spanish default; each says what the bot is and is not."""
    from bot.telegram.app import description, short_description

    fake = bot.fake
    await fake.wait_for("setMyShortDescription", count=4, timeout=10)
    long = {c.params.get("language_code"): c.params["description"] for c in fake.calls_to("setMyDescription")}
    short = {
        c.params.get("language_code"): c.params["short_description"] for c in fake.calls_to("setMyShortDescription")
    }
    assert set(long) == set(short) == {"es", "en", "fr", None}
    assert long["fr"] == description("ht") and short["fr"] == short_description("ht")
    assert long[None] == long["es"] == description("es")
    assert "Not the government" in short["en"] and "never ask for money" in long["en"]
    assert "gobierno" in short["es"] and "gouvènman" in short["fr"]
    assert all(len(text) <= 512 for text in long.values()) and all(len(text) <= 120 for text in short.values())
