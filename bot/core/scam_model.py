"""Scam radar = rules + a classifier.

The rules (``knowledge/scam-patterns.yaml``, ``bot.core.scamradar``) name the signal a warning
is about ("paid-reopening"), but only catch the wordings someone wrote a pattern for. The
classifier learns from labelled messages kept in the knowledge base (``scam-examples/<lang>.yaml``:
scams of many families and innocent look-alikes that share their words) and catches the rest.

A rule that fires always warns: each rule was written for one scam wording, and a warning on an
honest message costs little, while a missed scam can cost someone their savings. The classifier
adds the scams no rule names, from ``threshold`` on; the threshold comes from cross-validation
over the examples: the classifier on its own flags at most ``AIM_FALSE_ALARMS`` of the innocent
messages in each language. ``python -m bot eval --scam`` prints the figures of both together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import sklearn
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.core.classifier import char_text
from bot.core.knowledge import KnowledgeBase, ScamExample
from bot.core.langs import LANGS
from bot.core.scamradar import ScamHit, ScamPatterns
from bot.core.targets import missed

#: Innocent messages flagged, at most, per language, in cross-validation.
AIM_FALSE_ALARMS = 0.03
#: Acceptance targets per language: scams caught, innocent look-alikes flagged.
TARGETS = {"caught": (">=", 0.90), "false_alarms": ("<=", 0.04)}
FOLDS = 5
#: The rule name reported when only the classifier recognised a scam, and the entry it shows.
MODEL_LABEL = "model"
MODEL_ENTRY = "scam-signs"


class ScamClassifier:
    """Letter n-grams and words of the folded message; a logistic regression (scam vs innocent)."""

    def __init__(self) -> None:
        self.chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, dtype=np.float32
        )
        self.words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+", dtype=np.float32)
        self.model = LogisticRegression(C=4.0, class_weight="balanced", max_iter=1000)

    def _features(self, texts: Sequence[str], langs: Sequence[str], fit: bool = False):
        folded = [char_text(t, lang) for t, lang in zip(texts, langs)]
        if fit:
            return hstack([self.chars.fit_transform(folded), self.words.fit_transform(folded)]).tocsr()
        return hstack([self.chars.transform(folded), self.words.transform(folded)]).tocsr()

    def fit(self, examples: Sequence[ScamExample]) -> ScamClassifier:
        features = self._features([e.text for e in examples], [e.lang for e in examples], fit=True)
        self.model.fit(features, [e.scam for e in examples])
        return self

    def score(self, texts: Sequence[str], langs: Sequence[str]) -> np.ndarray:
        """Decision value per message: above 0 leans scam, below 0 innocent."""
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            features = self._features(texts, langs)
        return np.asarray(features @ self.model.coef_.T + self.model.intercept_).ravel()


@dataclass
class ScamRadar:
    """Rules and classifier together: ``check`` gives the hit to warn about, or None."""

    patterns: ScamPatterns | None
    classifier: ScamClassifier | None
    threshold: float = 1.0
    cv: dict[str, dict[str, float]] = field(default_factory=dict)

    def check(self, text: str, lang: str) -> ScamHit | None:
        """The rule that fired (it names the signal), else ``model`` when only the classifier
        recognised a scam; None when the message does not look like one."""
        rule = self.patterns.check(text, lang) if self.patterns is not None else None
        if rule is not None:
            return rule
        if self.classifier is None or not text.strip():
            return None
        if float(self.classifier.score([text], [lang])[0]) >= self.threshold:
            return ScamHit(MODEL_LABEL, (), MODEL_ENTRY)
        return None


def _examples(kb: KnowledgeBase) -> list[ScamExample]:
    return [e for lang in LANGS for e in kb.scam_examples.get(lang, ())]


def build(kb: KnowledgeBase) -> ScamRadar:
    """Cross-validate the threshold and fit on every example (rules alone without examples)."""
    examples = _examples(kb)
    if len({e.scam for e in examples}) < 2 or len(examples) < 4 * FOLDS:
        return ScamRadar(kb.scam_patterns, None)
    result = cross_validate(kb)
    return ScamRadar(kb.scam_patterns, ScamClassifier().fit(examples), result.threshold, result.rates)


@dataclass
class ScamCV:
    threshold: float
    rates: dict[str, dict[str, float]]
    counts: dict[str, tuple[int, int]]  # language -> (scams, innocent)
    missed: list[ScamExample] = field(default_factory=list)
    false_alarms: list[ScamExample] = field(default_factory=list)

    def failures(self) -> list[str]:
        return missed(self.rates, TARGETS)

    def table(self) -> str:
        head = f"{'lang':<6}{'scams':>7}{'caught':>8}{'innocent':>10}{'flagged':>9}"
        lines = [head, "-" * len(head)]
        for lang, rates in self.rates.items():
            scams, innocent = self.counts[lang]
            lines.append(f"{lang:<6}{scams:>7}{rates['caught']:>8.1%}{innocent:>10}{rates['false_alarms']:>9.1%}")
        lines += [
            "",
            f"a rule always warns; the classifier warns from a score of {self.threshold:.3f} (cross-validation: on its own it",
            f"flags at most {AIM_FALSE_ALARMS:.0%} of the innocent messages of any language)",
            f"caught: scams warned about; flagged: innocent look-alikes warned about ({FOLDS} folds: each message",
            "judged by a classifier trained without it; the rules are applied as they are).",
        ]
        return "\n".join(lines)


def cross_validate(kb: KnowledgeBase) -> ScamCV:
    """Score every example with a classifier trained without it; choose the threshold."""
    examples = _examples(kb)
    fold_of = [i % FOLDS for i in range(len(examples))]  # examples are written one by one: no groups
    scores = np.zeros(len(examples))
    for fold in range(FOLDS):
        train = [e for e, f in zip(examples, fold_of) if f != fold]
        test = [i for i, f in enumerate(fold_of) if f == fold]
        if not test or len({e.scam for e in train}) < 2:
            continue
        model = ScamClassifier().fit(train)
        scores[test] = model.score([examples[i].text for i in test], [examples[i].lang for i in test])
    patterns = kb.scam_patterns
    fired = np.array([patterns is not None and patterns.check(e.text, e.lang) is not None for e in examples])
    is_scam = np.array([e.scam for e in examples])
    langs = np.array([e.lang for e in examples])
    present = [lang for lang in LANGS if (langs == lang).any()]
    best: tuple[float, float] | None = None
    for threshold in np.unique(scores):
        flagged = scores >= threshold  # the classifier's own false alarms (rules are added below)
        worst = 1.0
        ok = True
        for lang in present:
            mask = langs == lang
            innocent = mask & ~is_scam
            if innocent.any() and (flagged & innocent).sum() / innocent.sum() > AIM_FALSE_ALARMS:
                ok = False
                break
            scams = mask & is_scam
            worst = min(worst, (flagged & scams).sum() / max(scams.sum(), 1))
        if ok and (best is None or worst > best[0] or (worst == best[0] and threshold > best[1])):
            best = (worst, float(threshold))
    threshold = best[1] if best is not None else float(scores.max()) + 1.0
    flagged = fired | (scores >= threshold)
    rates: dict[str, dict[str, float]] = {}
    counts: dict[str, tuple[int, int]] = {}
    for lang in present:
        mask = langs == lang
        scams, innocent = mask & is_scam, mask & ~is_scam
        rates[lang] = {
            "caught": (flagged & scams).sum() / max(scams.sum(), 1),
            "false_alarms": (flagged & innocent).sum() / max(innocent.sum(), 1),
        }
        counts[lang] = (int(scams.sum()), int(innocent.sum()))
    missed = [e for e, f, s in zip(examples, flagged, is_scam) if s and not f]
    alarms = [e for e, f, s in zip(examples, flagged, is_scam) if f and not s]
    return ScamCV(round(threshold, 4), rates, counts, missed, alarms)
