"""End-to-end tests of human escalation: the real ``Application`` over real HTTP against the fake
Bot API server on 127.0.0.1, with a real SQLite file in ``tmp_path``.

A user asks for a person, agrees to the consent screen, and a ticket opens: a forum topic in
the volunteers' group (or a header message in a group without topics), relayed both ways,
closed with /close or /cancel. Every test asserts on the payloads the bot really sent and on
what ended up in SQLite.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from conftest import TOKEN, VOLUNTEER, VOLUNTEERS, Launcher, RunningBot
from fakebotapi import Call, FakeBotAPI
from helpers import eventually

from bot.ui import callbacks
from bot.ui.i18n import _

USER = 4242
OTHER = 5151
STRANGER = 888
UNKNOWN = "cuál es la capital de Mongolia"


def cb(action: str, arg: str = "") -> str:
    return callbacks.encode(action, arg)


def flat(call: Call) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    return [b.get("callback_data", b.get("url")) for row in markup.get("inline_keyboard", []) for b in row]


def rows(db_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db_path) as db:
        found = db.execute(sql).fetchall()
    db.close()
    return found


# -- helpers ---------------------------------------------------------------------------------


async def sent(
    fake: FakeBotAPI,
    inject: Callable[[], Any],
    method: str = "sendMessage",
    *,
    chat_id: int = USER,
    count: int = 1,
    timeout: float = 5.0,  # noqa: ASYNC109  handed to fake.wait_for, whose failure lists the calls seen
    where: Callable[[Call], bool] = lambda c: True,
) -> list[Call]:
    """Inject an update; wait for ``count`` successful ``method`` calls to ``chat_id``."""
    mark = fake.mark()
    inject()
    return await fake.wait_for(
        method, lambda c: c.ok and c.chat_id == chat_id and where(c), count=count, since=mark, timeout=timeout
    )


async def escalate(
    bot: RunningBot, user: int = USER, *, question: str | None = UNKNOWN, lang: str = "es", topic: bool = True
) -> Call:
    """Ask ``question`` (if any), /human, agree; return the group's header call."""
    fake = bot.fake
    if question:
        await sent(fake, lambda: fake.message(user, question, language_code=lang), chat_id=user)
    [consent] = await sent(fake, lambda: fake.command(user, "/human", language_code=lang), chat_id=user)
    assert cb("k", "yes") in flat(consent)
    mark = fake.mark()
    fake.callback_query(user, cb("k", "yes"), message_id=consent.result["message_id"], language_code=lang)
    [opened] = await fake.wait_for("editMessageText", lambda c: c.ok and c.chat_id == user, since=mark)
    assert cb("x") in flat(opened)
    [header] = await fake.wait_for(
        "sendMessage", lambda c: c.ok and c.chat_id == VOLUNTEERS and c.text.startswith("<b>#"), since=mark
    )
    return header


def is_label(call: Call) -> bool:
    """ "What was this about?", posted in a ticket's topic after /close."""
    return "1|v|" in str(call.params.get("reply_markup"))


def is_howto(call: Call) -> bool:
    """The how-to-answer message pinned in General at start-up (forum mode)."""
    return call.text.startswith("<b>How to answer")


def topic_of(header: Call) -> int:
    return header.params["message_thread_id"]


async def ticket_of(bot: RunningBot, user: int = USER):
    return await bot.storage.last_ticket_of(user)


async def _replied(bot: RunningBot) -> bool:
    ticket = await ticket_of(bot)
    return ticket is not None and ticket.first_reply_at is not None


# -- the whole round trip --------------------------------------------------------------------


async def test_round_trip_text_and_photo_both_ways(desk: RunningBot) -> None:
    fake = desk.fake
    header = await escalate(desk)
    [created] = fake.calls_to("createForumTopic")
    assert created.params["name"] == "#1 · ES"
    topic = created.result["message_thread_id"]
    assert topic_of(header) == topic
    assert UNKNOWN in header.text and "waiting" in header.text

    async def stored() -> bool:
        ticket = await ticket_of(desk)
        return (ticket.status, ticket.topic_id, ticket.header_message_id, ticket.lang) == (
            "open",
            topic,
            header.result["message_id"],
            "es",
        )

    await eventually(stored)

    # user -> topic, as a new message (never a forward: no name)
    [relayed] = await sent(fake, lambda: fake.message(USER, "necesito ayuda con mi caso"), chat_id=VOLUNTEERS)
    assert relayed.params["message_thread_id"] == topic and relayed.text == "necesito ayuda con mi caso"
    assert not fake.calls_to("forwardMessage")

    # volunteer -> user, copied (as the bot: no volunteer name)
    mark = fake.mark()
    reply = fake.group_message(
        VOLUNTEERS,
        VOLUNTEER,
        "Hola, soy voluntaria. ¿Tienes cita en corte?",
        message_thread_id=topic,
        first_name="Marta",
        username="marta_v",
    )
    [copied] = await fake.wait_for("copyMessage", lambda c: c.ok and c.chat_id == USER, since=mark)
    assert copied.params["from_chat_id"] == VOLUNTEERS and copied.params["message_id"] == reply["message"]["message_id"]
    delivered = fake.get_message(USER, copied.result["message_id"])
    assert delivered["text"] == "Hola, soy voluntaria. ¿Tienes cita en corte?" and delivered["from"]["is_bot"]
    assert "Marta" not in str(delivered) and "marta_v" not in str(delivered)

    # a photo from the user: warning first, sent only on "yes"
    photo = fake.photo(USER, caption="mi carta")
    [warning] = await fake.wait_for("sendMessage", lambda c: c.ok and c.chat_id == USER and cb("p", "yes") in flat(c))
    assert warning.params["reply_parameters"]["message_id"] == photo["message"]["message_id"]
    assert not [c for c in fake.calls_to("copyMessage") if c.chat_id == VOLUNTEERS]
    [photo_copy] = await sent(
        fake,
        lambda: fake.callback_query(USER, cb("p", "yes"), message_id=warning.result["message_id"]),
        "copyMessage",
        chat_id=VOLUNTEERS,
    )
    assert (
        photo_copy.params["from_chat_id"] == USER and photo_copy.params["message_id"] == photo["message"]["message_id"]
    )
    assert photo_copy.params["message_thread_id"] == topic
    assert "photo" in fake.get_message(VOLUNTEERS, photo_copy.result["message_id"])

    # a photo from the volunteer reaches the user
    mark = fake.mark()
    fake.photo(
        VOLUNTEER, caption="Mira este ejemplo", chat_id=VOLUNTEERS, chat_type="supergroup", message_thread_id=topic
    )
    [back] = await fake.wait_for("copyMessage", lambda c: c.ok and c.chat_id == USER, since=mark)
    assert "photo" in fake.get_message(USER, back.result["message_id"])

    # every relayed message id is in the database, and the first reply is stamped
    ticket = await ticket_of(desk)

    async def directions() -> list[str]:
        return [d for d, _u, _g in await desk.storage.relayed(ticket.id)]

    await eventually(lambda: _equals(directions(), ["to_group", "to_user", "to_group", "to_user"]))
    assert ticket.first_reply_at is not None
    assert rows(desk.services.settings.database_path, "SELECT count(*) FROM outbox") == [(0,)]


async def test_follow_ups_go_to_the_same_topic_and_the_bot_stays_quiet(desk: RunningBot) -> None:
    fake = desk.fake
    topic = topic_of(await escalate(desk))
    for text in ("se acabó el parole humanitario?", "y también", "gracias"):
        [relayed] = await sent(fake, partial(fake.message, USER, text), chat_id=VOLUNTEERS)
        assert relayed.params["message_thread_id"] == topic and relayed.text == text
    assert len(fake.calls_to("createForumTopic")) == 1
    # the bot did not answer any of them on its own
    answers = [
        c
        for c in fake.calls_to("sendMessage")
        if c.chat_id == USER and "chnv-ended" in str(c.params.get("reply_markup"))
    ]
    assert answers == []
    # its commands still work
    [topics] = await sent(fake, lambda: fake.command(USER, "/topics"))
    assert cb("c", "closure") in flat(topics)
    # asking for a person again says a volunteer already has the request
    [again] = await sent(fake, lambda: fake.command(USER, "/human"))
    assert again.text == desk.renderer.ticket_already_open("es").html


async def test_internal_notes_stay_in_the_group(desk: RunningBot) -> None:
    fake = desk.fake
    topic = topic_of(await escalate(desk))
    fake.group_message(VOLUNTEERS, VOLUNTEER, "!ojo: parece urgente", message_thread_id=topic)
    fake.group_message(VOLUNTEERS, VOLUNTEER, "/note le escribo mañana", message_thread_id=topic)
    mark = fake.mark()
    fake.group_message(VOLUNTEERS, VOLUNTEER, "Hola", message_thread_id=topic)
    [copied] = await fake.wait_for("copyMessage", lambda c: c.ok and c.chat_id == USER, since=mark)
    assert fake.get_message(USER, copied.result["message_id"])["text"] == "Hola"
    assert len([c for c in fake.calls_to("copyMessage") if c.chat_id == USER]) == 1


async def test_close_thanks_the_user_and_asks_if_it_helped(desk: RunningBot) -> None:
    fake = desk.fake
    topic = topic_of(await escalate(desk))
    await sent(
        fake,
        lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "Te recomiendo un abogado", message_thread_id=topic),
        "copyMessage",
    )
    mark = fake.mark()
    [thanks] = await sent(fake, lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "/close", message_thread_id=topic))
    assert thanks.text == desk.renderer.ticket_closed("es").html
    # then the volunteers are asked what it was about (tests/test_learning_e2e.py)
    [label] = await fake.wait_for("sendMessage", lambda c: c.ok and c.chat_id == VOLUNTEERS and is_label(c), since=mark)
    assert label.params["message_thread_id"] == topic
    assert flat(thanks) == [cb("r", "yes"), cb("r", "no")]
    [closed] = await fake.wait_for("closeForumTopic")
    assert closed.params["message_thread_id"] == topic and fake.topics[(VOLUNTEERS, topic)]["closed"]
    ticket = await ticket_of(desk)
    assert ticket.status == "closed" and ticket.closed_at is not None

    # the survey answer is stored on the ticket
    fake.callback_query(USER, cb("r", "yes"), message_id=thanks.result["message_id"])
    await eventually(lambda: _helpful(desk))
    # after closing, the bot answers on its own again and nothing more is relayed
    mark = fake.mark()
    fake.message(USER, "se acabó el parole humanitario?")
    [answer] = await fake.wait_for("sendMessage", lambda c: c.ok and c.chat_id == USER, since=mark)
    assert cb("y", "chnv-ended") in flat(answer)
    assert not [c for c in fake.calls_to("sendMessage", since=mark) if c.chat_id == VOLUNTEERS]
    # a volunteer writing in the closed topic is told nothing was sent
    [note] = await sent(
        fake,
        lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "¿sigues ahí?", message_thread_id=topic),
        chat_id=VOLUNTEERS,
    )
    assert note.text == desk.renderer.desk_note("en", "is_closed").html


async def _equals(found: Any, expected: Any) -> bool:
    return await found == expected


async def _helpful(bot: RunningBot) -> bool:
    ticket = await ticket_of(bot)
    return ticket.helpful is True


async def test_kb_sends_the_answer_in_the_users_language(desk: RunningBot) -> None:
    fake = desk.fake
    topic = topic_of(await escalate(desk, lang="ht", question="kapital Mongoli se kisa"))
    entry = desk.services.engine.kb.get("find-lawyer")
    [answer] = await sent(
        fake, lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "/kb find-lawyer", message_thread_id=topic)
    )
    assert answer.text == desk.renderer.answer(entry, "ht", person=False).html
    assert cb("h", "find-lawyer") not in flat(answer)  # a volunteer is already talking: no "talk to a person"
    [note] = await fake.wait_for(
        "sendMessage",
        lambda c: c.ok and c.chat_id == VOLUNTEERS and "find-lawyer" in c.text and c.params.get("reply_parameters"),
    )
    assert note.params["message_thread_id"] == topic
    await eventually(lambda: _replied(desk))  # recorded once the outbox has sent the answer
    # an unknown id gets the closest ones, and nothing goes to the user
    mark = fake.mark()
    [unknown] = await sent(
        fake,
        lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "/kb find-lawyers", message_thread_id=topic),
        chat_id=VOLUNTEERS,
    )
    assert "find-lawyer" in unknown.text
    assert not fake.sent_messages(USER, since=mark)
    # /lang switches the person's language and the topic's name
    mark = fake.mark()
    fake.group_message(VOLUNTEERS, VOLUNTEER, "/lang es", message_thread_id=topic)
    [renamed] = await fake.wait_for("editForumTopic", since=mark)
    assert renamed.params["name"] == "#1 · ES"
    await eventually(lambda: _lang_is(desk, "es"))
    [answer] = await sent(
        fake, lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "/kb find-lawyer", message_thread_id=topic)
    )
    assert answer.text == desk.renderer.answer(entry, "es", person=False).html
    # /lang with the language the ticket already has renames nothing (Telegram would refuse it)
    mark = fake.mark()
    notes = await sent(
        fake, lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "/lang es", message_thread_id=topic), chat_id=VOLUNTEERS
    )
    assert any("Español" in note.text for note in notes)
    assert fake.calls_to("editForumTopic", since=mark) == []


async def _lang_is(bot: RunningBot, lang: str) -> bool:
    return (await ticket_of(bot)).lang == lang


async def test_queue_and_stats(desk: RunningBot) -> None:
    fake = desk.fake
    await escalate(desk)
    urgent_topic = topic_of(await escalate(desk, OTHER, question="ICE está en mi casa, qué hago"))
    [queue] = await sent(
        fake,
        lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "/queue"),
        chat_id=VOLUNTEERS,
        where=lambda c: "Open tickets:" in c.text,
    )
    assert "message_thread_id" not in queue.params  # the general topic
    lines = queue.text.splitlines()
    assert "#2 · ES · ⚠️ URGENT" in lines[1] and "#1 · ES" in lines[2]  # urgent first
    assert f"https://t.me/c/9000/{urgent_topic}" in queue.text

    await sent(
        fake,
        lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "hola", message_thread_id=urgent_topic),
        "copyMessage",
        chat_id=OTHER,
    )
    await sent(
        fake,
        lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "/close", message_thread_id=urgent_topic),
        chat_id=VOLUNTEERS,
        where=is_label,  # the last thing /close sends: "What was this about?"
    )
    [stats] = await sent(fake, lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "/stats"), chat_id=VOLUNTEERS)
    assert "Open tickets now: 1" in stats.text
    assert "Last 7 days: 2 opened, 1 closed, median time to first reply" in stats.text
    assert "Last 30 days: 2 opened, 1 closed" in stats.text


async def test_commands_need_a_member_of_the_volunteers_group(desk: RunningBot) -> None:
    fake = desk.fake
    topic = topic_of(await escalate(desk))
    fake.set_member(VOLUNTEERS, STRANGER, "left")
    fake.group_message(VOLUNTEERS, STRANGER, "/close", message_thread_id=topic)
    fake.group_message(VOLUNTEERS, STRANGER, "/queue")
    await fake.wait_for("getChatMember", lambda c: c.params.get("user_id") == STRANGER)
    # a member's /queue (sent after) is answered; the stranger's commands did nothing
    [queue] = await sent(fake, lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "/queue"), chat_id=VOLUNTEERS)
    assert "#1 · ES" in queue.text
    assert len([c for c in fake.calls_to("sendMessage") if c.chat_id == VOLUNTEERS and "Open tickets:" in c.text]) == 1
    assert (await ticket_of(desk)).is_open and not fake.calls_to("closeForumTopic")


async def test_messages_from_other_chats_are_never_relayed(desk: RunningBot) -> None:
    fake = desk.fake
    topic = topic_of(await escalate(desk))
    elsewhere = -1007777
    fake.add_group(elsewhere, is_forum=True, title="Otro grupo")
    fake.group_message(elsewhere, VOLUNTEER, "hola desde otro grupo", message_thread_id=topic)
    fake.group_message(elsewhere, VOLUNTEER, "/close", message_thread_id=topic)
    # a later message in the real topic is relayed: the other group's were seen and ignored
    mark = fake.mark()
    fake.group_message(VOLUNTEERS, VOLUNTEER, "hola", message_thread_id=topic)
    await fake.wait_for("copyMessage", lambda c: c.ok and c.chat_id == USER, since=mark)
    assert len([c for c in fake.calls_to("copyMessage") if c.chat_id == USER]) == 1
    assert fake.sent_messages(elsewhere) == []
    assert (await ticket_of(desk)).is_open


async def test_general_chat_in_the_group_is_not_relayed(desk: RunningBot) -> None:
    fake = desk.fake
    await escalate(desk)
    fake.group_message(VOLUNTEERS, VOLUNTEER, "buenos días a todos")  # general topic
    await sent(fake, lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "/queue"), chat_id=VOLUNTEERS)
    assert not [c for c in fake.calls_to("copyMessage") if c.chat_id == USER]


# -- restarts, concurrency and delivery faults -----------------------------------------------


async def test_relay_survives_a_restart_in_the_middle_of_a_ticket(fake_api: FakeBotAPI, launch: Launcher) -> None:
    fake = fake_api
    fake.add_group(VOLUNTEERS, is_forum=True)
    first = await launch()
    topic = topic_of(await escalate(first))
    await launch.stop(first)

    second = await launch()
    [relayed] = await sent(fake, lambda: fake.message(USER, "¿me escuchan todavía?"), chat_id=VOLUNTEERS)
    assert relayed.params["message_thread_id"] == topic
    [copied] = await sent(
        fake,
        lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "Sí, aquí estamos", message_thread_id=topic),
        "copyMessage",
    )
    assert fake.get_message(USER, copied.result["message_id"])["text"] == "Sí, aquí estamos"
    assert len(fake.calls_to("createForumTopic")) == 1
    assert (await ticket_of(second)).topic_id == topic


async def test_a_failed_delivery_is_retried_and_survives_a_restart(fake_api: FakeBotAPI, launch: Launcher) -> None:
    fake = fake_api
    fake.add_group(VOLUNTEERS, is_forum=True)
    first = await launch()
    topic = topic_of(await escalate(first))
    first.services.desk.retry_base = 2.0  # the first bot stops before it would retry
    fake.fail_next("sendMessage", status=500, count=4)  # more than the rate limiter's own retries
    mark = fake.mark()
    fake.message(USER, "mensaje que no llega a la primera")
    await fake.wait_for("sendMessage", lambda c: c.failed_with == 500, count=4, since=mark)
    await eventually(lambda: rows(first.services.settings.database_path, "SELECT attempts FROM outbox") == [(1,)])
    await launch.stop(first)

    mark = fake.mark()
    await launch()  # pending deliveries are rescheduled at start-up
    [relayed] = await fake.wait_for(
        "sendMessage",
        lambda c: c.ok and c.chat_id == VOLUNTEERS and c.text == "mensaje que no llega a la primera",
        since=mark,
        timeout=8,
    )
    assert relayed.params["message_thread_id"] == topic
    await eventually(lambda: rows(first.services.settings.database_path, "SELECT count(*) FROM outbox") == [(0,)])


async def test_a_relay_answered_late_reaches_the_topic_once(fake_api: FakeBotAPI, launch: Launcher) -> None:
    """Telegram answers a relayed message after the application's read timeout (0.5 s here,
    the fake holds the answer 2 s): the outbox waits longer (desk.send_timeout) instead of
    sending again, so the message is in its topic once."""
    fake = fake_api
    fake.add_group(VOLUNTEERS, is_forum=True)
    bot = await launch(read_timeout=0.5)
    topic = topic_of(await escalate(bot))
    assert bot.services.desk.send_timeout > fake.timeout_delay
    mark = fake.mark()
    fake.fail_next("sendMessage", "timeout")
    fake.message(USER, "llega tarde la respuesta")
    [late] = await fake.wait_for(
        "sendMessage", lambda c: c.chat_id == VOLUNTEERS and c.text == "llega tarde la respuesta", since=mark
    )
    assert late.failed_with == "timeout" and late.params["message_thread_id"] == topic
    await eventually(
        lambda: rows(bot.services.settings.database_path, "SELECT count(*) FROM outbox") == [(0,)], timeout=8
    )
    await asyncio.sleep(1.0)  # room for a resend, which must not come
    in_topic = [c for c in fake.sent_messages(VOLUNTEERS, since=mark) if c.text == "llega tarde la respuesta"]
    assert len(in_topic) == 1
    assert rows(bot.services.settings.database_path, "SELECT direction FROM relayed WHERE direction = 'to_group'") == [
        ("to_group",)
    ]


async def test_a_relay_with_no_answer_in_time_is_sent_again(fake_api: FakeBotAPI, launch: Launcher) -> None:
    """When even the outbox's patience runs out, the message is sent again: an escalation is
    never lost (at least once; a duplicate only if Telegram had carried out the first send)."""
    fake = fake_api
    fake.add_group(VOLUNTEERS, is_forum=True)
    bot = await launch(read_timeout=0.5)
    await escalate(bot)
    bot.services.desk.send_timeout = 0.5  # shorter than the 2 s the fake holds the answer
    mark = fake.mark()
    fake.timeout_delivers = False  # Telegram never got it: only the resend can bring it
    fake.fail_next("sendMessage", "timeout")
    fake.message(USER, "sin respuesta de telegram")
    [resent] = await fake.wait_for(
        "sendMessage",
        lambda c: c.ok and c.chat_id == VOLUNTEERS and c.text == "sin respuesta de telegram",
        since=mark,
        timeout=8,
    )
    [first] = [c for c in fake.calls_to("sendMessage", since=mark) if c.failed_with == "timeout"]
    assert first.seq < resent.seq
    await eventually(
        lambda: rows(bot.services.settings.database_path, "SELECT count(*) FROM outbox") == [(0,)], timeout=8
    )


async def test_two_users_at_once_get_separate_topics(desk: RunningBot) -> None:
    fake = desk.fake
    for user in (USER, OTHER):
        await sent(fake, partial(fake.command, user, "/human"), chat_id=user)
    mark = fake.mark()
    for user in (USER, OTHER):
        fake.callback_query(user, cb("k", "yes"))
    await fake.wait_for("createForumTopic", lambda c: c.ok, count=2, since=mark)
    await fake.wait_for("sendMessage", lambda c: c.ok and c.chat_id == VOLUNTEERS, count=2, since=mark)
    first, second = await ticket_of(desk, USER), await ticket_of(desk, OTHER)
    assert first.topic_id != second.topic_id and {first.id, second.id} == {1, 2}
    names = sorted(c.params["name"] for c in fake.calls_to("createForumTopic"))
    assert names == ["#1 · ES", "#2 · ES"]
    # each topic reaches its own user
    for user, ticket in ((USER, first), (OTHER, second)):
        [copied] = await sent(
            fake,
            partial(fake.group_message, VOLUNTEERS, VOLUNTEER, f"hola {user}", message_thread_id=ticket.topic_id),
            "copyMessage",
            chat_id=user,
        )
        assert fake.get_message(user, copied.result["message_id"])["text"] == f"hola {user}"


async def test_429_on_create_forum_topic_is_retried_and_the_ticket_opened_once(desk: RunningBot) -> None:
    fake = desk.fake
    fake.fail_next("createForumTopic", status=429, retry_after=1)
    await escalate(desk)
    refused, created = fake.calls_to("createForumTopic")
    assert refused.failed_with == 429 and created.ok
    assert created.time - refused.time >= 1.0
    assert rows(desk.services.settings.database_path, "SELECT id, status FROM tickets") == [(1, "open")]
    assert len([t for t in fake.topics if t[0] == VOLUNTEERS]) == 1


async def test_a_user_who_blocked_the_bot_has_the_ticket_closed(desk: RunningBot) -> None:
    fake = desk.fake
    topic = topic_of(await escalate(desk))
    fake.block_user(USER)
    mark = fake.mark()
    fake.group_message(VOLUNTEERS, VOLUNTEER, "¿sigues ahí?", message_thread_id=topic)
    [note] = await fake.wait_for("sendMessage", lambda c: c.ok and c.chat_id == VOLUNTEERS, since=mark)
    assert note.text == desk.renderer.desk_note("en", "blocked").html and note.params["message_thread_id"] == topic
    await fake.wait_for("closeForumTopic", since=mark)
    ticket = await ticket_of(desk)
    assert ticket.status == "closed" and not (await desk.storage.user(USER)).active


async def test_a_deleted_topic_is_opened_again(desk: RunningBot) -> None:
    fake = desk.fake
    topic = topic_of(await escalate(desk))
    fake.delete_topic(VOLUNTEERS, topic)
    mark = fake.mark()
    fake.message(USER, "¿hola? ¿alguien?")
    [relayed] = await fake.wait_for(
        "sendMessage", lambda c: c.ok and c.chat_id == VOLUNTEERS and c.text == "¿hola? ¿alguien?", since=mark
    )
    new_topic = relayed.params["message_thread_id"]
    [created] = fake.calls_to("createForumTopic", since=mark)
    assert created.params["name"] == "#1 · ES" and new_topic == created.result["message_thread_id"] != topic
    [header] = [c for c in fake.calls_to("sendMessage", since=mark) if c.ok and c.text.startswith("<b>#1")]
    assert header.params["message_thread_id"] == new_topic and "new one" in header.text
    [copied] = await sent(
        fake, lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "aquí", message_thread_id=new_topic), "copyMessage"
    )
    assert fake.get_message(USER, copied.result["message_id"])["text"] == "aquí"


# -- consent, documents, identifiers, cancel -------------------------------------------------


async def test_nothing_reaches_the_group_without_consent(desk: RunningBot) -> None:
    fake = desk.fake
    await sent(fake, lambda: fake.message(USER, UNKNOWN))
    [consent] = await sent(fake, lambda: fake.callback_query(USER, cb("h")))
    assert consent.text == desk.renderer.consent("es", 24).html
    english = desk.renderer.consent("en", 24).plain
    for words in (
        "volunteers",
        "not the government and not lawyers",
        "usually within a day",
        "not legal advice",
        "/forget",
    ):
        assert words in english
    assert flat(consent) == [cb("k", "yes"), cb("k", "no")]
    [declined] = await sent(
        fake,
        lambda: fake.callback_query(USER, cb("k", "no"), message_id=consent.result["message_id"]),
        "editMessageText",
    )
    assert declined.text == desk.renderer.consent_declined("es").html
    # the bot keeps answering on its own, and nothing went to the volunteers
    [answer] = await sent(fake, lambda: fake.message(USER, "se acabó el parole humanitario?"))
    assert cb("y", "chnv-ended") in flat(answer)
    assert [m for m in fake.sent_messages(VOLUNTEERS) if not is_howto(m)] == [] and not fake.calls_to(
        "createForumTopic"
    )
    assert rows(desk.services.settings.database_path, "SELECT count(*) FROM tickets") == [(0,)]


async def test_a_document_photo_is_not_sent_when_the_user_says_no(desk: RunningBot) -> None:
    fake = desk.fake
    await escalate(desk)
    fake.document(USER, file_name="pasaporte.pdf")
    [warning] = await fake.wait_for("sendMessage", lambda c: c.ok and c.chat_id == USER and cb("p", "no") in flat(c))
    assert warning.text == desk.renderer.document_warning("es").html
    [edit] = await sent(
        fake,
        lambda: fake.callback_query(USER, cb("p", "no"), message_id=warning.result["message_id"]),
        "editMessageText",
    )
    assert edit.text == desk.renderer.document_sent("es", False).html
    assert not [c for c in fake.calls_to("copyMessage") if c.chat_id == VOLUNTEERS]


async def test_identifiers_are_masked_unless_the_user_shares_them(desk: RunningBot) -> None:
    fake = desk.fake
    header = await escalate(desk, question="mi A-number es A-123-456-789 y no sé qué hacer")
    assert "123-456-789" not in header.text and "[A-number]" in header.text
    mark = fake.mark()
    fake.message(USER, "mi teléfono es 305-555-0199 y mi A# 987654321")
    [relayed] = await fake.wait_for("sendMessage", lambda c: c.ok and c.chat_id == VOLUNTEERS, since=mark)
    assert "305-555-0199" not in relayed.text and "987654321" not in relayed.text
    assert "[phone]" in relayed.text and "[A-number]" in relayed.text
    [offer] = await fake.wait_for(
        "sendMessage", lambda c: c.ok and c.chat_id == USER and cb("i") in flat(c), since=mark
    )
    # nothing unmasked is stored
    for (payload,) in rows(desk.services.settings.database_path, "SELECT payload FROM outbox"):
        assert "987654321" not in payload
    # a caption with an identifier is replaced in the copy
    photo = fake.photo(USER, caption="mi recibo IOE0912345678")
    [warning] = await fake.wait_for(
        "sendMessage", lambda c: c.ok and c.chat_id == USER and cb("p", "yes") in flat(c), since=mark
    )
    [copy] = await sent(
        fake,
        lambda: fake.callback_query(USER, cb("p", "yes"), message_id=warning.result["message_id"]),
        "copyMessage",
        chat_id=VOLUNTEERS,
    )
    assert (
        copy.params["caption"] == "mi recibo [receipt no.]"
        and copy.params["message_id"] == photo["message"]["message_id"]
    )
    assert fake.get_message(VOLUNTEERS, copy.result["message_id"])["caption"] == "mi recibo [receipt no.]"
    # the offer is made once; after "share", text is copied as written
    await sent(
        fake,
        lambda: fake.callback_query(USER, cb("i"), message_id=offer.result["message_id"]),
        "editMessageText",
        where=lambda c: c.params["message_id"] == offer.result["message_id"],
    )
    assert (await ticket_of(desk)).share_identifiers
    [shared] = await sent(
        fake, lambda: fake.message(USER, "mi A-number es A-123-456-789"), "copyMessage", chat_id=VOLUNTEERS
    )
    assert fake.get_message(VOLUNTEERS, shared.result["message_id"])["text"] == "mi A-number es A-123-456-789"
    assert len([c for c in fake.calls_to("sendMessage") if c.chat_id == USER and cb("i") in flat(c)]) == 1


async def test_cancel_closes_the_ticket(desk: RunningBot) -> None:
    fake = desk.fake
    topic = topic_of(await escalate(desk))
    [done] = await sent(fake, lambda: fake.command(USER, "/cancel"))
    assert done.text == desk.renderer.request_cancelled("es").html
    [note] = [
        c
        for c in fake.calls_to("sendMessage")
        if c.chat_id == VOLUNTEERS and c.params.get("message_thread_id") == topic
    ][-1:]
    assert note.text == desk.renderer.desk_note("en", "cancelled").html
    await fake.wait_for("closeForumTopic")
    assert not (await ticket_of(desk)).is_open
    [again] = await sent(fake, lambda: fake.command(USER, "/cancel"))
    assert again.text == desk.renderer.no_open_request("es").html
    # the "Cancel my request" button does the same for a new ticket
    await escalate(desk, question=None)
    [done] = await sent(fake, lambda: fake.callback_query(USER, cb("x")))
    assert done.text == desk.renderer.request_cancelled("es").html


# -- urgent ----------------------------------------------------------------------------------


async def test_urgent_words_and_entries_open_an_urgent_ticket(desk: RunningBot) -> None:
    fake = desk.fake
    header = await escalate(desk, question="ICE está en mi casa, qué hago")
    [created] = fake.calls_to("createForumTopic")
    assert created.params["name"] == "#1 · ES · ⚠️ URGENT" and created.params["icon_color"] == 16478047
    [mention] = await fake.wait_for(
        "sendMessage",
        lambda c: c.ok and c.chat_id == VOLUNTEERS and "message_thread_id" not in c.params and not is_howto(c),
    )
    assert "#1 · ES · ⚠️ URGENT" in mention.text and "https://t.me/c/9000/" in mention.text
    assert header.seq < mention.seq

    # "Talk to a person" under an urgent entry is urgent too
    await sent(fake, lambda: fake.message(OTHER, "ice detuvo a mi esposo"), chat_id=OTHER)
    await sent(fake, lambda: fake.callback_query(OTHER, cb("h", "ice-detention")), chat_id=OTHER)
    mark = fake.mark()
    fake.callback_query(OTHER, cb("k", "yes"))
    [created] = await fake.wait_for("createForumTopic", since=mark)
    assert created.params["name"] == "#2 · ES · ⚠️ URGENT"


async def test_urgent_words_later_in_the_conversation_mark_the_ticket(desk: RunningBot) -> None:
    fake = desk.fake
    await escalate(desk)
    mark = fake.mark()
    fake.message(USER, "me llegó una orden de deportación")
    [renamed] = await fake.wait_for("editForumTopic", since=mark)
    assert renamed.params["name"] == "#1 · ES · ⚠️ URGENT"
    assert (await ticket_of(desk)).urgent


# -- plain group and no volunteers -----------------------------------------------------------


async def test_plain_group_uses_a_header_and_reply_chains(fake_api: FakeBotAPI, launch: Launcher) -> None:
    fake = fake_api
    fake.add_group(VOLUNTEERS, is_forum=False)
    bot = await launch()
    assert bot.services.desk.mode == "plain"
    header = await escalate(bot)
    assert "message_thread_id" not in header.params and not fake.calls_to("createForumTopic")
    header_id = header.result["message_id"]
    [relayed] = await sent(fake, lambda: fake.message(USER, "hola, sigo aquí"), chat_id=VOLUNTEERS)
    assert relayed.params["reply_parameters"]["message_id"] == header_id
    # a volunteer answers by replying to the header, or to a relayed message
    [copied] = await sent(
        fake,
        lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "Hola", reply_to=header_id, is_forum=False),
        "copyMessage",
    )
    assert fake.get_message(USER, copied.result["message_id"])["text"] == "Hola"
    await sent(
        fake,
        lambda: fake.group_message(
            VOLUNTEERS, VOLUNTEER, "¿Y tu fecha?", reply_to=relayed.result["message_id"], is_forum=False
        ),
        "copyMessage",
    )
    # a message that replies to nothing is general chat
    fake.group_message(VOLUNTEERS, VOLUNTEER, "café?", is_forum=False)
    [closing] = await sent(
        fake, lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "/close", reply_to=header_id, is_forum=False)
    )
    assert closing.text == bot.renderer.ticket_closed("es").html
    assert len([c for c in fake.calls_to("copyMessage") if c.chat_id == USER]) == 2
    assert not fake.calls_to("closeForumTopic")


@pytest.mark.parametrize(
    "setup, reason",
    [
        ("unset", "VOLUNTEER_CHAT_ID is not set"),
        ("no-rights", "Manage topics"),
        ("not-in-group", "cannot reach VOLUNTEER_CHAT_ID"),
    ],
)
async def test_without_volunteers_people_get_the_lawyer_answer(
    fake_api: FakeBotAPI, launch: Launcher, caplog: pytest.LogCaptureFixture, setup: str, reason: str
) -> None:
    fake = fake_api
    caplog.set_level(logging.INFO, logger="bot")
    if setup == "no-rights":
        fake.add_group(VOLUNTEERS, is_forum=True, can_manage_topics=False)
    bot = await launch(**({"volunteer_chat_id": None} if setup == "unset" else {}))
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("volunteers:")]
    assert "volunteers: none" in line and reason in line
    assert not bot.services.desk.available and not bot.services.volunteers
    [escalation] = await sent(fake, lambda: fake.message(USER, UNKNOWN))
    assert escalation.text == bot.renderer.escalate("es", volunteers=False).html
    [person] = await sent(fake, lambda: fake.command(USER, "/human"))
    assert person.text == bot.renderer.human_unavailable("es").html
    assert (
        _("es", "No volunteer is available right now. Meanwhile, this is how to get help from a person:") in person.text
    )
    assert bot.services.engine.kb.get("find-lawyer").text("es").answer.split(":")[0] in person.text
    assert fake.sent_messages(VOLUNTEERS) == [] and not fake.calls_to("createForumTopic")
    assert TOKEN not in caplog.text


async def test_scam_radar_in_an_open_ticket_warns_the_user_and_marks_the_topic(desk: RunningBot) -> None:
    fake = desk.fake
    topic = topic_of(await escalate(desk))
    mark = fake.mark()
    fake.message(USER, "un señor dice que reabren el parole si le pago 500 dolares por zelle")
    [warning] = await fake.wait_for("sendMessage", lambda c: c.ok and c.chat_id == USER, since=mark)
    assert warning.text == desk.renderer.scam_warning("es").html
    note = desk.renderer.desk_note(desk.services.desk.lang, "scam", rule="paid-reopening").html
    [marked] = await fake.wait_for(
        "sendMessage", lambda c: c.ok and c.chat_id == VOLUNTEERS and c.text == note, since=mark
    )
    assert marked.params["message_thread_id"] == topic
    # the message itself still reaches the volunteers
    await fake.wait_for("sendMessage", lambda c: c.ok and c.chat_id == VOLUNTEERS and "zelle" in c.text, since=mark)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("quiero hablar con una persona real por favor", "es"),
        ("m vle pale ak yon moun tanpri", "ht"),
        ("can I talk to a human", "en"),
    ],
)
async def test_asking_for_a_person_in_words_shows_the_consent_screen(desk: RunningBot, text: str, lang: str) -> None:
    """Any wording of "I want to talk to a person" goes straight to the consent screen: nothing
    reaches the group before "yes"."""
    fake = desk.fake
    [consent] = await sent(fake, lambda: fake.message(USER, text, language_code=lang), chat_id=USER)
    assert flat(consent) == [cb("k", "yes"), cb("k", "no")]
    assert not fake.calls_to("createForumTopic")


async def test_a_voice_note_offers_a_volunteer_in_one_tap(desk: RunningBot) -> None:
    """A voice note cannot be read: the bot says so, and one tap on "Talk to a person" leads to
    the consent screen (nothing reaches the group before "yes")."""
    fake = desk.fake
    [reply] = await sent(fake, lambda: fake.voice(USER, language_code="es"), chat_id=USER)
    assert "No puedo escuchar notas de voz" in reply.text and "voluntario" in reply.text
    assert flat(reply) == [cb("h"), cb("m")]
    [consent] = await sent(fake, lambda: fake.callback_query(USER, cb("h")), chat_id=USER)
    assert flat(consent) == [cb("k", "yes"), cb("k", "no")]
    assert not fake.calls_to("createForumTopic")


async def test_the_header_lists_best_guesses_by_title_without_scores(desk: RunningBot) -> None:
    header = await escalate(desk, question="me llego un correo que dice non confirm, que hago")
    guesses = header.text.split(_("en", "The bot's best guesses:"))[1].split("\n\n")[0]
    lines = [line for line in guesses.splitlines() if line.startswith("• ")]
    assert lines and all(" — /kb " in line for line in lines)
    assert not re.search(r"\(\d+(\.\d+)?\)", guesses)  # no raw scores


async def test_an_urgent_answer_reaches_a_volunteer_in_one_tap(desk: RunningBot) -> None:
    """An urgent entry answers with the immediate steps and the consent question in the same
    message; one tap opens an urgent ticket, alerts the General topic, and keeps the steps on screen."""
    fake = desk.fake
    [answer] = await sent(fake, lambda: fake.message(USER, "ice detuvo a mi esposo"), chat_id=USER)
    entry = desk.services.engine.kb.get("ice-detention")
    assert answer.text == desk.renderer.answer(entry, "es", consent_hours=desk.services.desk.reply_hours).html
    assert flat(answer)[0] == cb("u", "ice-detention")
    english = desk.renderer.answer(entry, "en", consent_hours=24).plain
    assert "not the government and not lawyers" in english and "Nothing is sent until you agree" in english
    assert not fake.calls_to("createForumTopic")  # nothing before the tap

    taps = 0
    mark = fake.mark()
    fake.callback_query(USER, cb("u", "ice-detention"), message_id=answer.result["message_id"])
    taps += 1
    [created] = await fake.wait_for("createForumTopic", since=mark)
    assert created.params["name"] == "#1 · ES · ⚠️ URGENT"
    [alert] = await fake.wait_for(
        "sendMessage",
        lambda c: c.ok and c.chat_id == VOLUNTEERS and "message_thread_id" not in c.params and not is_howto(c),
        since=mark,
    )
    assert "⚠️" in alert.text and "https://t.me/c/9000/" in alert.text
    [opened] = await fake.wait_for("sendMessage", lambda c: c.ok and c.chat_id == USER, since=mark)
    assert opened.text == desk.renderer.ticket_opened("es", desk.services.desk.reply_hours).html
    [edit] = await fake.wait_for("editMessageReplyMarkup", since=mark)
    assert cb("u", "ice-detention") not in flat(edit)  # the steps stay, the "yes" goes
    assert taps == 1
    assert (await ticket_of(desk)).urgent


async def test_how_to_answer_is_pinned_once_and_headers_leave_it_out(desk: RunningBot) -> None:
    fake = desk.fake
    pinned = [c for c in fake.sent_messages(VOLUNTEERS) if is_howto(c)]
    assert len(pinned) == 1 and "message_thread_id" not in pinned[0].params
    assert fake.pinned[VOLUNTEERS] == pinned[0].result["message_id"]
    assert desk.services.desk.howto_pinned
    header = await escalate(desk)
    assert "Write in this topic to answer" not in header.text
    # a restart finds it pinned and pins nothing again
    from bot.telegram import relay

    mark = fake.mark()
    assert await relay._pin_howto(desk.app.bot, desk.services)
    assert fake.calls_to("pinChatMessage", since=mark) == []


# -- what the maintainers' report learns from a hand-over ------------------------------------


async def test_questions_handed_to_a_volunteer_are_kept_as_escalated_to_a_person(desk: RunningBot) -> None:
    """The question the bot had no answer to becomes "escalated to a person" once the chat goes
    to a volunteer (one row, not two); the request for a person itself is no question."""
    fake = desk.fake
    await sent(fake, lambda: fake.message(USER, UNKNOWN, language_code="es"))
    [(_day, lang, text, _closest, reason)] = await desk.storage.unanswered()
    assert (lang, text, reason) == ("es", UNKNOWN, "escalate")
    [consent] = await sent(fake, lambda: fake.message(USER, "quiero hablar con una persona", language_code="es"))
    assert cb("k", "yes") in flat(consent)
    mark = fake.mark()
    fake.callback_query(USER, cb("k", "yes"), message_id=consent.result["message_id"], language_code="es")
    await fake.wait_for(
        "sendMessage", lambda c: c.ok and c.chat_id == VOLUNTEERS and c.text.startswith("<b>#"), since=mark
    )
    assert [(row[1], row[2], row[4]) for row in await desk.storage.unanswered()] == [("es", UNKNOWN, "person")]
