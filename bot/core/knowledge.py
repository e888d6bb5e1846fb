"""The knowledge base: frozen entries read from ``knowledge/**/*.yaml``.

``load(directory)`` reads every file, turns each into an ``Entry`` and runs every rule of
``bot.core.validate``; it returns the knowledge base only when there is no error, together with all
problems (errors and warnings) as ``file:line`` records. Nothing here knows about Telegram.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import logging
import multiprocessing
import os
import re
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from pathlib import Path
from typing import TypeGuard

from bot.core import domain, scamradar, validate
from bot.core.langs import LANGS
from bot.core.normalize import fold_text, fold_texts
from bot.core.validate import Problem
from bot.core.yamlload import LineDict, LineList, load_yaml

log = logging.getLogger(__name__)

CATEGORIES = ("closure", "scams", "alternatives", "bot")
DEFAULT_SOURCE_LANG = "es"
SYNONYMS_FILE = "synonyms.yaml"
SCAM_PATTERNS_FILE = "scam-patterns.yaml"
OUT_OF_SCOPE_FILE = "out-of-scope.yaml"
#: Reserved id of the off-topic examples (``out-of-scope.yaml``) inside the matcher.
OUT_OF_SCOPE = "out-of-scope"
#: ``phrasings/<lang>/<entry id>.yaml``: more ways people ask, one file per entry and language
#: (``phrasings/<lang>/out-of-scope.yaml``: more off-topic examples).
PHRASINGS_DIR = "phrasings"
#: ``scam-examples/<lang>.yaml``: labelled messages that train the scam classifier.
SCAM_EXAMPLES_DIR = "scam-examples"
PHRASING_FIELDS = {"questions"}
ENTRY_FIELDS = {"id", "category", "reviewed", "urgent", "sources", "related", "source_lang", *LANGS}
REQUIRED_FIELDS = ("id", "category", "reviewed", "sources", *LANGS)
LANG_FIELDS = {"title", "answer", "questions", "keywords", "translated_from"}
VARIANT_FIELDS = {"text", "effective_from", "effective_until"}


@dataclass(frozen=True)
class Source:
    title: str
    url: str
    #: the title in each language, when the entry gives one per language
    titles: Mapping[str, str] = field(default_factory=dict)

    def title_in(self, lang: str) -> str:
        """The title in ``lang``, else the one title written for all languages."""
        return self.titles.get(lang) or self.title


@dataclass(frozen=True)
class Variant:
    """One dated version of an answer: in force from ``effective_from`` (inclusive, None = always
    before) until ``effective_until`` (exclusive, None = from then on)."""

    text: str
    effective_from: dt.date | None = None
    effective_until: dt.date | None = None
    line: int = 0

    def in_force(self, day: dt.date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_until is None or day < self.effective_until
        )


@dataclass(frozen=True)
class LangText:
    variants: tuple[Variant, ...]
    questions: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    #: short name of the topic for buttons and menus ("El programa CHNV terminó")
    title: str = ""
    #: fingerprint of the source-language answer this translation was made from
    translated_from: str = ""
    #: Line numbers of the answer and of each question, for messages.
    answer_line: int = 0
    question_lines: tuple[int, ...] = ()
    translated_from_line: int = 0
    #: File of each question when it is not the entry's own (``phrasings/``), for messages.
    question_files: tuple[str, ...] = ()

    def question_file(self, index: int, entry_file: str) -> str:
        """The file that holds question ``index``: a phrasings file, or the entry's."""
        return (
            self.question_files[index]
            if index < len(self.question_files) and self.question_files[index]
            else entry_file
        )

    def answer_on(self, day: dt.date) -> str:
        """The answer text in force on ``day``."""
        for variant in self.variants:
            if variant.in_force(day):
                return variant.text
        return self.variants[-1].text

    @property
    def answer(self) -> str:
        """The answer text in force today."""
        return self.answer_on(dt.date.today())

    @property
    def all_text(self) -> str:
        return "\n\n".join(v.text for v in self.variants)

    # Folded forms (``bot.core.normalize.fold_text``), computed once and shared by validation, the
    # matcher and the language detector: at 10,000 entries folding is a large part of loading.
    @cached_property
    def folded_questions(self) -> tuple[str, ...]:
        return fold_texts(self.questions)

    @cached_property
    def fingerprint(self) -> str:
        """``fingerprint`` of this answer (all its dated variants): what translations record."""
        return fingerprint(self.all_text)

    @cached_property
    def sorted_questions(self) -> tuple[str, ...]:
        """Each folded question with its words in alphabetical order (near-duplicate check)."""
        return tuple(" ".join(sorted(q.split())) for q in self.folded_questions)

    @cached_property
    def folded_keywords(self) -> tuple[str, ...]:
        return fold_texts(self.keywords)

    @cached_property
    def folded_answer(self) -> str:
        return fold_text(self.all_text)


@dataclass(frozen=True)
class ScamExample:
    """A message from ``scam-examples/<lang>.yaml``: a scam (``scam``) or an innocent look-alike."""

    text: str
    scam: bool
    family: str
    lang: str
    file: str = ""
    line: int = 0


def fingerprint(text: str) -> str:
    """Short fingerprint of an answer, recorded by translations (``translated_from``)."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:8]


@dataclass(frozen=True)
class Entry:
    id: str
    category: str
    reviewed: dt.date
    sources: tuple[Source, ...]
    texts: Mapping[str, LangText]
    related: tuple[str, ...] = ()
    urgent: bool = False
    #: the language the other answers are translated from
    source_lang: str = "es"
    file: str = ""
    line: int = 1
    #: Line of each top-level field, for messages.
    lines: Mapping[str, int] = field(default_factory=dict)

    def text(self, lang: str) -> LangText:
        return self.texts[lang]

    def stale_translations(self) -> list[str]:
        """Languages whose answer was not (re)stamped from the current source-language answer."""
        source = self.texts.get(self.source_lang)
        if source is None:
            return []
        current = source.fingerprint
        return [
            lang for lang, text in self.texts.items() if lang != self.source_lang and text.translated_from != current
        ]


@dataclass(frozen=True)
class KnowledgeBase:
    entries: tuple[Entry, ...]
    #: concept name -> phrases (any language) that mean it
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: short fingerprint of every file's content: changes whenever the knowledge base changes
    version: str = ""
    #: language -> off-topic example questions the bot must not answer with an entry
    out_of_scope: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: scam radar patterns from scam-patterns.yaml (``bot.core.scamradar.ScamPatterns``), or None
    scam_patterns: scamradar.ScamPatterns | None = None
    #: language -> labelled example messages for the scam classifier (``scam-examples/``)
    scam_examples: Mapping[str, tuple[ScamExample, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {e.id: e for e in self.entries})

    def get(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)  # type: ignore[attr-defined]

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._by_id  # type: ignore[attr-defined]

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def in_category(self, category: str) -> list[Entry]:
        return [e for e in self.entries if e.category == category]


@dataclass
class LoadResult:
    kb: KnowledgeBase | None
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]


#: From this many files on, ``load`` reads them in a pool of processes (one per CPU core):
#: reading one entry file (parse, check, fold) takes about 0.5 ms, five seconds for 10,000.
PARALLEL_FILES = 500
_SPECIAL_FILES = (SYNONYMS_FILE, domain.URGENT_WORDS_FILE, SCAM_PATTERNS_FILE, OUT_OF_SCOPE_FILE)


@dataclass
class _FileResult:
    """What reading one file gave: its fingerprint, its problems and its parsed content."""

    digest: bytes
    problems: list[Problem]
    entry: Entry | None = None
    data: object = None  # parsed YAML of a special root file (synonyms.yaml, ...)
    kind: str = ""  # "phrasings" or "scam-examples" for files in those folders


def _read_file(path: Path, root: Path, today: dt.date, sort_questions: bool = False) -> _FileResult:
    """Read, parse and check one file (runs in a worker process for large knowledge bases):
    every rule on the entry's own content (``validate.check_entry``) is checked here.

    ``sort_questions``: also prepare ``LangText.sorted_questions`` (near-duplicate search)."""
    label = str(path)
    try:
        raw = path.read_bytes()  # bytes, then decode: several times faster than read_text
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return _FileResult(
            b"", [Problem(label, 0, f"cannot read the file ({exc.__class__.__name__}); save it as UTF-8 text")]
        )
    digest = hashlib.sha256(path.relative_to(root).as_posix().encode() + b"\0" + raw).digest()
    parsed = load_yaml(text)
    problems = [Problem(label, line, msg) for line, msg in parsed.problems]
    if parsed.data is None:
        if not parsed.problems:
            problems.append(Problem(label, 1, "the file is empty"))
        return _FileResult(digest, problems)
    if path.parent == root and path.name in _SPECIAL_FILES:
        return _FileResult(digest, problems, data=parsed.data)
    folder = path.relative_to(root).parts[0]
    if folder in (PHRASINGS_DIR, SCAM_EXAMPLES_DIR):
        return _FileResult(digest, problems, data=parsed.data, kind=folder)
    entry = _parse_entry(parsed.data, label, path, root, problems)
    if entry is not None:
        _fold_entry(entry, sort_questions)  # here, in parallel, once for every later use
        problems += validate.check_entry(entry, today)
    return _FileResult(digest, problems, entry)


def _fold_entry(entry: Entry, sort_questions: bool = False) -> None:
    """Fill every ``LangText.folded_*`` (and ``sorted_questions``) of ``entry`` with one
    ``fold_texts`` call over all its texts: one pass instead of nine."""
    texts = entry.texts.values()
    items: list[str] = []
    for text in texts:
        items += text.questions
        items += text.keywords
        items.append(text.all_text)
    folded = fold_texts(items)
    at = 0
    for text in texts:
        # what each cached_property would compute, stored where it keeps its value
        cached, questions, keywords = text.__dict__, len(text.questions), len(text.keywords)
        cached["folded_questions"] = _reuse(folded[at : at + questions], text.questions)
        cached["folded_keywords"] = _reuse(folded[at + questions : at + questions + keywords], text.keywords)
        cached["folded_answer"] = folded[at + questions + keywords]
        at += questions + keywords + 1
        if sort_questions:
            text.sorted_questions  # noqa: B018


def _reuse(folded: tuple[str, ...], texts: tuple[str, ...]) -> tuple[str, ...]:
    """``folded``, with each text that folding left unchanged (most keywords, many questions)
    kept as the same string object: less memory, and less to send back from a worker."""
    return tuple([text if text == fold else fold for fold, text in zip(folded, texts)])


def _read_all(
    files: list[Path], root: Path, today: dt.date, workers: int | None, sort_questions: bool
) -> list[_FileResult]:
    """``_read_file`` for every file, in order; in a process pool when there are many."""
    read = partial(_read_file, root=root, today=today, sort_questions=sort_questions)
    if workers is None:
        workers = min(os.cpu_count() or 1, 8) if len(files) >= PARALLEL_FILES else 1
    if workers <= 1 or len(files) < 2:
        return [read(path) for path in files]
    # fork is cheapest, but forking a process that runs other threads (the bot reloading) can
    # deadlock the child: then "forkserver" (or "spawn") starts clean workers.
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        method = "fork"
    else:
        method = "forkserver" if "forkserver" in methods else "spawn"
    chunk = max(1, min(256, len(files) // (workers * 4)))
    try:
        with ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context(method), initializer=gc.disable
        ) as pool:
            return list(pool.map(read, files, chunksize=chunk))
    except (OSError, RuntimeError, BrokenProcessPool) as exc:  # no processes here: read in this one
        log.warning(
            "knowledge base: parallel reading failed (%s); reading the files one by one", exc.__class__.__name__
        )
        return [read(path) for path in files]


@contextmanager
def bulk_work() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while building large, long-lived structures
    (loading, indexing): with millions of new objects it would scan them again and again, which
    made loading 10,000 entries a third slower. Nothing built here forms reference cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load(
    directory: str | Path, today: dt.date | None = None, workers: int | None = None, near_duplicates: bool = True
) -> LoadResult:
    """Read and validate every YAML file under ``directory``.

    ``workers``: processes that parse files (default: one per CPU core from PARALLEL_FILES
    files on, else none); the result is the same either way.

    ``near_duplicates``: also look for nearly identical questions of two entries (warnings for
    maintainers: ``check``). The bot passes False: it serves with the same entries and the same
    errors, and leaves that search, the costliest rule, to ``check``."""
    with bulk_work():
        return _load(Path(directory), today, workers, near_duplicates)


def _load(root: Path, today: dt.date | None, workers: int | None, near_duplicates: bool) -> LoadResult:
    today = today or dt.date.today()
    problems: list[Problem] = []
    if not root.is_dir():
        return LoadResult(None, [Problem(str(root), 0, f"the folder {root} does not exist")])
    entries: list[Entry] = []
    synonyms: dict[str, tuple[str, ...]] = {}
    synonym_lines: dict[str, int] = {}
    out_of_scope: dict[str, tuple[str, ...]] = {}
    phrasings: list[tuple[Path, object]] = []
    scam_examples: dict[str, tuple[ScamExample, ...]] = {}
    digest = hashlib.sha256()
    files = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    for path, read in zip(files, _read_all(files, root, today, workers, sort_questions=near_duplicates)):
        digest.update(read.digest)
        problems.extend(read.problems)
        if read.entry is not None:
            entries.append(read.entry)
        elif read.kind == PHRASINGS_DIR and read.data is not None:
            phrasings.append((path, read.data))
        elif read.kind == SCAM_EXAMPLES_DIR and read.data is not None:
            lang = path.stem
            if lang not in LANGS or path.parent != root / SCAM_EXAMPLES_DIR:
                problems.append(
                    Problem(str(path), 1, f"scam examples go in {SCAM_EXAMPLES_DIR}/es.yaml, ht.yaml or en.yaml")
                )
            else:
                scam_examples[lang] = _parse_scam_examples(read.data, lang, str(path), problems)
        elif read.data is not None:
            if path.name == SYNONYMS_FILE:
                synonyms, synonym_lines = _parse_synonyms(read.data, str(path), problems)
            elif path.name == OUT_OF_SCOPE_FILE:
                out_of_scope = _parse_out_of_scope(read.data, str(path), problems)
            # urgent-words.yaml and scam-patterns.yaml are read by bot.core.escalation / bot.core.scamradar
    if not files:
        problems.append(Problem(str(root), 0, "no .yaml files found in this folder"))
    entries = _add_phrasings(root, entries, phrasings, out_of_scope, problems)
    problems.extend(validate.check_entries(entries, near_duplicates=near_duplicates))
    problems.extend(validate.check_synonyms(synonyms, synonym_lines, label=str(root / SYNONYMS_FILE)))
    problems.extend(domain.load_urgent_words(root / domain.URGENT_WORDS_FILE)[1])
    patterns, pattern_problems = scamradar.load_patterns(root / SCAM_PATTERNS_FILE)
    problems.extend(pattern_problems)
    for rule in getattr(patterns, "rules", ()):
        entry_id = getattr(rule, "entry", None)
        if entry_id and entry_id not in {e.id for e in entries}:
            problems.append(
                Problem(
                    str(root / SCAM_PATTERNS_FILE),
                    getattr(rule, "line", 1),
                    f'the rule "{rule.name}" shows the entry "{entry_id}", but no entry has that id',
                )
            )
    problems = validate.sort_problems(problems)
    if any(p.level == "error" for p in problems):
        return LoadResult(None, problems)
    if any(e.id == OUT_OF_SCOPE for e in entries):
        problems.append(
            Problem(
                next(e.file for e in entries if e.id == OUT_OF_SCOPE),
                1,
                f'the id "{OUT_OF_SCOPE}" is reserved for {OUT_OF_SCOPE_FILE}; choose another id',
            )
        )
        return LoadResult(None, validate.sort_problems(problems))
    kb = KnowledgeBase(tuple(entries), synonyms, digest.hexdigest()[:12], out_of_scope, patterns, scam_examples)
    return LoadResult(kb, problems)


def _add_phrasings(
    root: Path,
    entries: list[Entry],
    files: list[tuple[Path, object]],
    out_of_scope: dict[str, tuple[str, ...]],
    problems: list[Problem],
) -> list[Entry]:
    """Merge ``phrasings/<lang>/<id>.yaml`` into the questions of entry ``<id>`` (or into the
    off-topic examples for ``out-of-scope.yaml``); each question keeps its own file and line."""
    by_id = {entry.id: entry for entry in entries}
    extra: dict[str, dict[str, tuple[list[str], list[int], list[str]]]] = {}
    for path, data in files:
        label = str(path)
        rel = path.relative_to(root / PHRASINGS_DIR).parts
        if len(rel) != 2 or rel[0] not in LANGS:
            problems.append(
                Problem(
                    label,
                    1,
                    f"phrasing files go in {PHRASINGS_DIR}/<language>/<entry id>.yaml, the language one of {', '.join(LANGS)}",
                )
            )
            continue
        lang, entry_id = rel[0], path.stem
        if entry_id != OUT_OF_SCOPE and entry_id not in by_id:
            problems.append(
                Problem(
                    label, 1, f'no entry has the id "{entry_id}": name a phrasing file after the entry it belongs to'
                )
            )
            continue
        if not isinstance(data, LineDict) or not isinstance(data.get("questions"), LineList):
            problems.append(
                Problem(label, 1, "a phrasing file has one field, questions:, with a list of questions (- ...)")
            )
            continue
        for key in data:
            if key not in PHRASING_FIELDS:
                problems.append(
                    Problem(label, data.key_lines[key], f'unknown field "{key}" (a phrasing file has only questions:)')
                )
        items: LineList = data["questions"]
        good = [(str(q).strip(), line) for q, line in zip(items, items.item_lines) if _str(q)]
        for item, line in zip(items, items.item_lines):
            if not _str(item):
                problems.append(
                    Problem(
                        label,
                        line,
                        "this question is empty or is not text (read as true/false or a number?); put it in quotes",
                    )
                )
        if entry_id == OUT_OF_SCOPE:
            out_of_scope[lang] = out_of_scope.get(lang, ()) + tuple(q for q, _ in good)
            continue
        bucket = extra.setdefault(entry_id, {}).setdefault(lang, ([], [], []))
        bucket[0].extend(q for q, _ in good)
        bucket[1].extend(line for _, line in good)
        bucket[2].extend(label for _ in good)
    if not extra:
        return entries
    merged: list[Entry] = []
    for entry in entries:
        more = extra.get(entry.id)
        if not more:
            merged.append(entry)
            continue
        texts: dict[str, LangText] = dict(entry.texts)
        for code, (questions, lines, labels) in more.items():
            text = texts.get(code)
            if text is None:
                continue
            own = len(text.questions)
            texts[code] = replace(
                text,
                questions=text.questions + tuple(questions),
                question_lines=text.question_lines + tuple(lines),
                question_files=("",) * own + tuple(labels),
            )
        new = replace(entry, texts=texts)
        _fold_entry(new)
        merged.append(new)
    return merged


def _parse_scam_examples(data: object, lang: str, label: str, problems: list[Problem]) -> tuple[ScamExample, ...]:
    """``scam:`` and ``innocent:`` lists of ``{family:, text:}`` (see knowledge/README.md)."""
    if not isinstance(data, LineDict):
        problems.append(
            Problem(
                label, 1, "a scam-examples file has two lists, scam: and innocent:, of messages with family: and text:"
            )
        )
        return ()
    out: list[ScamExample] = []
    for key in data:
        if key not in ("scam", "innocent"):
            problems.append(Problem(label, data.key_lines[key], f'unknown field "{key}" (allowed: scam, innocent)'))
            continue
        items = data[key]
        if not isinstance(items, LineList):
            problems.append(
                Problem(label, data.key_lines[key], f"{key}: must be a list of messages (- family: ... text: ...)")
            )
            continue
        for item, line in zip(items, items.item_lines):
            if (
                not isinstance(item, LineDict)
                or not _str(item.get("text"))
                or not _str(item.get("family"))
                or set(item) - {"text", "family"}
            ):
                problems.append(
                    Problem(
                        label,
                        line,
                        "each example needs family: (a short name such as fake-government) and text: (the message), nothing else",
                    )
                )
                continue
            out.append(
                ScamExample(str(item["text"]).strip(), key == "scam", str(item["family"]).strip(), lang, label, line)
            )
    return tuple(out)


def _parse_synonyms(
    data: object, label: str, problems: list[Problem]
) -> tuple[dict[str, tuple[str, ...]], dict[str, int]]:
    if not isinstance(data, LineDict):
        problems.append(
            Problem(
                label, 1, "synonyms.yaml must be a list of groups like  parole: [parole, parol, permiso humanitario]"
            )
        )
        return {}, {}
    groups: dict[str, tuple[str, ...]] = {}
    group_lines: dict[str, int] = {}
    for concept, words in data.items():
        line = data.key_lines[concept]
        if not isinstance(words, LineList) or not words or not all(isinstance(w, str) and w.strip() for w in words):
            problems.append(
                Problem(
                    label,
                    line,
                    f'the group "{concept}" must be a list of words or phrases in [ ] (quote words like "no")',
                )
            )
            continue
        groups[str(concept)] = tuple(words)
        group_lines[str(concept)] = line
    return groups, group_lines


def _parse_out_of_scope(data: object, label: str, problems: list[Problem]) -> dict[str, tuple[str, ...]]:
    if not isinstance(data, LineDict):
        problems.append(Problem(label, 1, "out-of-scope.yaml must have es:, ht: and en: lists of questions"))
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for key, items in data.items():
        line = data.key_lines[key]
        if key not in LANGS:
            problems.append(Problem(label, line, f'unknown language "{key}" (allowed: {", ".join(LANGS)})'))
            continue
        if not isinstance(items, LineList) or not _all_texts(items):
            problems.append(
                Problem(label, line, f'the "{key}" part must be a list of questions (- ...); quote questions like "no"')
            )
            continue
        out[key] = tuple(q.strip() for q in items)
    return out


def _str(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and bool(value.strip())


def _all_texts(items: list) -> bool:
    """``_str`` of every item, without a Python call per item (lists of questions)."""
    try:
        return all(map(str.strip, items))
    except TypeError:  # an item is not text (a number, true/false, a list...)
        return False


def _parse_entry(data: object, label: str, path: Path, root: Path, problems: list[Problem]) -> Entry | None:
    def add(line: int, message: str, level: str = "error") -> None:
        problems.append(Problem(label, line, message, level))

    if not isinstance(data, LineDict):
        add(1, "an entry must be a set of fields (id:, category:, reviewed: ...), not a list or a single text")
        return None
    lines = data.key_lines
    ok = True
    for key in data:
        if key not in ENTRY_FIELDS:
            known = ", ".join(sorted(ENTRY_FIELDS))
            add(lines[key], f'unknown field "{key}" (allowed: {known}); check the spelling and the indentation')
            ok = False
    for key in REQUIRED_FIELDS:
        if key not in data:
            add(data.line, f'the field "{key}:" is missing')
            ok = False

    entry_id = data.get("id")
    if "id" in data and not (_str(entry_id) and validate.ID_PATTERN.match(entry_id)):
        add(lines["id"], f'the id "{entry_id}" must be lowercase letters and digits joined by "-" (like chnv-ended)')
        ok = False
    elif _str(entry_id) and path.stem != entry_id:
        add(lines["id"], f'the id "{entry_id}" does not match the file name; rename the file to {entry_id}.yaml')
        ok = False

    category = data.get("category")
    if "category" in data:
        if category not in CATEGORIES:
            add(lines["category"], f'category "{category}" is not one of: {", ".join(CATEGORIES)}')
            ok = False
        elif path.parent != root and path.parent.name != category:
            add(
                lines["category"],
                f'the entry is in the folder "{path.parent.name}" but its category is "{category}"; move the file or fix the category',
            )
            ok = False

    reviewed = data.get("reviewed")
    if "reviewed" in data and not (isinstance(reviewed, dt.date) and not isinstance(reviewed, dt.datetime)):
        add(lines["reviewed"], f'reviewed must be a date written like 2026-11-23, not "{reviewed}"')
        ok = False

    urgent = data.get("urgent", False)
    if not isinstance(urgent, bool):
        add(lines["urgent"], "urgent must be true or false")
        ok = False

    sources: list[Source] = []
    raw_sources = data.get("sources")
    if "sources" in data:
        if not isinstance(raw_sources, LineList) or not raw_sources:
            add(lines["sources"], "sources must be a list with at least one source (- title: ... / url: ...)")
            ok = False
        else:
            for item, line in zip(raw_sources, raw_sources.item_lines):
                if not isinstance(item, LineDict) or set(item) - {"title", "url"}:
                    add(line, "each source needs exactly two fields: title and url")
                    ok = False
                    continue
                title = item.get("title")
                titles: dict[str, str] = {}
                if isinstance(title, LineDict):  # a title per language
                    titles = {str(k): str(v).strip() for k, v in title.items() if _str(v)}
                    if set(title) - set(LANGS) or set(titles) != set(LANGS):
                        add(
                            item.value_lines.get("title", line),
                            f"a source title per language needs {', '.join(LANGS)}, each a text, and nothing else",
                        )
                        ok = False
                    title = titles.get("en", "")
                elif not _str(title):
                    add(line, "this source has no title")
                    ok = False
                url = item.get("url")
                if not (_str(url) and validate.is_web_address(url)):
                    add(
                        item.value_lines.get("url", line),
                        f'this source has no valid web address (it must start with http:// or https://): "{url}"',
                    )
                    ok = False
                elif not str(url).strip().startswith("https://"):
                    add(
                        item.value_lines.get("url", line),
                        f'use the https:// address of this source (people open it on their phone): "{url}"',
                        "warning",
                    )
                if ok:
                    sources.append(Source(str(title).strip(), str(url).strip(), titles))

    related = data.get("related", LineList())
    if not isinstance(related, list) or not _all_texts(related):
        add(
            lines.get("related", data.line), "related must be a list of entry ids, like [reopening-rumors, find-lawyer]"
        )
        ok = False
        related = []

    source_lang = data.get("source_lang", DEFAULT_SOURCE_LANG)
    if source_lang not in LANGS:
        add(
            lines.get("source_lang", data.line),
            f"source_lang must be one of {', '.join(LANGS)} (the language the other answers are translated from)",
        )
        ok = False

    texts: dict[str, LangText] = {}
    for lang in LANGS:
        block = data.get(lang)
        if lang not in data:
            continue
        parsed = _parse_lang(block, lang, lines[lang], add)
        if parsed is None:
            ok = False
        else:
            texts[lang] = parsed
    if not ok or not isinstance(reviewed, dt.date):
        return None
    return Entry(
        id=str(entry_id),
        category=str(category),
        reviewed=reviewed,
        sources=tuple(sources),
        texts=texts,
        related=tuple(related),
        urgent=urgent,
        source_lang=source_lang,
        file=label,
        line=data.line,
        lines=dict(lines),
    )


def _parse_variants(items: LineList, lang: str, add) -> list[Variant] | None:
    """``answer:`` written as a list of dated variants (see knowledge/README.md)."""
    out: list[Variant] = []
    ok = True
    for item, line in zip(items, items.item_lines):
        if not isinstance(item, LineDict):
            add(line, f'each "{lang}" answer variant needs text: and effective_from: and/or effective_until:')
            ok = False
            continue
        for key in item:
            if key not in VARIANT_FIELDS:
                add(
                    item.key_lines[key],
                    f'unknown field "{key}" in a "{lang}" answer variant (allowed: text, effective_from, effective_until)',
                )
                ok = False
        text = item.get("text")
        if not _str(text):
            add(
                item.value_lines.get("text", line),
                f'this "{lang}" answer variant has no text (put it in quotes if it is "no" or "yes")',
            )
            ok = False
        dates = {}
        for key in ("effective_from", "effective_until"):
            value = item.get(key)
            if value is not None and not (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
                add(item.value_lines[key], f'{key} must be a date written like 2026-12-01, not "{value}"')
                ok = False
                value = None
            dates[key] = value
        if dates["effective_from"] and dates["effective_until"] and dates["effective_from"] >= dates["effective_until"]:
            add(
                line,
                f'this "{lang}" answer variant ends ({dates["effective_until"]}) before it starts ({dates["effective_from"]})',
            )
            ok = False
        if ok:
            out.append(
                Variant(
                    str(text).strip(),
                    dates["effective_from"],
                    dates["effective_until"],
                    item.value_lines.get("text", line),
                )
            )
    if not items:
        add(items.line, f'the "{lang}" answer list is empty')
        ok = False
    return out if ok else None


def _parse_lang(block: object, lang: str, line: int, add) -> LangText | None:
    if not isinstance(block, LineDict):
        add(line, f'the "{lang}" part must contain answer: and questions:')
        return None
    ok = True
    for key in block:
        if key not in LANG_FIELDS:
            add(
                block.key_lines[key],
                f'unknown field "{key}" in the "{lang}" part (allowed: title, answer, questions, keywords)',
            )
            ok = False
    answer = block.get("answer")
    answer_line = block.value_lines.get("answer", line)
    variants: list[Variant] = []
    if "answer" not in block:
        add(line, f'the "{lang}" part has no answer')
        ok = False
    elif isinstance(answer, bool):
        add(answer_line, f'the "{lang}" answer was read as true/false; put the text in quotes')
        ok = False
    elif isinstance(answer, LineList):
        parsed = _parse_variants(answer, lang, add)
        ok = ok and parsed is not None
        variants = parsed or []
    elif not _str(answer):
        add(answer_line, f'the "{lang}" answer is empty or is not text')
        ok = False
    else:
        variants = [Variant(answer.strip(), line=answer_line)]
    questions = block.get("questions")
    if "questions" not in block:
        add(line, f'the "{lang}" part has no questions')
        ok = False
        questions = LineList()
    elif not isinstance(questions, LineList) or not questions:
        add(block.value_lines["questions"], f'the "{lang}" questions must be a list with at least one question (- ...)')
        ok = False
        questions = LineList()
    elif not _all_texts(questions):  # else all good
        for item, item_line in zip(questions, questions.item_lines):
            if isinstance(item, bool):
                add(item_line, f'this "{lang}" question was read as true/false; put it in quotes')
                ok = False
            elif not _str(item):
                add(item_line, f'this "{lang}" question is empty or is not text; put it in quotes')
                ok = False
    keywords = block.get("keywords", LineList())
    if isinstance(keywords, list):  # numbers such as 1966 are fine as keywords
        keywords = [str(k) if isinstance(k, (int, float)) and not isinstance(k, bool) else k for k in keywords]
    if not isinstance(keywords, list) or not _all_texts(keywords):
        add(
            block.key_lines.get("keywords", line),
            f'the "{lang}" keywords must be a list of words in [ ] (quote words like "no")',
        )
        ok = False
    title = block.get("title", "")
    if "title" in block and not (_str(title) and len(title) <= 60):
        add(block.value_lines["title"], f'the "{lang}" title must be a short text (at most 60 characters) for buttons')
        ok = False
    translated_from = block.get("translated_from", "")
    if "translated_from" in block and not (
        isinstance(translated_from, str) and re.fullmatch(r"[0-9a-f]{8}", translated_from)
    ):
        add(
            block.value_lines["translated_from"],
            f'the "{lang}" translated_from must be the 8-character fingerprint written by `python -m bot translations --stamp` (quote it)',
        )
        ok = False
    if not ok:
        return None
    return LangText(
        title=title.strip(),
        variants=tuple(variants),
        translated_from=translated_from,
        translated_from_line=block.value_lines.get("translated_from", line),
        questions=tuple(map(str.strip, questions)),
        keywords=tuple(map(str.strip, keywords)),
        answer_line=answer_line,
        question_lines=tuple(questions.item_lines),
    )
