"""The volunteers' group side: thin python-telegram-bot callbacks.

Registered only for ``VOLUNTEER_CHAT_ID``: nothing from any other chat reaches a user. In a
ticket's topic (or, in a group without topics, in reply to a ticket's message) whatever a
volunteer writes is copied to the person as the bot, without the volunteer's name; messages
starting with "!" and /note stay in the group. Only members of the group (``relay.is_volunteer``:
not someone who left, was banned or is restricted) are relayed and may use the commands:
/close, /kb <id> and /lang <es|ht|en> in a ticket, /queue and /stats anywhere. A stranger's
message is not copied and gets no answer.

After /close the bot asks in the topic what the ticket was about (the topic titles as buttons,
and "none of these"): the volunteer's answer turns the person's masked questions into
candidate phrasings of that topic, or off-topic examples (``bot.core.learning``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time

from rapidfuzz import fuzz, process
from telegram import CallbackQuery, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.core import escalation
from bot.core.domain import Ticket, utc_now
from bot.core.langs import LANG_NAMES, LANGS
from bot.telegram import keyboards, relay
from bot.telegram.outbox import outbox_of
from bot.telegram.services import Services, find_group_ticket, services
from bot.ui import callbacks
from bot.ui.render import Screen

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE

# The handlers here are registered for new messages in the volunteers' group, so an update always
# has a message; python-telegram-bot types it as optional: without one, nothing is done.


async def _say(update: Update, context: Context, screen: Screen) -> None:
    """Answer a volunteer where they wrote (same topic, as a reply)."""
    message = update.effective_message
    if message is None:
        return
    thread = message.message_thread_id if message.is_topic_message else None
    await outbox_of(context.application).send(message.chat_id, screen, thread_id=thread, reply_to=message.message_id)


async def _ticket(svc: Services, message: Message) -> Ticket | None:
    reply = message.reply_to_message
    return await find_group_ticket(
        svc.storage,
        svc.desk,
        thread_id=message.message_thread_id,
        is_topic_message=bool(message.is_topic_message),
        reply_to=reply.message_id if reply is not None and reply.forum_topic_created is None else None,
    )


async def _volunteer(update: Update, context: Context) -> Services | None:
    """The services, if the desk is up and the sender is a member of the volunteers' group."""
    svc, message = services(context), update.effective_message
    if message is None or not svc.desk.available or not await relay.is_volunteer(context.application, message):
        return None
    return svc


async def _open_ticket_here(update: Update, context: Context) -> tuple[Services, Ticket] | None:
    """For /close, /kb, /lang: the open ticket of this topic (or reply chain), else say why not."""
    svc, message = await _volunteer(update, context), update.effective_message
    if svc is None or message is None:
        return None
    ticket = await _ticket(svc, message)
    if ticket is None:
        await _say(update, context, svc.renderer.desk_note(svc.desk.lang, "not_ticket"))
        return None
    if not ticket.is_open:
        await _say(update, context, svc.renderer.desk_note(svc.desk.lang, "is_closed"))
        return None
    return svc, ticket


# -- messages --------------------------------------------------------------------------------


async def relay_to_user(update: Update, context: Context) -> None:
    """Copy a volunteer's message in a ticket to the person (as the bot); "!" notes stay here."""
    svc, message = services(context), update.effective_message
    if message is None:
        return
    sender = message.from_user
    if not svc.desk.available or escalation.is_internal(message.text or message.caption):
        return
    if message.sender_chat is not None and message.sender_chat.id != svc.desk.chat_id:
        return  # a linked channel's post, not a volunteer
    if message.sender_chat is None and (sender is None or sender.is_bot):
        return
    ticket = await _ticket(svc, message)
    if ticket is None:
        return
    if not await relay.is_volunteer(context.application, message):
        # someone who is not (or no longer) a member: nothing is copied, nothing is said
        log.info("ticket #%d: a message from a non-member of the volunteers' group was not relayed", ticket.id)
        return
    if not ticket.is_open:
        await _say(update, context, svc.renderer.desk_note(svc.desk.lang, "is_closed"))
        return
    await relay.to_user(context.application, ticket, {"kind": "copy", "message_id": message.message_id})


async def member_left(update: Update, context: Context) -> None:
    """Someone left or was removed from the volunteers' group: they stop counting as a volunteer
    now, not when their cached membership expires."""
    message = update.effective_message
    left = message.left_chat_member if message is not None else None
    if left is not None:
        services(context).desk.remember_member(left.id, False, time.monotonic())


# -- commands in a ticket --------------------------------------------------------------------


async def close(update: Update, context: Context) -> None:
    """/close: close the ticket and its topic; the person is thanked and asked if it helped.
    Then the volunteers are asked what it was about (when the person asked something)."""
    found = await _open_ticket_here(update, context)
    if found is None:
        return
    svc, ticket = found
    await relay.close(context.application, ticket, "volunteer", await _label_prompt(svc, ticket))


async def _label_prompt(svc: Services, ticket: Ticket) -> list[Screen]:
    """ "What was this about?" with the bot's best guesses, every topic and "none of these"
    (posted in the topic before it closes; nothing when the person asked nothing)."""
    questions = await svc.storage.ticket_questions(ticket.id)
    if not questions:
        return []
    guesses = [g.entry_id for g in escalation.best_guesses(svc.engine, questions, ticket.lang)]
    return [svc.renderer.label_prompt(svc.desk.lang, ticket.id, questions, guesses)]


def _query(update: Update) -> CallbackQuery:
    query = update.callback_query
    assert query is not None  # CallbackQueryHandler only passes updates that have a callback_query
    return query


async def label(update: Update, context: Context) -> None:
    """A button of "What was this about?": store the label (once per ticket), or show every topic."""
    svc, query = services(context), _query(update)
    message = query.message
    pressed = callbacks.decode(query.data)
    if (
        pressed is None
        or not isinstance(message, Message)
        or message.chat.id != svc.desk.chat_id
        or not await relay.is_member(context.application, query.from_user.id)
    ):
        await query.answer()
        return
    await query.answer()
    number, choice = pressed.arg.split(".", 1)
    ticket = await svc.storage.ticket(int(number))
    lang = svc.desk.lang
    if choice == "+":
        questions = await svc.storage.ticket_questions(ticket.id) if ticket is not None else []
        screen = svc.renderer.label_prompt(lang, int(number), questions, [], every_topic=True)
        if questions:
            with contextlib.suppress(BadRequest):  # unchanged, or too old to edit
                await message.edit_reply_markup(keyboards.markup(screen.buttons))
            return
        screen = svc.renderer.label_done(lang, None, 0, already=True)
    elif ticket is None or ticket.is_open:  # gone with its retention (or not closed: no label yet)
        screen = svc.renderer.label_done(lang, None, 0, already=True)
    else:
        entry_id = None if choice == "-" else choice
        questions = await svc.storage.take_ticket_questions(ticket.id)
        if not questions:
            screen = svc.renderer.label_done(lang, None, 0, already=True)
        else:
            kept = await svc.label(ticket, entry_id, questions)
            log.info("ticket #%d labelled: %d candidate phrasing(s)", ticket.id, kept)
            screen = svc.renderer.label_done(lang, entry_id, kept)
    with contextlib.suppress(BadRequest):  # too old to edit: the label is stored anyway
        await message.edit_text(screen.html, parse_mode=ParseMode.HTML, reply_markup=None)


async def kb(update: Update, context: Context) -> None:
    """/kb <id>: send that knowledge-base answer to the person, in their language."""
    found = await _open_ticket_here(update, context)
    if found is None:
        return
    svc, ticket = found
    entry_id = (context.args or [""])[0].strip().lower()
    entry = svc.engine.kb.get(entry_id)
    if not entry_id:
        await _say(update, context, svc.renderer.desk_note(svc.desk.lang, "kb_usage"))
        return
    if entry is None:
        ids = [e.id for e in svc.engine.kb]
        close_ids = [
            match
            for match, _score, _key in process.extract(entry_id, ids, scorer=fuzz.WRatio, limit=3, score_cutoff=50)
        ]
        await _say(
            update,
            context,
            svc.renderer.desk_note(svc.desk.lang, "kb_unknown", id=entry_id, ids=", ".join(close_ids) or "-"),
        )
        return
    await relay.to_user(
        context.application,
        ticket,
        relay.screen_payload(svc.renderer.answer(entry, ticket.lang, person=False), reply=True),
    )
    title = svc.renderer.title(entry, svc.desk.lang)
    await _say(
        update,
        context,
        svc.renderer.desk_note(svc.desk.lang, "kb_sent", title=title, id=entry.id, language=LANG_NAMES[ticket.lang]),
    )


async def lang(update: Update, context: Context) -> None:
    """/lang <es|ht|en>: the language the person is written to in (and the topic's name)."""
    found = await _open_ticket_here(update, context)
    if found is None:
        return
    svc, ticket = found
    code = (context.args or [""])[0].strip().lower()
    if code not in LANGS:
        await _say(update, context, svc.renderer.desk_note(svc.desk.lang, "lang_usage"))
        return
    if code != ticket.lang:  # the same language: nothing to rename (Telegram would refuse it)
        await svc.storage.update_ticket(ticket.id, lang=code)
        await svc.storage.set_language(ticket.user_id, code, chosen=True)
        await relay.to_group(context.application, ticket, {"kind": "rename"})
    await _say(update, context, svc.renderer.desk_note(svc.desk.lang, "lang_set", language=LANG_NAMES[code]))


# -- commands for the whole desk -------------------------------------------------------------


async def queue(update: Update, context: Context) -> None:
    """/queue: open tickets, urgent first, then the longest waiting."""
    svc = await _volunteer(update, context)
    if svc is None:
        return
    now = utc_now()
    rows = [
        (
            escalation.topic_name(t.id, t.lang, t.urgent),
            escalation.format_wait((now - t.created_at).total_seconds()),
            escalation.topic_link(svc.desk.chat_id, t.topic_id),
        )
        for t in escalation.queue_order(await svc.storage.open_tickets())
    ]
    await _say(update, context, svc.renderer.queue(svc.desk.lang, rows))


async def stats(update: Update, context: Context) -> None:
    """/stats: tickets opened and closed, median time to first reply, over 7 and 30 days."""
    svc = await _volunteer(update, context)
    if svc is None:
        return
    now = utc_now()
    rows = await svc.storage.ticket_rows(now - dt.timedelta(days=30))
    windows = []
    for days in (7, 30):
        found = escalation.window_stats(rows, now, days)
        median = escalation.format_wait(found.median_first_reply) if found.median_first_reply is not None else None
        windows.append((days, found.opened, found.closed, median, found.helped, found.not_helped))
    await _say(update, context, svc.renderer.desk_stats(svc.desk.lang, windows, len(await svc.storage.open_tickets())))
