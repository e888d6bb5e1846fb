"""From the ranking to a decision: answer, suggest or escalate.

The rule is fixed; its three numbers are not hand-set: ``bot.core.calibration`` chooses them by
grouped cross-validation over the knowledge base every time it changes (see its docstring), and
``bot.core.model`` keeps them with the trained model.

- **answer** when the best class is an entry (never ``out-of-scope``) and the ranking's
  confidence that it is right (``bot.core.ranking.Confidence``) reaches the language's
  ``confidence`` threshold; without a confidence model (a knowledge base too small to
  cross-validate, or too large for the classifier): when its score is at least ``answer`` and it
  leads the second class by at least ``margin``;
- else **suggest** the (up to three) entries scoring at least ``suggest``;
- else **escalate**: the question goes to a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.core.knowledge import OUT_OF_SCOPE
from bot.core.matching import Candidate

Action = Literal["answer", "suggest", "escalate"]
#: Suggestions: at most this many, the best ones at or above the suggestion threshold.
MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class Thresholds:
    """Answer when the best class is an entry and the confidence reaches ``confidence[lang]``
    (or, without one, its score >= ``answer`` and it leads the second by >= ``margin``);
    otherwise suggest the entries scoring >= ``suggest``; else escalate."""

    answer: float
    margin: float
    suggest: float
    #: "cross-validation" or "default" (knowledge base too small to cross-validate)
    source: str = "cross-validation"
    #: per language, the probability of being right at which the first topic is answered (empty:
    #: no confidence model, ``answer`` and ``margin`` decide)
    confidence: dict[str, float] = field(default_factory=dict)

    def confident(self, lang: str | None, confidence: float | None) -> bool | None:
        """Whether ``confidence`` reaches the threshold of ``lang``; None when there is no
        confidence threshold to apply (then score and margin decide)."""
        if confidence is None or lang not in self.confidence:
            return None
        return confidence >= self.confidence[lang]


#: For knowledge bases too small to cross-validate (tests, a first draft): answer a clear match
#: (score about +0.3 and 0.5 ahead of the runner-up), suggest what the model does not rule out.
DEFAULT = Thresholds(answer=0.3, margin=0.5, suggest=-0.5, source="default")
#: Knowledge bases with more topics than the classifier is trained for (``calibration.
#: MAX_CLASSIFIER_TOPICS``) are ranked by the matcher alone (score 0-1): these are the fixed
#: thresholds the matcher used before the classifier existed (answer at 0.58 and 0.04 ahead).
MATCHER_ONLY = Thresholds(answer=0.58, margin=0.04, suggest=0.30, source="matcher only (large knowledge base)")


@dataclass(frozen=True)
class Decision:
    action: Action
    topic: str | None = None
    score: float = 0.0
    suggestions: tuple[str, ...] = field(default_factory=tuple)


def plausible(candidates: Sequence[Candidate], thresholds: Thresholds) -> tuple[str, ...]:
    """The entries the ranking does not rule out (score at or above ``suggest``, never
    ``out-of-scope``), best first: what "suggest" offers, and what inline answers list after
    the answered topic."""
    return tuple(c.entry_id for c in candidates if c.entry_id != OUT_OF_SCOPE and c.score >= thresholds.suggest)


def decide(
    candidates: Sequence[Candidate],
    thresholds: Thresholds,
    confidence: float | None = None,
    lang: str | None = None,
) -> Decision:
    """Decide what to do with candidates sorted best first (``bot.core.ranking``), given the
    ranking's ``confidence`` in the first one for a question in ``lang``. Cross-validation
    (``bot.core.calibration``) applies this same function to choose the thresholds."""
    if not candidates:
        return Decision("escalate")
    best = candidates[0]
    second = candidates[1].score if len(candidates) > 1 else -10.0
    sure = thresholds.confident(lang, confidence)
    if sure is None:
        sure = best.score >= thresholds.answer and best.score - second >= thresholds.margin
    if best.entry_id != OUT_OF_SCOPE and sure:
        return Decision("answer", best.entry_id, best.score)
    close = plausible(candidates, thresholds)
    if close:
        return Decision("suggest", None, best.score, close[:MAX_SUGGESTIONS])
    return Decision("escalate", None, best.score)
