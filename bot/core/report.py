"""The maintainers' report: what people asked that the bot could not answer, grouped.

Pure functions over plain rows (the storage module reads them): similar questions are grouped
with rapidfuzz (``process.cdist`` per language), biggest groups first, each with a count, an
example, and the entry it came closest to: the to-do list for the knowledge base. Also the most
answered entries, the helpful / not helpful ratio per entry, and how many candidate phrasings
wait for review per topic (``python -m bot learn``).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.core.langs import LANGS
from bot.core.normalize import fold

#: Two questions at least this similar (token_set_ratio on folded text) share a group.
SIMILAR = 70.0
#: Groups listed per language.
TOP_GROUPS = 15


@dataclass
class Group:
    lang: str
    count: int
    example: str
    closest_entry: str | None
    examples: list[str] = field(default_factory=list)


@dataclass
class EntryFeedback:
    entry_id: str
    helpful: int = 0
    not_helpful: int = 0

    @property
    def ratio(self) -> float:
        total = self.helpful + self.not_helpful
        return self.helpful / total if total else 0.0


@dataclass
class Report:
    days: int
    groups: dict[str, list[Group]]
    answered: list[tuple[str, int]]  # (entry id, times answered), most first
    feedback: list[EntryFeedback]
    actions: dict[str, int]  # answer / suggest / escalate counts
    #: candidate phrasings waiting for review: topic -> language -> count (``python -m bot learn``)
    candidates: dict[str, dict[str, int]] = field(default_factory=dict)


def group_questions(rows: Iterable[tuple[str, str, str | None]], similar: float = SIMILAR) -> dict[str, list[Group]]:
    """Group ``(lang, text, closest_entry)`` rows by similarity, per language, biggest first."""
    by_lang: dict[str, list[tuple[str, str | None]]] = {}
    for lang, text, closest in rows:
        by_lang.setdefault(lang, []).append((text, closest))
    out: dict[str, list[Group]] = {}
    for lang, items in by_lang.items():
        folded = [fold(text) for text, _ in items]
        matrix = process.cdist(folded, folded, scorer=fuzz.token_set_ratio, score_cutoff=similar, workers=1)
        neighbours = (matrix >= similar).sum(axis=1)
        unassigned = set(range(len(items)))
        groups: list[Group] = []
        for leader in sorted(range(len(items)), key=lambda i: (-neighbours[i], i)):
            if leader not in unassigned:
                continue
            members = [j for j in sorted(unassigned) if matrix[leader, j] >= similar or j == leader]
            unassigned.difference_update(members)
            nearest = Counter(items[j][1] for j in members if items[j][1]).most_common(1)
            groups.append(
                Group(
                    lang,
                    len(members),
                    items[leader][0],
                    nearest[0][0] if nearest else None,
                    [items[j][0] for j in members[:5]],
                )
            )
        groups.sort(key=lambda g: (-g.count, g.example))
        out[lang] = groups
    return out


def build(
    days: int,
    unanswered: Sequence[tuple[str, str, str | None]],
    counts: Iterable[tuple[str, str, int]],
    feedback: Iterable[tuple[str, bool]],
    candidates: Iterable[tuple[str, str, int]] = (),
) -> Report:
    """``counts`` rows are ``(lang, entry id or action, count)``; ``feedback`` rows ``(entry id,
    helpful)``; ``candidates`` rows ``(topic, lang, count)`` of the candidate phrasings waiting."""
    waiting: dict[str, dict[str, int]] = {}
    for topic, lang, count in candidates:
        waiting.setdefault(topic, {})[lang] = waiting.get(topic, {}).get(lang, 0) + count
    answered: Counter[str] = Counter()
    actions: Counter[str] = Counter()
    for _lang, key, count in counts:
        if key in ("suggest", "escalate"):
            actions[key] += count
        else:
            answered[key] += count
            actions["answer"] += count
    per_entry: dict[str, EntryFeedback] = {}
    for entry_id, helpful in feedback:
        item = per_entry.setdefault(entry_id, EntryFeedback(entry_id))
        if helpful:
            item.helpful += 1
        else:
            item.not_helpful += 1
    return Report(
        days=days,
        groups=group_questions(unanswered),
        answered=answered.most_common(),
        feedback=sorted(per_entry.values(), key=lambda f: (f.ratio, -f.not_helpful, f.entry_id)),
        actions=dict(actions),
        candidates=dict(sorted(waiting.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))),
    )


def to_markdown(report: Report, top: int = TOP_GROUPS) -> str:
    lines = [f"# What people asked (last {report.days} days)", ""]
    total = sum(report.actions.values())
    lines.append(
        f"Answers: {report.actions.get('answer', 0)} · suggestions: {report.actions.get('suggest', 0)} · escalations: {report.actions.get('escalate', 0)} (total {total})"
    )
    lines.append("")
    lines.append("## Questions the bot could not answer, grouped (biggest first)")
    for lang in LANGS:
        groups = report.groups.get(lang, [])
        lines.append("")
        lines.append(f"### {lang} ({sum(g.count for g in groups)} questions)")
        if not groups:
            lines.append("(none)")
            continue
        lines.append("| count | example | closest entry |")
        lines.append("| ---: | --- | --- |")
        for group in groups[:top]:
            example = group.example.replace("|", "/").replace("\n", " ")[:120]
            lines.append(f"| {group.count} | {example} | {group.closest_entry or '-'} |")
    lines.append("")
    lines.append("## Most answered entries")
    lines.append("| entry | answers |")
    lines.append("| --- | ---: |")
    lines.extend(f"| {entry} | {count} |" for entry, count in report.answered[:top])
    lines.append("")
    lines.append("## Was this helpful? (least helpful first)")
    lines.append("| entry | yes | no | helpful |")
    lines.append("| --- | ---: | ---: | ---: |")
    lines.extend(f"| {f.entry_id} | {f.helpful} | {f.not_helpful} | {f.ratio:.0%} |" for f in report.feedback)
    lines.append("")
    total = sum(sum(by_lang.values()) for by_lang in report.candidates.values())
    lines.append(f"## Candidate phrasings waiting for review ({total}): python -m bot learn")
    if not report.candidates:
        lines.append("(none)")
    else:
        lines.append("| topic | " + " | ".join(LANGS) + " | total |")
        lines.append("| --- | " + " | ".join("---:" for _ in LANGS) + " | ---: |")
        for topic, by_lang in report.candidates.items():
            cells = " | ".join(str(by_lang.get(lang, 0)) for lang in LANGS)
            lines.append(f"| {topic} | {cells} | {sum(by_lang.values())} |")
    return "\n".join(lines) + "\n"


def to_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "lang", "count", "text_or_entry", "closest_entry", "helpful", "not_helpful"])
    for lang in LANGS:
        for group in report.groups.get(lang, []):
            writer.writerow(["unanswered", lang, group.count, group.example, group.closest_entry or "", "", ""])
    for entry, count in report.answered:
        writer.writerow(["answered", "", count, entry, "", "", ""])
    for item in report.feedback:
        writer.writerow(
            ["feedback", "", item.helpful + item.not_helpful, item.entry_id, "", item.helpful, item.not_helpful]
        )
    for topic, by_lang in report.candidates.items():
        for code, count in by_lang.items():
            writer.writerow(["candidates", code, count, topic, "", "", ""])
    return buffer.getvalue()


def to_short(report: Report, top: int = 3) -> str:
    """A few lines for Telegram's /report."""
    lines = [
        f"Last {report.days} days: {report.actions.get('answer', 0)} answers, {report.actions.get('suggest', 0)} suggestions, {report.actions.get('escalate', 0)} escalations."
    ]
    for lang in LANGS:
        for group in report.groups.get(lang, [])[:top]:
            lines.append(f"[{lang}] ×{group.count}: {group.example[:80]} (closest: {group.closest_entry or '-'})")
    worst = [f for f in report.feedback if f.not_helpful][:top]
    if worst:
        lines.append("Least helpful: " + ", ".join(f"{f.entry_id} {f.ratio:.0%}" for f in worst))
    if report.candidates:
        total = sum(sum(by_lang.values()) for by_lang in report.candidates.values())
        most = ", ".join(f"{topic} {sum(by_lang.values())}" for topic, by_lang in list(report.candidates.items())[:top])
        lines.append(f"Candidate phrasings waiting: {total} ({most}); review them with /learn")
    return "\n".join(lines)
