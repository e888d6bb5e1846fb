"""Telegram delivery for human escalation: the volunteers' group, the outbox and its retries.

Everything that reaches the volunteers' group or a user on behalf of a ticket goes through the
outbox: ``to_group`` / ``to_user`` write the delivery to SQLite first, then ``flush`` sends the
ticket's deliveries in order. A delivery Telegram refuses for a passing reason (429 after the
rate limiter's own retries, 5xx, time-outs) stays in the outbox and is retried by the job queue
with back-off; pending deliveries are rescheduled at start-up, so a restart loses nothing. A
user who blocked the bot (403) has their ticket closed with a note for the volunteers.

``connect()`` runs at start-up: it checks the volunteers' group (forum with "Manage topics",
plain group, or none) and logs one line saying which. No message text and no name is logged;
users appear as salted hashes.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any, TypedDict, cast

from telegram import Bot, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, CallbackContext

from bot.core import escalation
from bot.core.domain import OutboxItem, Ticket, load_urgent_words, utc_now
from bot.core.escalation import Desk
from bot.telegram import keyboards
from bot.telegram.logs import hash_user
from bot.telegram.services import Services, services
from bot.ui.render import Button, Screen

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]
#: getChatMember statuses that make someone a volunteer.
VOLUNTEER_STATUSES = frozenset({ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
#: Telegram's answers when a forum topic no longer exists.
_TOPIC_GONE = ("thread not found", "topic_id_invalid", "topic_deleted", "topic not found")


# -- start-up --------------------------------------------------------------------------------


async def connect(application: App) -> None:
    """Find out whether volunteers can be reached, say so in one log line, and reschedule the
    outbox. Called from ``post_init``."""
    svc = services(application)
    desk, settings = svc.desk, svc.settings
    desk.lang, desk.reply_hours, desk.chat_id = (
        settings.volunteer_lang,
        settings.reply_hours,
        settings.volunteer_chat_id,
    )
    desk.urgent_words, problems = load_urgent_words(settings.knowledge_dir)
    for problem in problems:
        log.warning("%s", problem)
    desk.mode, desk.reason = await _detect(application.bot, settings.volunteer_chat_id)
    svc.volunteers = desk.available
    if desk.mode == "forum":
        log.info("volunteers: forum mode in chat %s: %s", desk.chat_id, desk.reason)
    elif desk.mode == "plain":
        log.warning("volunteers: plain-group mode in chat %s: %s", desk.chat_id, desk.reason)
    else:
        log.warning("volunteers: none (%s); people asking for a person get the find-a-lawyer answer", desk.reason)
    if desk.mode == "forum":
        desk.howto_pinned = await _pin_howto(application.bot, svc)
    if desk.available:
        await reschedule(application)


async def _pin_howto(bot: Bot, svc: Services) -> bool:
    """Pin how to answer in the volunteers' group once (the headers then leave it out): skipped
    when the pinned message already says the same. False when it cannot be pinned (no right to
    pin): the headers keep it."""
    desk = svc.desk
    howto = svc.renderer.desk_howto(desk.lang)
    if desk.chat_id is None:
        return False
    try:
        chat = await bot.get_chat(desk.chat_id)
        pinned = chat.pinned_message
        if pinned is not None and pinned.text == howto.plain:
            return True
        sent = await bot.send_message(desk.chat_id, howto.html, parse_mode=ParseMode.HTML)
        await bot.pin_chat_message(desk.chat_id, sent.message_id, disable_notification=True)
    except TelegramError as exc:
        log.warning("volunteers: how to answer not pinned (%s); ticket headers carry it", type(exc).__name__)
        return False
    return True


async def _detect(bot: Bot, chat_id: int | None) -> tuple[escalation.Mode, str]:
    if chat_id is None:
        return "off", "VOLUNTEER_CHAT_ID is not set"
    try:
        chat = await bot.get_chat(chat_id)
        me = await bot.get_chat_member(chat_id, bot.id)
    except TelegramError as exc:
        return (
            "off",
            f"cannot reach VOLUNTEER_CHAT_ID ({type(exc).__name__}: {exc.message}); check the id and that the bot is in the group",
        )
    if chat.type not in ("group", "supergroup"):
        return "off", "VOLUNTEER_CHAT_ID is not a group"
    status = me.status
    if status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED) or (
        status == ChatMemberStatus.RESTRICTED and not getattr(me, "can_send_messages", False)
    ):
        return "off", "the bot is not a member of the volunteers' group or may not post there"
    if chat.is_forum:
        if status == ChatMemberStatus.OWNER or (
            status == ChatMemberStatus.ADMINISTRATOR and getattr(me, "can_manage_topics", False)
        ):
            return "forum", "a topic per ticket"
        return "off", "the volunteers' group has topics but the bot lacks the 'Manage topics' admin right"
    return "plain", "the group has no topics: each ticket is a header message and volunteers answer by replying to it"


async def reschedule(application: App) -> None:
    """Schedule a retry for every ticket with deliveries left in the outbox (after a restart)."""
    now = utc_now()
    due = await services(application).storage.outbox_due()
    for ticket_id, target, at in due:
        _schedule(application, ticket_id, target, max(0.0, (at - now).total_seconds()))
    if due:
        log.info("outbox: %d pending queue(s) rescheduled", len(due))


# -- queueing and sending ------------------------------------------------------------------


async def to_group(application: App, ticket: Ticket, payload: dict[str, Any]) -> None:
    """Write a delivery to the ticket's topic (or reply chain) to the outbox, then send."""
    await services(application).storage.enqueue(ticket.id, "group", payload, utc_now())
    await flush(application, ticket.id, "group")


async def to_user(application: App, ticket: Ticket, payload: dict[str, Any]) -> None:
    """Write a delivery to the ticket's user to the outbox, then send."""
    await services(application).storage.enqueue(ticket.id, "user", payload, utc_now())
    await flush(application, ticket.id, "user")


def screen_payload(screen: Screen, *, reply: bool = False) -> dict[str, Any]:
    """A screen as an outbox payload (``reply``: it counts as a volunteer's answer)."""
    buttons = [[{"label": b.label, "data": b.data, "url": b.url} for b in row] for row in screen.buttons]
    return {"kind": "screen", "html": screen.html, "plain": screen.plain, "buttons": buttons, "reply": reply}


def note_payload(screen: Screen) -> dict[str, Any]:
    """A note for the volunteers, in the ticket's topic (or reply chain)."""
    return {"kind": "note", "html": screen.html}


async def flush(application: App, ticket_id: int, target: str) -> None:
    """Send the ticket's pending deliveries to ``target`` in order; stop at the first one that
    must wait (it is retried later by the job queue)."""
    svc = services(application)
    chat_id = svc.desk.chat_id
    if chat_id is None or not svc.desk.available:
        return
    recreated = False
    async with svc.desk.lock(ticket_id, target):
        while True:
            items = await svc.storage.outbox(ticket_id, target)
            ticket = await svc.storage.ticket(ticket_id)
            if not items or ticket is None:
                return
            item, now = items[0], utc_now()
            if item.next_attempt_at > now:
                _schedule(application, ticket_id, target, (item.next_attempt_at - now).total_seconds())
                return
            try:
                await _deliver(application.bot, svc, chat_id, ticket, item)
            except Forbidden:
                if target == "user":
                    await _user_blocked(application, ticket)
                    return
                await _postpone(application, item, "Forbidden")
                return
            except BadRequest as exc:
                if target == "group" and svc.desk.mode == "forum" and _topic_gone(exc) and not recreated:
                    log.warning("ticket #%d: its topic is gone; opening a new one", ticket.id)
                    await svc.storage.update_ticket(ticket.id, topic_id=None, header_message_id=None)
                    recreated = True
                    continue
                log.warning(
                    "ticket #%d: Telegram refused a delivery to the %s (%s); dropped", ticket.id, target, exc.message
                )
                await svc.storage.drop_outbox(item.id)
                if target == "user":
                    await svc.storage.enqueue(
                        ticket.id,
                        "group",
                        note_payload(svc.renderer.desk_note(svc.desk.lang, "undelivered")),
                        utc_now(),
                    )
                    _schedule(application, ticket.id, "group", 0)
                elif item.payload.get("kind") in ("text", "copy"):
                    await svc.storage.enqueue(
                        ticket.id, "group", note_payload(svc.renderer.desk_note(svc.desk.lang, "not_copied")), utc_now()
                    )
            except RetryAfter as exc:
                await _postpone(application, item, "RetryAfter", getattr(exc, "_retry_after", None))
                return
            except TelegramError as exc:  # NetworkError, TimedOut, 5xx ...
                await _postpone(application, item, type(exc).__name__)
                return


async def _postpone(application: App, item: OutboxItem, why: str, retry_after: object = None) -> None:
    svc = services(application)
    attempts = item.attempts + 1
    delay = escalation.retry_delay(attempts, svc.desk.retry_base, svc.desk.retry_max)
    if isinstance(retry_after, dt.timedelta):
        delay = max(delay, retry_after.total_seconds())
    elif isinstance(retry_after, (int, float)):
        delay = max(delay, float(retry_after))
    await svc.storage.postpone(item.id, attempts, utc_now() + dt.timedelta(seconds=delay))
    log.warning(
        "ticket #%d: delivery to the %s failed (%s, attempt %d); retrying in %.0f s",
        item.ticket_id,
        item.target,
        why,
        attempts,
        delay,
    )
    _schedule(application, item.ticket_id, item.target, delay)


def _schedule(application: App, ticket_id: int, target: str, delay: float) -> None:
    queue = application.job_queue
    if queue is None:
        return
    name = f"outbox:{ticket_id}:{target}"
    for job in queue.get_jobs_by_name(name):
        job.schedule_removal()
    queue.run_once(_retry_job, when=max(0.0, delay), data=(ticket_id, target), name=name)


async def _retry_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    job = context.job
    assert job is not None  # the JobQueue always passes the job to its callback
    ticket_id, target = cast(tuple[int, str], job.data)  # as _schedule stores it
    await flush(context.application, ticket_id, target)


def _topic_gone(exc: BadRequest) -> bool:
    message = exc.message.lower()
    return any(words in message for words in _TOPIC_GONE)


async def _deliver(bot: Bot, svc: Services, chat_id: int, ticket: Ticket, item: OutboxItem) -> None:
    """One delivery (``chat_id``: the volunteers' group); raises TelegramError when Telegram refuses it."""
    desk, payload, kind = svc.desk, item.payload, item.payload.get("kind")
    now = utc_now()
    # what ``Storage.delivered`` records: (ticket, direction, user message id, group message id)
    relay: tuple[int, str, int | None, int | None] | None = None
    if item.target == "user":
        if kind == "copy":
            copied = await bot.copy_message(
                ticket.user_id, chat_id, payload["message_id"], read_timeout=desk.send_timeout
            )
            relay = (ticket.id, "to_user", copied.message_id, payload["message_id"])
            await svc.storage.delivered(item.id, now, relay, first_reply=True)
        else:  # "screen"
            sent = await send_screen(bot, ticket.user_id, _screen(payload), read_timeout=desk.send_timeout)
            relay = (ticket.id, "to_user", sent.message_id, None) if payload.get("reply") else None
            await svc.storage.delivered(item.id, now, relay, first_reply=bool(payload.get("reply")))
        return
    if kind == "open":
        await _open(bot, svc, chat_id, ticket, payload)
        await svc.storage.delivered(item.id, now)
        return
    if kind == "mention":
        if desk.mode == "forum":
            fresh = await svc.storage.ticket(ticket.id) or ticket
            screen = svc.renderer.urgent_mention(
                desk.lang,
                name=escalation.topic_name(ticket.id, ticket.lang, True),
                waited=escalation.format_wait((now - ticket.created_at).total_seconds()),
                link=escalation.topic_link(chat_id, fresh.topic_id),
            )
            await send_screen(bot, chat_id, screen, read_timeout=desk.send_timeout)
        await svc.storage.delivered(item.id, now)
        return
    if (desk.mode == "forum" and ticket.topic_id is None) or ticket.header_message_id is None:
        since = ticket.created_at.isoformat()
        reopened = desk.mode == "forum" and ticket.topic_id is None
        ticket = await _open(
            bot,
            svc,
            chat_id,
            ticket,
            {"kind": "open", "questions": [], "guesses": [], "entry": "", "since": since},
            reopened=reopened,
        )
    thread = ticket.topic_id if desk.mode == "forum" else None
    header = ticket.header_message_id  # set by _open above when it was missing
    reply = (
        ReplyParameters(header, allow_sending_without_reply=True)
        if desk.mode == "plain" and header is not None
        else None
    )
    if kind == "text":
        sent = await bot.send_message(
            chat_id,
            payload["text"],
            message_thread_id=thread,
            reply_parameters=reply,
            link_preview_options=_NO_PREVIEW,
            read_timeout=desk.send_timeout,
        )
        relay = (ticket.id, "to_group", payload["user_message_id"], sent.message_id)
    elif kind == "copy":
        copied = await bot.copy_message(
            chat_id,
            ticket.user_id,
            payload["message_id"],
            caption=payload.get("caption"),
            message_thread_id=thread,
            reply_parameters=reply,
            read_timeout=desk.send_timeout,
        )
        relay = (ticket.id, "to_group", payload["message_id"], copied.message_id)
    elif kind == "note":
        await send_screen(
            bot,
            chat_id,
            Screen(payload["html"], ""),
            thread_id=thread,
            reply_to=ticket.header_message_id if reply else None,
            read_timeout=desk.send_timeout,
        )
    elif kind == "close_topic" and desk.mode == "forum" and thread is not None:
        await _ignore_not_modified(bot.close_forum_topic(chat_id, thread))
    elif kind == "rename" and desk.mode == "forum" and thread is not None:
        await _ignore_not_modified(
            bot.edit_forum_topic(chat_id, thread, name=escalation.topic_name(ticket.id, ticket.lang, ticket.urgent))
        )
    await svc.storage.delivered(item.id, now, relay)


async def _open(
    bot: Bot, svc: Services, chat_id: int, ticket: Ticket, payload: dict[str, Any], *, reopened: bool = False
) -> Ticket:
    """Create the ticket's topic (forum mode) and post its header, each step at most once
    (their ids are stored as soon as Telegram returns them)."""
    desk = svc.desk
    name = escalation.topic_name(ticket.id, ticket.lang, ticket.urgent)
    if desk.mode == "forum" and ticket.topic_id is None:
        topic = await bot.create_forum_topic(
            chat_id, name, icon_color=escalation.icon_color(ticket.urgent), read_timeout=desk.send_timeout
        )
        await svc.storage.update_ticket(ticket.id, topic_id=topic.message_thread_id)
        ticket = await svc.storage.ticket(ticket.id) or ticket
    if ticket.header_message_id is None:
        since = dt.datetime.fromisoformat(payload.get("since") or ticket.created_at.isoformat())
        header = svc.renderer.ticket_header(
            desk.lang,
            name=name,
            user_lang=ticket.lang,
            waited=escalation.format_wait((utc_now() - since).total_seconds()),
            questions=payload.get("questions") or [],
            guesses=[(e, s) for e, s in payload.get("guesses") or []],
            entry_id=payload.get("entry") or "",
            plain=desk.mode == "plain",
            reopened=reopened,
            howto=not desk.howto_pinned,
        )
        sent = await send_screen(
            bot,
            chat_id,
            header,
            thread_id=ticket.topic_id if desk.mode == "forum" else None,
            read_timeout=desk.send_timeout,
        )
        await svc.storage.update_ticket(ticket.id, header_message_id=sent.message_id)
        ticket = await svc.storage.ticket(ticket.id) or ticket
        log.info(
            "ticket #%d: %s for the volunteers",
            ticket.id,
            "topic and header ready" if desk.mode == "forum" else "header posted",
        )
    return ticket


async def _ignore_not_modified(call: Any) -> None:
    try:
        await call
    except BadRequest as exc:
        if "not_modified" not in exc.message.lower().replace(" ", "_"):
            raise


def _screen(payload: dict[str, Any]) -> Screen:
    rows = tuple(
        tuple(Button(b["label"], b.get("data") or "", b.get("url") or "") for b in row)
        for row in payload.get("buttons") or []
    )
    return Screen(payload["html"], payload.get("plain", ""), rows)


class _Timeouts(TypedDict, total=False):
    read_timeout: float


async def send_screen(
    bot: Bot,
    chat_id: int,
    screen: Screen,
    *,
    thread_id: int | None = None,
    reply_to: int | None = None,
    read_timeout: float | None = None,
) -> Message:
    """Send ``screen`` as HTML (split at 4,096 characters, buttons on the last part); return
    the last message sent. ``read_timeout``: seconds to wait for Telegram's answer (None: the
    application's default)."""
    # Left out rather than None: None would mean "wait forever", not "the default".
    timeouts: _Timeouts = {} if read_timeout is None else {"read_timeout": read_timeout}
    chunks = screen.chunks()
    sent: Message | None = None
    for number, chunk in enumerate(chunks, 1):
        last = number == len(chunks)
        sent = await bot.send_message(
            chat_id,
            chunk,
            parse_mode=ParseMode.HTML,
            message_thread_id=thread_id,
            link_preview_options=_NO_PREVIEW,
            reply_markup=keyboards.markup(screen.buttons) if last else None,
            reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True)
            if reply_to and number == 1
            else None,
            **timeouts,
        )
    assert sent is not None
    return sent


# -- closing ---------------------------------------------------------------------------------


async def close(application: App, ticket: Ticket, reason: str) -> bool:
    """Close ``ticket`` and tell whoever must know. ``reason``: "volunteer" (/close: the user is
    thanked and asked whether it helped), "user" (/cancel) or "blocked" (403 from the user).
    False when it was already closed."""
    svc = services(application)
    lang = svc.desk.lang
    note = {"volunteer": "closed", "user": "cancelled", "blocked": "blocked"}[reason]
    deliveries: list[tuple[str, dict[str, Any]]] = [
        ("group", note_payload(svc.renderer.desk_note(lang, note))),
        ("group", {"kind": "close_topic"}),
    ]
    if reason == "volunteer":
        deliveries.append(("user", screen_payload(svc.renderer.ticket_closed(ticket.lang))))
    closed = await svc.storage.close_ticket(ticket.id, utc_now(), deliveries)
    if closed:
        log.info("ticket #%d closed (%s; user %s)", ticket.id, reason, hash_user(ticket.user_id, svc.settings.log_salt))
        await flush(application, ticket.id, "group")
        if reason == "volunteer":
            await flush(application, ticket.id, "user")
    return closed


async def _user_blocked(application: App, ticket: Ticket) -> None:
    svc = services(application)
    await svc.storage.set_inactive(ticket.user_id)
    await svc.storage.drop_outbox_of(ticket.id, "user")
    if not await close(application, ticket, "blocked"):
        log.info("ticket #%d: the user blocked the bot after it was closed", ticket.id)


# -- who is a volunteer ----------------------------------------------------------------------


async def is_volunteer(application: App, message: Message) -> bool:
    """The sender is a member of the volunteers' group (getChatMember, cached for a while).
    An anonymous admin writing as the group counts."""
    desk: Desk = services(application).desk
    if message.sender_chat is not None:
        return message.sender_chat.id == desk.chat_id
    user = message.from_user
    if user is None or user.is_bot or desk.chat_id is None:
        return False
    return await is_member(application, user.id)


async def is_member(application: App, user_id: int) -> bool:
    """``user_id`` is a member of the volunteers' group (getChatMember, cached for a while)."""
    desk: Desk = services(application).desk
    if desk.chat_id is None:
        return False
    now = time.monotonic()
    known = desk.known_member(user_id, now)
    if known is not None:
        return known
    try:
        member = await application.bot.get_chat_member(desk.chat_id, user_id)
    except TelegramError as exc:
        log.warning("could not check a volunteer's membership (%s)", type(exc).__name__)
        return False
    allowed = member.status in VOLUNTEER_STATUSES
    desk.remember_member(user_id, allowed, now)
    return allowed
