"""The application service: the use cases the Telegram handlers call.

Handlers reach it through ``bot_data`` with ``services(context)``; ``bot.telegram.app`` (the
composition root) creates it and puts it there, and nothing imports it from the wiring module.
Its methods take plain values and return screens (``bot.ui.render``), so each handler is a few
lines: parse the update, call a method here, hand the screen to the sender.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any, cast

from telegram.ext import Application, CallbackContext

from bot.config import Settings
from bot.core import escalation, knowledge, learning
from bot.core.conversation import Engine, Reply, TopicMemory
from bot.core.domain import Ticket
from bot.core.escalation import Desk
from bot.core.knowledge import OUT_OF_SCOPE
from bot.core.langs import DEFAULT_LANG, LANGS, Lang, coerce_lang
from bot.core.redact import redact
from bot.store.storage import Storage
from bot.telegram.flood import FloodGuard
from bot.ui.i18n import load_all
from bot.ui.render import Card, Renderer, Screen

#: Inline answers for a question: the answered topic and the next ones the ranking allows.
INLINE_CARDS = 4
#: Inline answers for an empty query: the most answered topics of the last INLINE_DAYS days,
#: then the knowledge base's own order.
INLINE_TOPICS = 8
INLINE_DAYS = 30


@dataclass(frozen=True)
class InlineAnswer:
    """What ``Services.inline`` found for ``@bot <query>``: the cards, best first; ``personal``
    when the language came from the person (their stored choice or Telegram's language_code)
    rather than from the query, so Telegram must not show these cards to anyone else;
    ``answered`` when the first card is a confident answer."""

    lang: Lang
    cards: tuple[Card, ...]
    personal: bool
    answered: bool


class KnowledgeBaseError(RuntimeError):
    """The knowledge base has errors; ``problems`` are its ``file:line: message`` lines."""

    def __init__(self, directory: object, problems: list[str]) -> None:
        super().__init__(f"the knowledge base in {directory} has {len(problems)} error(s)")
        self.problems = problems


@dataclass
class Services:
    """Everything the handlers use, kept in ``bot_data`` and read with ``services(context)``."""

    settings: Settings
    engine: Engine
    renderer: Renderer
    storage: Storage
    #: A volunteer can take over a conversation right now (set at start-up by relay.connect);
    #: otherwise "Talk to a person" explains how to find help.
    volunteers: bool = False
    #: The volunteers' group as the relay sees it (mode, urgent words, recent questions ...).
    desk: Desk = field(default_factory=Desk, repr=False)
    #: Per-user message limit (FLOOD_LIMIT a minute), checked by the group -2 pre-filter.
    flood: FloodGuard = field(init=False, repr=False)
    #: the topic each chat was last answered with, for follow-ups (memory only, minutes)
    topics: TopicMemory = field(default_factory=TopicMemory, repr=False)
    #: a question the bot missed, and what the person asked next (memory only, minutes)
    rephrasings: learning.Rephrasings = field(default_factory=learning.Rephrasings, repr=False)

    def __post_init__(self) -> None:
        self.flood = FloodGuard(self.settings.flood_limit)

    @classmethod
    def load(cls, settings: Settings, result: knowledge.LoadResult | None = None) -> Services:
        """Load the knowledge base from ``settings.knowledge_dir`` (or take ``result``, already
        loaded) and its model; raise KnowledgeBaseError if invalid."""
        if result is None:
            result = knowledge.load(settings.knowledge_dir, near_duplicates=False)  # warnings: see check
        if result.kb is None:
            raise KnowledgeBaseError(settings.knowledge_dir, [str(p) for p in result.errors])
        load_all()  # a missing translation catalog stops start-up, not a conversation
        engine = Engine(result.kb, settings.model_cache)
        return cls(
            settings,
            engine,
            Renderer(result.kb, operator_name=settings.operator_name, operator_contact=settings.operator_contact),
            Storage(settings.database_path),
        )

    # -- language ---------------------------------------------------------------------------

    async def known_lang(self, user_id: int, language_code: str | None) -> Lang | None:
        """The user's language: their choice, else what we guessed before, else Telegram's
        ``language_code`` (remembered as a guess); None when there is no clue at all."""
        prefs = await self.storage.seen(user_id)
        if prefs.lang in LANGS:
            return cast(Lang, prefs.lang)  # one of LANGS, checked just above
        guessed = coerce_lang(language_code)
        if guessed is not None:
            await self.storage.set_language(user_id, guessed, chosen=False)
        return guessed

    async def lang_of(self, user_id: int, language_code: str | None) -> Lang:
        return await self.known_lang(user_id, language_code) or DEFAULT_LANG

    async def choose_language(self, user_id: int, lang: str) -> None:
        await self.storage.set_language(user_id, lang, chosen=True)

    # -- questions --------------------------------------------------------------------------

    async def ask(self, user_id: int, language_code: str | None, text: str) -> tuple[Reply, Screen]:
        """Answer a free-text question and record it in the daily counts. A reply with
        ``person`` set asks for a volunteer: the caller shows the consent screen instead."""
        prefs = await self.storage.seen(user_id)
        now = time.monotonic()
        context = self.topics.recall(user_id, now)
        reply = self.engine.respond(text, hints=(prefs.lang, coerce_lang(language_code)), context=context)
        if prefs.chosen and prefs.lang in LANGS and reply.lang != prefs.lang and not reply.lang_confident:
            reply = self.engine.respond(text, prefs.lang, context=context)  # unclear text: keep the chosen language
        if not prefs.chosen and reply.lang != prefs.lang and (reply.lang_confident or prefs.lang is None):
            await self.storage.set_language(user_id, reply.lang, chosen=False)
        if reply.action == "answer" and reply.topic:
            self.topics.remember(user_id, reply.topic, now)
        self._follow_rephrasing(user_id, reply)
        await self._record(reply, user_id)
        return reply, self.renderer.reply(reply, volunteers=self.volunteers, hours=self.desk.reply_hours)

    def _follow_rephrasing(self, user_id: int, reply: Reply) -> None:
        """A miss, then the next question: remembered (masked, minutes) until the answer is rated."""
        if reply.smalltalk:
            return
        if reply.action == "escalate" and not reply.person and learning.usable(reply.text):
            self.rephrasings.missed(user_id, reply.lang, redact(reply.text).text[:1000])
        elif reply.action == "answer" and reply.topic:
            self.rephrasings.answered(user_id, reply.topic)
        else:
            self.rephrasings.end(user_id)

    async def _record(self, reply: Reply, user_id: int | None = None) -> None:
        """The daily count; and for the maintainers' report, a question the bot only suggested
        topics for or had no reliable answer to (a request for a person is no question)."""
        if reply.smalltalk:
            return
        await self.storage.count(reply.lang, reply.topic if reply.action == "answer" and reply.topic else reply.action)
        if reply.action in ("escalate", "suggest") and not reply.person:
            closest = reply.candidates[0].entry_id if reply.candidates else None
            await self.storage.add_unanswered(reply.lang, reply.text, closest, reply.action, user_id)

    async def inline(self, user_id: int, language_code: str | None, text: str) -> InlineAnswer:
        """Inline answers for ``@bot <text>`` typed in any chat, ranked as the bot ranks a
        question (``Engine.respond``): the answered topic first, then the others the ranking
        allows; when nothing fits, an invitation to ask the bot in private; for an empty query
        (or a greeting), the most answered topics. The title "Share this answer" types finds its
        own entry first. Nothing is stored: the query is typed letter by letter and is not a
        question yet, and the person may never have started the bot."""
        text = " ".join(text.split())
        titled = self.renderer.titled(text)
        lang: Lang | None = None
        if titled is not None:
            lang = cast(Lang, titled[1])  # a title is written in one of LANGS
        elif text:
            detected, confident = self.engine.detect(text)
            lang = detected if confident else None
        personal = lang is None
        if lang is None:  # the query does not say: the person's stored language, else Telegram's
            prefs = await self.storage.user(user_id)
            stored = prefs.lang if prefs is not None and prefs.lang in LANGS else None
            lang = cast(Lang, stored) if stored else (coerce_lang(language_code) or DEFAULT_LANG)
        reply = self.engine.respond(text, lang) if text else None
        if reply is None or (reply.smalltalk and titled is None):
            ids, answered = await self._useful_topics(), False
        else:
            first = (titled[0].id,) if titled is not None else ()
            ids = tuple(dict.fromkeys((*first, *self.engine.ranked(reply, INLINE_CARDS))))[:INLINE_CARDS]
            answered = titled is not None or (reply.action == "answer" and reply.topic is not None)
        entries = [e for e in (self.engine.kb.get(i) for i in ids) if e is not None]
        cards = tuple(self.renderer.inline_card(e, lang) for e in entries) or (self.renderer.inline_invite(lang),)
        return InlineAnswer(lang, cards, personal, answered)

    async def _useful_topics(self) -> tuple[str, ...]:
        since = (dt.date.fromisoformat(self.storage.today()) - dt.timedelta(days=INLINE_DAYS)).isoformat()
        ids = [i for i in await self.storage.top_entries(since, INLINE_TOPICS) if i in self.engine.kb]
        ids += [e.id for category in knowledge.CATEGORIES for e in self.engine.kb.in_category(category)]
        return tuple(dict.fromkeys(ids))[:INLINE_TOPICS]

    async def entry(self, entry_id: str, lang: str, user_id: int | None = None) -> Screen | None:
        """The answer screen of a topic button (None when the entry no longer exists); the
        topic becomes the context of ``user_id``'s follow-up questions."""
        found = self.engine.kb.get(entry_id)
        if found is None:
            return None
        await self.storage.count(lang, entry_id)
        if user_id is not None:
            self.topics.remember(user_id, entry_id, time.monotonic())
        return self.renderer.answer(found, lang, consent_hours=self.desk.reply_hours if self.volunteers else None)

    async def feedback(
        self, entry_id: str, lang: str, helpful: bool, question: str | None, user_id: int | None = None
    ) -> None:
        """Store a vote (entry, language, day; no user id); keep the question of a "no" (under
        the person's pseudonym, so /forget finds it).

        Learning (``bot.core.learning``): a "yes" on the answer to a rephrasing makes the question
        the bot missed just before a candidate of this entry; a "no" takes back the candidate
        made when this answer was picked among suggestions."""
        await self.storage.add_feedback(entry_id, lang, helpful)
        if not helpful:
            await self.storage.add_unanswered(lang, question or "", entry_id, "not_helpful", user_id)
        if user_id is None:
            return
        if helpful:
            missed = self.rephrasings.helpful(user_id, entry_id)
            if missed is not None:
                await self.storage.add_candidate(user_id, missed[0], entry_id, missed[1], learning.REPHRASE)
        else:
            self.rephrasings.end(user_id)
            if question:
                await self.storage.drop_candidate(user_id, entry_id, question)

    async def picked(self, user_id: int, entry_id: str, lang: str, question: str | None) -> None:
        """The person picked ``entry_id`` among the bot's suggestions for ``question`` (the
        message the suggestions quoted): the question becomes a candidate phrasing of it."""
        self.rephrasings.end(user_id)
        if not question or not learning.usable(question) or entry_id not in self.engine.kb:
            return
        question_lang, _confident = self.engine.detect(question, (lang,))
        await self.storage.add_candidate(user_id, question_lang, entry_id, question, learning.SUGGESTION)

    async def label(self, ticket: Ticket, entry_id: str | None, questions: list[str]) -> int:
        """A volunteer said what a closed ticket was about (``entry_id``; None: none of the
        topics): the person's questions become candidates of that entry, or off-topic examples.
        Returns how many were kept (small talk and requests for a person are not)."""
        topic = entry_id if entry_id is not None else OUT_OF_SCOPE
        kept = 0
        for question in questions:
            if not learning.usable(question):
                continue
            lang, _confident = self.engine.detect(question, (ticket.lang,))
            analysis = self.engine.matcher.analyze(question, lang)
            if analysis.smalltalk or analysis.person:
                continue
            kept += await self.storage.add_candidate(ticket.user_id, lang, topic, question, learning.VOLUNTEER)
        return kept

    # -- reviewing candidate phrasings (/learn) ---------------------------------------------

    async def learn_review(self) -> learning.Review:
        """The candidate phrasings against the knowledge base on disk (the one /learn writes
        into; the one in service may be older until /reload)."""
        result = await asyncio.to_thread(knowledge.load, self.settings.knowledge_dir, None, None, False)
        if result.kb is None:
            raise KnowledgeBaseError(self.settings.knowledge_dir, [str(p) for p in result.errors])
        return learning.review(result.kb, await self.storage.candidates())

    async def learn_accept(self, groups: list[learning.Group]) -> learning.Written:
        """Write ``groups`` into the knowledge base's files (raises LearnError, files untouched);
        the candidates that are done leave the database."""
        written = await asyncio.to_thread(learning.write, self.settings.knowledge_dir, groups)
        await self.storage.delete_candidates(learning.settled(written))
        return written

    async def learn_reject(self, groups: list[learning.Group]) -> int:
        return await self.storage.delete_candidates([i for g in groups for i in g.ids])


def services(holder: CallbackContext[Any, Any, Any, Any] | Application[Any, Any, Any, Any, Any, Any]) -> Services:
    """The application's Services, from a handler's context or the application itself (the one
    typed way to reach them)."""
    found = holder.bot_data.get("services")
    if not isinstance(found, Services):
        raise RuntimeError("bot_data has no Services: build the application with build_application()")
    return found


# -- tickets: escalation decisions written to the store (nothing is sent here) --------------


async def open_ticket(
    storage: Storage, engine: Engine, desk: Desk, user_id: int, lang: str, entry_id: str, now: dt.datetime
) -> tuple[Ticket, bool]:
    """Open the user's ticket, or return the one already open (``(ticket, False)``).

    The ticket and the outbox item that will create its topic and header are written in one
    transaction before anything is sent; the header carries the user's recent questions
    (redacted), the bot's best guesses and since when the user has been waiting."""
    current = await storage.open_ticket_of(user_id)
    if current is not None:
        return current, False
    recent = desk.recent.take(user_id, now)
    questions = [text for _at, text in recent]
    since = recent[0][0] if recent else now
    urgent = escalation.is_urgent_request(engine, desk.urgent_words, questions, lang, entry_id)
    guesses = escalation.best_guesses(engine, questions, lang, entry_id)
    header = {
        "kind": "open",
        "questions": questions,
        "guesses": [[g.entry_id, g.score] for g in guesses],
        "entry": entry_id,
        "since": since.isoformat(timespec="seconds"),
    }
    extra = [{"kind": "mention"}] if urgent else []
    ticket = await storage.create_ticket(user_id, lang, urgent, now, [header, *extra])
    if ticket is not None:  # for the maintainers' report: what people needed a volunteer for
        asked = [q for q in questions if not _is_request_for_person(engine, q, lang)]
        if asked:
            await storage.add_escalated(lang, asked, guesses[0].entry_id if guesses else entry_id or None, user_id)
    if ticket is None:  # opened by a concurrent update in between
        current = await storage.open_ticket_of(user_id)
        if current is None:
            raise RuntimeError("the ticket could not be opened")
        return current, False
    await storage.keep_ticket_questions(ticket.id, questions)  # for the volunteers' label at /close
    return ticket, True


def _is_request_for_person(engine: Engine, text: str, lang: str) -> bool:
    """ "I want to talk to a person", a greeting, thanks: not a question for the knowledge base."""
    analysis = engine.matcher.analyze(text, lang)
    return bool(analysis.person or analysis.smalltalk)


async def find_group_ticket(
    storage: Storage, desk: Desk, *, thread_id: int | None, is_topic_message: bool, reply_to: int | None
) -> Ticket | None:
    """The ticket a volunteer's message belongs to: its topic (forum mode), or the header or
    relayed message it replies to (plain-group mode, and replies inside topics)."""
    if desk.mode == "forum" and is_topic_message and thread_id is not None:
        return await storage.ticket_by_topic(thread_id)
    if reply_to is not None:
        return await storage.ticket_by_group_message(reply_to)
    return None
