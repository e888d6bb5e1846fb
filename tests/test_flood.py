"""Flood control: FLOOD_LIMIT messages a minute per user, one notice, then silence until the
window passes; other users unaffected."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import make_settings, start_bot, stop_bot
from fakebotapi import FakeBotAPI
from test_bot_e2e import OTHER, USER, cb, sent_after

from bot.telegram.flood import FloodGuard
from bot.ui.i18n import _

NOTICE = "You are sending messages very fast. Please wait a minute: I will not read what you send until then."


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_guard_passes_up_to_the_limit_then_one_notice_then_drops() -> None:
    clock = Clock()
    guard = FloodGuard(3, window=60, clock=clock)
    assert [guard.check(1) for _ in range(6)] == ["pass", "pass", "pass", "notice", "drop", "drop"]
    assert guard.check(2) == "pass"  # another user is not affected
    clock.now += 59.9
    assert guard.check(1) == "drop"
    clock.now += 0.2  # the oldest handled message is now a minute old
    assert [guard.check(1) for _ in range(5)] == ["pass", "pass", "pass", "notice", "drop"]


def test_dropped_messages_do_not_extend_the_pause() -> None:
    clock = Clock()
    guard = FloodGuard(2, window=60, clock=clock)
    guard.check(1), guard.check(1)
    for _step in range(100):  # keeps hammering during the minute
        clock.now += 0.5
        assert guard.check(1) in ("notice", "drop")
    clock.now += 10.1
    assert guard.check(1) == "pass"


def test_guard_forgets_idle_users() -> None:
    clock = Clock()
    guard = FloodGuard(5, window=60, clock=clock)
    for user in range(1000):
        guard.check(user)
    clock.now += 61
    guard.check(5000)
    assert len(guard) == 1


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        FloodGuard(0)


async def test_bot_answers_the_limit_then_one_notice_then_nothing(fake_api: FakeBotAPI, tmp_path: Path) -> None:
    from bot.telegram.app import build_application
    from bot.telegram.services import Services

    settings = make_settings(fake_api, tmp_path, flood_limit=3)
    services = Services.load(settings)
    clock = Clock()
    services.flood = FloodGuard(settings.flood_limit, clock=clock)
    app = build_application(settings, services)
    await start_bot(app)
    try:
        fake = fake_api
        mark = fake.mark()
        for number in range(8):
            fake.message(USER, f"se acabó el parole humanitario? {number}", language_code="ht")
        fake.callback_query(USER, cb("a", "work-permit"), language_code="ht")
        answers = await fake.wait_for("sendMessage", lambda c: c.ok and c.chat_id == USER, count=4, since=mark)
        await sent_after(
            fake, lambda: fake.command(OTHER, "/start", language_code="en"), chat_id=OTHER
        )  # others are served
        await asyncio.sleep(0.3)
        answers = fake.sent_messages(USER, since=mark)
        assert len(answers) == 4, [c.short() for c in answers]
        *replies, notice = answers
        assert all("reply_parameters" in c.params for c in replies)
        assert notice.text == services.renderer.notice(_("es", NOTICE)).html  # the language they write in
        assert not fake.calls_to("answerCallbackQuery", since=mark)  # the button press was dropped too
        assert sum((await services.storage.daily_counts()).values()) == 3  # dropped messages reach nothing

        clock.now += 61  # the minute has passed
        [again] = await sent_after(
            fake, lambda: fake.message(USER, "se acabó el parole humanitario?", language_code="ht")
        )
        assert "reply_parameters" in again.params
    finally:
        await stop_bot(app)


async def test_volunteer_group_messages_are_not_counted(fake_api: FakeBotAPI, tmp_path: Path) -> None:
    """The limit protects the volunteers' topics by limiting what users send; messages inside
    groups are never counted or refused by it."""
    from bot.telegram.app import build_application
    from bot.telegram.services import Services

    settings = make_settings(fake_api, tmp_path, flood_limit=2, volunteer_chat_id=-1009000)
    services = Services.load(settings)
    app = build_application(settings, services)
    await start_bot(app)
    try:
        for _n in range(5):
            fake_api.group_message(-1009000, USER, "hola", is_forum=False)
        [call] = await sent_after(fake_api, lambda: fake_api.command(USER, "/start", language_code="es"))
        assert "reply_parameters" not in call.params and call.text == services.renderer.welcome("es").html
        assert len(services.flood) == 1  # only the private /start was counted
    finally:
        await stop_bot(app)


async def test_a_flood_does_not_reach_the_volunteers_topic(fake_api: FakeBotAPI, tmp_path: Path) -> None:
    from conftest import RunningBot
    from test_escalation_e2e import VOLUNTEERS, escalate

    from bot.telegram.app import build_application
    from bot.telegram.services import Services

    fake_api.add_group(VOLUNTEERS, is_forum=True)
    settings = make_settings(fake_api, tmp_path, flood_limit=6, volunteer_chat_id=VOLUNTEERS)
    services = Services.load(settings)
    services.flood = FloodGuard(settings.flood_limit, clock=Clock())
    app = build_application(settings, services)
    await start_bot(app)
    try:
        header = await escalate(RunningBot(app, fake_api, services))  # a question, /human, "yes": 3 counted
        topic = header.params["message_thread_id"]
        mark = fake_api.mark()
        for number in range(30):
            fake_api.message(USER, f"mensaje {number}", language_code="es")
        [notice] = await fake_api.wait_for("sendMessage", lambda c: c.ok and c.chat_id == USER, since=mark)
        assert notice.text == services.renderer.notice(_("es", NOTICE)).html
        await asyncio.sleep(0.5)
        relayed = [
            c for c in fake_api.sent_messages(VOLUNTEERS, since=mark) if c.params.get("message_thread_id") == topic
        ]
        assert [c.text for c in relayed] == ["mensaje 0", "mensaje 1", "mensaje 2"]
    finally:
        await stop_bot(app)
