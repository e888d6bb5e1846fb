"""Counting outcomes per language and checking them against targets: shared by ``eval FILE``
(``bot.core.evaluation``), ``eval --cv`` (``bot.core.calibration``) and ``eval --scam``
(``bot.core.scam_model``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.langs import LANGS

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


def failures(tallies: Mapping[str, Tally], targets: Mapping[str, tuple[str, float]]) -> list[str]:
    """``missed`` for per-language tallies, in the order es, ht, en."""
    return missed({lang: tallies[lang].rates() for lang in LANGS if lang in tallies}, targets)


def table(tallies: Mapping[str, Tally]) -> list[str]:
    """The per-language table of ``eval FILE`` and ``eval --cv`` (languages, then "all")."""
    head = (
        f"{'lang':<8}{'in-scope':>9}{'top-1':>8}{'right':>9}{'wrong':>8}{'found':>8}{'escal.':>8}{'oos':>6}"
        f"{'oos-ans':>9}{'lang-ok':>9}"
    )
    lines = [head, "-" * len(head)]
    for name in (*LANGS, "all"):
        tally = tallies.get(name)
        if tally is None:
            continue
        r = tally.rates()
        lines.append(
            f"{name:<8}{tally.in_scope:>9}{r['top1']:>8.1%}{r['right']:>9.1%}{r['wrong']:>8.1%}{r['found']:>8.1%}"
            f"{r['escalated']:>8.1%}{tally.out_of_scope:>6}{r['oos_answered']:>9.1%}{r['lang_ok']:>9.1%}"
        )
    return lines
