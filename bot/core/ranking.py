"""The core's one ranking: the classifier's decision values plus the matcher's scores, and how
sure the ranking is of its first topic.

For each entry (and the ``out-of-scope`` class) the score is

    classifier decision value (about -1 ... +1)  +  W_MATCHER x matcher score (0 ... 1)

so a topic the classifier recognises and whose phrasings share the question's words comes first.
A question that shares no word at all with the knowledge base (after typo correction and
synonyms: "receta de arroz con pollo", "qwertyuiop") keeps only the classifier's opinion, lowered
by NO_MATCH_PENALTY: it can still be suggested when the letter patterns are clear, it is rarely
answered, and a message with no letters to read at all is not ranked (a person takes it).

**Confidence.** A score and its lead over the runner-up tell right from wrong first topics only
roughly. ``Confidence`` is a small model of "the first topic is right", learnt from how
cross-validation's held-out phrasings were ranked (``bot.core.calibration``): gradient-boosted
trees (scikit-learn ``HistGradientBoostingClassifier``, 100 depth-3 trees) over ``features``:
the fused score of the first topic and its lead, the classifier's decision value for it, its
lead and whether the classifier alone ranks it first, the matcher's score for it, its lead and
whether the matcher agrees, the off-topic class's scores, whether the question shares a word with
the knowledge base, its length and its language. ``bot.core.policy`` answers when this
probability reaches the threshold cross-validation chose for the language.
Pure: no Telegram, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from bot.core.classifier import QuestionClassifier, char_text
from bot.core.knowledge import OUT_OF_SCOPE
from bot.core.langs import LANGS
from bot.core.matching import Candidate, Matcher

#: Weight of the matcher's 0-1 score next to the classifier's decision value: chosen by grouped
#: cross-validation (0, 0.3, 0.6 and 1.0 tried; 0.6 answered most at the same wrong rate).
W_MATCHER = 0.6
#: Lowers every class of a question that shares no word with the knowledge base.
NO_MATCH_PENALTY = 1.0
#: The score of every class when nothing at all can be read (no classifier, no shared word).
NO_MATCH = -10.0
#: The confidence model (chosen by grouped cross-validation: 100 trees of depth 3 answered as
#: many right as 300 shallower ones and predict in a fraction of the time; a logistic regression
#: over the same features answered 5-10 points fewer).
TREES = {"max_iter": 100, "learning_rate": 0.1, "max_depth": 3, "min_samples_leaf": 60}


@dataclass(frozen=True)
class Scores:
    """The scores of some questions: one row per question, one column per class."""

    fused: np.ndarray  # what the ranking sorts by
    classifier: np.ndarray  # the classifier's decision values (0 without a classifier)
    matcher: np.ndarray  # the matcher's scores, 0-1 (0 for classes it did not rank)
    no_match: np.ndarray  # the question shares no word with the knowledge base
    lengths: np.ndarray  # words in the question
    langs: tuple[str, ...]


def features(scores: Scores, oos: int) -> np.ndarray:
    """What the confidence model reads, one row per question (see the module docstring);
    ``oos`` is the column of the off-topic class (-1: none)."""
    fused, clf, match = scores.fused, scores.classifier, scores.matcher
    n, width = fused.shape
    rows = np.arange(n)
    order = np.argsort(-fused, axis=1, kind="stable")
    top = order[:, 0]
    second = order[:, 1] if width > 1 else top

    def lead(values: np.ndarray) -> np.ndarray:
        """How far ``top`` is ahead of the best other class in ``values``."""
        others = values.copy()
        others[rows, top] = -np.inf
        best_other = others.max(axis=1) if width > 1 else values[rows, top]
        return values[rows, top] - best_other

    off_clf = clf[:, oos] if oos >= 0 else np.zeros(n)
    off_match = match[:, oos] if oos >= 0 else np.zeros(n)
    return np.column_stack(
        [
            fused[rows, top],
            fused[rows, top] - fused[rows, second],
            clf[rows, top],
            lead(clf),
            (clf.argmax(axis=1) == top).astype(float),
            match[rows, top],
            lead(match),
            (match.argmax(axis=1) == top).astype(float),
            off_clf,
            off_match,
            scores.no_match.astype(float),
            np.log1p(scores.lengths),
            *(np.array([lang == code for lang in scores.langs], dtype=float) for code in LANGS),
        ]
    )


class Confidence:
    """The probability that the first-ranked topic is right (see the module docstring)."""

    def __init__(self, oos: int) -> None:
        self.oos = oos
        self.model = HistGradientBoostingClassifier(**TREES, random_state=0)

    def fit(self, scores: Scores, right: np.ndarray) -> Confidence:
        self.model.fit(features(scores, self.oos), right.astype(int))
        self._flatten()
        return self

    def _flatten(self) -> None:
        """The fitted trees as flat arrays, for ``predict``: scikit-learn's own prediction starts
        OpenMP threads at every call, which costs 0.5 ms a question and stalls for tens of ms
        when the cores are busy; walking 100 trees of depth 3 in numpy takes about 50 us."""
        nodes = [tree.nodes for [tree] in self.model._predictors]
        offsets = np.cumsum([0] + [len(n) for n in nodes[:-1]])
        flat = np.concatenate(nodes)
        shift = np.repeat(offsets, [len(n) for n in nodes])
        self._roots = offsets.astype(np.intp)
        self._feature = flat["feature_idx"].astype(np.intp)
        self._threshold = flat["num_threshold"].astype(np.float64)
        self._left = (flat["left"] + shift).astype(np.intp)
        self._right = (flat["right"] + shift).astype(np.intp)
        self._leaf = flat["is_leaf"].astype(bool)
        self._value = flat["value"].astype(np.float64)
        self._depth = int(flat["depth"].max()) if len(flat) else 0
        self._baseline = float(np.ravel(self.model._baseline_prediction)[0])

    def predict(self, scores: Scores) -> np.ndarray:
        """The probability that each question's first topic is right."""
        if len(self.model.classes_) < 2:  # only right (or only wrong) first topics seen
            return np.full(len(scores.fused), float(self.model.classes_[0]))
        x = features(scores, self.oos)
        node = np.broadcast_to(self._roots, (len(x), len(self._roots))).copy()
        rows = np.arange(len(x))[:, None]
        for _ in range(self._depth):
            left = x[rows, self._feature[node]] <= self._threshold[node]
            node = np.where(self._leaf[node], node, np.where(left, self._left[node], self._right[node]))
        raw = self._baseline + self._value[node].sum(axis=1)
        return 1.0 / (1.0 + np.exp(-raw))


@dataclass(frozen=True)
class Ranking:
    """Every class, best first, and the probability that the first one is right (None without a
    confidence model)."""

    candidates: list[Candidate]
    confidence: float | None = None


class Ranker:
    """Ranks every class for a question: ``judge`` / ``rank`` (one question) or ``scores`` (many,
    for cross-validation)."""

    def __init__(
        self, matcher: Matcher, classifier: QuestionClassifier | None, confidence: Confidence | None = None
    ) -> None:
        self.matcher = matcher
        self.classifier = classifier
        self.confidence = confidence
        classes = list(classifier.classes) if classifier is not None else []
        for entry_id in matcher.entry_ids:  # classes the classifier never saw (no phrasings)
            if entry_id not in classes:
                classes.append(entry_id)
        self.classes = classes
        self._index = {c: i for i, c in enumerate(classes)}

    def scores(self, texts: Sequence[str], langs: Sequence[str]) -> Scores:
        """The scores of every class (``self.classes``) for each question."""
        clf = np.zeros((len(texts), len(self.classes)))
        match = np.zeros((len(texts), len(self.classes)))
        no_match = np.zeros(len(texts), dtype=bool)
        if self.classifier is not None and texts:
            width = len(self.classifier.classes)
            clf[:, :width] = self.classifier.decision(texts, langs)
        out = clf.copy()
        for row, (text, lang) in enumerate(zip(texts, langs)):
            found = self.matcher.rank(text, lang)
            if not found:
                no_match[row] = True
                out[row] = (
                    out[row] - NO_MATCH_PENALTY if self.classifier is not None and char_text(text, lang) else NO_MATCH
                )
            weight = W_MATCHER if self.classifier is not None else 1.0  # the matcher alone: its 0-1 score
            for candidate in found:
                match[row, self._index[candidate.entry_id]] = candidate.score / 100.0
                out[row, self._index[candidate.entry_id]] += weight * candidate.score / 100.0
        lengths = np.array([len(text.split()) for text in texts], dtype=float)
        return Scores(out, clf, match, no_match, lengths, tuple(langs))

    def judge(self, text: str, lang: str, lean: tuple[str, float] | None = None) -> Ranking:
        """Every class, best first (``out-of-scope`` included: the policy never answers it), and
        the confidence in the first. ``lean``: (class, bonus) added to that class's score first
        (a follow-up leaning on the topic the chat was just answered)."""
        if not self.classes:
            return Ranking([])
        scores = self.scores([text], [lang])
        if (scores.fused[0] == NO_MATCH).all():
            return Ranking([])
        if lean is not None and lean[0] in self._index:
            scores.fused[0, self._index[lean[0]]] += lean[1]  # the confidence reads the leaning scores too
        row = scores.fused[0]
        order = np.argsort(-row, kind="stable")
        candidates = [Candidate(self.classes[i], round(float(row[i]), 4)) for i in order]
        if self.confidence is None:
            return Ranking(candidates)
        return Ranking(candidates, float(self.confidence.predict(scores)[0]))

    def rank(self, text: str, lang: str) -> list[Candidate]:
        """Every class, best first (``out-of-scope`` included: the policy never answers it)."""
        return self.judge(text, lang).candidates

    @property
    def oos(self) -> int:
        """The column of the off-topic class (-1 when there is none)."""
        return self._index.get(OUT_OF_SCOPE, -1)


__all__ = ["NO_MATCH", "NO_MATCH_PENALTY", "OUT_OF_SCOPE", "W_MATCHER", "Confidence", "Ranker", "Ranking", "Scores"]
