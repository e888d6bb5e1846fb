"""Scam radar = rules + a classifier.

The rules (``knowledge/scam-patterns.yaml``, ``bot.core.scamradar``) name the signal a warning
is about ("paid-reopening"), but only catch the wordings someone wrote a pattern for. The
classifier learns from labelled messages kept in the knowledge base (``scam-examples/<lang>.yaml``:
scams of many families and innocent look-alikes that share their words) and catches the rest.

A warning is for a person about to pay or hand over documents. A rule names an offer (money
AND a scam signal, not a single word) and stays quiet on a message that reports a scam, refuses
one or asks how to recognise one (its ``unless:`` signals): such a message gets the scam topics'
answers, and only the classifier may still warn. The classifier adds the scams no rule names,
from a threshold per language chosen by grouped cross-validation over the examples: rules and
classifier together flag at most ``AIM_FALSE_ALARMS`` of the innocent messages of that language.
``python -m bot eval --scam`` prints the figures of both together (``--show-misses``: each
missed scam and each false alarm, with the rule or "model" that fired).
"""

from __future__ import annotations

from collections import Counter
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

#: Innocent messages flagged (rules and classifier together), at most, per language, in
#: cross-validation: the classifier's thresholds are chosen so.
AIM_FALSE_ALARMS = 0.03
#: Acceptance targets per language: scams caught, innocent look-alikes flagged.
TARGETS = {"caught": (">=", 0.90), "false_alarms": ("<=", 0.04)}
FOLDS = 5
#: Two examples with the same label whose letter n-grams are at least this similar (cosine) are
#: one message for cross-validation (a translation, a near copy).
SAME_MESSAGE = 0.5
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
    #: language -> the classifier's score from which it warns (cross-validated per language)
    thresholds: dict[str, float] = field(default_factory=dict)
    cv: dict[str, dict[str, float]] = field(default_factory=dict)

    def check(self, text: str, lang: str) -> ScamHit | None:
        """The rule that fired (it names the signal), else ``model`` when only the classifier
        recognised a scam; None when the message does not look like one."""
        rule = self.patterns.check(text, lang) if self.patterns is not None else None
        if rule is not None:
            return rule
        if self.classifier is None or not text.strip():
            return None
        threshold = self.thresholds.get(lang, max(self.thresholds.values(), default=float("inf")))
        if float(self.classifier.score([text], [lang])[0]) >= threshold:
            return ScamHit(MODEL_LABEL, (), MODEL_ENTRY)
        return None


def _examples(kb: KnowledgeBase) -> list[ScamExample]:
    return [e for lang in LANGS for e in kb.scam_examples.get(lang, ())]


def groups(examples: Sequence[ScamExample]) -> list[int]:
    """A group per example; cross-validation never splits a group between training and test.

    Translations are written in parallel: the n-th scam (or innocent message) of a family in
    es.yaml, ht.yaml and en.yaml is one group. Messages with the same label that share much of
    their wording (a translation out of step, a near copy, the same link or phone number) are
    joined to it: letter 3- and 4-grams of the folded texts, cosine similarity from
    ``SAME_MESSAGE``."""
    parent = list(range(len(examples)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    first: dict[tuple[bool, str, int], int] = {}
    position: dict[tuple[str, bool, str], int] = {}
    for i, e in enumerate(examples):
        n = position.get((e.lang, e.scam, e.family), 0)
        position[(e.lang, e.scam, e.family)] = n + 1
        join(i, first.setdefault((e.scam, e.family, n), i))
    if len(examples) > 1:
        vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True).fit_transform(
            [char_text(e.text, e.lang) for e in examples]
        )
        similar = (vectors @ vectors.T).tocoo()
        for i, j, value in zip(similar.row, similar.col, similar.data):
            if i < j and value >= SAME_MESSAGE and examples[i].scam == examples[j].scam:
                join(int(i), int(j))
    return [root(i) for i in range(len(examples))]


def _fold_of(group_of: Sequence[int], folds: int) -> list[int]:
    """Deterministic fold of each group: largest groups first, each to the smallest fold."""
    sizes = Counter(group_of)
    load = [0] * folds
    assigned: dict[int, int] = {}
    for group, size in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])):
        fold = min(range(folds), key=lambda f: (load[f], f))
        assigned[group] = fold
        load[fold] += size
    return [assigned[g] for g in group_of]


def build(kb: KnowledgeBase) -> ScamRadar:
    """Cross-validate the threshold and fit on every example (rules alone without examples)."""
    examples = _examples(kb)
    if len({e.scam for e in examples}) < 2 or len(examples) < 4 * FOLDS:
        return ScamRadar(kb.scam_patterns, None)
    result = cross_validate(kb)
    return ScamRadar(kb.scam_patterns, ScamClassifier().fit(examples), result.thresholds, result.rates)


@dataclass(frozen=True)
class Judged:
    """One example as cross-validation saw it."""

    example: ScamExample
    #: the classifier's score, from a classifier trained without the example's group
    score: float
    #: the rule that fired on it, or None
    rule: str | None
    group: int

    def part(self, thresholds: dict[str, float]) -> str | None:
        """What warned: the rule's name, ``model``, or None."""
        if self.rule is not None:
            return self.rule
        return MODEL_LABEL if self.score >= thresholds.get(self.example.lang, float("inf")) else None


@dataclass
class ScamCV:
    thresholds: dict[str, float]
    judged: list[Judged]
    rates: dict[str, dict[str, float]] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for lang in LANGS:
            mine = [j for j in self.judged if j.example.lang == lang]
            if not mine:
                continue
            scams = [j for j in mine if j.example.scam]
            innocent = [j for j in mine if not j.example.scam]
            parts_s = [j.part(self.thresholds) for j in scams]
            parts_i = [j.part(self.thresholds) for j in innocent]
            counts = {
                "scams": len(scams),
                "innocent": len(innocent),
                "caught_rule": sum(p not in (None, MODEL_LABEL) for p in parts_s),
                "caught_model": sum(p == MODEL_LABEL for p in parts_s),
                "alarms_rule": sum(p not in (None, MODEL_LABEL) for p in parts_i),
                "alarms_model": sum(p == MODEL_LABEL for p in parts_i),
            }
            self.counts[lang] = counts
            self.rates[lang] = {
                "caught": (counts["caught_rule"] + counts["caught_model"]) / max(len(scams), 1),
                "false_alarms": (counts["alarms_rule"] + counts["alarms_model"]) / max(len(innocent), 1),
            }

    @property
    def missed(self) -> list[Judged]:
        return [j for j in self.judged if j.example.scam and j.part(self.thresholds) is None]

    @property
    def false_alarms(self) -> list[Judged]:
        return [j for j in self.judged if not j.example.scam and j.part(self.thresholds) is not None]

    def failures(self) -> list[str]:
        return missed(self.rates, TARGETS)

    def table(self) -> str:
        head = (
            f"{'lang':<6}{'scams':>7}{'caught':>8}{'rule':>6}{'model':>7}"
            f"{'innocent':>10}{'flagged':>9}{'rule':>6}{'model':>7}"
        )
        lines = [head, "-" * len(head)]
        for lang, rates in self.rates.items():
            c = self.counts[lang]
            lines.append(
                f"{lang:<6}{c['scams']:>7}{rates['caught']:>8.1%}{c['caught_rule']:>6}{c['caught_model']:>7}"
                f"{c['innocent']:>10}{rates['false_alarms']:>9.1%}{c['alarms_rule']:>6}{c['alarms_model']:>7}"
            )
        groups = len({j.group for j in self.judged})
        scores = ", ".join(f"{lang} {value:.3f}" for lang, value in self.thresholds.items())
        lines += [
            "",
            f"A rule always warns; the classifier warns from a score of {scores}, chosen by",
            f"cross-validation per language: rules and classifier together flag at most {AIM_FALSE_ALARMS:.0%} of its",
            "innocent messages. caught: scams warned about; flagged: innocent look-alikes warned about;",
            "rule / model: how many of them a rule warned about, how many only the classifier.",
            f"{FOLDS} folds over {groups} groups (translations and near copies of one message are one group):",
            "each message is judged by a classifier trained without its group.",
        ]
        return "\n".join(lines)


def cross_validate(kb: KnowledgeBase) -> ScamCV:
    """Score every example with a classifier trained without its group; choose the threshold."""
    examples = _examples(kb)
    group_of = groups(examples)
    fold_of = _fold_of(group_of, FOLDS)
    scores = np.zeros(len(examples))
    for fold in range(FOLDS):
        train = [e for e, f in zip(examples, fold_of) if f != fold]
        test = [i for i, f in enumerate(fold_of) if f == fold]
        if not test or len({e.scam for e in train}) < 2:
            continue
        model = ScamClassifier().fit(train)
        scores[test] = model.score([examples[i].text for i in test], [examples[i].lang for i in test])
    patterns = kb.scam_patterns
    rules = [patterns.check(e.text, e.lang) if patterns is not None else None for e in examples]
    fired = np.array([r is not None for r in rules])
    thresholds: dict[str, float] = {}
    for lang in LANGS:
        mine = [i for i, e in enumerate(examples) if e.lang == lang]
        if mine:
            threshold = choose_threshold([examples[i] for i in mine], scores[mine], fired[mine])
            thresholds[lang] = round(threshold, 4)
    judged = [
        Judged(e, float(s), r.rule if r is not None else None, g)
        for e, s, r, g in zip(examples, scores, rules, group_of)
    ]
    return ScamCV(thresholds, judged)


def choose_threshold(examples: Sequence[ScamExample], scores: np.ndarray, fired: np.ndarray) -> float:
    """The classifier's threshold for ``examples`` (one language): the one that catches the most
    scams while rules and classifier together flag at most ``AIM_FALSE_ALARMS`` of the innocent
    messages (where the rules alone flag more, the classifier may add no false alarm). With
    several languages, the most scams in the worst one."""
    is_scam = np.array([e.scam for e in examples])
    langs = np.array([e.lang for e in examples])
    present = [lang for lang in LANGS if (langs == lang).any()]
    budget = {}
    for lang in present:
        innocent = (langs == lang) & ~is_scam
        allowed = int(np.floor(AIM_FALSE_ALARMS * innocent.sum() + 1e-9))
        budget[lang] = max(allowed - int((fired & innocent).sum()), 0)
    best: tuple[float, int, float] | None = None
    for threshold in np.unique(scores):
        flagged = fired | (scores >= threshold)
        worst, total, ok = 1.0, 0, True
        for lang in present:
            mask = langs == lang
            innocent = mask & ~is_scam
            if (flagged & innocent).sum() - (fired & innocent).sum() > budget[lang]:
                ok = False
                break
            scams = mask & is_scam
            worst = min(worst, (flagged & scams).sum() / max(scams.sum(), 1))
            total += int((flagged & scams).sum())
        key = (worst, total, float(threshold))
        if ok and (best is None or key > best):
            best = key
    return best[2] if best is not None else float(scores.max()) + 1.0
