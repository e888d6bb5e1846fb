"""Human escalation: tickets, the volunteers' desk and the relay decisions. Pure.

A person who asks for a human (and agrees to the consent screen) gets one **ticket**: a row in
SQLite, a forum topic in the volunteers' group named ``#<n> · <LANG>`` (``· ⚠️ URGENT`` when
urgent; never a name or a phone number) and a header message for the volunteers. While the
ticket is open, what the user writes is copied into the topic and what volunteers write there
is copied back (``bot.telegram.relay`` does the sending, ``bot.telegram.person_talk`` / ``bot.telegram.volunteer_talk``
are the Telegram callbacks).

This module decides, and never sends: the topic's name, which of the user's messages are sent
as redacted text, copied, or held back behind the document-photo warning, which volunteer
messages stay internal, whether a request is urgent, the order of ``/queue`` and the numbers
of ``/stats``. It imports neither Telegram nor the store: opening a ticket (which writes to the
store) is ``bot.telegram.services``.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from bot.core.domain import Ticket, UrgentWords
from bot.core.redact import redact

if TYPE_CHECKING:  # only for annotations: this module stays importable without them
    from bot.core.conversation import Engine

#: Topic icon colours Telegram accepts: blue for a ticket, red for an urgent one.
ICON_NORMAL = 7322096
ICON_URGENT = 16478047
#: How many of the user's last questions go into the header, and for how long they count.
RECENT_QUESTIONS = 3
RECENT_FOR = dt.timedelta(hours=2)
#: How many of the bot's best guesses the header lists.
GUESSES = 3
#: Room for the user's questions in the header (each one is cut to this many characters).
QUESTION_CHARS = 500

Mode = Literal["off", "forum", "plain"]


# -- values --------------------------------------------------------------------------------


def topic_name(ticket_id: int, lang: str, urgent: bool) -> str:
    """``#12 · ES`` or ``#12 · ES · ⚠️ URGENT``: no names, no numbers of the person."""
    name = f"#{ticket_id} · {lang.upper()}"
    return name + " · ⚠️ URGENT" if urgent else name


def icon_color(urgent: bool) -> int:
    return ICON_URGENT if urgent else ICON_NORMAL


def topic_link(chat_id: int | None, topic_id: int | None) -> str | None:
    """``https://t.me/c/<id>/<topic>`` for a supergroup's topic (None when there is none)."""
    text = str(chat_id)
    if chat_id is None or topic_id is None or not text.startswith("-100"):
        return None
    return f"https://t.me/c/{text[4:]}/{topic_id}"


def format_wait(seconds: float) -> str:
    """``45 s``, ``12 min``, ``2 h 05 min``, ``3 d 4 h`` (the same in every language)."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def retry_delay(attempts: int, base: float, cap: float) -> float:
    """Back-off before attempt ``attempts + 1``: base, 2·base, 4·base ... at most ``cap``."""
    return min(cap, base * 2 ** max(0, attempts - 1))


# -- what the user sends -------------------------------------------------------------------


@dataclass(frozen=True)
class RelayPlan:
    """How one of the user's messages goes to the volunteers.

    ``action``: "text" (sendMessage of ``text``, already redacted), "copy" (copyMessage; with
    ``caption`` set, the copy gets that redacted caption instead of the original one) or
    "warn" (a photo or file: show the document warning and wait for the user's yes)."""

    action: Literal["text", "copy", "warn"]
    text: str | None = None
    caption: str | None = None
    #: kinds of identifiers that were masked ("a_number", "phone" ...)
    masked: tuple[str, ...] = ()


def plan_user_message(
    *, text: str | None, caption: str | None, document_like: bool, share: bool, confirmed: bool = False
) -> RelayPlan:
    """Decide how a user's message is relayed.

    - Text is sent as a new message with identifiers masked (copyMessage would carry the
      original); when the user agreed to share their numbers it is copied as it is.
    - Photos and files may show a document: they are held back for a warning unless the user
      ``confirmed`` it already.
    - Other media are copied; a caption with identifiers is replaced by its redacted version.
    """
    if text is not None:
        if share:
            return RelayPlan("copy")
        masked = redact(text)
        return RelayPlan("text", text=masked.text, masked=masked.found)
    if document_like and not confirmed:
        return RelayPlan("warn")
    if caption and not share:
        masked = redact(caption)
        if masked.found:
            return RelayPlan("copy", caption=masked.text, masked=masked.found)
    return RelayPlan("copy")


def is_internal(text: str | None) -> bool:
    """A volunteer's message that stays in the group: it starts with "!" (or is /note)."""
    if not text:
        return False
    stripped = text.lstrip()
    if stripped.startswith("!"):
        return True
    first = stripped.split(maxsplit=1)[0].lower() if stripped else ""
    return first == "/note" or first.startswith("/note@")


# -- the volunteers' desk (in memory) --------------------------------------------------------


class RecentQuestions:
    """The last few (redacted) questions of each user, in memory only, for a ticket's header.

    Bounded: ``RECENT_QUESTIONS`` per user, ``max_users`` users (least recent forgotten), and
    only questions from the last ``RECENT_FOR`` count. Nothing here is written to disk."""

    def __init__(self, max_users: int = 5000) -> None:
        self.max_users = max_users
        self._by_user: OrderedDict[int, list[tuple[dt.datetime, str]]] = OrderedDict()

    def add(self, user_id: int, text: str, now: dt.datetime) -> None:
        kept = self._by_user.pop(user_id, [])
        kept = [item for item in kept if now - item[0] <= RECENT_FOR]
        kept.append((now, redact(text).text[:QUESTION_CHARS]))
        self._by_user[user_id] = kept[-RECENT_QUESTIONS:]
        while len(self._by_user) > self.max_users:
            self._by_user.popitem(last=False)

    def take(self, user_id: int, now: dt.datetime) -> list[tuple[dt.datetime, str]]:
        """The user's recent questions, oldest first; forgotten afterwards."""
        return [item for item in self._by_user.pop(user_id, []) if now - item[0] <= RECENT_FOR]

    def forget(self, user_id: int) -> None:
        self._by_user.pop(user_id, None)

    def __len__(self) -> int:
        return len(self._by_user)


@dataclass
class Desk:
    """The volunteers' group as the bot sees it while running (in ``Services.desk``).

    ``mode``: "forum" (a topic per ticket), "plain" (a header message per ticket and reply
    chains, in a group without topics) or "off" (no volunteers: ``reason`` says why)."""

    chat_id: int | None = None
    mode: Mode = "off"
    reason: str = "VOLUNTEER_CHAT_ID is not set"
    #: language of the bot's messages to volunteers
    lang: str = "en"
    #: what users are told about the wait ("usually within a day")
    reply_hours: int = 24
    #: how to answer is pinned in the group: ticket headers need not repeat it
    howto_pinned: bool = False
    urgent_words: UrgentWords = field(default_factory=UrgentWords)
    recent: RecentQuestions = field(default_factory=RecentQuestions)
    #: user id -> entry id of a "Talk to a person" waiting for consent ("" for none)
    pending: dict[int, str] = field(default_factory=dict)
    #: outbox back-off: first retry after ``retry_base`` seconds, doubling up to ``retry_max``
    retry_base: float = 1.0
    retry_max: float = 60.0
    #: Seconds an outbox send waits for Telegram's answer (PTB's default is 5). A delivery that
    #: timed out is sent again (nothing may be lost), but Telegram may have carried out the
    #: first send: waiting longer means fewer duplicates, waiting less a faster recovery when
    #: an answer is really lost.
    send_timeout: float = 20.0
    #: Telegram accepts the bot in the group (False: topic creation or posting was refused at
    #: runtime; deliveries to the group are held until ``recheck_seconds`` checks say otherwise)
    reachable: bool = True
    recheck_seconds: float = 10.0
    #: tickets whose person was told that the volunteers cannot be reached right now
    told_unreachable: set[int] = field(default_factory=set)
    #: how long a getChatMember answer is trusted (seconds)
    member_ttl: float = 300.0
    _members: dict[int, tuple[bool, float]] = field(default_factory=dict, repr=False)

    @property
    def available(self) -> bool:
        return self.mode != "off" and self.chat_id is not None

    def known_member(self, user_id: int, now: float) -> bool | None:
        cached = self._members.get(user_id)
        if cached is None or cached[1] < now:
            return None
        return cached[0]

    def remember_member(self, user_id: int, is_member: bool, now: float) -> None:
        if len(self._members) > 10000:
            self._members.clear()
        self._members[user_id] = (is_member, now + self.member_ttl)


# -- the header, /queue and /stats -----------------------------------------------------------


@dataclass(frozen=True)
class Guess:
    entry_id: str
    score: float


def best_guesses(engine: Engine, questions: Iterable[str], lang: str, entry_id: str = "") -> list[Guess]:
    """The entries the bot thought closest to the user's questions, best first (the entry the
    user came from, if any, first of all)."""
    scores: dict[str, float] = {}
    for question in questions:
        reply = engine.respond(question, lang)
        for candidate in reply.candidates[:GUESSES]:
            scores[candidate.entry_id] = max(scores.get(candidate.entry_id, 0.0), float(candidate.score))
        if reply.topic and reply.action == "answer":
            scores[reply.topic] = max(scores.get(reply.topic, 0.0), float(reply.score))
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    guesses = [Guess(e, round(s, 1)) for e, s in ranked if e != entry_id and e in engine.kb][:GUESSES]
    if entry_id and entry_id in engine.kb:
        guesses.insert(0, Guess(entry_id, round(scores.get(entry_id, 100.0), 1)))
    return guesses[:GUESSES]


def is_urgent_request(
    engine: Engine, words: UrgentWords, questions: Sequence[str], lang: str, entry_id: str = ""
) -> bool:
    """Urgent: the user came from an urgent entry, asked something answered by one, or used an
    urgent word (detention, ICE at the door, deportation order ...)."""
    entry = engine.kb.get(entry_id) if entry_id else None
    if entry is not None and entry.urgent:
        return True
    for question in questions:
        if words.match(question):
            return True
        reply = engine.respond(question, lang)
        if reply.urgent:
            return True
    return False


def queue_order(tickets: Iterable[Ticket]) -> list[Ticket]:
    """Open tickets for /queue: urgent first, then the longest waiting first."""
    return sorted(tickets, key=lambda t: (not t.urgent, t.created_at, t.id))


@dataclass(frozen=True)
class WindowStats:
    days: int
    opened: int
    closed: int
    #: median seconds from opening to the first volunteer reply (None: no reply yet)
    median_first_reply: float | None
    helped: int = 0
    not_helped: int = 0


def window_stats(
    rows: Sequence[tuple[dt.datetime, dt.datetime | None, dt.datetime | None, bool | None]], now: dt.datetime, days: int
) -> WindowStats:
    """Numbers for /stats from ``(created_at, first_reply_at, closed_at, helpful)`` rows:
    tickets opened and closed in the last ``days`` days, and the median time to the first
    reply of the tickets opened in that window."""
    since = now - dt.timedelta(days=days)
    opened = [r for r in rows if r[0] >= since]
    closed = [r for r in rows if r[2] is not None and r[2] >= since]
    waits = [(r[1] - r[0]).total_seconds() for r in opened if r[1] is not None]
    return WindowStats(
        days,
        len(opened),
        len(closed),
        statistics.median(waits) if waits else None,
        sum(1 for r in closed if r[3] is True),
        sum(1 for r in closed if r[3] is False),
    )
