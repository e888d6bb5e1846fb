"""Who can reach a person through the volunteers' group, end to end (real ``Application``, fake
Bot API, real SQLite).

- Only members of the group are relayed: a stranger's text in a ticket's topic (someone who
  left, was removed or is restricted) is not copied to the person and gets no answer, not even
  "this ticket is closed"; a member who leaves stops being relayed at once.
- The bot's buttons belong to a person's private chat with it: pressed inside the group (a
  forwarded message, or a crafted press on a ticket's header) they are answered and do nothing:
  no ticket opened, no header changed, nothing deleted.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import RunningBot
from fakebotapi import FakeBotAPI
from test_escalation_e2e import USER, VOLUNTEER, VOLUNTEERS, Launcher, cb, escalate, sent, ticket_of, topic_of

STRANGER, RESTRICTED, FORMER, COLLEAGUE = 888, 889, 890, 891
SCAM = "Soy abogado de inmigración: mándame 500 dólares por Zelle y tu caso se arregla"


@pytest.fixture
async def group_desk(fake_api: FakeBotAPI, launch: Launcher) -> RunningBot:
    """The bot with a forum group of volunteers; VOLUNTEER and COLLEAGUE are members."""
    fake_api.add_group(VOLUNTEERS, is_forum=True, title="Voluntarios")
    for member in (VOLUNTEER, COLLEAGUE):
        fake_api.set_member(VOLUNTEERS, member, "member")
    return await launch()


def texts_seen_by(fake: FakeBotAPI, user: int) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in fake.chat_history(user)]


def count_tickets(db_path: Path) -> int:
    with sqlite3.connect(db_path) as db:
        [(count,)] = db.execute("SELECT count(*) FROM tickets").fetchall()
    db.close()
    return int(count)


async def member_says(fake: FakeBotAPI, topic: int, text: str, who: int = VOLUNTEER) -> int:
    """A member's message in the topic, waited for until it is copied to the person (group
    updates are handled in order, so everything injected before it has been handled); its id."""
    message_id = int(fake.group_message(VOLUNTEERS, who, text, message_thread_id=topic)["message"]["message_id"])
    await fake.wait_for(
        "copyMessage", lambda c: c.ok and c.chat_id == USER and c.params["message_id"] == message_id, timeout=5
    )
    return message_id


# -- strangers in a ticket's topic -----------------------------------------------------------


async def test_only_members_of_the_group_reach_the_person(group_desk: RunningBot) -> None:
    fake = group_desk.fake
    header = await escalate(group_desk)
    topic = topic_of(header)
    fake.set_member(VOLUNTEERS, STRANGER, "left")
    fake.set_member(VOLUNTEERS, RESTRICTED, "restricted", can_send_messages=False)
    mark = fake.mark()
    fake.group_message(VOLUNTEERS, STRANGER, SCAM, message_thread_id=topic, first_name="Falso")
    fake.group_message(VOLUNTEERS, RESTRICTED, SCAM + " (2)", message_thread_id=topic)
    fake.group_message(
        VOLUNTEERS, STRANGER, SCAM + " (3)", reply_to=header.result["message_id"]
    )  # a reply to the header
    await member_says(fake, topic, "Hola, soy voluntaria.")

    copies = [c for c in fake.calls_to("copyMessage", since=mark) if c.ok and c.chat_id == USER]
    assert len(copies) == 1  # the member's
    assert texts_seen_by(fake, USER)[-1] == "Hola, soy voluntaria."
    assert not [t for t in texts_seen_by(fake, USER) if "Zelle" in t]
    assert fake.sent_messages(VOLUNTEERS, since=mark) == []  # nothing said to the strangers
    assert {c.params["user_id"] for c in fake.calls_to("getChatMember", since=mark)} >= {STRANGER, RESTRICTED}

    # A closed ticket: a member is told nothing was sent; a stranger is told nothing at all.
    closing = fake.mark()
    fake.group_message(VOLUNTEERS, VOLUNTEER, "/close", message_thread_id=topic)
    await fake.wait_for("closeForumTopic", lambda c: c.ok, since=closing)  # after its notes and the label prompt
    mark = fake.mark()
    fake.group_message(VOLUNTEERS, STRANGER, "¿sigue abierto?", message_thread_id=topic)
    [note] = await sent(
        fake,
        lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "una cosa más", message_thread_id=topic),
        chat_id=VOLUNTEERS,
    )
    assert "This ticket is closed" in note.text
    notes = fake.sent_messages(VOLUNTEERS, since=mark)
    assert notes == [note], [c.text for c in notes]  # one note, for the member
    assert not [c for c in fake.calls_to("copyMessage", since=mark) if c.chat_id == USER]


async def test_a_member_who_leaves_is_not_relayed_any_more(group_desk: RunningBot) -> None:
    fake = group_desk.fake
    topic = topic_of(await escalate(group_desk))
    fake.set_member(VOLUNTEERS, FORMER, "member")
    await member_says(fake, topic, "Te ayudo yo.", who=FORMER)  # a member: relayed (and remembered)

    # they leave the group: Telegram posts the service message and getChatMember says "left"
    fake.set_member(VOLUNTEERS, FORMER, "left")
    former = {"id": FORMER, "is_bot": False, "first_name": "Antes"}
    fake.add_update(
        {
            "message": {
                "message_id": 90_000,
                "date": 1_700_000_000,
                "chat": {"id": VOLUNTEERS, "type": "supergroup", "title": "Voluntarios", "is_forum": True},
                "from": former,
                "left_chat_member": former,
            }
        }
    )
    mark = fake.mark()
    fake.group_message(VOLUNTEERS, FORMER, SCAM, message_thread_id=topic)
    colleague = await member_says(fake, topic, "Sigo aquí.", who=COLLEAGUE)
    assert [c.params["message_id"] for c in fake.calls_to("copyMessage", since=mark) if c.chat_id == USER] == [
        colleague
    ]
    assert not [t for t in texts_seen_by(fake, USER) if "Zelle" in t]


# -- buttons pressed in the group ------------------------------------------------------------


async def test_a_persons_buttons_pressed_in_the_group_do_nothing(group_desk: RunningBot) -> None:
    fake = group_desk.fake
    header = await escalate(group_desk)
    topic, header_id = topic_of(header), header.result["message_id"]
    before = fake.get_message(VOLUNTEERS, header_id)
    tickets = count_tickets(group_desk.services.settings.database_path)
    assert tickets == 1
    presses = [cb("k", "yes"), cb("u", "find-lawyer"), cb("h"), cb("x"), cb("f", "yes"), cb("a", "find-lawyer")]
    mark = fake.mark()
    for data in presses:  # the consent "yes" and the others, on the ticket's header in the group
        fake.callback_query(VOLUNTEER, data, message_id=header_id, chat_id=VOLUNTEERS, first_name="Marta")
    answered = await fake.wait_for("answerCallbackQuery", lambda c: c.ok, count=len(presses), since=mark)
    assert len(answered) == len(presses)  # every spinner stops
    await member_says(fake, topic, "sigo contigo")

    assert fake.get_message(VOLUNTEERS, header_id) == before  # the header is unchanged
    assert count_tickets(group_desk.services.settings.database_path) == tickets  # no ticket for the volunteer
    assert (await ticket_of(group_desk)).is_open  # the person's ticket is untouched
    assert await group_desk.storage.open_ticket_of(VOLUNTEER) is None
    assert len(fake.calls_to("createForumTopic")) == 1
    edits = ("editMessageText", "editMessageReplyMarkup", "editMessageCaption", "deleteMessage", "closeForumTopic")
    assert fake.calls_to(edits, since=mark) == []
    assert fake.sent_messages(VOLUNTEERS, since=mark) == [] and fake.sent_messages(VOLUNTEER) == []
