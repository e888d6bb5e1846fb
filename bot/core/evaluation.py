"""Measure matching on a labelled set of questions (``python -m bot eval FILE.jsonl``).

Each line is ``{"text": ..., "lang": "es|ht|en", "topic": entry id or null}``; null means the
question is out of scope and should be escalated. Pure: takes an Engine and the records.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.core.conversation import Engine, Reply
from bot.core.knowledge import OUT_OF_SCOPE
from bot.core.targets import MATCHING, Tally, failures, table

#: The acceptance targets, per language: the same as cross-validation's.
TARGETS = MATCHING


@dataclass
class Report:
    tallies: dict[str, Tally] = field(default_factory=dict)
    misses: list[tuple[dict, Reply]] = field(default_factory=list)

    def failures(self) -> list[str]:
        """Targets not met, as readable lines (empty when every language meets every target)."""
        return failures(self.tallies, TARGETS)

    def table(self) -> str:
        lines = table(self.tallies)
        lines.append("")
        lines.append("top-1: right topic ranked first (answer, first suggestion or first candidate);")
        lines.append("right/wrong: in-scope questions answered with the right/a wrong topic; found: right topic")
        lines.append("answered or suggested; escal.: in-scope escalated; oos-ans: out-of-scope answered with a topic;")
        lines.append("lang-ok: language detected correctly.")
        return "\n".join(lines)


def read_jsonl(lines: Iterable[str]) -> list[dict]:
    records = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise ValueError(f'line {number}: expected an object with a "text" field')
        records.append(record)
    return records


def _first(reply: Reply) -> str | None:
    """The topic the bot ranks first: its answer, its first suggestion, or its best candidate."""
    if reply.action == "answer" and reply.topic:
        return reply.topic
    if reply.suggestions:
        return reply.suggestions[0]
    return next((c.entry_id for c in reply.candidates if c.entry_id != OUT_OF_SCOPE), None)


def evaluate(engine: Engine, records: Iterable[dict]) -> Report:
    report = Report()
    for record in records:
        gold_lang, gold_topic = record.get("lang"), record.get("topic")
        reply = engine.respond(record["text"])
        for key in (gold_lang, "all"):
            if key is None:
                continue
            tally = report.tallies.setdefault(key, Tally())
            tally.total += 1
            tally.lang_ok += reply.lang == gold_lang
            answered = reply.action == "answer" and reply.topic is not None
            if gold_topic is None:
                tally.out_of_scope += 1
                tally.oos_answered += answered
            else:
                tally.in_scope += 1
                tally.top1 += _first(reply) == gold_topic
                tally.right += answered and reply.topic == gold_topic
                tally.wrong += answered and reply.topic != gold_topic
                tally.found += (answered and reply.topic == gold_topic) or (
                    reply.action == "suggest" and gold_topic in reply.suggestions
                )
                tally.escalated += reply.action == "escalate"
        ok = (
            reply.topic == gold_topic if gold_topic is not None else not (reply.action == "answer" and reply.topic)
        ) and reply.lang == gold_lang
        if not ok:
            report.misses.append((record, reply))
    return report
