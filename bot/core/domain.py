"""Domain types shared by the core and the store: tickets, outbox items and urgent words.

Both ``bot.core`` (escalation decisions, knowledge loading) and ``bot.store`` (the SQLite rows)
import this module; it imports neither of them, nor Telegram.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot.core.langs import LANGS
from bot.core.normalize import fold
from bot.core.validate import Problem
from bot.core.yamlload import LineDict, LineList, load_yaml

URGENT_WORDS_FILE = "urgent-words.yaml"

Target = Literal["user", "group", "chat"]
#: An ordered queue of the outbox: ``("user" | "group", ticket_id)`` or ``("chat", chat_id)``.
Lane = tuple[str, int]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Ticket:
    """One request for a person (a row of ``tickets``)."""

    id: int
    user_id: int
    lang: str
    urgent: bool
    status: Literal["open", "closed"]
    created_at: dt.datetime
    first_reply_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    #: forum topic (forum mode) and the header message that starts the ticket
    topic_id: int | None = None
    header_message_id: int | None = None
    #: the user agreed that volunteers see their numbers (A-number, phone ...) in this ticket
    share_identifiers: bool = False
    #: the "share my numbers" choice was already offered in this ticket
    identifiers_offered: bool = False
    #: answer to the closing survey "did the volunteer help" (None: not answered)
    helpful: bool | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True)
class OutboxItem:
    """A delivery waiting in the outbox: written before it is sent, deleted once sent."""

    id: int
    #: the ticket of a delivery to its user or group (None: a plain message to ``chat_id``)
    ticket_id: int | None
    target: Target
    payload: dict[str, Any]
    attempts: int
    next_attempt_at: dt.datetime
    chat_id: int | None = None

    @property
    def lane(self) -> Lane:
        if self.target == "chat":
            assert self.chat_id is not None  # a CHECK constraint of the table
            return ("chat", self.chat_id)
        assert self.ticket_id is not None
        return (self.target, self.ticket_id)


# -- urgent words ----------------------------------------------------------------------------


@dataclass(frozen=True)
class UrgentWords:
    """Per-language phrases (stored folded) that make a request urgent."""

    phrases: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def match(self, text: str) -> str | None:
        """The first phrase of any language found in ``text`` as whole words, or None.
        Every language is checked: people mix them."""
        folded = f" {fold(text)} "
        if folded.strip() == "":
            return None
        for phrases in self.phrases.values():
            for phrase in phrases:
                if f" {phrase} " in folded:
                    return phrase
        return None

    def __len__(self) -> int:
        return sum(len(p) for p in self.phrases.values())


def load_urgent_words(path: str | Path) -> tuple[UrgentWords, list[Problem]]:
    """Read ``urgent-words.yaml`` (``es:``, ``ht:``, ``en:`` lists of words or phrases).

    ``path`` may be the knowledge folder. A missing file is no problem (no urgent words);
    a broken one gives ``file:line`` problems and no words."""
    path = Path(path)
    if path.is_dir():
        path = path / URGENT_WORDS_FILE
    if not path.exists():
        return UrgentWords(), []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return UrgentWords(), [
            Problem(str(path), 0, f"cannot read the file ({exc.__class__.__name__}); save it as UTF-8 text")
        ]
    return parse_urgent_words(text, str(path))


def parse_urgent_words(text: str, label: str = URGENT_WORDS_FILE) -> tuple[UrgentWords, list[Problem]]:
    """``load_urgent_words`` on text already read."""
    problems: list[Problem] = []
    parsed = load_yaml(text)
    problems.extend(Problem(label, line, message) for line, message in parsed.problems)
    data = parsed.data
    if data is None:
        if not parsed.problems:
            problems.append(Problem(label, 1, "the file is empty"))
        return UrgentWords(), problems
    if not isinstance(data, LineDict):
        problems.append(Problem(label, 1, "urgent-words.yaml must have es:, ht: and en: lists of words or phrases"))
        return UrgentWords(), problems
    words: dict[str, tuple[str, ...]] = {}
    for key, items in data.items():
        line = data.key_lines[key]
        if key not in LANGS:
            problems.append(Problem(label, line, f'unknown language "{key}" (allowed: {", ".join(LANGS)})'))
            continue
        if not isinstance(items, LineList) or not items:
            problems.append(Problem(label, line, f'the "{key}" part must be a list of words or phrases (- ...)'))
            continue
        seen: set[str] = set()
        kept: list[str] = []
        for index, item in enumerate(items):
            item_line = items.item_lines[index]
            if not isinstance(item, str) or not fold(item):
                problems.append(
                    Problem(
                        label,
                        item_line,
                        f'"{key}": every item must be a word or phrase in quotes if needed (got {item!r})',
                    )
                )
                continue
            folded = fold(item)
            if folded in seen:
                problems.append(Problem(label, item_line, f'"{key}": "{item}" is listed twice', "warning"))
                continue
            seen.add(folded)
            kept.append(folded)
        words[str(key)] = tuple(kept)
    for lang in LANGS:
        if lang not in data:
            problems.append(
                Problem(label, data.line, f'no "{lang}:" list: add the urgent words in that language', "warning")
            )
    if any(p.level == "error" for p in problems):
        return UrgentWords(), problems
    return UrgentWords(words), problems
