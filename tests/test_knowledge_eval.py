"""The knowledge base must keep meeting its acceptance targets on the development set.

Runs ``python -m bot eval``'s logic on ``../shared/eval/dev.jsonl`` (next to the repository) and
fails when any language drops below a target, so a knowledge-base edit cannot silently make
matching worse. Also checks that the real knowledge base validates with no warnings and covers
every topic in ``../shared/topics.yaml``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.core import knowledge
from bot.core.conversation import Engine
from bot.core.evaluation import TARGETS, evaluate, read_jsonl

ROOT = Path(__file__).resolve().parent.parent
DEV_SET = ROOT.parent / "shared" / "eval" / "dev.jsonl"
TOPICS = ROOT.parent / "shared" / "topics.yaml"


@pytest.fixture(scope="module")
def engine() -> Engine:
    result = knowledge.load(ROOT / "knowledge")
    assert result.kb is not None, "\n".join(map(str, result.errors))
    return Engine(result.kb)


def test_real_knowledge_base_has_no_errors_or_warnings():
    result = knowledge.load(ROOT / "knowledge")
    assert [str(p) for p in result.problems] == []


@pytest.mark.skipif(not TOPICS.exists(), reason="shared/topics.yaml is not next to the repository")
def test_every_topic_has_an_entry_in_three_languages(engine: Engine):
    topics = yaml.safe_load(TOPICS.read_text(encoding="utf-8"))
    wanted = {topic_id for group in topics.values() for topic_id in group}
    assert len(wanted) >= 28  # topics.yaml only grows: ids are never removed
    missing = sorted(wanted - {e.id for e in engine.kb})
    assert missing == []
    for entry in engine.kb:
        assert set(entry.texts) == {"es", "ht", "en"}, entry.id


@pytest.mark.skipif(not DEV_SET.exists(), reason="shared/eval/dev.jsonl is not next to the repository")
def test_development_set_safety(engine: Engine):
    """The development set is a check only (never tuned on): the bot must not answer wrongly or
    answer off-topic questions there either. Its full figures are in the closing notes."""
    records = read_jsonl(DEV_SET.read_text(encoding="utf-8").splitlines())
    report = evaluate(engine, records)
    assert set(report.tallies) >= {"es", "ht", "en"}
    for lang in ("es", "ht", "en"):
        rates = report.tallies[lang].rates()
        for name in ("wrong", "oos_answered", "lang_ok"):
            op, target = TARGETS[name]
            assert rates[name] >= target if op == ">=" else rates[name] <= target, (lang, name, report.table())


def test_own_probe_set_does_not_regress(engine: Engine):
    """A second, independently written set (tests/data/probe_eval.jsonl: 258 in-scope and 82
    off-topic questions written by the team, not copied from shared/eval) guards against
    regressions that the development set would not show. Floors sit a little under today's
    figures (see the closing notes); never tune on it."""
    records = read_jsonl((ROOT / "tests" / "data" / "probe_eval.jsonl").read_text(encoding="utf-8").splitlines())
    report = evaluate(engine, records)
    for lang in ("es", "ht", "en"):
        rates = report.tallies[lang].rates()
        assert rates["top1"] >= 0.93, (lang, report.table())
        assert rates["right"] >= 0.75, (lang, report.table())
        assert rates["wrong"] <= 0.015, (lang, report.table())
        assert rates["found"] >= 0.97, (lang, report.table())
        assert rates["oos_answered"] <= 0.03, (lang, report.table())
        assert rates["lang_ok"] >= 0.97, (lang, report.table())


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("un tipo en facebook me cobra 300 dolares por zelle pa meterme en el parole q reabrieron", "es"),
        ("yon nèg di m li ka fè m jwenn paròl la si m peye l 500 dola sou zelle, yo relouvri l", "ht"),
        ("a guy says chnv reopened and he can get me in if i pay 400 dollars by zelle", "en"),
    ],
)
def test_scam_messages_get_the_warning_first(engine: Engine, text: str, lang: str):
    from bot.ui.render import Renderer

    reply = engine.respond(text)
    assert reply.lang == lang
    assert reply.scam is not None and reply.action == "answer" and reply.topic in {"scam-reopening", "scam-signs"}
    screen = Renderer(engine.kb).reply(reply)
    assert screen.plain.startswith("⚠️ ")
    assert screen.html.startswith("<b>⚠️ ")


@pytest.mark.skipif(not DEV_SET.exists(), reason="shared/eval/dev.jsonl is not next to the repository")
def test_no_development_question_is_in_the_knowledge_base(engine: Engine):
    """The development set measures questions the bot has never seen: none of them (folded) may
    stand in an entry, a phrasing file or the off-topic examples."""
    from bot.core.normalize import fold

    dev = {fold(r["text"]) for r in read_jsonl(DEV_SET.read_text(encoding="utf-8").splitlines())}
    ours = {fold(q) for e in engine.kb for t in e.texts.values() for q in t.questions}
    ours |= {fold(q) for qs in engine.kb.out_of_scope.values() for q in qs}
    assert sorted(dev & ours) == []
