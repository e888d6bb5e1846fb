"""bot.core.policy.decide: a table of candidate lists and the decision each must give.

Every number is written from the module's own constants, so re-tuning the thresholds never
breaks these tests, only a change of behaviour does.
"""

from __future__ import annotations

import pytest

from bot.core.matching import Candidate
from bot.core.policy import (
    ANSWER_MARGIN as M,
)
from bot.core.policy import (
    ANSWER_SCORE as A,
)
from bot.core.policy import (
    MAX_SUGGESTIONS,
    Decision,
    decide,
)
from bot.core.policy import (
    SUGGEST_SCORE as S,
)
from bot.core.policy import (
    SUGGEST_WINDOW as W,
)

EPS = 0.1


def cands(*scores: float) -> list[Candidate]:
    return [Candidate(f"e{i}", round(score, 1)) for i, score in enumerate(scores)]


def test_thresholds_are_consistent() -> None:
    assert 0 < S < A <= 100
    assert M > 0 and W >= 0 and MAX_SUGGESTIONS >= 2
    assert A + M <= 100, "an answer must remain possible when a runner-up exists"


TABLE = [
    # nothing found
    ("no candidates", [], Decision("escalate", None, 0.0)),
    ("one weak candidate", cands(S - EPS), Decision("escalate", None, round(S - EPS, 1))),
    ("zero score", cands(0), Decision("escalate", None, 0.0)),
    ("weak, weaker", cands(S - EPS, S - 2), Decision("escalate", None, round(S - EPS, 1))),
    # suggest band
    ("exactly the suggest score", cands(S), Decision("suggest", None, S, ("e0",))),
    ("just below the answer score, alone", cands(A - EPS), Decision("suggest", None, round(A - EPS, 1), ("e0",))),
    ("two in the suggest band", cands(A - EPS, S), Decision("suggest", None, round(A - EPS, 1), ("e0", "e1"))),
    ("runner-up below the suggest score", cands(S + 1, S - 1), Decision("suggest", None, S + 1, ("e0",))),
    # answer: score and margin
    ("exactly the answer score, alone", cands(A), Decision("answer", "e0", A)),
    ("perfect, alone", cands(100), Decision("answer", "e0", 100)),
    ("exactly the margin", cands(A + M, A), Decision("answer", "e0", A + M)),
    ("margin over a weak runner-up", cands(A, A - M), Decision("answer", "e0", A)),
    ("margin just missed", cands(A + M - EPS, A), Decision("suggest", None, round(A + M - EPS, 1), ("e0", "e1"))),
    ("high but close", cands(100, 100 - M + EPS), Decision("suggest", None, 100, ("e0", "e1"))),
    # ties are never answered
    ("tie at the answer score", cands(A, A), Decision("suggest", None, A, ("e0", "e1"))),
    ("tie at 100", cands(100, 100), Decision("suggest", None, 100, ("e0", "e1"))),
    ("three-way tie", cands(A + 10, A + 10, A + 10), Decision("suggest", None, A + 10, ("e0", "e1", "e2"))),
    ("tie in the suggest band", cands(S + 1, S + 1), Decision("suggest", None, S + 1, ("e0", "e1"))),
    # suggestions: best two, a third only within the window, at most MAX_SUGGESTIONS
    ("third inside the window", cands(A, A - EPS, A - W), Decision("suggest", None, A, ("e0", "e1", "e2"))),
    ("third outside the window", cands(A, A - EPS, A - W - EPS), Decision("suggest", None, A, ("e0", "e1"))),
    # the runner-up is suggested even when it is further than the window from the best
    ("far runner-up still suggested", cands(A - EPS, S), Decision("suggest", None, round(A - EPS, 1), ("e0", "e1"))),
    (
        "many close ones are capped",
        cands(A, A, A, A, A),
        Decision("suggest", None, A, tuple(f"e{i}" for i in range(MAX_SUGGESTIONS))),
    ),
]


@pytest.mark.parametrize(("candidates", "expected"), [(c, d) for _, c, d in TABLE], ids=[name for name, _, _ in TABLE])
def test_decision_table(candidates: list[Candidate], expected: Decision) -> None:
    assert decide(candidates) == expected


@pytest.mark.parametrize("score", [S, (S + A) / 2, A, A + M, 99.9, 100.0])
def test_two_candidates_at_the_same_score_are_never_answered(score: float) -> None:
    decision = decide(cands(score, score))
    assert decision.action == "suggest"
    assert decision.topic is None
    assert decision.suggestions == ("e0", "e1")


@pytest.mark.parametrize("best", [A, A + 5, 100.0])
@pytest.mark.parametrize("gap", [0.0, EPS, M / 2, M - EPS])
def test_small_margin_is_never_answered(best: float, gap: float) -> None:
    decision = decide(cands(best, best - gap))
    assert decision.action == "suggest" and decision.topic is None


@pytest.mark.parametrize("best", [A, A + 5, 100.0])
@pytest.mark.parametrize("gap", [M, M + EPS, 30.0])
def test_clear_lead_is_answered(best: float, gap: float) -> None:
    decision = decide(cands(best, best - gap))
    assert decision == Decision("answer", "e0", best)


def test_escalate_and_answer_carry_no_suggestions() -> None:
    assert decide(cands(S - EPS, S - EPS)).suggestions == ()
    assert decide(cands(100, S)).suggestions == ()
