"""The maintainers' report: what people asked that the bot could not answer, grouped.

Pure functions over plain rows (the storage module reads them). Near-identical questions are
grouped per language (``group_questions``), biggest groups first, each with a count, an example,
why its questions came (``REASONS``: handed to a volunteer, rated "not helpful", only suggested,
no reliable answer) and the entry they came closest to: the to-do list for the knowledge base.
Also the most answered entries, the helpful / not helpful ratio per entry, and how many
candidate phrasings wait for review per topic (``python -m bot learn``).

How questions are grouped (``tests/test_report.py`` measures it on the labelled wordings of
``tests/data/report_groups.yaml``):

1. each question becomes its content words: folded, abbreviations expanded, without the
   language's stopwords and without the words nearly every question here contains ("parole",
   "CHNV" ...), which tell no two topics apart;
2. two questions are compared with rapidfuzz's ``token_set_ratio`` of those words (0-100, one
   ``process.cdist`` per language), and only when they share a word (its first five letters, so
   "trabajo" and "trabaje" meet): two questions with no word in common are never alike;
3. groups grow by average linkage: two groups merge while the mean similarity of their
   questions is at least ``SIMILAR``. A chain of look-alikes (licence ~ licence with parole ~
   medicaid with parole) cannot pull two topics together, as it would with single links.

``SIMILAR`` = 65. Two questions at least this alike are grouped when nothing else was asked, so it
must be above the score of the two most alike different questions of the labelled wordings
(61: "licencia de manejar con el permiso de trabajo" / "declarar impuestos si trabaje con
permiso"), and at most 70: from 75 on, wordings of the same question stay apart. 65 is the
middle of that window; every threshold in it groups the labelled wordings exactly (all 66
pairs of the same question together, no pair of different ones). Before (the folded text
whole, one leader per group, 70) 11 of the 66 pairs stayed apart and 4 wrong pairs were grouped.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from bot.core.langs import LANGS
from bot.core.lexicon import STOPWORDS
from bot.core.normalize import fold, tokens

#: Two groups at least this similar (mean token_set_ratio of their questions' content words) merge.
SIMILAR = 65.0
#: Groups listed per language.
TOP_GROUPS = 15
#: Letters of a word that must be shared for two questions to be compared at all.
STEM = 5
#: Words nearly every question to this bot contains: they tell no two topics apart.
NEUTRAL_WORDS = frozenset(
    {"parole", "parol", "chnv", "programa", "pwogram", "program", "humanitario", "imanite", "humanitarian", "biden"}
)
#: Why a question is in the report (the ``reason`` stored with it), as the report says it.
REASONS: dict[str, str] = {
    "person": "escalated to a person",  # its chat was handed to a volunteer
    "not_helpful": "rated not helpful",  # answered, and the person pressed "No"
    "suggest": "only suggested",  # the bot was not sure: it offered topics
    "escalate": "no reliable answer",  # nothing fitted: the bot offered a person
}


def plural(count: int, singular: str, many: str | None = None) -> str:
    """``1 question``, ``2 questions``, ``0 questions`` (``many`` when the plural is not just +s)."""
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


@dataclass
class Group:
    lang: str
    count: int
    example: str
    closest_entry: str | None
    #: every question of the group, oldest first
    members: list[str] = field(default_factory=list)
    #: reason -> how many of the group's questions came for it (``REASONS``)
    reasons: dict[str, int] = field(default_factory=dict)

    def why(self) -> str:
        """``2 no reliable answer, 1 escalated to a person``: the reasons, most first."""
        order = list(REASONS)
        ranked = sorted(
            self.reasons.items(), key=lambda item: (-item[1], order.index(item[0]) if item[0] in order else len(order))
        )
        return ", ".join(f"{count} {REASONS.get(reason, reason)}" for reason, count in ranked)


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


#: An unanswered question as the storage reads it: (lang, text, closest entry, reason).
Row = tuple[str, str, str | None, str]


def content_words(text: str, lang: str) -> str:
    """The words of ``text`` that say what it is about (the folded text when none are left)."""
    stop = STOPWORDS.get(lang, frozenset())
    words = [w for w in tokens(text, lang) if w not in stop and w not in NEUTRAL_WORDS]
    return " ".join(words) or fold(text)


def similarity(texts: Sequence[str], lang: str) -> np.ndarray:
    """Pairwise similarity (0-100) of ``texts``: token_set_ratio of their content words, 0 for
    two questions that share no word."""
    keys = [content_words(text, lang) for text in texts]
    matrix = process.cdist(keys, keys, scorer=fuzz.token_set_ratio, dtype=np.float32, workers=1)
    stems = [{word[:STEM] for word in key.split()} for key in keys]
    vocabulary = {stem: i for i, stem in enumerate(sorted(set().union(*stems)))}
    present = np.zeros((len(keys), len(vocabulary)), dtype=np.float32)
    for row, found in enumerate(stems):
        present[row, [vocabulary[stem] for stem in found]] = 1.0
    matrix[(present @ present.T) == 0] = 0.0
    return matrix


def clusters(matrix: np.ndarray, similar: float = SIMILAR) -> list[list[int]]:
    """Average-linkage groups of the items of a similarity matrix: two groups merge while the
    mean similarity between their items is at least ``similar``. Only items linked by some
    pair at or above ``similar`` can end up together, so each linked set is clustered alone."""
    n = len(matrix)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(matrix >= similar, k=1))):
        parent[root(int(i))] = root(int(j))
    linked: dict[int, list[int]] = {}
    for i in range(n):
        linked.setdefault(root(i), []).append(i)
    out: list[list[int]] = []
    for items in linked.values():
        if len(items) == 1:
            out.append(items)
            continue
        scores = matrix[np.ix_(items, items)].astype(np.float64)
        np.fill_diagonal(scores, -np.inf)
        members = [[i] for i in items]
        # each row's best partner, kept up to date: a merge only changes rows a and b
        best = scores.argmax(axis=1)
        best_score = scores[np.arange(len(items)), best]
        while True:
            a = int(best_score.argmax())
            b = int(best[a])
            if best_score[a] < similar:
                break
            size_a, size_b = len(members[a]), len(members[b])
            merged = (size_a * scores[a] + size_b * scores[b]) / (size_a + size_b)  # Lance-Williams, average
            merged[a] = merged[b] = -np.inf
            scores[a], scores[:, a] = merged, merged
            scores[b], scores[:, b] = -np.inf, -np.inf
            members[a] += members[b]
            members[b] = []
            stale = (best == a) | (best == b)
            stale[a] = True
            stale[b] = False
            rows = np.flatnonzero(stale)
            best[rows] = scores[rows].argmax(axis=1)
            best_score[rows] = scores[rows, best[rows]]
            better = merged > best_score
            best[better], best_score[better] = a, merged[better]
            best_score[b] = -np.inf
        out.extend(sorted(m) for m in members if m)
    return sorted(out)


def group_questions(rows: Iterable[Row], similar: float = SIMILAR) -> dict[str, list[Group]]:
    """Group ``(lang, text, closest_entry, reason)`` rows by similarity, per language, biggest first."""
    by_lang: dict[str, list[Row]] = {}
    for row in rows:
        by_lang.setdefault(row[0], []).append(row)
    out: dict[str, list[Group]] = {}
    for lang, items in by_lang.items():
        matrix = similarity([text for _lang, text, _closest, _reason in items], lang)
        groups: list[Group] = []
        for members in clusters(matrix, similar):
            # the example: the question most like the others (the first one on a tie)
            centre = max(members, key=lambda i: (float(matrix[i, members].sum()), -i))
            nearest = Counter(items[j][2] for j in members if items[j][2]).most_common(1)
            groups.append(
                Group(
                    lang,
                    len(members),
                    items[centre][1],
                    nearest[0][0] if nearest else None,
                    [items[j][1] for j in members],
                    dict(Counter(items[j][3] for j in members)),
                )
            )
        groups.sort(key=lambda g: (-g.count, g.example))
        out[lang] = groups
    return out


def period(days: int) -> str:
    """``last day`` / ``last 30 days``."""
    return "last day" if days == 1 else f"last {days} days"


def build(
    days: int,
    unanswered: Sequence[Row],
    counts: Iterable[tuple[str, str, int]],
    feedback: Iterable[tuple[str, bool]],
    candidates: Iterable[tuple[str, str, int]] = (),
) -> Report:
    """``unanswered`` rows are ``(lang, text, closest entry, reason)``; ``counts`` rows ``(lang,
    entry id or action, count)``; ``feedback`` rows ``(entry id, helpful)``; ``candidates`` rows
    ``(topic, lang, count)`` of the candidate phrasings waiting."""
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
    lines = [f"# What people asked ({period(report.days)})", ""]
    total = sum(report.actions.values())
    lines.append(
        f"Answers: {report.actions.get('answer', 0)} · suggestions: {report.actions.get('suggest', 0)} · escalations: {report.actions.get('escalate', 0)} (total {total})"
    )
    lines.append("")
    lines.append("## Questions the bot could not answer, grouped (biggest first)")
    lines.append("")
    lines.append("Why they came: " + "; ".join(f"*{label}*: {what}" for label, what in _REASON_NOTES.items()) + ".")
    for lang in LANGS:
        groups = report.groups.get(lang, [])
        lines.append("")
        count = sum(g.count for g in groups)
        lines.append(f"### {lang} ({plural(count, 'question')} in {plural(len(groups), 'group')})")
        if not groups:
            lines.append("(none)")
            continue
        lines.append("| questions | example | why | closest entry |")
        lines.append("| ---: | --- | --- | --- |")
        for group in groups[:top]:
            example = group.example.replace("|", "/").replace("\n", " ")[:120]
            lines.append(f"| {group.count} | {example} | {group.why()} | {group.closest_entry or '-'} |")
        if len(groups) > top:
            lines.append(f"... and {plural(len(groups) - top, 'smaller group')}")
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


#: What each reason means, for the report's readers.
_REASON_NOTES = {
    REASONS["escalate"]: "nothing fitted, the bot offered a person",
    REASONS["suggest"]: "the bot was not sure and offered topics",
    REASONS["not_helpful"]: "answered, and the person pressed “No”",
    REASONS["person"]: "asked before the chat went to a volunteer",
}


def to_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "lang", "count", "text_or_entry", "closest_entry", "helpful", "not_helpful", "why"])
    for lang in LANGS:
        for group in report.groups.get(lang, []):
            writer.writerow(
                ["unanswered", lang, group.count, group.example, group.closest_entry or "", "", "", group.why()]
            )
    for entry, count in report.answered:
        writer.writerow(["answered", "", count, entry, "", "", "", ""])
    for item in report.feedback:
        writer.writerow(
            ["feedback", "", item.helpful + item.not_helpful, item.entry_id, "", item.helpful, item.not_helpful, ""]
        )
    for topic, by_lang in report.candidates.items():
        for code, count in by_lang.items():
            writer.writerow(["candidates", code, count, topic, "", "", "", ""])
    return buffer.getvalue()


def to_short(report: Report, top: int = 3) -> str:
    """A few lines for Telegram's /report."""
    actions = report.actions
    lines = [
        f"{period(report.days).capitalize()}: {plural(actions.get('answer', 0), 'answer')}, "
        f"{plural(actions.get('suggest', 0), 'suggestion')}, {plural(actions.get('escalate', 0), 'escalation')}."
    ]
    for lang in LANGS:
        for group in report.groups.get(lang, [])[:top]:
            lines.append(
                f"[{lang}] ×{group.count}: {group.example[:80]} ({group.why()}; closest: {group.closest_entry or '-'})"
            )
    worst = [f for f in report.feedback if f.not_helpful][:top]
    if worst:
        lines.append("Least helpful: " + ", ".join(f"{f.entry_id} {f.ratio:.0%}" for f in worst))
    if report.candidates:
        total = sum(sum(by_lang.values()) for by_lang in report.candidates.values())
        most = ", ".join(f"{topic} {sum(by_lang.values())}" for topic, by_lang in list(report.candidates.items())[:top])
        lines.append(f"{plural(total, 'candidate phrasing')} waiting ({most}); review them with /learn")
    return "\n".join(lines)
