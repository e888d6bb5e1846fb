"""Content rules for the knowledge base, reported as ``file:line: message``.

Every rule runs and every problem is collected (errors and warnings), so a maintainer sees all
of them at once. Messages are written for people who do not read code.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import accumulate, chain, pairwise
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import numpy as np
from rapidfuzz import fuzz, process

from bot.core.langs import LANGS
from bot.core.normalize import fold

if TYPE_CHECKING:  # pragma: no cover
    from bot.core.knowledge import Entry, LangText

#: Telegram refuses messages longer than this.
TELEGRAM_LIMIT = 4096
#: Answers longer than this are hard to read on a phone (warning).
LONG_ANSWER = 800  # characters: about one phone screen
#: A dated answer variant ending within this many days gets a warning.
ENDING_SOON_DAYS = 14
#: A reviewed date older than this many days gets a warning.
STALE_DAYS = 180
#: Fewer questions than this per language gets a warning: the bot will rarely find the entry.
MIN_QUESTIONS = 8
#: Two questions of different entries this similar (rapidfuzz token_sort_ratio) get a warning.
NEAR_DUPLICATE = 95.0
#: How many neighbours (in sorted order) each question is compared with for that warning.
NEAR_WINDOW = 8

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>")


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    message: str
    level: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        prefix = "warning: " if self.level == "warning" else ""
        return f"{self.file}:{self.line}: {prefix}{self.message}"


def sort_problems(problems: Sequence[Problem]) -> list[Problem]:
    return sorted(set(problems), key=lambda p: (p.file, p.line, p.level, p.message))


def is_web_address(url: str) -> bool:
    parsed = urlparse(url.strip())
    return parsed.scheme in ("http", "https") and "." in parsed.netloc and " " not in url.strip()


def check_entries(entries: Sequence[Entry], near_duplicates: bool = True) -> list[Problem]:
    """Rules that compare entries with each other (each entry's own content: ``check_entry``).

    ``near_duplicates=False`` skips the search for nearly identical questions (warnings for the
    maintainer, the one costly rule: about a second at 10,000 entries)."""
    problems: list[Problem] = []
    first_seen: dict[str, Entry] = {}
    for entry in entries:
        if entry.id in first_seen:
            other = first_seen[entry.id]
            problems.append(
                Problem(
                    entry.file,
                    entry.lines.get("id", entry.line),
                    f'the id "{entry.id}" is already used in {other.file}:{other.lines.get("id", other.line)}; every entry needs its own id',
                )
            )
        else:
            first_seen[entry.id] = entry
    for entry in entries:
        for rel in entry.related:
            if rel not in first_seen:
                problems.append(
                    Problem(
                        entry.file,
                        entry.lines.get("related", entry.line),
                        f'related names "{rel}", but no entry has that id',
                    )
                )
            elif rel == entry.id:
                problems.append(
                    Problem(entry.file, entry.lines.get("related", entry.line), "related names the entry itself")
                )
    problems.extend(_check_questions(entries, near_duplicates))
    return problems


def check_entry(entry: Entry, today: dt.date) -> list[Problem]:
    """Rules on one entry's own content: answer sizes, dated variants, number of questions,
    translations, reviewed date (run while reading, in parallel for large knowledge bases)."""
    out: list[Problem] = []
    line = entry.lines.get

    def add(at: int, message: str, level: str = "error") -> None:
        out.append(Problem(entry.file, at, message, level))

    for lang in LANGS:
        if lang not in entry.texts:
            continue  # already reported as a missing field
        text = entry.texts[lang]
        for variant in text.variants:
            size = len(variant.text)
            if size > TELEGRAM_LIMIT:
                add(
                    variant.line,
                    f'the "{lang}" answer has {size} characters; Telegram allows at most {TELEGRAM_LIMIT}. Shorten it or split it into a related entry',
                )
            elif size > LONG_ANSWER:
                add(
                    variant.line,
                    f'the "{lang}" answer has {size} characters; more than {LONG_ANSWER} is hard to read on a phone',
                    "warning",
                )
            if _TAG.search(variant.text):
                add(
                    variant.line,
                    f'the "{lang}" answer contains an HTML tag such as <b>; answers are plain text (see knowledge/README.md)',
                )
        out.extend(_check_variants(entry, lang, today))
        if not text.title:
            add(
                line(lang, entry.line),
                f'the "{lang}" part has no title: write a short title (menus, buttons and shared cards show it)',
                "warning",
            )
        if len(text.questions) < MIN_QUESTIONS:
            add(
                line(lang, entry.line),
                f'the "{lang}" part has only {len(text.questions)} questions; write at least {MIN_QUESTIONS} so people find this answer',
                "warning",
            )
    out.extend(_check_translations(entry))
    if entry.reviewed > today:
        add(
            line("reviewed", entry.line),
            f"the reviewed date {entry.reviewed.isoformat()} is in the future (today is {today.isoformat()})",
        )
    elif (today - entry.reviewed).days > STALE_DAYS:
        add(
            line("reviewed", entry.line),
            f"reviewed {entry.reviewed.isoformat()}, more than {STALE_DAYS} days ago: check the answer against its sources and update the date",
            "warning",
        )
    return out


def _check_variants(entry: Entry, lang: str, today: dt.date) -> list[Problem]:
    """Dated answer variants must follow each other with no gap and no overlap."""
    variants = entry.texts[lang].variants
    if len(variants) == 1 and variants[0].effective_from is None and variants[0].effective_until is None:
        return []
    out: list[Problem] = []
    ordered = sorted(variants, key=lambda v: v.effective_from or dt.date.min)
    first, last = ordered[0], ordered[-1]
    if first.effective_from is not None:
        out.append(
            Problem(
                entry.file,
                first.line,
                f'the first "{lang}" answer variant starts on {first.effective_from}: the bot would have no answer before that day; remove its effective_from',
            )
        )
    if last.effective_until is not None:
        out.append(
            Problem(
                entry.file,
                last.line,
                f'the last "{lang}" answer variant ends on {last.effective_until}: the bot would have no answer after that day; add a variant from {last.effective_until} or remove effective_until',
            )
        )
    for before, after in pairwise(ordered):
        if before.effective_until is None or after.effective_from is None:
            out.append(
                Problem(
                    entry.file,
                    after.line,
                    f'the "{lang}" answer variants overlap: every variant but the last needs effective_until, every variant but the first needs effective_from',
                )
            )
        elif before.effective_until < after.effective_from:
            out.append(
                Problem(
                    entry.file,
                    after.line,
                    f'gap in the "{lang}" answer variants: nothing is in force from {before.effective_until} to {after.effective_from}; the next variant must start on the day the previous one ends',
                )
            )
        elif before.effective_until > after.effective_from:
            out.append(
                Problem(
                    entry.file,
                    after.line,
                    f'the "{lang}" answer variants overlap: one ends on {before.effective_until} but the next starts on {after.effective_from}; the next variant must start on the day the previous one ends',
                )
            )
    for variant in ordered:
        if variant.effective_until is not None and 0 <= (variant.effective_until - today).days <= ENDING_SOON_DAYS:
            out.append(
                Problem(
                    entry.file,
                    variant.line,
                    f'the "{lang}" answer variant in force ends on {variant.effective_until}, within {ENDING_SOON_DAYS} days: check that the next variant is right',
                    "warning",
                )
            )
    source = entry.texts.get(entry.source_lang)
    if lang != entry.source_lang and source is not None:
        mine = [(v.effective_from, v.effective_until) for v in ordered]
        theirs = [
            (v.effective_from, v.effective_until)
            for v in sorted(source.variants, key=lambda v: v.effective_from or dt.date.min)
        ]
        if mine != theirs:
            out.append(
                Problem(
                    entry.file,
                    first.line,
                    f'the "{lang}" answer variants do not have the same dates as the "{entry.source_lang}" ones; every language must change on the same days',
                )
            )
    return out


def _check_translations(entry: Entry) -> list[Problem]:
    """Warn when a translation was made from an older version of the source-language answer."""
    out = []
    for lang in entry.stale_translations():
        text = entry.texts[lang]
        at = text.translated_from_line or entry.lines.get(lang, entry.line)
        if text.translated_from:
            message = f'the "{entry.source_lang}" answer of {entry.id} changed since the "{lang}" answer was translated: review the "{lang}" answer, then run: python -m bot translations --stamp {entry.id} {lang}'
        else:
            message = f'the "{lang}" answer of {entry.id} has no translated_from fingerprint: check it matches the "{entry.source_lang}" answer, then run: python -m bot translations --stamp {entry.id} {lang}'
        out.append(Problem(entry.file, at, message, "warning"))
    return out


def _check_questions(entries: Sequence[Entry], near_duplicates: bool = True) -> list[Problem]:
    """The same question under two entries is an error; nearly the same is a warning."""
    out: list[Problem] = []
    for lang in LANGS:
        texts = [(entry, entry.texts[lang]) for entry in entries if lang in entry.texts]
        folded = list(chain.from_iterable(text.folded_questions for _, text in texts))
        if len(set(folded)) == len(folded):  # no question twice (the usual case): no loop needed
            if not near_duplicates:
                continue
            keys = list(chain.from_iterable(text.sorted_questions for _, text in texts))
            starts = list(accumulate((len(text.folded_questions) for _, text in texts), initial=0))

            where: Callable[[int], tuple[Entry, str, int]] = partial(_place, starts, texts)
        else:
            folded, keys, places = _exact_duplicates(texts, out)
            where = places.__getitem__
        if not near_duplicates or len(folded) < 2:
            continue
        reported: set[tuple[str, str]] = set()
        for i, j in _near_pairs(folded, keys):
            if folded[i] == folded[j]:
                continue
            i, j = min(i, j), max(i, j)
            (a, afile, aline), (b, bfile, bline) = where(i), where(j)
            pair = (a.id, b.id) if a.id < b.id else (b.id, a.id)
            if a.id == b.id or pair in reported:  # one warning per pair of entries
                continue
            reported.add(pair)
            out.append(
                Problem(
                    bfile,
                    bline,
                    f'this "{lang}" question is almost the same as one in {afile}:{aline} ({a.id}); the bot may hesitate between the two entries, make them clearly different',
                    "warning",
                )
            )
    return out


def _place(starts: list[int], texts: Sequence[tuple[Entry, LangText]], i: int) -> tuple[Entry, str, int]:
    """Entry, file and line of question ``i`` of the concatenated questions of ``texts``."""
    k = bisect.bisect_right(starts, i) - 1
    entry, text = texts[k]
    return entry, text.question_file(i - starts[k], entry.file), text.question_lines[i - starts[k]]


def _exact_duplicates(
    texts: Sequence[tuple[Entry, LangText]], out: list[Problem]
) -> tuple[list[str], list[str], list[tuple[Entry, str, int]]]:
    """Report questions that another entry has already; return the other questions (folded and
    word-sorted) with their entry and line, for the near-duplicate search."""
    folded: list[str] = []
    keys: list[str] = []
    places: list[tuple[Entry, str, int]] = []
    owner: dict[str, tuple[Entry, str, int]] = {}
    for entry, text in texts:
        for index, (question, key, sorted_key, qline) in enumerate(
            zip(text.questions, text.folded_questions, text.sorted_questions, text.question_lines)
        ):
            qfile = text.question_file(index, entry.file)
            if key in owner and owner[key][0].id != entry.id:
                other, other_file, other_line = owner[key]
                out.append(
                    Problem(
                        qfile,
                        qline,
                        f'the question "{question}" is also in {other_file}:{other_line} ({other.id}); the bot cannot tell the two entries apart, keep it in one',
                    )
                )
                continue
            owner.setdefault(key, (entry, qfile, qline))
            folded.append(key)
            keys.append(sorted_key)
            places.append((entry, qfile, qline))
    return folded, keys, places


def _near_pairs(folded: Sequence[str], keys: Sequence[str] | None = None) -> list[tuple[int, int]]:
    """Index pairs whose token_sort_ratio is at least NEAR_DUPLICATE.

    Comparing every question with every other grows with the square of the knowledge base
    (hours at 10,000 entries), so questions are sorted by their sorted words and each is compared
    with its NEAR_WINDOW next neighbours (``process.cpdist``): nearly identical questions sort
    next to each other, so this finds them in near-linear time.

    ``keys``: each question with its words sorted, when the caller has them already
    (``LangText.sorted_questions``)."""
    if keys is None:
        keys = [" ".join(sorted(text.split())) for text in folded]
    order = np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)
    ordered = np.array(keys, dtype=object)[order]
    lengths = np.fromiter(map(len, ordered), dtype=np.int64, count=len(ordered))
    firsts: list[np.ndarray] = []
    steps: list[np.ndarray] = []
    for step in range(1, min(NEAR_WINDOW, len(order) - 1) + 1):
        a, b = lengths[:-step], lengths[step:]
        # ratio = 100 * (1 - distance / (len_a + len_b)) and distance >= |len_a - len_b|, so a
        # pair can only reach NEAR_DUPLICATE when its lengths are close: other pairs stop here.
        close = np.nonzero(100 * np.abs(a - b) <= (100 - NEAR_DUPLICATE) * (a + b))[0]
        firsts.append(close)
        steps.append(np.full(len(close), step, dtype=np.int64))
    if not firsts:
        return []
    first = np.concatenate(firsts)
    second = first + np.concatenate(steps)
    # one call for every pair left, on every CPU core
    scores = process.cpdist(ordered[first], ordered[second], scorer=fuzz.ratio, score_cutoff=NEAR_DUPLICATE, workers=-1)
    hits = scores.nonzero()[0]
    return list(zip(order[first[hits]].tolist(), order[second[hits]].tolist()))


def check_synonyms(groups: Mapping[str, Sequence[str]], lines: Mapping[str, int], label: str) -> list[Problem]:
    out: list[Problem] = []
    seen: dict[str, str] = {}
    for concept, words in groups.items():
        at = lines.get(concept, 1)
        if not ID_PATTERN.match(concept.replace("_", "-")):
            out.append(
                Problem(label, at, f'the group name "{concept}" must be lowercase letters, digits and "-" or "_"')
            )
        for word in words:
            key = fold(word)
            if not key:
                out.append(Problem(label, at, f'"{word}" in group "{concept}" has no letters or digits'))
            elif key in seen and seen[key] != concept:
                out.append(
                    Problem(label, at, f'"{word}" is in two groups ("{seen[key]}" and "{concept}"); keep it in one')
                )
            seen.setdefault(key, concept)
    return out
