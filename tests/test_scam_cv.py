"""Scam radar = rules + classifier, cross-validated on ``knowledge/scam-examples/``.

The targets (scams caught >= 90%, false alarms <= 4% per language) are not met yet (see the
closing notes): that test is an expected failure; floors under today's figures guard against
regressions, and the classifier must add scams that no rule names."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import knowledge
from bot.core.langs import LANGS
from bot.core.scam_model import MODEL_LABEL, ScamCV, build, cross_validate

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def kb() -> knowledge.KnowledgeBase:
    result = knowledge.load(ROOT / "knowledge", near_duplicates=False)
    assert result.kb is not None
    return result.kb


@pytest.fixture(scope="module")
def cv(kb: knowledge.KnowledgeBase) -> ScamCV:
    return cross_validate(kb)


@pytest.mark.parametrize("lang", LANGS)
def test_enough_examples_per_language(kb: knowledge.KnowledgeBase, lang: str) -> None:
    examples = kb.scam_examples[lang]
    assert sum(e.scam for e in examples) >= 60 and sum(not e.scam for e in examples) >= 60


@pytest.mark.parametrize("lang", LANGS)
def test_floors(cv: ScamCV, lang: str) -> None:
    """Floors a little under today's grouped cross-validation (caught 68-74%, flagged 2-3%)."""
    assert cv.rates[lang]["caught"] >= 0.64, cv.table()
    assert cv.rates[lang]["false_alarms"] <= 0.04, cv.table()


def test_the_classifier_catches_scams_no_rule_names(kb: knowledge.KnowledgeBase) -> None:
    """The wiring: a scam no rule names is reported as ``model`` (and shows scam-signs); an
    honest fee question is not flagged."""
    radar = build(kb)
    text = (
        "Final notice regarding your file. An open balance of $340 remains on your record. "
        "Settle it before Friday to avoid referral. Call 888-555-0199 with your card ready."
    )
    assert kb.scam_patterns is not None and kb.scam_patterns.check(text, "en") is None
    hit = radar.check(text, "en")
    assert hit is not None and hit.rule == MODEL_LABEL and hit.entry == "scam-signs"
    assert radar.check("how much is the official fee for the work permit on uscis.gov?", "en") is None


@pytest.mark.xfail(strict=True, reason="scams caught >= 90% and false alarms <= 4% are not reached yet (issue 19)")
def test_targets(cv: ScamCV) -> None:
    assert cv.failures() == [], cv.table()
