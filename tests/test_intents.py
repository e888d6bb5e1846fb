"""Conversation intents before topic matching: thanks, blessings and goodbyes get a polite reply
(never a topic, never a volunteer offer); "I want to talk to a person" in any wording asks for a
person; a short follow-up is matched with the chat's previous topic as context."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import knowledge
from bot.core.conversation import Engine, TopicMemory
from bot.core.matching import is_follow_up
from bot.ui import callbacks
from bot.ui.render import Renderer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def engine() -> Engine:
    result = knowledge.load(ROOT / "knowledge", near_duplicates=False)
    assert result.kb is not None
    return Engine(result.kb)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("gracias mi hermano dios te bendiga", "thanks"),
        ("mesi anpil", "thanks"),
        ("thanks bro", "thanks"),
        ("muchas gracias, bendiciones", "thanks"),
        ("adios", "goodbye"),
        ("orevwa, Bondye beni w", "goodbye"),
        ("bye, god bless", "goodbye"),
        ("buenas noches", "greeting"),
    ],
)
def test_thanks_blessings_and_goodbyes_are_polite_replies(engine: Engine, text: str, kind: str) -> None:
    reply = engine.respond(text)
    assert reply.smalltalk == kind
    assert reply.topic is None and reply.suggestions == () and not reply.person
    screen = Renderer(engine.kb).reply(reply)
    pressed = [callbacks.decode(b.data) for row in screen.buttons for b in row]
    assert pressed and all(p is not None and p.action == "c" for p in pressed)  # topics only, no person


@pytest.mark.parametrize(
    "text",
    [
        "quiero hablar con una persona",
        "necesito hablar con alguien de verdad",
        "pasame con un voluntario",
        "un humano por favor",
        "m vle pale ak yon moun",
        "eske m ka pale ak yon volontè",
        "I want to talk to a real person",
        "can i speak to someone please",
        "volunteer pls",
    ],
)
def test_asking_for_a_person_in_any_wording(engine: Engine, text: str) -> None:
    reply = engine.respond(text)
    assert reply.person and reply.action == "escalate" and reply.topic is None


@pytest.mark.parametrize(
    "text",
    [
        "los voluntarios son abogados?",
        "como hablo con un abogado de inmigracion",
        "who runs this bot",
        "se acabo el parole?",
    ],
)
def test_questions_about_people_are_not_requests_for_one(engine: Engine, text: str) -> None:
    assert not engine.respond(text).person


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("y cuanto cuesta eso?", "es", True),
        ("e konbyen sa koute?", "ht", True),
        ("how long does it take?", "en", True),
        ("se acabo el parole humanitario para los cubanos que llegaron en 2023 con patrocinador?", "es", False),
    ],
)
def test_follow_up_detection(text: str, lang: str, expected: bool) -> None:
    assert is_follow_up(text, lang) is expected


@pytest.mark.parametrize(
    ("text", "context"),
    [
        ("y cuanto cuesta eso?", "asylum"),
        ("e konbyen sa koute?", "case-by-case-parole"),
        ("how long does it take?", "asylum"),
    ],
)
def test_a_follow_up_leans_on_the_previous_topic(engine: Engine, text: str, context: str) -> None:
    with_context = engine.respond(text, context=context)
    assert with_context.action in ("answer", "suggest")
    first = with_context.topic or with_context.suggestions[0]
    assert first == context
    without = engine.respond(text)
    assert (without.topic or (without.suggestions[:1] or [None])[0]) != context or without.action != "answer"


def test_topic_memory_forgets_after_a_few_minutes_and_on_request() -> None:
    memory = TopicMemory(keep_for=600, max_users=2)
    memory.remember(1, "asylum", now=0)
    assert memory.recall(1, now=599) == "asylum"
    assert memory.recall(1, now=601) is None
    memory.remember(1, "asylum", now=0)
    memory.forget(1)
    assert memory.recall(1, now=1) is None
    for user in (1, 2, 3):
        memory.remember(user, "asylum", now=0)
    assert len(memory) == 2 and memory.recall(1, now=1) is None
