"""bot.core.policy.decide: a table of rankings and the decision each must give.

Every number is written from one ``Thresholds`` (answer A, margin M, suggest S), so a new
cross-validation never breaks these tests, only a change of the rule does.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.knowledge import OUT_OF_SCOPE
from bot.core.matching import Candidate
from bot.core.policy import DEFAULT, MAX_SUGGESTIONS, Decision, Thresholds, decide

T = Thresholds(answer=0.4, margin=0.6, suggest=-0.5)
A, M, S = T.answer, T.margin, T.suggest
EPS = 0.01


def cands(*scores: float, oos_at: int | None = None) -> list[Candidate]:
    out = [Candidate(f"e{i}", round(score, 4)) for i, score in enumerate(scores)]
    if oos_at is not None:
        out[oos_at] = Candidate(OUT_OF_SCOPE, out[oos_at].score)
    return out


TABLE = [
    # nothing found
    ("no candidates", [], Decision("escalate")),
    ("one weak candidate", cands(S - EPS), Decision("escalate", None, round(S - EPS, 4))),
    ("weak, weaker", cands(S - EPS, S - 1), Decision("escalate", None, round(S - EPS, 4))),
    # suggest band
    ("exactly the suggest score", cands(S, S - 1), Decision("suggest", None, S, ("e0",))),
    ("high but no margin", cands(A + 1, A + 1 - M + EPS), Decision("suggest", None, A + 1, ("e0", "e1"))),
    (
        "margin but below the answer score",
        cands(A - EPS, A - EPS - M - 1),
        Decision("suggest", None, round(A - EPS, 4), ("e0",)),
    ),
    # answer: score and margin
    ("exactly the answer score and margin", cands(A, A - M), Decision("answer", "e0", A)),
    ("clear lead", cands(A + 1, S - 1), Decision("answer", "e0", A + 1)),
    ("alone", [Candidate("e0", A)], Decision("answer", "e0", A)),
    # ties are never answered
    ("tie", cands(A + 1, A + 1), Decision("suggest", None, A + 1, ("e0", "e1"))),
    # out-of-scope is never answered nor suggested
    ("off-topic first, clear lead", cands(A + 1, S - 1, oos_at=0), Decision("escalate", None, A + 1)),
    ("off-topic first, an entry close", cands(A + 1, A + 0.5, oos_at=0), Decision("suggest", None, A + 1, ("e1",))),
    ("off-topic second, far behind", cands(A + 1, A + 1 - M - EPS, oos_at=1), Decision("answer", "e0", A + 1)),
    ("off-topic second, close", cands(A + 1, A + 1 - M + EPS, oos_at=1), Decision("suggest", None, A + 1, ("e0",))),
    # at most MAX_SUGGESTIONS
    (
        "many close ones are capped",
        cands(A, A, A, A, A),
        Decision("suggest", None, A, tuple(f"e{i}" for i in range(MAX_SUGGESTIONS))),
    ),
]


@pytest.mark.parametrize(("candidates", "expected"), [(c, d) for _, c, d in TABLE], ids=[name for name, _, _ in TABLE])
def test_decision_table(candidates: list[Candidate], expected: Decision) -> None:
    assert decide(candidates, T) == expected


def test_default_thresholds_allow_an_answer_and_suggest_below_it() -> None:
    assert DEFAULT.margin > 0 and DEFAULT.suggest < DEFAULT.answer


scores = st.lists(st.floats(min_value=-3, max_value=3, allow_nan=False), min_size=1, max_size=8)


@given(scores, st.integers(min_value=-1, max_value=7))
def test_rule_invariants(values: list[float], oos: int) -> None:
    """Whatever the ranking: an answer is an entry with the score and the lead; suggestions are
    entries at or above S, best first, at most MAX_SUGGESTIONS; off-topic is never offered."""
    ranked = sorted(values, reverse=True)
    candidates = cands(*ranked, oos_at=oos if 0 <= oos < len(ranked) else None)
    decision = decide(candidates, T)
    second = candidates[1].score if len(candidates) > 1 else -10.0
    if decision.action == "answer":
        assert decision.topic == candidates[0].entry_id != OUT_OF_SCOPE
        assert candidates[0].score >= A and candidates[0].score - second >= M
        assert decision.suggestions == ()
    else:
        assert decision.topic is None
        assert OUT_OF_SCOPE not in decision.suggestions
        assert len(decision.suggestions) <= MAX_SUGGESTIONS
        assert all(c.score >= S for c in candidates if c.entry_id in decision.suggestions)
        assert (decision.action == "suggest") == bool(decision.suggestions)
