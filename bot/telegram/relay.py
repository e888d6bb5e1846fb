"""Human escalation over the outbox: the volunteers' group, a ticket's deliveries both ways.

A ticket's deliveries are two lanes of the one outbox (``bot.telegram.outbox``): ``("group",
ticket)`` (its topic, or its reply chain in a plain group) and ``("user", ticket)`` (its
person). ``to_group`` / ``to_user`` queue a delivery; this module teaches the outbox how to
make them (``_deliver``: create the topic and header at most once, relay texts and copies,
notes, renames, closing) and what a refusal means (``_refused``):

- the person blocked the bot (403): the ticket is closed with a note for the volunteers;
- the volunteers' group refused the bot (topic creation refused, rights lost, bot removed):
  the deliveries are **kept**, the person is told the truth once, the admins are alerted,
  ``/healthz`` says degraded, and the rights are checked again every ``RECHECK_SECONDS``;
  when they are back, everything kept is delivered (``recheck``);
- the topic was deleted: a new one is opened once;
- anything else Telegram refuses is reported to the volunteers and the person.

``connect()`` runs at start-up: it checks the volunteers' group (forum with "Manage topics",
plain group, or none) and logs one line saying which. No message text and no name is logged;
users appear as salted hashes.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from typing import Any

from telegram import Bot, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, CallbackContext

from bot.core import escalation
from bot.core.domain import OutboxItem, Ticket, load_urgent_words, utc_now
from bot.core.escalation import Desk
from bot.telegram.logs import hash_user
from bot.telegram.outbox import TOPIC_GONE, Kind, outbox_of, payload_screen, screen_payload, send_payload
from bot.telegram.services import Services, services
from bot.ui.render import Screen

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]
#: getChatMember statuses that make someone a volunteer.
VOLUNTEER_STATUSES = frozenset({ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


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
    _install(application)
    if desk.chat_id is not None and not desk.available:
        _watch(application)  # the rights may be granted later: checked again while the bot runs


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


# -- the ticket lanes of the outbox -----------------------------------------------------------


def _install(application: App) -> None:
    """Teach the outbox how to deliver a ticket's messages (lanes "user" and "group")."""
    svc, box = services(application), outbox_of(application)

    async def deliver(item: OutboxItem) -> None:
        ticket = await svc.storage.ticket(item.ticket_id or 0)
        chat_id = svc.desk.chat_id
        if ticket is None or chat_id is None:
            await svc.storage.drop_outbox(item.id)
            return
        await _deliver(application.bot, svc, chat_id, ticket, item)

    async def refused(item: OutboxItem, error: TelegramError) -> bool:
        return await _refused(application, item, error)

    box.kinds["user"] = Kind(deliver, refused)
    box.kinds["group"] = Kind(deliver, refused, ready=lambda: svc.desk.available and svc.desk.reachable)


async def to_group(application: App, ticket: Ticket, payload: dict[str, Any]) -> None:
    """Queue a delivery to the ticket's topic (or reply chain); the outbox sends it. While the
    group refuses the bot, the person is told once that their messages are kept."""
    await outbox_of(application).put(ticket.id, "group", payload)
    if not services(application).desk.reachable:
        await _tell_held(application, ticket)


async def to_user(application: App, ticket: Ticket, payload: dict[str, Any]) -> None:
    """Queue a delivery to the ticket's person; the outbox sends it."""
    await outbox_of(application).put(ticket.id, "user", payload)


def kick(application: App, ticket_id: int, target: str) -> None:
    """Send what a ticket's lane holds (after a transaction that queued deliveries)."""
    outbox_of(application).kick((target, ticket_id))


def note_payload(screen: Screen) -> dict[str, Any]:
    """A note for the volunteers (and its buttons), in the ticket's topic (or reply chain)."""
    return {**screen_payload(screen), "kind": "note"}


#: Telegram's answers when the bot may no longer create topics or post in the volunteers' group.
_RIGHTS_LOST = (
    "not enough rights",
    "chat_admin_required",
    "need administrator rights",
    "have no rights",
    "chat_write_forbidden",
    "chat not found",
    "not a member",
    "was kicked",
)


async def _refused(application: App, item: OutboxItem, error: TelegramError) -> bool:
    """Telegram refused a ticket's delivery (400/403). True: go on with the lane."""
    svc, box = services(application), outbox_of(application)
    ticket = await svc.storage.ticket(item.ticket_id or 0)
    if ticket is None:
        await svc.storage.drop_outbox(item.id)
        return True
    reason = error.message.lower()
    if item.target == "user":
        if isinstance(error, Forbidden):
            await _user_blocked(application, ticket)
            return False
        log.warning(
            "ticket #%d: Telegram refused a delivery to the person (%s); the volunteers are told", ticket.id, reason
        )
        await svc.storage.drop_outbox(item.id)
        await to_group(application, ticket, note_payload(svc.renderer.desk_note(svc.desk.lang, "undelivered")))
        return True
    if isinstance(error, Forbidden) or any(words in reason for words in _RIGHTS_LOST):
        await unreachable(application, reason)
        await _tell_held(application, ticket)
        return False  # kept: sent when the rights are back
    if svc.desk.mode == "forum" and any(words in reason for words in TOPIC_GONE) and not item.payload.get("reopened"):
        log.warning("ticket #%d: its topic is gone; opening a new one", ticket.id)
        await svc.storage.update_ticket(ticket.id, topic_id=None, header_message_id=None)
        item.payload["reopened"] = True
        await svc.storage.progress(item.id, item.payload)
        return True
    log.warning("ticket #%d: Telegram refused a delivery to the group (%s); dropped", ticket.id, reason)
    await svc.storage.drop_outbox(item.id)
    if item.payload.get("kind") in ("text", "copy"):
        await box.put(ticket.id, "group", note_payload(svc.renderer.desk_note(svc.desk.lang, "not_copied")))
        await to_user(application, ticket, screen_payload(svc.renderer.not_delivered(ticket.lang)))
    return True


# -- volunteers unreachable -------------------------------------------------------------------


async def _tell_held(application: App, ticket: Ticket) -> None:
    """Tell the ticket's person, once, that the volunteers cannot be reached for now."""
    svc = services(application)
    if ticket.id not in svc.desk.told_unreachable:
        svc.desk.told_unreachable.add(ticket.id)
        await to_user(application, ticket, screen_payload(svc.renderer.volunteers_unreachable(ticket.lang)))


#: Seconds between checks of the bot's rights in the volunteers' group while it cannot post there.
RECHECK_SECONDS = 10.0
_RECHECK_JOB = "volunteers-recheck"


async def unreachable(application: App, reason: str) -> None:
    """The volunteers' group refused the bot: hold its deliveries, alert the admins once, and
    check the rights again every RECHECK_SECONDS until they are back."""
    svc = services(application)
    desk = svc.desk
    if not desk.reachable:
        return
    desk.reachable, desk.reason = False, f"Telegram refused the bot in the volunteers' group: {reason}"
    log.warning("volunteers: unreachable (%s); deliveries to the group are held", reason)
    for admin in svc.settings.admin_user_ids:
        await outbox_of(application).send(admin, svc.renderer.admin_alert(desk.lang, "unreachable", reason=reason))
    _watch(application)


def _watch(application: App) -> None:
    queue = application.job_queue
    if queue is not None and not queue.get_jobs_by_name(_RECHECK_JOB):
        queue.run_repeating(_recheck_job, interval=services(application).desk.recheck_seconds, name=_RECHECK_JOB)


async def _recheck_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    if await recheck(context.application) and context.job is not None:
        context.job.schedule_removal()


async def recheck(application: App) -> bool:
    """Check the bot's place in the volunteers' group again; when it can work there, deliver
    everything held. True when the volunteers can be reached."""
    svc = services(application)
    desk = svc.desk
    mode, reason = await _detect(application.bot, desk.chat_id)
    if mode == "off":
        if desk.available and desk.reachable:  # lost at runtime: hold the group's deliveries
            await unreachable(application, reason)
        desk.reason = reason
        return False
    was_held = not desk.reachable or not desk.available
    desk.mode, desk.reason, desk.reachable = mode, reason, True
    svc.volunteers = desk.available
    if was_held:
        log.info("volunteers: reachable again (%s mode); delivering what was held", mode)
        for admin in svc.settings.admin_user_ids:
            await outbox_of(application).send(admin, svc.renderer.admin_alert(desk.lang, "reachable"))
        outbox_of(application).kick_all("group")
    return True


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
            sent = await send_screen(bot, ticket.user_id, payload_screen(payload), read_timeout=desk.send_timeout)
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
            payload_screen(payload),
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


async def send_screen(
    bot: Bot,
    chat_id: int,
    screen: Screen,
    *,
    thread_id: int | None = None,
    reply_to: int | None = None,
    read_timeout: float | None = None,
) -> Message:
    """Send ``screen`` now, from an outbox worker (split at 4,096 characters, buttons on the
    last part); return the last message sent."""
    payload = screen_payload(screen)
    payload.update(thread_id=thread_id, reply_to=reply_to)
    return await send_payload(bot, chat_id, payload, read_timeout)


# -- closing ---------------------------------------------------------------------------------


async def close(application: App, ticket: Ticket, reason: str, notes: Sequence[Screen] = ()) -> bool:
    """Close ``ticket`` and tell whoever must know. ``reason``: "volunteer" (/close: the user is
    thanked and asked whether it helped), "user" (/cancel) or "blocked" (403 from the user).
    ``notes``: more for the volunteers (with their buttons), before the topic closes. False when
    it was already closed."""
    svc = services(application)
    lang = svc.desk.lang
    note = {"volunteer": "closed", "user": "cancelled", "blocked": "blocked"}[reason]
    deliveries: list[tuple[str, dict[str, Any]]] = [
        ("group", note_payload(svc.renderer.desk_note(lang, note))),
        *(("group", note_payload(extra)) for extra in notes),
        ("group", {"kind": "close_topic"}),
    ]
    if reason == "volunteer":
        deliveries.append(("user", screen_payload(svc.renderer.ticket_closed(ticket.lang))))
    closed = await svc.storage.close_ticket(ticket.id, utc_now(), deliveries)
    if closed:
        log.info("ticket #%d closed (%s; user %s)", ticket.id, reason, hash_user(ticket.user_id, svc.settings.log_salt))
        kick(application, ticket.id, "group")
        if reason == "volunteer":
            kick(application, ticket.id, "user")
    return closed


async def _user_blocked(application: App, ticket: Ticket) -> None:
    svc = services(application)
    await svc.storage.set_inactive(ticket.user_id)
    await svc.storage.drop_outbox_of(("user", ticket.id))
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
