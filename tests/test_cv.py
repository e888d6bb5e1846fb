"""Grouped cross-validation over the real knowledge base (``python -m bot eval --cv``).

Each phrasing is ranked by a model built without it (and without its translations). The safety
targets must hold in every language: few wrong answers, off-topic questions not answered, the
right topic almost always offered, the language recognised. The accuracy targets (top-1 >= 92%,
right >= 70%) are not met yet (see the closing notes): that test is an expected failure that
turns into a failure the day they are met, so it gets promoted then; floors under today's
figures guard against regressions meanwhile.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import knowledge
from bot.core.calibration import AIM_FOUND, AIM_OOS, AIM_WRONG, TARGETS, CrossValidation, cross_validate
from bot.core.langs import LANGS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cv() -> CrossValidation:
    result = knowledge.load(ROOT / "knowledge", near_duplicates=False)
    assert result.kb is not None
    return cross_validate(result.kb)


def test_every_language_is_measured_on_many_phrasings(cv: CrossValidation) -> None:
    for lang in LANGS:
        tally = cv.tallies[lang]
        assert tally.in_scope >= 28 * 80, (lang, tally.in_scope)  # 80 phrasings per topic and language
        assert tally.out_of_scope >= 60, (lang, tally.out_of_scope)
    assert cv.thresholds.source == "cross-validation"


@pytest.mark.parametrize("lang", LANGS)
def test_safety_targets(cv: CrossValidation, lang: str) -> None:
    rates = cv.tallies[lang].rates()
    assert rates["wrong"] <= AIM_WRONG + 1e-9, cv.table()
    assert rates["oos_answered"] <= AIM_OOS + 1e-9, cv.table()
    assert rates["found"] >= AIM_FOUND, cv.table()
    assert rates["lang_ok"] >= TARGETS["lang_ok"][1], cv.table()


@pytest.mark.parametrize("lang", LANGS)
def test_accuracy_floors(cv: CrossValidation, lang: str) -> None:
    """Regression floors under the figures of 2026-12-06 with the confidence model and off-topic
    answered kept under 2 % (top-1 87-90%, right 48-65% depending on the language and the run:
    the per-language threshold moves with a single off-topic example; 47-50% with the score and
    margin thresholds before)."""
    rates = cv.tallies[lang].rates()
    assert rates["top1"] >= 0.85, cv.table()
    assert rates["right"] >= 0.45, cv.table()


def test_answers_are_decided_by_an_honest_confidence_model(cv: CrossValidation) -> None:
    """The confidence model is fitted, every held-out phrasing got its probability from a model
    fitted without its fold, and each language has its threshold."""
    assert cv.confidence is not None
    assert all(h.confidence is not None for h in cv.held)
    assert set(cv.thresholds.confidence) == set(LANGS), cv.thresholds
    assert all(0.5 < value <= 1.0 for value in cv.thresholds.confidence.values()), cv.thresholds


@pytest.mark.xfail(strict=True, reason="top-1 >= 92% and right >= 70% are not reached yet (issue 16)")
def test_accuracy_targets(cv: CrossValidation) -> None:
    assert cv.failures() == [], cv.table()
