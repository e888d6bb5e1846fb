"""bot.core.matching and Engine.respond on a small knowledge base written into a temp folder.

The knowledge base (``helpers.SMALL_KB``) has four entries in es/ht/en plus synonyms:
chnv-ended, work-permit, scam-payment and find-lawyer. None of the questions below is one of
its curated questions.
"""

from __future__ import annotations

import json
import math

import pytest
from helpers import SMALL_KB, TODAY, write_small_kb

from bot.core import knowledge, policy
from bot.core.conversation import Engine, Reply
from bot.core.knowledge import KnowledgeBase
from bot.core.langs import LANGS
from bot.core.matching import Candidate, Matcher
from bot.ui.render import Renderer

ACTIONS = {"answer", "suggest", "escalate"}


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    result = knowledge.load(write_small_kb(tmp_path_factory.mktemp("kb")), today=TODAY)
    assert result.problems == [], [str(p) for p in result.problems]
    assert result.kb is not None
    return result.kb


@pytest.fixture(scope="module")
def engine(kb: KnowledgeBase) -> Engine:
    return Engine(kb)


@pytest.fixture(scope="module")
def matcher(engine: Engine) -> Matcher:
    return engine.matcher


def assert_valid_reply(reply: Reply, kb: KnowledgeBase) -> None:
    assert reply.lang in LANGS
    assert reply.action in ACTIONS
    assert math.isfinite(reply.score)
    assert set(reply.suggestions) <= {e.id for e in kb}
    assert reply.topic is None or reply.action == "answer"
    if reply.topic is not None:
        assert reply.topic in kb and reply.answer == kb.get(reply.topic).text(reply.lang).answer
    data = reply.to_dict()
    assert list(data) == ["text", "lang", "action", "topic", "score", "suggestions", "answer", "scam", "redacted"]
    json.dumps(data)  # serialisable


# --- paraphrases ----------------------------------------------------------------------------

PARAPHRASES = [
    ("ya se termino el parole humanitario?", "es", "chnv-ended"),
    ("pàrole se acabo?", "es", "chnv-ended"),
    ("mi jefe dice que el permiso de trabajo no sirve ya", "es", "work-permit"),
    ("me piden plata por whatsapp para arreglar el caso", "es", "scam-payment"),
    ("necesito un abogado gratis", "es", "find-lawyer"),
    ("m bezwen yon avoka gratis", "ht", "find-lawyer"),
    ("ou konnen yon avoka ki pa chè", "ht", "find-lawyer"),
    ("is my work permit still valid?", "en", "work-permit"),
    ("where can i find a lawyer for free", "en", "find-lawyer"),
    ("they want money on whatsapp to fix my case is it a scam", "en", "scam-payment"),
]


@pytest.mark.parametrize(("text", "lang", "topic"), PARAPHRASES)
def test_paraphrase_answers_the_right_entry(engine: Engine, text: str, lang: str, topic: str) -> None:
    reply = engine.respond(text)
    assert (reply.lang, reply.action, reply.topic) == (lang, "answer", topic), reply.candidates
    assert reply.answer == SMALL_KB[topic][lang]["answer"]


@pytest.mark.parametrize(("text", "lang", "topic"), PARAPHRASES)
def test_rank_puts_the_right_entry_first(matcher: Matcher, text: str, lang: str, topic: str) -> None:
    ranked = matcher.rank(text, lang)
    assert ranked[0].entry_id == topic
    assert [c.score for c in ranked] == sorted((c.score for c in ranked), reverse=True)
    assert all(0 <= c.score <= 100 for c in ranked)


# --- typos, synonyms ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typo", "right", "lang"),
    [
        ("pàrole", "parole", "es"),
        ("paorle", "parole", "es"),
        ("permizo de trabajo", "permiso de trabajo", "es"),
        ("permiso de trabago", "permiso de trabajo", "es"),
        ("abogao", "abogado", "es"),
        ("lawyr", "lawyer", "en"),
        ("whatsap", "whatsapp", "en"),
    ],
)
def test_typos_are_corrected(matcher: Matcher, typo: str, right: str, lang: str) -> None:
    assert matcher.analyze(typo, lang).terms == matcher.analyze(right, lang).terms != ()


@pytest.mark.parametrize(
    ("text", "lang", "topic"),
    [
        ("se acabo el paorle?", "es", "chnv-ended"),
        ("permizo de trabajo sigue valido?", "es", "work-permit"),
        ("abogao gratis", "es", "find-lawyer"),
    ],
)
def test_questions_with_typos_find_their_entry(engine: Engine, text: str, lang: str, topic: str) -> None:
    reply = engine.respond(text, lang)
    assert reply.action == "answer" and reply.topic == topic, reply.candidates


def test_short_unknown_words_are_not_corrected(matcher: Matcher) -> None:
    # words under five letters are too short to correct safely
    assert matcher.analyze("pago", "es").terms == ("@pay",)
    assert matcher.analyze("kiko", "es").terms == ("kiko",)  # not "c11" nor anything else
    assert matcher.analyze("pagx", "es").terms == ("pagx",)


@pytest.mark.parametrize(
    ("phrases", "concept"),
    [
        (
            [
                ("permiso de trabajo", "es"),
                ("pèmi travay", "ht"),
                ("work permit", "en"),
                ("kat travay", "ht"),
                ("EAD", "en"),
            ],
            "@work_permit",
        ),
        ([("abogado", "es"), ("avoka", "ht"), ("attorney", "en"), ("lawyer", "en")], "@lawyer"),
        (
            [("permiso humanitario", "es"), ("paròl", "ht"), ("humanitarian parole", "en"), ("parole de biden", "es")],
            "@parole",
        ),
        ([("estafa", "es"), ("eskwokri", "ht"), ("scam", "en")], "@scam"),
    ],
)
def test_synonyms_become_one_concept_in_every_language(
    matcher: Matcher, phrases: list[tuple[str, str]], concept: str
) -> None:
    for phrase, lang in phrases:
        assert matcher.analyze(phrase, lang).terms == (concept,), phrase


@pytest.mark.parametrize(
    ("text", "lang", "topic"),
    [
        ("is my permiso de trabajo still good", "en", "work-permit"),
        ("my pèmi travay is still valid?", "en", "work-permit"),
        ("mi work permit todavia sirve?", "es", "work-permit"),
        ("mi kat travay c11 todavia sirve", "es", "work-permit"),
        ("konbyen yon attorney koute", "ht", "find-lawyer"),
    ],
)
def test_synonyms_cross_languages(engine: Engine, text: str, lang: str, topic: str) -> None:
    reply = engine.respond(text, lang)
    assert reply.candidates[0].entry_id == topic
    assert reply.action == "answer" and reply.topic == topic, reply.candidates


# --- out of scope, small talk ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "cual es la capital de francia",
        "mi carro no arranca",
        "receta de arroz con pollo",
        "how do i bake bread",
        "who won the football game",
        "ki jan pou m fè diri ak pwa",
        "qwertyuiop asdfghjkl",
    ],
)
def test_unrelated_question_escalates(engine: Engine, text: str) -> None:
    reply = engine.respond(text)
    assert reply.action == "escalate", reply.candidates
    assert reply.topic is None and reply.answer is None and reply.suggestions == ()


@pytest.mark.parametrize(
    ("text", "lang", "kind"),
    [
        ("hola", "es", "greeting"),
        ("holaaaa!!", "es", "greeting"),
        ("buenas noches", "es", "greeting"),
        ("buenos dias 🙏", "es", "greeting"),
        ("gracias!!", "es", "thanks"),
        ("muchas gracias, dios le bendiga", "es", "thanks"),
        ("bonjou", "ht", "greeting"),
        ("bonswa", "ht", "greeting"),
        ("mesi anpil", "ht", "thanks"),
        ("hello 👋", "en", "greeting"),
        ("good morning", "en", "greeting"),
        ("thanks!!", "en", "thanks"),
        ("thank you so much", "en", "thanks"),
    ],
)
def test_greetings_and_thanks_are_smalltalk_never_a_topic(
    engine: Engine, kb: KnowledgeBase, text: str, lang: str, kind: str
) -> None:
    reply = engine.respond(text, lang)
    assert reply.smalltalk == kind
    assert reply.topic is None and reply.suggestions == () and reply.candidates == ()
    screen = Renderer(kb).reply(reply)  # a short polite message in that language, with the topics
    assert screen.plain and screen.buttons
    assert_valid_reply(reply, kb)
    assert engine.matcher.analyze(text, lang).smalltalk == kind


def test_greeting_with_a_question_is_not_smalltalk(engine: Engine) -> None:
    reply = engine.respond("hola buenas noches, se acabo el parole?")
    assert reply.smalltalk is None
    assert reply.topic == "chnv-ended"


# --- odd inputs -----------------------------------------------------------------------------

ODD = [
    "",
    "   ",
    "\n\t",
    "😀😭🙏🇺🇸",
    "se acabo el parole " * 530,  # about 10,000 characters
    "a" * 10_000,
    "привет parole 你好 مرحبا se acabó",
    "Привет, как дела? 你好吗? مرحبا",
    "<b>&amp;</b>",
    "<script>alert('parole')</script> &lt;&gt; &#x27;",
    "\x00\x01\ufffd\U0010ffff",
    "I-134A I-134A I-134A",
    "1234567890",
    "?",
]


@pytest.mark.parametrize("text", ODD, ids=range(len(ODD)))
@pytest.mark.parametrize("lang", [None, *LANGS])
def test_odd_inputs_never_raise(engine: Engine, kb: KnowledgeBase, text: str, lang: str | None) -> None:
    reply = engine.respond(text, lang)
    assert_valid_reply(reply, kb)
    if lang is not None:
        assert reply.lang == lang


def test_long_message_about_parole_still_finds_the_topic(engine: Engine) -> None:
    reply = engine.respond("se acabo el parole " * 530)
    assert reply.candidates and reply.candidates[0].entry_id == "chnv-ended"


def test_none_text_is_treated_as_empty(engine: Engine, kb: KnowledgeBase) -> None:
    assert_valid_reply(engine.respond(None), kb)  # type: ignore[arg-type]


# --- engine details -------------------------------------------------------------------------


def test_forced_language_answers_in_that_language(engine: Engine) -> None:
    reply = engine.respond("se acabo el parole humanitario?", "ht")
    assert reply.lang == "ht" and reply.lang_confident
    assert reply.answer == SMALL_KB[reply.topic]["ht"]["answer"]


def test_hint_decides_an_unclear_message(engine: Engine) -> None:
    reply = engine.respond("CHNV?", hints=("ht", "en"))
    assert (reply.lang, reply.lang_confident) == ("ht", False)
    clear = engine.respond("se acabo el parole humanitario?", hints=("en",))
    assert (clear.lang, clear.lang_confident) == ("es", True)


def test_no_language_at_all_falls_back_to_spanish(engine: Engine) -> None:
    reply = engine.respond("😀")
    assert (reply.lang, reply.lang_confident) == ("es", False)


def test_urgent_entry_is_flagged(tmp_path) -> None:
    write_small_kb(tmp_path)
    spec = dict(SMALL_KB["find-lawyer"])
    spec.pop("category")
    from helpers import write_entry

    write_entry(tmp_path, "find-lawyer", "alternatives", urgent=True, **spec)
    result = knowledge.load(tmp_path, today=TODAY)
    assert result.kb is not None
    reply = Engine(result.kb).respond("necesito un abogado gratis")
    assert reply.topic == "find-lawyer" and reply.urgent


def test_rank_limit_and_candidates(matcher: Matcher, kb: KnowledgeBase) -> None:
    ranked = matcher.rank("parole permiso de trabajo abogado estafa", "es", limit=2)
    assert len(ranked) == 2
    assert all(isinstance(c, Candidate) and c.entry_id in kb for c in ranked)
    assert matcher.rank("", "es") == []
    assert matcher.rank("😀", "en") == []


def test_reply_agrees_with_policy(engine: Engine) -> None:
    for text, _, _ in PARAPHRASES:
        reply = engine.respond(text)
        decision = policy.decide(reply.candidates, engine.model.thresholds)
        assert (reply.action, reply.topic, reply.score, reply.suggestions) == (
            decision.action,
            decision.topic,
            decision.score,
            decision.suggestions,
        )


def test_empty_knowledge_base_escalates_everything() -> None:
    engine = Engine(KnowledgeBase(()))
    for text in ("se acabo el parole?", "", "😀", "hola"):
        reply = engine.respond(text)
        assert reply.action in ("escalate", "answer") and reply.topic is None
        assert reply.action == "answer" or reply.suggestions == ()
