"""One durable outbox for everything the bot sends: answers, notices and relays both ways.

A handler never sends and never waits on Telegram's rate limits: it writes the delivery to
SQLite (``Outbox.send`` for a screen to a chat, ``Outbox.put`` for a ticket's delivery, or the
same transaction as the state change that causes it, e.g. ``Storage.create_ticket``) and
``kick``s its lane. Background workers, one per lane, send the lane's deliveries in order:

- a lane is ``("chat", chat_id)`` (the bot's own messages to a person or to the group),
  ``("user", ticket_id)`` or ``("group", ticket_id)`` (a ticket's relays, ``bot.telegram.relay``);
- Telegram's limits: about 30 messages a second overall and 20 a minute in the group are
  applied by the application's rate limiter (``bot.telegram.delivery``), about one a second
  per private chat (bursts of 3) here; a busy lane waits alone;
- what fails for a passing reason (429, 5xx, time-out, broken connection, a locked database)
  stays in the outbox and is retried with bounded back-off (``retry_base`` doubling up to
  ``retry_max``): **at least once**. A duplicate is possible when Telegram carried out a send
  but its answer was lost; a lost message is not;
- what Telegram refuses (400, 403) goes to the lane kind's ``refused``: a message Telegram
  cannot parse is sent again as plain text, a person who blocked the bot has their lane
  emptied, anything else is reported to the person (and, for relays, to the volunteers); never
  dropped in silence;
- a message sent in several parts (over 4,096 characters) records each part sent, so a retry
  does not repeat them;
- at start-up ``start()`` reschedules every lane with deliveries left (after a restart or a
  SIGKILL); at shutdown ``stop()`` lets the sends in progress finish for a moment, then
  cancels them: what was not sent is still in the database.

No message text and no name is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypedDict

from aiolimiter import AsyncLimiter
from telegram import Bot, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.core import escalation
from bot.core.domain import Lane, OutboxItem, utc_now
from bot.core.langs import DEFAULT_LANG
from bot.store.storage import Storage
from bot.telegram import keyboards
from bot.ui.render import MESSAGE_LIMIT, Button, Renderer, Screen, split_message

log = logging.getLogger(__name__)

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
#: Telegram's answers when the HTML of a message cannot be read: the message is sent as plain text.
_UNPARSEABLE = ("can't parse entities", "unsupported start tag", "can't find end tag", "message is too long")
#: Telegram's answers when a forum topic no longer exists or is closed.
TOPIC_GONE = ("thread not found", "topic_id_invalid", "topic_deleted", "topic not found", "topic_closed")
#: Seconds the sends in progress get to finish at shutdown.
STOP_GRACE = 3.0
#: Telegram's pace for one private chat: about one message a second, short bursts allowed.
#: (30 a second overall and 20 a minute per group are the rate limiter's, bot.telegram.delivery.)
CHAT_BURST = 3
CHAT_PER_SECOND = 1.0
#: Pacers of chats not written to for this long are forgotten (memory stays flat).
PACER_IDLE = 30.0


class Batch(list["Delivery"]):
    """The deliveries queued by the handlers of one update (see ``Outbox.begin``). Closed by
    ``end``: a task or timer started from a handler copies the context, and so sees the same
    batch; once it is closed, what it queues is written at once."""

    open: bool = True


#: The batch of the update being processed in this context, if any.
_batch: contextvars.ContextVar[Batch | None] = contextvars.ContextVar("outbox_batch", default=None)


@dataclass(frozen=True)
class Delivery:
    """A delivery to be written: a ticket's (``ticket_id``, target user/group) or a plain
    message (target "chat", ``chat_id``)."""

    ticket_id: int | None
    target: str
    payload: dict[str, Any]
    chat_id: int | None = None

    @property
    def lane(self) -> Lane:
        return ("chat", self.chat_id or 0) if self.target == "chat" else (self.target, self.ticket_id or 0)


@dataclass
class Kind:
    """How the deliveries of one lane target are made.

    ``deliver(item)`` sends and records success (it removes the item from the outbox);
    ``refused(item, error)`` handles a 400/403: True to go on with the lane, False to stop it
    (the item was kept and the lane is kicked again later); ``ready()`` False holds the lane
    (e.g. the volunteers cannot be reached)."""

    deliver: Callable[[OutboxItem], Awaitable[None]]
    refused: Callable[[OutboxItem, TelegramError], Awaitable[bool]]
    ready: Callable[[], bool] = lambda: True


class Outbox:
    """The outbox of a running bot (``outbox_of(application)``)."""

    def __init__(
        self,
        bot: Bot,
        storage: Storage,
        renderer: Renderer,
        *,
        retry_base: float = 1.0,
        retry_max: float = 60.0,
        send_timeout: float = 20.0,
    ) -> None:
        self.bot = bot
        self.storage = storage
        self.renderer = renderer
        #: back-off: first retry after ``retry_base`` seconds, doubling up to ``retry_max``
        self.retry_base = retry_base
        self.retry_max = retry_max
        #: Seconds a send waits for Telegram's answer. A send that timed out is sent again
        #: (nothing may be lost) although Telegram may have carried it out: waiting longer means
        #: fewer duplicates, waiting less means faster recovery when an answer is really lost.
        self.send_timeout = send_timeout
        self.kinds: dict[str, Kind] = {"chat": Kind(self._deliver_chat, self._refused_chat)}
        self._running: dict[Lane, asyncio.Task[None]] = {}
        self._again: set[Lane] = set()
        self._timers: dict[Lane, asyncio.TimerHandle] = {}
        self._stopping = False
        self._pacers: dict[Lane, tuple[AsyncLimiter, float]] = {}
        #: Deliveries retried so far, by reason (for tests and benchmarks).
        self.retried: dict[str, int] = {}

    # -- writing ---------------------------------------------------------------------------

    async def send(
        self,
        chat_id: int,
        screen: Screen,
        *,
        lang: str | None = None,
        reply_to: int | None = None,
        thread_id: int | None = None,
        notice: bool = False,
        plain: bool = False,
    ) -> None:
        """Queue ``screen`` for ``chat_id`` (quoting ``reply_to`` if it still exists; in forum
        topic ``thread_id``); ``lang``: the person's language, for a notice if it cannot be
        delivered; ``plain``: send ``screen.plain`` without formatting."""
        payload = screen_payload(screen)
        payload.update(lang=lang, reply_to=reply_to, thread_id=thread_id, notice=notice)
        if plain:
            payload["plain_only"] = True
        await self._write(Delivery(None, "chat", payload, chat_id))

    async def close_topic(self, chat_id: int, thread_id: int) -> None:
        """Queue closing forum topic ``thread_id`` (after what is queued for the chat before)."""
        await self._write(Delivery(None, "chat", {"kind": "close_topic", "thread_id": thread_id}, chat_id))

    async def put(self, ticket_id: int, target: str, payload: dict[str, Any]) -> None:
        """Queue a ticket's delivery to its ``target`` ("user" or "group")."""
        await self._write(Delivery(ticket_id, target, payload))

    async def _write(self, delivery: Delivery) -> None:
        batch = _batch.get()
        if batch is not None and batch.open:  # inside an update's handlers: written with the update
            batch.append(delivery)
            return
        await self.storage.enqueue(
            delivery.ticket_id, delivery.target, delivery.payload, utc_now(), chat_id=delivery.chat_id
        )
        self.kick(delivery.lane)

    # -- one update, one transaction ----------------------------------------------------------

    @staticmethod
    def begin() -> contextvars.Token[Batch | None]:
        """Collect what the handlers of the update being processed queue (in this task), to be
        written with ``commit`` in one transaction with the update's removal from the inbox."""
        return _batch.set(Batch())

    @staticmethod
    def end(token: contextvars.Token[Batch | None]) -> list[Delivery]:
        """Stop collecting; the deliveries collected since ``begin``."""
        batch = _batch.get()
        _batch.reset(token)
        if batch is None:
            return []
        batch.open = False
        return list(batch)

    async def commit(self, deliveries: list[Delivery], update_id: int | None) -> None:
        """Write ``deliveries`` and remove update ``update_id`` from the inbox, all or nothing,
        then send. After a SIGKILL the update is either handled again (nothing of it was
        written) or done (everything it caused is in the outbox): never half."""
        await self.storage.enqueue_many(
            [(d.ticket_id, d.target, d.payload, d.chat_id) for d in deliveries], utc_now(), done_update=update_id
        )
        for lane in dict.fromkeys(d.lane for d in deliveries):
            self.kick(lane)

    # -- the workers -----------------------------------------------------------------------

    async def start(self) -> None:
        """Schedule every lane with deliveries left (after a restart)."""
        self._stopping = False
        now = utc_now()
        due = await self.storage.outbox_due()
        for lane, at in due:
            self.kick(lane, (at - now).total_seconds())
        if due:
            log.info("outbox: %d lane(s) with deliveries left rescheduled", len(due))

    def kick(self, lane: Lane, delay: float = 0.0) -> None:
        """Send what ``lane`` holds, now or in ``delay`` seconds."""
        if self._stopping or lane[0] not in self.kinds:
            return
        if delay > 0:
            timer = self._timers.pop(lane, None)
            if timer is not None:
                timer.cancel()
            self._timers[lane] = asyncio.get_running_loop().call_later(
                delay, self.kick, lane, context=contextvars.Context()
            )
            return
        timer = self._timers.pop(lane, None)
        if timer is not None:
            timer.cancel()
        if lane in self._running:
            self._again.add(lane)  # the worker looks again before it ends
            return
        # a fresh context: what a worker queues is written at once, never into an update's batch
        self._running[lane] = asyncio.get_running_loop().create_task(
            self._work(lane), name=f"outbox:{lane[0]}", context=contextvars.Context()
        )

    def kick_all(self, target: str) -> None:
        """Kick every lane of ``target`` with deliveries left (e.g. the volunteers are back)."""

        async def kick() -> None:
            for lane, _at in await self.storage.outbox_due():
                if lane[0] == target:
                    self.kick(lane)

        task = asyncio.get_running_loop().create_task(kick(), context=contextvars.Context())
        self._running[("kick", id(task))] = task
        task.add_done_callback(lambda done: self._running.pop(("kick", id(done)), None))

    @property
    def busy(self) -> int:
        """Lanes being sent now."""
        return len(self._running)

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop the workers: the sends in progress get ``grace`` seconds, then they are
        cancelled (what was not sent stays in the database for the next start)."""
        self._stopping = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        tasks = list(self._running.values())
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
            log.info("outbox: %d lane(s) interrupted at shutdown; they resume at the next start", len(pending))

    async def drain(self, within: float) -> bool:
        """Wait up to ``within`` seconds until nothing is being sent and nothing is left (tests,
        benchmarks); False when time ran out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            if not self._running and not await self.storage.outbox_size():
                return True
            await asyncio.sleep(0.05)
        return False

    async def _work(self, lane: Lane) -> None:
        try:
            while True:
                self._again.discard(lane)
                try:
                    await self._flush(lane)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a locked database, a bug: the lane is tried again
                    log.warning("outbox: %s lane failed (%s); retrying", lane[0], type(exc).__name__)
                    self._count(type(exc).__name__)
                    self.kick(lane, self.retry_base)
                    return
                if lane not in self._again:
                    return
        finally:
            self._running.pop(lane, None)

    async def _flush(self, lane: Lane) -> None:
        """Send the lane's deliveries in order. What is queued meanwhile kicks the lane, so the
        worker looks again (``_again``) instead of reading the lane after every send."""
        kind = self.kinds[lane[0]]
        items = await self.storage.outbox(lane)
        while items and not self._stopping:
            if not kind.ready():
                return  # kicked again when it is
            item, now = items[0], utc_now()
            if item.next_attempt_at > now:
                self.kick(lane, (item.next_attempt_at - now).total_seconds())
                return
            try:
                async with self._pace(lane):
                    await kind.deliver(item)
                items = items[1:]
            except RetryAfter as exc:
                await self._postpone(item, "RetryAfter", _seconds(exc))
                return
            except (BadRequest, Forbidden, ChatMigrated) as exc:  # refused: retrying would not help
                if not await kind.refused(item, exc):
                    return
                items = await self.storage.outbox(lane)  # the refusal may have changed the lane
            except TelegramError as exc:  # TimedOut, 5xx, a broken connection ...
                await self._postpone(item, type(exc).__name__)
                return

    def _pace(self, lane: Lane) -> AsyncLimiter | contextlib.nullcontext[None]:
        """One private chat's pace (a person's chat lane, or a ticket's lane to its person);
        the group's is the rate limiter's."""
        if lane[0] == "group" or (lane[0] == "chat" and lane[1] < 0):
            return contextlib.nullcontext()
        now = asyncio.get_running_loop().time()
        if len(self._pacers) > 1000:
            self._pacers = {k: v for k, v in self._pacers.items() if now - v[1] < PACER_IDLE}
        limiter = (
            self._pacers[lane][0] if lane in self._pacers else AsyncLimiter(CHAT_BURST, CHAT_BURST / CHAT_PER_SECOND)
        )
        self._pacers[lane] = (limiter, now)
        return limiter

    async def _postpone(self, item: OutboxItem, why: str, at_least: float = 0.0) -> None:
        attempts = item.attempts + 1
        delay = max(at_least, escalation.retry_delay(attempts, self.retry_base, self.retry_max))
        await self.storage.postpone(item.id, attempts, utc_now() + dt.timedelta(seconds=delay))
        self._count(why)
        log.info(
            "outbox: a delivery to a %s failed (%s, attempt %d); retrying in %.1f s", item.target, why, attempts, delay
        )
        self.kick(item.lane, delay)

    def _count(self, why: str) -> None:
        self.retried[why] = self.retried.get(why, 0) + 1

    # -- plain messages to a chat ----------------------------------------------------------

    async def _deliver_chat(self, item: OutboxItem) -> None:
        assert item.chat_id is not None  # a chat lane's item (see OutboxItem.lane)
        if item.payload.get("kind") == "close_topic":
            try:
                await self.bot.close_forum_topic(item.chat_id, item.payload["thread_id"])
            except BadRequest as exc:  # already closed, or gone: nothing left to do
                log.info("outbox: a topic was not closed (%s)", _reason(exc))
        else:
            await send_payload(self.bot, item.chat_id, item.payload, self.send_timeout, self._progress(item))
        await self.storage.delivered(item.id, utc_now())

    def _progress(self, item: OutboxItem) -> Callable[[dict[str, Any]], Awaitable[None]]:
        async def save(payload: dict[str, Any]) -> None:
            await self.storage.progress(item.id, payload)

        return save

    async def _refused_chat(self, item: OutboxItem, error: TelegramError) -> bool:
        assert item.chat_id is not None
        payload, reason = item.payload, _reason(error)
        if isinstance(error, Forbidden):  # blocked by the person, or removed from the group
            dropped = await self.storage.drop_outbox_of(item.lane)
            if item.chat_id > 0:  # a person: nothing more is sent to them until they write again
                await self.storage.set_inactive(item.chat_id)
                await self.storage.unfollow_all(item.chat_id)
            log.info("outbox: a chat refused the bot (%s); %d message(s) dropped", reason, dropped)
            return False
        if not payload.get("plain_only") and any(words in reason for words in _UNPARSEABLE):
            payload["plain_only"], payload["sent"] = True, 0
            await self.storage.progress(item.id, payload)
            log.warning("outbox: Telegram could not read a message (%s); sending it as plain text", reason)
            return True
        if payload.get("thread_id") and any(words in reason for words in TOPIC_GONE):
            payload["thread_id"] = None  # the topic is gone: say it in the group's General topic
            await self.storage.progress(item.id, payload)
            return True
        await self.storage.drop_outbox(item.id)
        log.warning("outbox: Telegram refused a message (%s); the recipient is told", reason)
        if item.chat_id > 0 and not payload.get("notice"):
            prefs = None if payload.get("lang") else await self.storage.user(item.chat_id)
            lang = payload.get("lang") or (prefs.lang if prefs is not None and prefs.lang else DEFAULT_LANG)
            await self.send(item.chat_id, self.renderer.not_delivered(lang), lang=lang, notice=True)
        return True


def outbox_of(application: Any) -> Outbox:
    """The application's outbox (created in ``post_init``)."""
    box = application.bot_data.get("outbox")
    if not isinstance(box, Outbox):
        raise RuntimeError("the outbox is not running (post_init has not run)")
    return box


# -- payloads and sending ------------------------------------------------------------------


def screen_payload(screen: Screen, *, reply: bool = False) -> dict[str, Any]:
    """A screen as an outbox payload (``reply``: it counts as a volunteer's answer)."""
    buttons = [[{"label": b.label, "data": b.data, "url": b.url} for b in row] for row in screen.buttons]
    return {"kind": "screen", "html": screen.html, "plain": screen.plain, "buttons": buttons, "reply": reply}


def payload_screen(payload: dict[str, Any]) -> Screen:
    rows = tuple(
        tuple(Button(b["label"], b.get("data") or "", b.get("url") or "") for b in row)
        for row in payload.get("buttons") or []
    )
    return Screen(payload["html"], payload.get("plain", ""), rows)


class _Timeouts(TypedDict, total=False):
    read_timeout: float


async def send_payload(
    bot: Bot,
    chat_id: int,
    payload: dict[str, Any],
    read_timeout: float | None,
    progress: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
) -> Message:
    """Send a screen payload (HTML split at 4,096 characters, or plain text with ``plain_only``;
    buttons on the last part); ``payload["sent"]`` parts already went out and are skipped,
    ``progress`` stores the count after each part. Returns the last message sent."""
    timeouts: _Timeouts = {} if read_timeout is None else {"read_timeout": read_timeout}
    screen = payload_screen(payload)
    plain = bool(payload.get("plain_only"))
    chunks = split_message(screen.plain or screen.html, MESSAGE_LIMIT) if plain else screen.chunks()
    reply_to, thread = payload.get("reply_to"), payload.get("thread_id")
    start = int(payload.get("sent") or 0)
    sent: Message | None = None
    for number, chunk in enumerate(chunks[start:], start + 1):
        last = number == len(chunks)
        sent = await bot.send_message(
            chat_id,
            chunk,
            parse_mode=None if plain else ParseMode.HTML,
            message_thread_id=thread,
            link_preview_options=_NO_PREVIEW,
            reply_markup=keyboards.markup(screen.buttons) if last else None,
            reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True)
            if reply_to and number == 1
            else None,
            **timeouts,
        )
        if not last and progress is not None:
            payload["sent"] = number
            await progress(payload)
    assert sent is not None  # split_message returns at least one part
    return sent


def _reason(error: TelegramError) -> str:
    return error.message.lower()


def _seconds(error: RetryAfter) -> float:
    """``retry_after`` in seconds (read without PTB's int/timedelta deprecation warning)."""
    value = getattr(error, "_retry_after", None)
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value or 1)
