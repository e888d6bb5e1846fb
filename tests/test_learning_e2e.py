"""Learning from real questions, end to end: the real ``Application`` over real HTTP against the
fake Bot API, a real SQLite file, and a copy of the small test knowledge base that ``/learn``
writes into.

- a suggestion picked makes the question a candidate phrasing; "not helpful" takes it back;
- a question the bot missed, asked again and answered helpfully, becomes a candidate;
- after /close the volunteers say what the ticket was about: the person's masked questions
  become candidates in their own language, or off-topic examples ("none of these");
- admins review them with /learn: "Accept" writes them into the knowledge base, /reload uses them.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from conftest import TEST_KB, RunningBot, make_settings, start_bot, stop_bot
from fakebotapi import Call, FakeBotAPI
from helpers import eventually

from bot.core import learning
from bot.core.knowledge import OUT_OF_SCOPE
from bot.telegram.app import build_application
from bot.telegram.services import Services
from bot.ui import callbacks
from bot.ui.i18n import _

USER, OTHER = 4242, 5151
ADMIN = 9001
VOLUNTEERS = -1009000
VOLUNTEER, STRANGER = 777, 888


def cb(action: str, arg: str = "") -> str:
    return callbacks.encode(action, arg)


def flat(call: Call) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    return [b.get("callback_data", b.get("url")) for row in markup.get("inline_keyboard", []) for b in row]


def labels(call: Call) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


async def sent(
    fake: FakeBotAPI,
    inject,
    method: str = "sendMessage",
    *,
    chat_id: int = USER,
    timeout: float = 5.0,  # noqa: ASYNC109  handed to fake.wait_for
    where=lambda c: True,
) -> Call:
    mark = fake.mark()
    inject()
    [call] = await fake.wait_for(
        method, lambda c: c.ok and c.chat_id == chat_id and where(c), since=mark, timeout=timeout
    )
    return call


async def stored(bot: RunningBot) -> list[tuple[str, str, str, str]]:
    return [(c.lang, c.topic, c.text, c.source) for c in await bot.storage.candidates()]


@pytest.fixture
async def bot(fake_api: FakeBotAPI, tmp_path: Path) -> AsyncIterator[RunningBot]:
    """The bot on a copy of the test knowledge base, with a volunteers' forum and an admin."""
    knowledge_dir = tmp_path / "knowledge"
    shutil.copytree(TEST_KB, knowledge_dir)
    fake_api.add_group(VOLUNTEERS, is_forum=True, title="Voluntarios")
    fake_api.set_member(VOLUNTEERS, VOLUNTEER, "member")
    settings = make_settings(
        fake_api,
        tmp_path,
        knowledge_dir=knowledge_dir,
        volunteer_chat_id=VOLUNTEERS,
        admin_user_ids=frozenset({ADMIN}),
    )
    services = Services.load(settings)
    app = build_application(settings, services)
    await start_bot(app)
    try:
        yield RunningBot(app, fake_api, services)
    finally:
        await stop_bot(app)


# -- a suggestion picked ----------------------------------------------------------------------


async def test_a_picked_suggestion_becomes_a_candidate_and_not_helpful_takes_it_back(bot: RunningBot) -> None:
    fake = bot.fake
    question = "mi jefe me pide papeles"
    expected = bot.services.engine.respond(question, hints=(None, "es"))
    assert expected.action == "suggest" and "work-permit" in expected.suggestions
    suggestions = await sent(fake, lambda: fake.message(USER, question, language_code="es"))
    assert flat(suggestions) == [cb("g", e) for e in expected.suggestions] + [cb("h")]
    assert await stored(bot) == []

    answer = await sent(
        fake, lambda: fake.callback_query(USER, cb("g", "work-permit"), message_id=suggestions.result["message_id"])
    )
    assert answer.text == bot.renderer.answer(bot.services.engine.kb.get("work-permit"), "es").html
    assert answer.params["reply_parameters"]["message_id"] == fake.chat_history(USER)[0]["message_id"]
    await eventually(lambda: _equals(stored(bot), [("es", "work-permit", question, learning.SUGGESTION)]))

    # "No, this did not help": the candidate goes (the question is kept for the report, as before)
    await sent(fake, lambda: fake.callback_query(USER, cb("n", "work-permit"), message_id=answer.result["message_id"]))
    assert await stored(bot) == []
    # for the report: only suggested, then rated not helpful
    assert [(row[2], row[4]) for row in await bot.storage.unanswered()] == [
        (question, "suggest"),
        (question, "not_helpful"),
    ]


async def test_a_picked_suggestion_is_stored_masked_in_the_language_it_was_asked(bot: RunningBot) -> None:
    fake = bot.fake
    question = "mi jefe me pide papeles, mi A-number es A-123-456-789"
    suggestions = await sent(fake, lambda: fake.message(OTHER, question, language_code="en"), chat_id=OTHER)
    assert cb("g", "work-permit") in flat(suggestions)
    await sent(
        fake,
        lambda: fake.callback_query(OTHER, cb("g", "work-permit"), message_id=suggestions.result["message_id"]),
        chat_id=OTHER,
    )
    await eventually(
        lambda: _equals(
            stored(bot), [("es", "work-permit", "mi jefe me pide papeles, mi A-number es [A-number]", "suggestion")]
        )
    )
    # a topic chosen from the menu teaches nothing: no question was asked
    await sent(fake, lambda: fake.callback_query(OTHER, cb("a", "chnv-ended")), chat_id=OTHER)
    assert len(await bot.storage.candidates()) == 1


# -- a rephrasing -------------------------------------------------------------------------------


async def test_a_missed_question_asked_again_and_rated_helpful_becomes_a_candidate(bot: RunningBot) -> None:
    fake = bot.fake
    missed, again = "la tarjeta esa del empleo", "mi permiso de trabajo sigue valido?"
    miss = await sent(fake, lambda: fake.message(USER, missed, language_code="es"))
    assert miss.text == bot.renderer.escalate("es", volunteers=True).html
    answer = await sent(fake, lambda: fake.message(USER, again, language_code="es"))
    assert cb("y", "work-permit") in flat(answer)
    await sent(
        fake,
        lambda: fake.callback_query(USER, cb("y", "work-permit"), message_id=answer.result["message_id"]),
        "editMessageReplyMarkup",
    )
    await eventually(lambda: _equals(stored(bot), [("es", "work-permit", missed, learning.REPHRASE)]))


async def test_a_rephrasing_rated_not_helpful_teaches_nothing(bot: RunningBot) -> None:
    fake = bot.fake
    await sent(fake, lambda: fake.message(USER, "la tarjeta esa del empleo", language_code="es"))
    answer = await sent(fake, lambda: fake.message(USER, "mi permiso de trabajo sigue valido?", language_code="es"))
    await sent(fake, lambda: fake.callback_query(USER, cb("n", "work-permit"), message_id=answer.result["message_id"]))
    # a later "yes" on the same answer does not bring it back
    fake.callback_query(USER, cb("y", "work-permit"), message_id=answer.result["message_id"])
    await eventually(lambda: len(fake.calls_to("answerCallbackQuery")) == 2)
    assert await stored(bot) == []


# -- the volunteers' label after /close ----------------------------------------------------------


async def open_ticket(bot: RunningBot, questions: list[str]) -> int:
    """The user asks ``questions``, then /human and "yes": returns the ticket's topic."""
    fake = bot.fake
    for question in questions:
        await sent(fake, lambda q=question: fake.message(USER, q, language_code="es"))
    consent = await sent(fake, lambda: fake.command(USER, "/human", language_code="es"))
    mark = fake.mark()
    fake.callback_query(USER, cb("k", "yes"), message_id=consent.result["message_id"])
    [header] = await fake.wait_for(
        "sendMessage", lambda c: c.ok and c.chat_id == VOLUNTEERS and c.text.startswith("<b>#"), since=mark
    )
    return header.params["message_thread_id"]


async def close(bot: RunningBot, topic: int) -> Call:
    """/close in the topic; returns the label prompt posted there."""
    fake = bot.fake
    return await sent(
        fake,
        lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "/close", message_thread_id=topic),
        chat_id=VOLUNTEERS,
        where=lambda c: "1|v|" in str(c.params.get("reply_markup")),
    )


async def test_a_volunteers_label_makes_candidates_in_each_questions_language(bot: RunningBot) -> None:
    fake = bot.fake
    questions = ["la tarjeta esa del empleo", "kat travay mwen an pa bon ankò, kisa pou m fè", "gracias"]
    topic = await open_ticket(bot, questions)
    ticket = await bot.storage.last_ticket_of(USER)
    prompt = await close(bot, topic)
    assert prompt.params["message_thread_id"] == topic
    assert "la tarjeta esa del empleo" in prompt.text and _("en", "What was this about?") in prompt.text
    assert flat(prompt)[-2:] == [cb("v", f"{ticket.id}.+"), cb("v", f"{ticket.id}.-")]
    assert cb("v", f"{ticket.id}.work-permit") in flat(prompt)
    assert await stored(bot) == []  # nothing is learned before a volunteer answers

    # someone outside the volunteers' group cannot label (the group's updates are handled in order:
    # once the next press is answered, this one is done)
    fake.callback_query(STRANGER, cb("v", f"{ticket.id}.chnv-ended"), prompt.result["message_id"], VOLUNTEERS)

    # "Another topic…" shows every topic, two a row
    every = await sent(
        fake,
        lambda: fake.callback_query(VOLUNTEER, cb("v", f"{ticket.id}.+"), prompt.result["message_id"], VOLUNTEERS),
        "editMessageReplyMarkup",
        chat_id=VOLUNTEERS,
    )
    ids = [e.id for e in bot.services.engine.kb]
    assert sorted(flat(every)[:-1]) == sorted(cb("v", f"{ticket.id}.{i}") for i in ids)
    assert bot.renderer.title(bot.services.engine.kb.get("work-permit"), "en") in labels(every)
    assert await stored(bot) == []
    assert len(await bot.storage.ticket_questions(ticket.id)) == 3  # the stranger's press took nothing

    done = await sent(
        fake,
        lambda: fake.callback_query(
            VOLUNTEER, cb("v", f"{ticket.id}.work-permit"), prompt.result["message_id"], VOLUNTEERS
        ),
        "editMessageText",
        chat_id=VOLUNTEERS,
    )
    assert done.text == bot.renderer.label_done("en", "work-permit", 2).html
    assert "reply_markup" not in done.params or not flat(done)
    assert sorted(await stored(bot)) == [
        ("es", "work-permit", "la tarjeta esa del empleo", learning.VOLUNTEER),
        ("ht", "work-permit", "kat travay mwen an pa bon ankò, kisa pou m fè", learning.VOLUNTEER),
    ]  # "gracias" taught nothing
    assert await bot.storage.ticket_questions(ticket.id) == []  # not kept once labelled

    # a second answer changes nothing
    again = await sent(
        fake,
        lambda: fake.callback_query(
            VOLUNTEER, cb("v", f"{ticket.id}.chnv-ended"), prompt.result["message_id"], VOLUNTEERS
        ),
        "editMessageText",
        chat_id=VOLUNTEERS,
    )
    assert again.text == bot.renderer.label_done("en", None, 0, already=True).html
    assert len(await stored(bot)) == 2

    # /forget removes the person's candidates
    from helpers import forget_confirmed

    await forget_confirmed(fake, USER)
    assert await stored(bot) == []


async def test_none_of_these_makes_off_topic_examples(bot: RunningBot) -> None:
    fake = bot.fake
    topic = await open_ticket(bot, ["donde renuevo la licencia de conducir"])
    ticket = await bot.storage.last_ticket_of(USER)
    prompt = await close(bot, topic)
    await sent(
        fake,
        lambda: fake.callback_query(VOLUNTEER, cb("v", f"{ticket.id}.-"), prompt.result["message_id"], VOLUNTEERS),
        "editMessageText",
        chat_id=VOLUNTEERS,
    )
    assert await stored(bot) == [("es", OUT_OF_SCOPE, "donde renuevo la licencia de conducir", learning.VOLUNTEER)]


async def test_no_label_is_asked_without_questions(bot: RunningBot) -> None:
    fake = bot.fake
    topic = await open_ticket(bot, [])
    mark = fake.mark()
    await sent(fake, lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "/close", message_thread_id=topic), chat_id=USER)
    await fake.wait_for("closeForumTopic", since=mark)
    assert not [c for c in fake.calls_to("sendMessage", since=mark) if "1|v|" in str(c.params.get("reply_markup"))]


# -- /learn ---------------------------------------------------------------------------------------


async def test_admins_review_with_learn_and_reload_puts_it_in_service(bot: RunningBot) -> None:
    fake = bot.fake
    kb_dir = bot.services.settings.knowledge_dir
    question = "la tarjeta esa del empleo"
    for user in (USER, OTHER):
        await bot.storage.add_candidate(user, "es", "work-permit", question, learning.SUGGESTION)
    await bot.storage.add_candidate(USER, "es", "chnv-ended", "y el programa ese ya no sirve pa nada", "volunteer")
    await bot.storage.add_candidate(USER, "es", OUT_OF_SCOPE, "donde renuevo la licencia de conducir", "volunteer")

    card = await sent(fake, lambda: fake.command(ADMIN, "/learn", language_code="en"), chat_id=ADMIN)
    first = min(c.id for c in await bot.storage.candidates())
    assert f"“{question}”" in card.text and "(work-permit)" in card.text and "ES · #" in card.text
    assert "picked among suggestions ×2" in card.text  # said by two people: shown first
    assert flat(card) == [cb("e", f"a{first}"), cb("e", f"r{first}"), cb("e", f"s{first}")]

    # someone else pressing the button changes nothing
    fake.callback_query(OTHER, cb("e", f"a{first}"), card.result["message_id"], ADMIN)
    await eventually(lambda: len(fake.calls_to("answerCallbackQuery")) == 1)
    assert len(await bot.storage.candidates()) == 4

    accepted = await sent(
        fake,
        lambda: fake.callback_query(ADMIN, cb("e", f"a{first}"), card.result["message_id"], ADMIN, language_code="en"),
        "editMessageText",
        chat_id=ADMIN,
    )
    today = dt.date.today().isoformat()
    path = kb_dir / "phrasings" / "es" / "work-permit.yaml"
    assert f"  - {question}  # learned {today}\n" in path.read_text(encoding="utf-8")
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["questions"] == [question]
    assert "Added 1 phrasing(s) to phrasings/es/work-permit.yaml. Send /reload" in accepted.text
    assert len(await bot.storage.candidates()) == 2  # both people's copies went

    # reject the next one; the last one is shown
    shown = int(flat(accepted)[0].split("|")[2][1:])
    rejected = await sent(
        fake,
        lambda: fake.callback_query(ADMIN, cb("e", f"r{shown}"), card.result["message_id"], ADMIN, language_code="en"),
        "editMessageText",
        chat_id=ADMIN,
    )
    assert "Rejected: 1." in rejected.text
    [left] = await bot.storage.candidates()
    assert f"#{left.id}" in rejected.text

    # /reload: the learned phrasing is in service and the question is answered directly
    before = bot.services.engine.respond(question, hints=(None, "es"))
    assert before.action != "answer"
    await sent(fake, lambda: fake.command(ADMIN, "/reload", language_code="en"), chat_id=ADMIN, timeout=60)
    after = bot.services.engine.respond(question, hints=(None, "es"))
    assert (after.action, after.topic) == ("answer", "work-permit")
    answer = await sent(fake, lambda: fake.message(USER, question, language_code="es"))
    assert cb("y", "work-permit") in flat(answer)


async def _equals(found, expected) -> bool:
    return await found == expected
