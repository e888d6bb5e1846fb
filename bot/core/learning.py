"""Learning from real questions: candidate phrasings, their review, and writing the accepted
ones into the knowledge base.

Where candidates come from (``bot.telegram`` records them, ``bot.store.storage`` keeps them
masked and without user ids):

- **a suggestion picked**: the bot suggested topics and the person tapped one; a "not helpful"
  on that answer takes the candidate back;
- **a rephrasing**: after "no reliable answer" the person asked again, the second question was
  answered and rated helpful: the first question becomes a candidate of that topic
  (``Rephrasings`` keeps that short story in memory, minutes only);
- **a volunteer's label**: after /close the volunteers say what the ticket was about; the
  person's questions become candidates of that topic, or off-topic examples ("none of these").

``review(kb, candidates)`` groups them by topic and language, folds together the ones that say
the same thing, and marks the ones the knowledge base already has (``known``: the same folded
text or a near-duplicate of a phrasing of that topic) or that would contradict it
(``conflict``: the phrasing of another topic, or an off-topic example). ``write(directory,
groups)`` appends the accepted ones to the files maintainers edit,
``phrasings/<lang>/<topic>.yaml`` and ``out-of-scope.yaml``, as text: comments, order and
layout stay as they are, and each new line says the day it was learned
(``- q paso con mi permiso  # learned 2026-12-06``). The knowledge base is checked afterwards
exactly as ``python -m bot check`` does; on an error every file is put back as it was.

Pure: no Telegram, no database; files only in ``write``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from rapidfuzz import fuzz, process

from bot.core import knowledge
from bot.core.knowledge import OUT_OF_SCOPE, OUT_OF_SCOPE_FILE, PHRASINGS_DIR, KnowledgeBase
from bot.core.langs import LANGS
from bot.core.normalize import fold
from bot.core.validate import NEAR_DUPLICATE, Problem

#: Where a candidate came from.
SUGGESTION = "suggestion"
REPHRASE = "rephrase"
VOLUNTEER = "volunteer"
SOURCES = (SUGGESTION, REPHRASE, VOLUNTEER)

#: A candidate this similar to a phrasing of its own topic adds nothing: it is folded away
#: (rapidfuzz token_sort_ratio on folded text).
SAME_TOPIC = 90.0
#: This similar to a phrasing of *another* topic (or an off-topic example), it would make
#: ``check`` warn ("almost the same question"): it is a conflict, never written.
OTHER_TOPIC = NEAR_DUPLICATE
#: Candidates of one topic and language this similar are one group (said by several people).
SAME_GROUP = 90.0
#: A phrasing needs at least this many words to teach anything.
MIN_WORDS = 2

Status = Literal["new", "known", "conflict", "gone"]


@dataclass(frozen=True)
class CandidatePhrasing:
    """A stored candidate (``bot.store.storage``): masked text, no user id."""

    id: int
    day: str
    lang: str
    topic: str  # entry id, or OUT_OF_SCOPE for an off-topic example
    text: str
    source: str


def usable(text: str) -> bool:
    """Whether a question can teach anything: at least MIN_WORDS words once folded."""
    return len(fold(text).split()) >= MIN_WORDS


def one_line(text: str) -> str:
    """A phrasing is one line: line breaks and runs of spaces become one space."""
    return " ".join(text.split())


# -- rephrasings (in memory) ------------------------------------------------------------------


@dataclass
class _Story:
    at: float
    lang: str
    missed: str  # the (masked) question the bot had no reliable answer to
    topic: str = ""  # the topic the next question was answered with ("" until then)


class Rephrasings:
    """After "no reliable answer", what the person asks next, in memory only (minutes).

    ``missed`` records a question that was escalated; when the *next* question is ``answered``
    with a topic and that answer is rated helpful (``helpful``), the missed question is returned:
    a candidate of that topic. Anything else in between (a suggestion, a second miss, a "not
    helpful") ends the story; small talk does not count. Bounded to ``max_users`` people."""

    def __init__(self, keep_for: float = 900.0, max_users: int = 5000) -> None:
        self.keep_for = keep_for
        self.max_users = max_users
        self._by_user: OrderedDict[int, _Story] = OrderedDict()

    def missed(self, user_id: int, lang: str, masked_text: str, now: float | None = None) -> None:
        self._by_user.pop(user_id, None)
        self._by_user[user_id] = _Story(time.monotonic() if now is None else now, lang, masked_text)
        while len(self._by_user) > self.max_users:
            self._by_user.popitem(last=False)

    def answered(self, user_id: int, topic: str, now: float | None = None) -> None:
        """The question after the miss was answered with ``topic``."""
        story = self._fresh(user_id, now)
        if story is None or story.topic:
            self._by_user.pop(user_id, None)
            return
        story.topic = topic

    def helpful(self, user_id: int, topic: str, now: float | None = None) -> tuple[str, str] | None:
        """The answer of ``topic`` helped: ``(lang, missed question)`` when it answered the
        rephrasing of a miss, else None. The story ends either way."""
        story = self._fresh(user_id, now)
        self._by_user.pop(user_id, None)
        if story is None or story.topic != topic:
            return None
        return story.lang, story.missed

    def end(self, user_id: int) -> None:
        """Something else happened (a suggestion, "not helpful", a person asked for)."""
        self._by_user.pop(user_id, None)

    forget = end

    def _fresh(self, user_id: int, now: float | None) -> _Story | None:
        story = self._by_user.get(user_id)
        now = time.monotonic() if now is None else now
        if story is None or now - story.at > self.keep_for:
            return None
        return story

    def __len__(self) -> int:
        return len(self._by_user)


# -- review -------------------------------------------------------------------------------------


@dataclass
class Group:
    """Candidates of one topic and language that say (nearly) the same thing."""

    topic: str
    lang: str
    text: str  # what would be written: the first one said
    ids: list[int] = field(default_factory=list)
    sources: Counter[str] = field(default_factory=Counter)
    status: Status = "new"
    #: for known/conflict: the existing phrasing it matches, and its topic
    match: str = ""
    match_topic: str = ""

    @property
    def id(self) -> int:
        """The group's number: its oldest candidate's id."""
        return min(self.ids)

    @property
    def count(self) -> int:
        return len(self.ids)


@dataclass
class Review:
    groups: list[Group]

    def of(self, topic: str | None = None, lang: str | None = None, status: str | None = None) -> list[Group]:
        return [
            g
            for g in self.groups
            if (topic is None or g.topic == topic)
            and (lang is None or g.lang == lang)
            and (status is None or g.status == status)
        ]

    def group(self, number: int) -> Group | None:
        """The group with this number, or that holds a candidate with this id."""
        return next((g for g in self.groups if number in g.ids), None)

    def waiting(self) -> list[tuple[str, str, int, int]]:
        """``(topic, lang, new groups, candidates)`` per topic and language, most first."""
        counts: dict[tuple[str, str], list[int]] = {}
        for g in self.groups:
            item = counts.setdefault((g.topic, g.lang), [0, 0])
            item[0] += g.status == "new"
            item[1] += g.count
        return sorted(
            ((t, lang, n, c) for (t, lang), (n, c) in counts.items()), key=lambda r: (-r[2], -r[3], r[0], r[1])
        )


class _Known:
    """The phrasings one language already has, folded, with their topic."""

    def __init__(self, kb: KnowledgeBase, lang: str) -> None:
        self.owner: dict[str, str] = {}
        for entry in kb:
            text = entry.texts.get(lang)
            if text is not None:
                for folded in text.folded_questions:
                    self.owner.setdefault(folded, entry.id)
        for question in kb.out_of_scope.get(lang, ()):
            self.owner.setdefault(fold(question), OUT_OF_SCOPE)
        self.texts = list(self.owner)
        self.keys = [" ".join(sorted(t.split())) for t in self.texts]

    def add(self, folded: str, topic: str) -> None:
        if folded not in self.owner:
            self.owner[folded] = topic
            self.texts.append(folded)
            self.keys.append(" ".join(sorted(folded.split())))

    def closest(self, folded: str, topic: str) -> tuple[Status, str, str]:
        """``("known" | "conflict" | "new", matching phrasing, its topic)``."""
        owner = self.owner.get(folded)
        if owner is not None:
            return ("known" if owner == topic else "conflict"), folded, owner
        if not self.texts:
            return "new", "", ""
        key = " ".join(sorted(folded.split()))
        # the measure check uses for "almost the same question": ratio of the word-sorted texts
        scores = process.cdist([key], self.keys, scorer=fuzz.ratio, score_cutoff=min(SAME_TOPIC, OTHER_TOPIC))[0]
        best_other, best_same = (-1.0, -1), (-1.0, -1)
        for index in scores.nonzero()[0]:
            score = float(scores[index])
            if self.owner[self.texts[index]] == topic:
                best_same = max(best_same, (score, int(index)))
            else:
                best_other = max(best_other, (score, int(index)))
        if best_other[0] >= OTHER_TOPIC:
            found = self.texts[best_other[1]]
            return "conflict", found, self.owner[found]
        if best_same[0] >= SAME_TOPIC:
            found = self.texts[best_same[1]]
            return "known", found, topic
        return "new", "", ""


def review(kb: KnowledgeBase, candidates: Iterable[CandidatePhrasing]) -> Review:
    """Group the candidates by topic and language (near-duplicates together) and compare each
    group with the knowledge base. Groups are in the order of their oldest candidate."""
    groups: list[Group] = []
    buckets: dict[tuple[str, str], list[tuple[Group, str]]] = {}
    for item in sorted(candidates, key=lambda c: c.id):
        folded = fold(item.text)
        if not folded:
            continue
        bucket = buckets.setdefault((item.topic, item.lang), [])
        home = next((g for g, f in bucket if f == folded), None)
        if home is None and bucket:
            folded_all = [f for _g, f in bucket]
            best = process.extractOne(folded, folded_all, scorer=fuzz.token_sort_ratio, score_cutoff=SAME_GROUP)
            home = bucket[best[2]][0] if best is not None else None
        if home is None:
            home = Group(item.topic, item.lang, one_line(item.text))
            bucket.append((home, folded))
            groups.append(home)
        home.ids.append(item.id)
        home.sources[item.source] += 1
    known: dict[str, _Known] = {}
    for (topic, lang), bucket in buckets.items():
        if lang not in LANGS or (topic != OUT_OF_SCOPE and topic not in kb):
            for group, _folded in bucket:
                group.status = "gone"  # an entry removed since, or a language the bot does not speak
            continue
        phrasings = known.setdefault(lang, _Known(kb, lang))
        for group, folded in bucket:
            group.status, group.match, group.match_topic = phrasings.closest(folded, topic)
    return Review(groups)


def select(
    review: Review, numbers: Iterable[int] = (), topic: str | None = None, lang: str | None = None
) -> list[Group]:
    """The groups named by number (a group's number or the id of any of its candidates), and
    every group of ``topic`` ("all": of every topic), each only in ``lang`` when given."""
    wanted = set(numbers)
    return [
        g
        for g in review.groups
        if (wanted & set(g.ids) or (topic is not None and topic in ("all", g.topic))) and lang in (None, g.lang)
    ]


# -- writing ------------------------------------------------------------------------------------


class LearnError(RuntimeError):
    """The phrasings could not be written; the knowledge base was left as it was."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


@dataclass
class Written:
    """What ``write`` did."""

    #: file (relative to the knowledge folder) -> phrasings added to it
    files: dict[str, int] = field(default_factory=dict)
    #: groups written / left out (with the reason)
    accepted: list[Group] = field(default_factory=list)
    skipped: list[tuple[Group, str]] = field(default_factory=list)
    #: warnings ``check`` gives after the change that it did not give before
    new_warnings: list[Problem] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(self.files.values())


def settled(written: Written) -> list[int]:
    """Candidate ids that are done after ``written``: the ones written, the ones the knowledge
    base already had (folded away) and the ones whose topic is gone. Conflicts and unwritable
    texts stay for a person to look at (or reject)."""
    done = [i for g in written.accepted for i in g.ids]
    done += [i for g, why in written.skipped if why in ("known", "gone") for i in g.ids]
    return sorted(done)


def target_file(topic: str, lang: str) -> str:
    """Where an accepted phrasing goes, relative to the knowledge folder."""
    if topic == OUT_OF_SCOPE:
        return OUT_OF_SCOPE_FILE
    return f"{PHRASINGS_DIR}/{lang}/{topic}.yaml"


def yaml_item(text: str) -> str:
    """``text`` as one YAML list item value: plain when YAML reads it back unchanged, else in
    double quotes. Raises ValueError if it cannot be written on one line."""
    text = one_line(text)
    for candidate in (text, json.dumps(text, ensure_ascii=False), json.dumps(text)):
        try:
            parsed = yaml.safe_load(f"- {candidate}  # learned\n")
        except yaml.YAMLError:
            continue
        if parsed == [text]:
            return candidate
    raise ValueError("this text cannot be written as one YAML line")


def write(
    directory: str | Path,
    groups: Sequence[Group],
    today: dt.date | None = None,
    kb: KnowledgeBase | None = None,
) -> Written:
    """Append the ``new`` groups to the knowledge base in ``directory``, each line marked with
    the day it was learned; then check the knowledge base. Groups that are not new, or that
    turn out to say what another accepted group says, are skipped with a reason.

    Raises LearnError (and puts every file back) when the knowledge base does not load
    afterwards, or when a file cannot be edited as text."""
    root = Path(directory)
    day = (today or dt.date.today()).isoformat()
    before = knowledge.load(root) if kb is None else None
    if before is not None:
        if before.kb is None:
            raise LearnError("the knowledge base has errors: fix them first (python -m bot check)", before.errors)
        kb = before.kb
    assert kb is not None
    done = Written()
    lines: dict[str, dict[str, list[str]]] = {}  # file -> language -> new lines
    known: dict[str, _Known] = {}
    for group in groups:
        if group.status != "new":
            done.skipped.append((group, group.status))
            continue
        phrasings = known.setdefault(group.lang, _Known(kb, group.lang))
        folded = fold(group.text)
        status, _match, owner = phrasings.closest(folded, group.topic)
        if status != "new":  # another accepted group of this run said it already
            done.skipped.append((group, "known" if owner == group.topic else "conflict"))
            continue
        try:
            item = yaml_item(group.text)
        except ValueError:
            done.skipped.append((group, "unwritable"))
            continue
        phrasings.add(folded, group.topic)
        relative = target_file(group.topic, group.lang)
        lines.setdefault(relative, {}).setdefault(group.lang, []).append(f"{item}  # learned {day}")
        done.accepted.append(group)
    if not lines:
        return done
    warnings_before = {(p.file, p.message) for p in (before or knowledge.load(root)).warnings}
    originals: dict[Path, bytes | None] = {}
    try:
        for relative, by_lang in lines.items():
            path = root / relative
            originals[path] = path.read_bytes() if path.exists() else None
            text = originals[path]
            content = text.decode("utf-8") if text is not None else None
            for lang, items in by_lang.items():
                content = appended(content, items, relative, lang)
                done.files[relative] = done.files.get(relative, 0) + len(items)
            assert content is not None
            _atomic_write(path, content.encode("utf-8"))
        after = knowledge.load(root)
    except (OSError, LearnError, UnicodeDecodeError, yaml.YAMLError) as exc:
        _restore(originals)
        if isinstance(exc, LearnError):
            raise
        raise LearnError(f"could not write the phrasings ({exc.__class__.__name__}: {exc})") from exc
    if after.kb is None:
        _restore(originals)
        raise LearnError("the knowledge base would not load with these phrasings; nothing was written", after.errors)
    done.new_warnings = [p for p in after.warnings if (p.file, p.message) not in warnings_before]
    return done


def appended(text: str | None, items: Sequence[str], relative: str, lang: str) -> str:
    """A file's ``text`` (None: the file does not exist yet) with ``items`` (YAML values, with
    their comment) added at the end of its list: ``questions:`` in a phrasing file, the
    ``lang:`` list in out-of-scope.yaml. Everything else stays as it is, byte for byte."""
    if text is None:
        if relative == OUT_OF_SCOPE_FILE:
            return f"{lang}:\n" + "".join(f"  - {item}\n" for item in items)
        topic = Path(relative).stem
        header = f"# {topic} ({lang}): more ways people ask about this topic. One phrasing per line; see knowledge/README.md.\n"
        return header + "questions:\n" + "".join(f"  - {item}\n" for item in items)
    newline = "\r\n" if "\r\n" in text else "\n"
    rows = text.splitlines(keepends=True)
    if rows and not rows[-1].endswith(("\n", "\r")):
        rows[-1] += newline
    key = lang if relative == OUT_OF_SCOPE_FILE else "questions"
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        raise LearnError(f"{relative}: expected a YAML mapping with {key}:")
    found = next(((k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)
    if found is None:  # no list for this language yet (out-of-scope.yaml): add one at the end
        return "".join(rows) + f"{key}:{newline}" + "".join(f"  - {item}{newline}" for item in items)
    name, value = found
    if isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null"):  # "questions:" and nothing
        line = name.start_mark.line
        at, indent = line + 1, "  "
        row = rows[line]
        rows[line] = row[: row.index(":", name.end_mark.column) + 1] + newline  # "questions: ~" loses its ~
    elif isinstance(value, yaml.SequenceNode) and not value.flow_style and value.value:
        last = value.value[-1]
        end = last.end_mark
        at = end.line if end.column == 0 and end.line > last.start_mark.line else end.line + 1
        start_line = rows[last.start_mark.line]
        dash = start_line.find("-")
        indent = start_line[:dash] if dash >= 0 and not start_line[:dash].strip() else "  "
    else:
        raise LearnError(f'{relative}: write {key}: as a list of "- " lines to add phrasings to it')
    new_rows = [f"{indent}- {item}{newline}" for item in items]
    return "".join(rows[:at] + new_rows + rows[at:])


def _atomic_write(path: Path, data: bytes) -> None:
    """Write through a temporary file renamed over ``path``: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _restore(originals: dict[Path, bytes | None]) -> None:
    for path, content in originals.items():
        if content is None:
            path.unlink(missing_ok=True)
        else:
            _atomic_write(path, content)
