"""Scam radar = rules + classifier, cross-validated on ``knowledge/scam-examples/`` (grouped:
a message and its translations are never split between training and test).

False alarms <= 4% per language is met and asserted. Scams caught >= 90% is not met yet: that
test is an expected failure, with a floor under today's figures against regressions; the
classifier must add scams that no rule names, and a rule stopped by ``unless:`` (a report of a
scam, a refusal) leaves the classifier free to warn."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from helpers import PYTHON, subprocess_env

from bot.core import knowledge
from bot.core.knowledge import ScamExample
from bot.core.langs import LANGS
from bot.core.scam_model import (
    MODEL_LABEL,
    TARGETS,
    ScamClassifier,
    ScamCV,
    ScamRadar,
    build,
    cross_validate,
    groups,
)

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
    """Floors a little under today's grouped cross-validation (caught 71-78%)."""
    assert cv.rates[lang]["caught"] >= 0.68, cv.table()


@pytest.mark.parametrize("lang", LANGS)
def test_false_alarm_target(cv: ScamCV, lang: str) -> None:
    """Innocent look-alikes flagged (rules and classifier together): the issue's target."""
    op, target = TARGETS["false_alarms"]
    assert op == "<=" and cv.rates[lang]["false_alarms"] <= target, cv.table()


def test_translations_and_near_copies_share_a_group() -> None:
    def ex(text: str, scam: bool, family: str, lang: str) -> ScamExample:
        return ScamExample(text, scam, family, lang)

    examples = [
        ex("Pague la multa de 385 en uscis-pagos.com", True, "fake-government", "es"),
        ex("Peye amann 295 la sou uscis-pagos.com", True, "fake-government", "ht"),
        ex("Pay the 318 fine at ice-pay.com", True, "fake-government", "en"),
        ex("Me llamaron de ICE, piden 2 mil en tarjetas", True, "impersonation-call", "es"),
        ex("Cuanto cuesta el permiso de trabajo en my.uscis.gov", False, "official-fee", "es"),
        ex("Cuanto cuesta el permiso de trabajo en my.uscis.gov?? gracias", False, "official-fee", "en"),
        ex("Cuanto cuesta el permiso de trabajo en my.uscis.gov", True, "fake-government", "en"),
    ]
    g = groups(examples)
    assert g[0] == g[1] == g[2]  # the first fake-government scam of each file
    assert g[3] != g[0]  # another family
    assert g[4] == g[5]  # a near copy in another file, same label
    assert g[6] not in (g[0], g[4])  # same words, other label: never one group


def test_eval_lists_misses_and_false_alarms_with_the_part_that_fired(kb: knowledge.KnowledgeBase, cv: ScamCV) -> None:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [PYTHON, "-m", "bot", "eval", "--scam", "--show-misses", "--knowledge", str(root / "knowledge")],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["lang", "scams", "caught", "rule", "model", "innocent", "flagged", "rule", "model"]
    for lang in LANGS:
        row = next(line.split() for line in lines if line.startswith(f"{lang} "))
        counts = cv.counts[lang]
        assert row[1] == str(counts["scams"]) and row[5] == str(counts["innocent"])
        assert int(row[3]) + int(row[4]) == round(cv.rates[lang]["caught"] * counts["scams"])
        missed = [line for line in lines if line.startswith(f"[{lang}] missed scam (")]
        alarms = [line for line in lines if line.startswith(f"[{lang}] false alarm by ")]
        assert len(missed) == counts["scams"] - int(row[3]) - int(row[4])
        assert len(alarms) == int(row[7]) + int(row[8])
        parts = {line.split(" false alarm by ")[1].split(" ")[0] for line in alarms}
        rules = {rule.name for rule in kb.scam_patterns.rules} if kb.scam_patterns is not None else set()
        assert parts <= rules | {MODEL_LABEL}, parts
    assert "Below target: " in done.stdout  # caught >= 90% is not reached yet


class _Always(ScamClassifier):
    """A classifier stand-in that scores every message ``value``."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def score(self, texts: Sequence[str], langs: Sequence[str]) -> np.ndarray:
        return np.full(len(texts), self.value)


def test_a_report_stops_the_rule_but_not_the_classifier(kb: knowledge.KnowledgeBase) -> None:
    report = "Vi un anuncio de nuevo parole con pagos por Zelle. No voy a pagar nada, donde lo reporto?"
    offer = "Vi un anuncio de nuevo parole con pagos por Zelle, 300 por persona. Le pago?"
    quiet = ScamRadar(kb.scam_patterns, _Always(-5.0), {"es": 0.0})
    hit = quiet.check(offer, "es")
    assert hit is not None and hit.rule == "paid-reopening"
    assert quiet.check(report, "es") is None
    sure = ScamRadar(kb.scam_patterns, _Always(5.0), {"es": 0.0})
    hit = sure.check(report, "es")
    assert hit is not None and hit.rule == MODEL_LABEL


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


@pytest.mark.xfail(strict=True, reason="scams caught >= 90% per language is not reached yet (issue 19)")
def test_caught_target(cv: ScamCV) -> None:
    assert cv.failures() == [], cv.table()
