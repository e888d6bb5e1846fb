"""The core's one ranking: the classifier's decision values plus the matcher's scores.

For each entry (and the ``out-of-scope`` class) the score is

    classifier decision value (about -1 ... +1)  +  W_MATCHER x matcher score (0 ... 1)

so a topic the classifier recognises and whose phrasings share the question's words comes first.
A question that shares no word at all with the knowledge base (after typo correction and
synonyms: "receta de arroz con pollo", "qwertyuiop") keeps only the classifier's opinion, lowered
by NO_MATCH_PENALTY: it can still be suggested when the letter patterns are clear, it is rarely
answered, and a message with no letters to read at all is not ranked (a person takes it).
``bot.core.policy`` turns the ranking into answer / suggest / escalate with thresholds chosen by
grouped cross-validation (``bot.core.calibration``). Pure: no Telegram, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.core.classifier import QuestionClassifier, char_text
from bot.core.knowledge import OUT_OF_SCOPE
from bot.core.matching import Candidate, Matcher

#: Weight of the matcher's 0-1 score next to the classifier's decision value: chosen by grouped
#: cross-validation (0, 0.3, 0.6 and 1.0 tried; 0.6 answered most at the same wrong rate).
W_MATCHER = 0.6
#: Lowers every class of a question that shares no word with the knowledge base.
NO_MATCH_PENALTY = 1.0
#: The score of every class when nothing at all can be read (no classifier, no shared word).
NO_MATCH = -10.0


class Ranker:
    """Ranks every class for a question: ``rank`` (one question) or ``scores`` (many, for
    cross-validation)."""

    def __init__(self, matcher: Matcher, classifier: QuestionClassifier | None) -> None:
        self.matcher = matcher
        self.classifier = classifier
        classes = list(classifier.classes) if classifier is not None else []
        for entry_id in matcher.entry_ids:  # classes the classifier never saw (no phrasings)
            if entry_id not in classes:
                classes.append(entry_id)
        self.classes = classes
        self._index = {c: i for i, c in enumerate(classes)}

    def scores(self, texts: Sequence[str], langs: Sequence[str]) -> np.ndarray:
        """One row per question, one column per class (``self.classes``)."""
        out = np.zeros((len(texts), len(self.classes)))
        if self.classifier is not None and texts:
            width = len(self.classifier.classes)
            out[:, :width] = self.classifier.decision(texts, langs)
        for row, (text, lang) in enumerate(zip(texts, langs)):
            found = self.matcher.rank(text, lang)
            if not found:
                out[row] = (
                    out[row] - NO_MATCH_PENALTY if self.classifier is not None and char_text(text, lang) else NO_MATCH
                )
            weight = W_MATCHER if self.classifier is not None else 1.0  # the matcher alone: its 0-1 score
            for candidate in found:
                out[row, self._index[candidate.entry_id]] += weight * candidate.score / 100.0
        return out

    def rank(self, text: str, lang: str) -> list[Candidate]:
        """Every class, best first (``out-of-scope`` included: the policy never answers it)."""
        if not self.classes:
            return []
        row = self.scores([text], [lang])[0]
        if (row == NO_MATCH).all():
            return []
        order = np.argsort(-row, kind="stable")
        return [Candidate(self.classes[i], round(float(row[i]), 4)) for i in order]


__all__ = ["NO_MATCH", "NO_MATCH_PENALTY", "OUT_OF_SCOPE", "W_MATCHER", "Ranker"]
