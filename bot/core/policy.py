"""From ranked candidates to a decision: answer, suggest or escalate.

All thresholds live here. They were tuned on the development set (``python -m bot eval``) so
that a wrong answer given with confidence stays rare: when the best entry is not clearly ahead
of the others the bot suggests, and when nothing is good enough it hands over to a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.core.knowledge import OUT_OF_SCOPE
from bot.core.matching import Candidate

Action = Literal["answer", "suggest", "escalate"]

#: Answer only at or above this score ...
ANSWER_SCORE = 58.0
#: ... and only when the best entry leads the runner-up by at least this many points.
ANSWER_MARGIN = 4.0
#: A match this strong keeps its own answer even when the scam radar also fires (the bot then
#: shows the scam warning above that answer); below it, the scam warning is the answer.
SURE_SCORE = 75.0
#: Below this score nothing is suggested: the question goes to a person.
SUGGEST_SCORE = 30.0
#: Suggestions are the best two entries above SUGGEST_SCORE, plus a third within this many
#: points of the best one.
SUGGEST_WINDOW = 15.0
MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class Decision:
    action: Action
    topic: str | None = None
    score: float = 0.0
    suggestions: tuple[str, ...] = field(default_factory=tuple)


def decide(candidates: Sequence[Candidate]) -> Decision:
    """Decide what to do with candidates sorted best first.

    The pseudo-entry ``out-of-scope`` (examples of everyday off-topic questions) is never
    answered or suggested: when it ranks first the question goes to a person."""
    if candidates and candidates[0].entry_id == OUT_OF_SCOPE:
        return Decision("escalate", None, candidates[0].score)
    if not candidates or candidates[0].score < SUGGEST_SCORE:
        best = candidates[0].score if candidates else 0.0
        return Decision("escalate", None, best)
    best = candidates[0]
    runner_up = candidates[1].score if len(candidates) > 1 else 0.0
    if best.score >= ANSWER_SCORE and best.score - runner_up >= ANSWER_MARGIN:
        return Decision("answer", best.entry_id, best.score)
    close = [
        c.entry_id
        for rank, c in enumerate(c for c in candidates if c.entry_id != OUT_OF_SCOPE)
        if c.score >= SUGGEST_SCORE and (rank < 2 or best.score - c.score <= SUGGEST_WINDOW)
    ]
    return Decision("suggest", None, best.score, tuple(close[:MAX_SUGGESTIONS]))
