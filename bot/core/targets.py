"""Counting outcomes per language and checking them against targets: shared by ``eval FILE``
(``bot.core.evaluation``), ``eval --cv`` (``bot.core.calibration``) and ``eval --scam``
(``bot.core.scam_model``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

#: The matching targets of issue 16, per language: ``eval FILE`` and ``eval --cv`` alike.
MATCHING: dict[str, tuple[str, float]] = {
    "top1": (">=", 0.92),
    "right": (">=", 0.70),
    "wrong": ("<=", 0.015),
    "found": (">=", 0.97),
    "oos_answered": ("<=", 0.03),
    "lang_ok": (">=", 0.99),
}


@dataclass
class Tally:
    """What happened to the questions of one language (or of all: "all")."""

    in_scope: int = 0
    top1: int = 0  # right topic ranked first: answered, first suggestion, or first candidate
    right: int = 0  # answered with the right topic
    wrong: int = 0  # answered with a wrong topic
    found: int = 0  # right topic answered, or among the suggestions
    escalated: int = 0
    out_of_scope: int = 0
    oos_answered: int = 0
    total: int = 0
    lang_ok: int = 0

    def rates(self) -> dict[str, float]:
        def share(n: int, d: int) -> float:
            return n / d if d else 0.0

        return {
            "top1": share(self.top1, self.in_scope),
            "right": share(self.right, self.in_scope),
            "wrong": share(self.wrong, self.in_scope),
            "found": share(self.found, self.in_scope),
            "escalated": share(self.escalated, self.in_scope),
            "oos_answered": share(self.oos_answered, self.out_of_scope),
            "lang_ok": share(self.lang_ok, self.total),
        }


def missed(rates: Mapping[str, Mapping[str, float]], targets: Mapping[str, tuple[str, float]]) -> list[str]:
    """Targets not met, as readable lines ("ht: right 47.6% (target >= 70.0%)"), in the order of
    ``rates`` (languages) then ``targets``; the "all" row is not checked."""
    out = []
    for lang, values in rates.items():
        if lang == "all":
            continue
        for name, (op, target) in targets.items():
            value = values[name]
            if (op == ">=" and value < target) or (op == "<=" and value > target):
                out.append(f"{lang}: {name} {value:.1%} (target {op} {target:.1%})")
    return out
