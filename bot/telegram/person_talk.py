"""The private-chat side of talking to a person: thin python-telegram-bot callbacks.

"Talk to a person" (/human or the button) shows the consent screen; only the user's "yes"
opens a ticket. While it is open, everything the user sends goes to the volunteers (text with
identifiers masked, photos and files only after a warning) and the bot does not answer on its
own; /cancel or the button closes it. The decisions live in ``bot.core.escalation``, the sending in
``bot.telegram.relay``, the wording in ``bot.ui.render``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import CallbackQuery, Message, Update, User
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.core import escalation
from bot.core.domain import Ticket, utc_now
from bot.telegram import keyboards, relay
from bot.telegram.logs import hash_user
from bot.telegram.outbox import outbox_of
from bot.telegram.services import Services, open_ticket, services
from bot.ui import callbacks
from bot.ui.i18n import _
from bot.ui.render import CAPTION_LIMIT, MESSAGE_LIMIT, Screen, split_message

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE

# python-telegram-bot types every part of an update as optional. The message handlers here are
# registered for private chats, where a message always has a sender and a chat: when one is
# missing all the same, the handler returns without answering.


def _query(update: Update) -> CallbackQuery:
    """The pressed button's callback query (for the callbacks registered with a CallbackQueryHandler)."""
    query = update.callback_query
    assert query is not None  # CallbackQueryHandler only passes updates that have a callback_query
    return query


async def _lang(svc: Services, user: User) -> str:
    return await svc.lang_of(user.id, user.language_code)


async def _show(update: Update, context: Context, screen: Screen, *, reply_to: int | None = None) -> None:
    """Queue ``screen`` for the update's chat; the outbox sends it."""
    chat = update.effective_chat
    if chat is None:  # nowhere to answer (e.g. a button under an inline message)
        return
    await outbox_of(context.application).send(chat.id, screen, reply_to=reply_to)


async def _replace(update: Update, context: Context, screen: Screen) -> None:
    """Show ``screen`` in place of the message whose button was pressed (else send it)."""
    message = _query(update).message
    if isinstance(message, Message) and len(screen.chunks()) == 1:
        try:
            await message.edit_text(
                screen.html, parse_mode=ParseMode.HTML, reply_markup=keyboards.markup(screen.buttons)
            )
            return
        except TelegramError:  # too old, unchanged or a fault: the outbox sends it instead
            pass
    await _show(update, context, screen)


def _arg(update: Update) -> str:
    pressed = callbacks.decode(_query(update).data)
    return pressed.arg if pressed else ""


# -- asking for a person ---------------------------------------------------------------------


async def ask_for_person(update: Update, context: Context, entry_id: str = "") -> None:
    """Show the consent screen (or the open request, or how to find help without volunteers)."""
    svc, user = services(context), update.effective_user
    if user is None:
        return
    lang = await _lang(svc, user)
    if not svc.desk.available:
        await _show(update, context, svc.renderer.human_unavailable(lang))
        return
    if await svc.storage.open_ticket_of(user.id) is not None:
        await _show(update, context, svc.renderer.ticket_already_open(lang))
        return
    svc.desk.pending[user.id] = entry_id
    await _show(update, context, svc.renderer.consent(lang, svc.desk.reply_hours))


async def consent(update: Update, context: Context) -> None:
    """The answer to the consent screen: "yes" opens a ticket, "no" sends nothing."""
    svc, query = services(context), _query(update)
    user = query.from_user  # the update's effective_user
    lang = await _lang(svc, user)
    await query.answer()
    entry_id = svc.desk.pending.pop(user.id, "")
    if _arg(update) != "yes":
        await _replace(update, context, svc.renderer.consent_declined(lang))
        return
    await _open_request(update, context, svc, user.id, lang, entry_id, _replace)


async def urgent_yes(update: Update, context: Context) -> None:
    """One tap under an urgent answer (ICE at the door, detention, removal): that message carried
    the consent question, so the request opens now, urgent; the steps stay on screen."""
    svc, query = services(context), _query(update)
    user = query.from_user  # the update's effective_user
    lang = await _lang(svc, user)
    await query.answer()
    message = query.message
    if isinstance(message, Message):  # the answer stays; its "yes" button goes
        with contextlib.suppress(BadRequest):
            await message.edit_reply_markup(reply_markup=keyboards.without_actions(message.reply_markup, {"u"}))
    await _open_request(update, context, svc, user.id, lang, _arg(update), _show)


async def _open_request(
    update: Update,
    context: Context,
    svc: Services,
    user_id: int,
    lang: str,
    entry_id: str,
    show: Callable[[Update, Context, Screen], Awaitable[None]],
) -> None:
    """Open the person's request (after their consent) and hand the header to the volunteers."""
    if not svc.desk.available:
        await show(update, context, svc.renderer.human_unavailable(lang))
        return
    ticket, new = await open_ticket(svc.storage, svc.engine, svc.desk, user_id, lang, entry_id, utc_now())
    if not new:
        await show(update, context, svc.renderer.ticket_already_open(lang))
        return
    log.info(
        "ticket #%d opened (user %s, %s%s)",
        ticket.id,
        hash_user(user_id, svc.settings.log_salt),
        lang,
        ", urgent" if ticket.urgent else "",
    )
    await show(update, context, svc.renderer.ticket_opened(lang, svc.desk.reply_hours))
    relay.kick(context.application, ticket.id, "group")


# -- while a ticket is open ------------------------------------------------------------------


async def while_open(update: Update, context: Context) -> None:
    """Runs before the other handlers: with an open ticket, relay the message to the volunteers
    and stop there; otherwise remember the question (for a ticket's header) and go on."""
    svc, user, message = services(context), update.effective_user, update.effective_message
    if user is None or message is None or not svc.desk.available:
        return
    ticket = await svc.storage.open_ticket_of(user.id)
    if ticket is None:
        if message.text:
            svc.desk.recent.add(user.id, message.text, utc_now())
        return
    await relay_message(update, context, ticket, message)
    raise ApplicationHandlerStop


async def relay_message(
    update: Update, context: Context, ticket: Ticket, message: Message, *, confirmed: bool = False
) -> None:
    """Send one of the user's messages to the ticket's topic, as ``escalation.plan_user_message`` decides."""
    svc = services(context)
    plan = escalation.plan_user_message(
        text=message.text,
        caption=message.caption,
        share=ticket.share_identifiers,
        confirmed=confirmed,
        document_like=bool(message.photo or message.document or message.contact),
    )
    if plan.action == "warn":
        await _show(update, context, svc.renderer.document_warning(ticket.lang), reply_to=message.message_id)
        return
    if not ticket.urgent and svc.desk.urgent_words.match(message.text or message.caption or ""):
        await _make_urgent(context, ticket)
    radar = svc.engine.model.scam  # rules + classifier, the same radar as for questions
    hit = radar.check(message.text or message.caption or "", ticket.lang) if radar is not None else None
    if hit is not None:  # scam radar: warn the user at once and mark the topic for the volunteers
        await _show(update, context, svc.renderer.scam_warning(ticket.lang), reply_to=message.message_id)
        await relay.to_group(
            context.application,
            ticket,
            relay.note_payload(svc.renderer.desk_note(svc.desk.lang, "scam", rule=hit.rule)),
        )
    for payload in relay_payloads(plan, message.message_id):
        await relay.to_group(context.application, ticket, payload)
    if plan.masked and await svc.storage.offer_identifiers_once(ticket.id):
        await _show(update, context, svc.renderer.identifiers_hidden(ticket.lang))


def relay_payloads(plan: escalation.RelayPlan, message_id: int) -> list[dict[str, Any]]:
    """The group deliveries for one of the person's messages. Masking can make a text longer
    than Telegram allows (4,096 characters) or a caption longer than 1,024: the text is split
    into several messages; the caption is cut and the rest follows as a text."""
    if plan.action == "text":
        return [
            {"kind": "text", "text": part, "user_message_id": message_id}
            for part in split_message(plan.text or "", MESSAGE_LIMIT)
        ]
    caption, rest = plan.caption, ""
    if caption and len(caption) > CAPTION_LIMIT:
        cut = caption.rfind(" ", 0, CAPTION_LIMIT - 1)
        cut = cut if cut > CAPTION_LIMIT // 2 else CAPTION_LIMIT - 1
        caption, rest = caption[:cut] + "…", caption[cut:].strip()
    payloads: list[dict[str, Any]] = [{"kind": "copy", "message_id": message_id, "caption": caption}]
    payloads += [
        {"kind": "text", "text": part, "user_message_id": message_id}
        for part in (split_message(rest, MESSAGE_LIMIT) if rest else [])
    ]
    return payloads


async def _make_urgent(context: Context, ticket: Ticket) -> None:
    svc = services(context)
    await svc.storage.update_ticket(ticket.id, urgent=True)
    log.info("ticket #%d marked urgent (urgent words)", ticket.id)
    for payload in (
        {"kind": "rename"},
        relay.note_payload(svc.renderer.desk_note(svc.desk.lang, "now_urgent")),
        {"kind": "mention"},
    ):
        await relay.to_group(context.application, ticket, payload)


async def document_choice(update: Update, context: Context) -> None:
    """After the document warning: send the photo or file (yes) or not (no)."""
    svc, query = services(context), _query(update)
    lang = await _lang(svc, query.from_user)
    await query.answer()
    ticket = await svc.storage.open_ticket_of(query.from_user.id)
    message = query.message
    held = message.reply_to_message if isinstance(message, Message) else None
    if _arg(update) != "yes":
        await _replace(update, context, svc.renderer.document_sent(lang, False))
        return
    if ticket is None:
        await _replace(update, context, svc.renderer.no_open_request(lang))
        return
    if held is None:
        await _replace(update, context, svc.renderer.expired(lang))
        return
    await relay_message(update, context, ticket, held, confirmed=True)
    await _replace(update, context, svc.renderer.document_sent(ticket.lang, True))


async def share_numbers(update: Update, context: Context) -> None:
    """ "Share my numbers with the volunteer": stop masking identifiers in this ticket."""
    svc, query = services(context), _query(update)
    lang = await _lang(svc, query.from_user)
    await query.answer()
    ticket = await svc.storage.open_ticket_of(query.from_user.id)
    if ticket is None:
        await _replace(update, context, svc.renderer.no_open_request(lang))
        return
    await svc.storage.update_ticket(ticket.id, share_identifiers=True)
    await _replace(update, context, svc.renderer.identifiers_shared(ticket.lang))


async def cancel(update: Update, context: Context) -> None:
    """/cancel or the "Cancel my request" button: close the user's open ticket."""
    svc, user = services(context), update.effective_user
    if user is None:
        return
    lang = await _lang(svc, user)
    if update.callback_query is not None:
        await update.callback_query.answer()
    ticket = await svc.storage.open_ticket_of(user.id)
    svc.desk.pending.pop(user.id, None)
    if ticket is None:
        await _show(update, context, svc.renderer.no_open_request(lang))
        return
    await relay.close(context.application, ticket, "user")
    await _show(update, context, svc.renderer.request_cancelled(ticket.lang))


async def survey(update: Update, context: Context) -> None:
    """The closing question "did the volunteer help?": stored on the user's last ticket."""
    svc, query = services(context), _query(update)
    lang = await _lang(svc, query.from_user)
    ticket = await svc.storage.last_ticket_of(query.from_user.id)
    if ticket is not None and not ticket.is_open and ticket.helpful is None:
        await svc.storage.update_ticket(ticket.id, helpful=_arg(update) == "yes")
    await query.answer(_(lang, "Thank you for your feedback!"))
    message = query.message
    if isinstance(message, Message) and message.reply_markup is not None:
        with contextlib.suppress(BadRequest):  # too old to edit, or already changed: the answer is stored anyway
            await message.edit_reply_markup(None)
