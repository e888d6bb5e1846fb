"""Thin python-telegram-bot callbacks: read the update, ask ``Services``, send a screen.

No SQL, no parsing and no wording here: the use cases live in ``telegram_app.Services``, the
screens in ``bot.ui.render``, the keyboards in ``bot.telegram.keyboards``. Every message is sent as HTML,
split at 4,096 characters, with its buttons on the last part.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3

from telegram import CallbackQuery, LinkPreviewOptions, Message, Update
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.core.langs import DEFAULT_LANG
from bot.telegram import follow, keyboards, person_talk, privacy, relay, reload
from bot.telegram.logs import hash_user
from bot.telegram.outbox import outbox_of
from bot.telegram.services import Services, services
from bot.ui import callbacks
from bot.ui.i18n import _
from bot.ui.render import Screen

log = logging.getLogger(__name__)

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

Context = ContextTypes.DEFAULT_TYPE

# python-telegram-bot types every part of an update as optional. The message handlers below are
# registered for new messages in private chats, which always have a sender and a chat: when one
# is missing all the same, the handler returns without answering.


def _query(update: Update) -> CallbackQuery:
    """The pressed button's callback query (for the callbacks registered with a CallbackQueryHandler)."""
    query = update.callback_query
    assert query is not None  # CallbackQueryHandler only passes updates that have a callback_query
    return query


# -- sending ---------------------------------------------------------------------------------


async def _send(update: Update, context: Context, screen: Screen, *, reply_to: int | None = None) -> None:
    """Queue ``screen`` for the update's chat (quoting message ``reply_to`` if it still exists):
    the outbox sends it; nothing here waits on Telegram."""
    chat = update.effective_chat
    if chat is None:  # nowhere to answer (e.g. a button under an inline message)
        return
    await outbox_of(context.application).send(chat.id, screen, reply_to=reply_to)


async def _replace(update: Update, context: Context, screen: Screen) -> None:
    """Show ``screen`` in place of the message whose button was pressed (menus), else send it."""
    message = _query(update).message
    if isinstance(message, Message) and len(screen.chunks()) == 1:
        try:
            await message.edit_text(
                screen.html,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboards.markup(screen.buttons),
                link_preview_options=_NO_PREVIEW,
            )
            return
        except TelegramError as exc:  # too old to edit, or a fault: the outbox sends it instead
            if isinstance(exc, BadRequest) and "not modified" in str(exc).lower():
                return
    await _send(update, context, screen)


async def _button(update: Update, context: Context) -> tuple[Services, str, str]:
    """For a button press: the services, the user's language and the button's argument."""
    svc, query = services(context), _query(update)
    user = query.from_user  # the update's effective_user
    lang = await svc.lang_of(user.id, user.language_code)
    pressed = callbacks.decode(query.data)
    return svc, lang, pressed.arg if pressed else ""


async def _drop_feedback(update: Update) -> None:
    """Remove the yes/no buttons from the rated answer (so it is rated once)."""
    message = _query(update).message
    if not isinstance(message, Message):
        return
    remaining = keyboards.without_feedback(message.reply_markup)
    if remaining != message.reply_markup:
        with contextlib.suppress(BadRequest):  # too old to edit, or already changed: the vote is stored anyway
            await message.edit_reply_markup(remaining)


def _question_id(update: Update) -> int | None:
    """The user's question that the pressed message answered, if Telegram still shows it."""
    message = _query(update).message
    quoted = message.reply_to_message if isinstance(message, Message) else None
    return quoted.message_id if quoted is not None else None


def _question_text(update: Update) -> str | None:
    message = _query(update).message
    quoted = message.reply_to_message if isinstance(message, Message) else None
    return quoted.text if quoted is not None else None


# -- commands --------------------------------------------------------------------------------


async def start(update: Update, context: Context) -> None:
    """Greet the user in their language with the disclaimer and the topics (or ask the language)."""
    svc = services(context)
    user = update.effective_user
    if user is None:
        return
    lang = await svc.known_lang(user.id, user.language_code)
    shared = context.args[0] if context.args else ""
    if shared and svc.engine.kb.get(shared) is not None:  # opened from a shared answer card
        screen = await svc.entry(shared, lang or DEFAULT_LANG)
        if screen is not None:
            await _send(update, context, screen)
            return
    await _send(update, context, svc.renderer.welcome(lang) if lang else svc.renderer.language_picker_any())


async def language(update: Update, context: Context) -> None:
    """Show the language picker."""
    svc = services(context)
    user = update.effective_user
    if user is None:
        return
    lang = await svc.known_lang(user.id, user.language_code)
    await _send(update, context, svc.renderer.language_picker(lang) if lang else svc.renderer.language_picker_any())


async def topics(update: Update, context: Context) -> None:
    """Show the categories."""
    svc = services(context)
    user = update.effective_user
    if user is None:
        return
    await _send(update, context, svc.renderer.menu(await svc.lang_of(user.id, user.language_code)))


async def help_command(update: Update, context: Context) -> None:
    """Explain what the bot can do and how to reach a person (also for unknown commands)."""
    svc = services(context)
    user = update.effective_user
    if user is None:
        return
    await _send(update, context, svc.renderer.help(await svc.lang_of(user.id, user.language_code)))


async def human(update: Update, context: Context) -> None:
    """Offer a volunteer (consent first), or explain how to find help when none is connected."""
    await person_talk.ask_for_person(update, context)


# -- messages --------------------------------------------------------------------------------


async def question(update: Update, context: Context) -> None:
    """Answer free text: an answer, suggestions or a person, in the language the user writes in."""
    svc = services(context)
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or message.text is None:
        return
    reply, screen = await svc.ask(user.id, user.language_code, message.text)
    if reply.person:  # "I want to talk to a real person", in any wording: the consent screen
        await person_talk.ask_for_person(update, context)
        return
    await _send(update, context, screen, reply_to=message.message_id)


async def long_message(update: Update, context: Context) -> None:
    """Ask for a shorter question."""
    svc = services(context)
    user = update.effective_user
    if user is None:
        return
    await _send(update, context, svc.renderer.too_long(await svc.lang_of(user.id, user.language_code)))


async def not_text(update: Update, context: Context) -> None:
    """Say that only text can be read (and warn against sending photos of documents)."""
    svc = services(context)
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    lang = await svc.lang_of(user.id, user.language_code)
    screen = svc.renderer.only_text(
        lang,
        documents=bool(message.photo or message.document),
        voice=bool(message.voice or message.video_note or message.audio),
        volunteers=svc.volunteers,
    )
    await _send(update, context, screen)


async def edited(update: Update, context: Context) -> None:
    """Ask the user to send a corrected question again (edits are not answered twice)."""
    svc = services(context)
    user = update.effective_user
    if user is None:
        return
    await _send(update, context, svc.renderer.edited(await svc.lang_of(user.id, user.language_code)))


# -- buttons ---------------------------------------------------------------------------------


async def show_entry(update: Update, context: Context) -> None:
    """Show the answer behind a topic button (quoting the question it came from, if any). A
    topic picked among the bot's suggestions (action "g") also teaches the bot: the question
    becomes a candidate phrasing of that topic."""
    svc, lang, entry_id = await _button(update, context)
    query = _query(update)
    await query.answer()
    screen = await svc.entry(entry_id, lang, query.from_user.id)
    await _send(update, context, screen or svc.renderer.expired(lang), reply_to=_question_id(update))
    pressed = callbacks.decode(query.data)
    if screen is not None and pressed is not None and pressed.action == "g":
        await svc.picked(query.from_user.id, entry_id, lang, _question_text(update))


async def more_options(update: Update, context: Context) -> None:
    """ "More" under an answer: show follow and share in its place (the answer stays as it is)."""
    svc, lang, entry_id = await _button(update, context)
    query = _query(update)
    await query.answer()
    message = query.message
    if not isinstance(message, Message):
        return
    keyboard = keyboards.expanded(message.reply_markup, svc.renderer.more_buttons(entry_id, lang))
    if keyboard != message.reply_markup:
        with contextlib.suppress(BadRequest):  # the message is too old to edit: nothing to do
            await message.edit_reply_markup(reply_markup=keyboard)


async def follow_entry(update: Update, context: Context) -> None:
    """Remember that the user wants this answer again when a maintainer updates it."""
    svc, lang, entry_id = await _button(update, context)
    query = _query(update)
    entry = svc.engine.kb.get(entry_id)
    if entry is None:
        await query.answer()
        await _send(update, context, svc.renderer.expired(lang))
        return
    await svc.storage.follow(query.from_user.id, entry_id, lang, entry.reviewed.isoformat())
    await query.answer(
        _(lang, "Done: if this answer changes, I will send you the new one. /unfollow stops it."), show_alert=True
    )


async def unfollow(update: Update, context: Context) -> None:
    """Stop every "tell me if this changes" subscription of the user."""
    svc = services(context)
    user = update.effective_user
    if user is None:
        return
    lang = await svc.lang_of(user.id, user.language_code)
    count = await svc.storage.unfollow_all(user.id)
    await _send(
        update, context, svc.renderer.notice(_(lang, "Done: you no longer follow any answer ({count}).", count=count))
    )


async def show_category(update: Update, context: Context) -> None:
    """List the entries of a category, in place of the menu."""
    svc, lang, category = await _button(update, context)
    await _query(update).answer()
    await _replace(update, context, svc.renderer.category(category, lang))


async def show_menu(update: Update, context: Context) -> None:
    """Show the categories, in place of the pressed message's menu."""
    svc, lang, _arg = await _button(update, context)
    await _query(update).answer()
    await _replace(update, context, svc.renderer.menu(lang))


async def choose_language(update: Update, context: Context) -> None:
    """Store the chosen language and greet the user in it."""
    svc, _old, lang = await _button(update, context)
    query = _query(update)
    await svc.choose_language(query.from_user.id, lang)
    await query.answer()
    await _send(update, context, svc.renderer.welcome(lang))


async def helpful(update: Update, context: Context) -> None:
    """Record "this helped" (entry, language, day; no user id) and thank the user."""
    svc, lang, entry_id = await _button(update, context)
    await svc.feedback(entry_id, lang, True, None, _query(update).from_user.id)
    await _query(update).answer(_(lang, "Thank you for your feedback!"))
    await _drop_feedback(update)


async def not_helpful(update: Update, context: Context) -> None:
    """Record "this did not help" with the question, then offer other words or a person."""
    svc, lang, entry_id = await _button(update, context)
    await svc.feedback(entry_id, lang, False, _question_text(update), _query(update).from_user.id)
    await _query(update).answer(_(lang, "Thank you for your feedback!"))
    await _drop_feedback(update)
    await _send(update, context, svc.renderer.not_helpful(entry_id, lang))


async def talk_to_person(update: Update, context: Context) -> None:
    """ "Talk to a person" under an answer: the consent screen (or how to find help)."""
    _svc, _lang, entry_id = await _button(update, context)
    await _query(update).answer()
    await person_talk.ask_for_person(update, context, entry_id)


async def expired_button(update: Update, context: Context) -> None:
    """A stale, unknown or tampered button: say so politely and show the topics."""
    svc, lang, _arg = await _button(update, context)
    await _query(update).answer()
    await _send(update, context, svc.renderer.expired(lang))


# -- membership and errors -------------------------------------------------------------------


async def membership(update: Update, context: Context) -> None:
    """Note users who block the bot; leave any group it is added to but the volunteers' chat."""
    svc = services(context)
    change = update.my_chat_member
    assert change is not None  # ChatMemberHandler(MY_CHAT_MEMBER) only passes updates that have one
    status = change.new_chat_member.status
    if change.chat.type == ChatType.PRIVATE:
        if status == ChatMemberStatus.BANNED:
            await svc.storage.set_inactive(change.chat.id)
    elif change.chat.id == svc.settings.volunteer_chat_id:  # promoted, demoted or removed there
        await relay.recheck(context.application)
    elif status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR):
        await context.bot.leave_chat(change.chat.id)


async def on_error(update: object, context: Context) -> None:
    """Log the error class and update id (never text or names) and keep running; a 403 from a
    private chat means the user blocked the bot: mark them inactive."""
    error = context.error
    svc = services(context)
    update_id = update.update_id if isinstance(update, Update) else None
    user = update.effective_user if isinstance(update, Update) else None
    who = hash_user(user.id if user else None, svc.settings.log_salt)
    chat = update.effective_chat if isinstance(update, Update) else None
    if isinstance(error, Forbidden) and user is not None and chat is not None and chat.type == ChatType.PRIVATE:
        log.info("user %s blocked the bot (update %s): marked inactive", who, update_id)
        await svc.storage.set_inactive(user.id)
        return
    if isinstance(error, sqlite3.OperationalError) and context.application.update_processor is not None:
        retry = getattr(context.application.update_processor, "retry_later", None)
        if retry is not None and retry(update):  # a busy or locked database: handled again soon
            return
    quiet = isinstance(error, TelegramError)  # API refusals and network trouble: no traceback
    level = logging.WARNING if isinstance(error, NetworkError) else logging.ERROR
    log.log(
        level,
        "%s while handling update %s (user %s)",
        type(error).__name__,
        update_id,
        who,
        exc_info=None if quiet else error,
    )


# -- privacy, flood control and reload -------------------------------------------------------


async def flood_gate(update: Update, context: Context) -> None:
    """Pre-filter (group -2): past FLOOD_LIMIT messages a minute, tell the user once and let
    nothing through (ApplicationHandlerStop) until the minute has passed."""
    svc = services(context)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != ChatType.PRIVATE:
        return
    if not (update.message or update.edited_message or update.callback_query):
        return  # membership changes (a block) are never dropped
    verdict = svc.flood.check(user.id)
    if verdict == "pass":
        return
    if verdict == "notice":
        log.info("user %s is over the flood limit: paused", hash_user(user.id, svc.settings.log_salt))
        lang = await svc.lang_of(user.id, user.language_code)
        text = _(
            lang, "You are sending messages very fast. Please wait a minute: I will not read what you send until then."
        )
        try:
            await _send(update, context, svc.renderer.notice(text))
        except TelegramError as exc:
            log.warning("flood notice not delivered: %s", type(exc).__name__)
    raise ApplicationHandlerStop


#: Button actions that belong in the volunteers' group (the label of a closed ticket).
GROUP_ACTIONS = frozenset({"v"})


async def private_buttons_only(update: Update, context: Context) -> None:
    """Pre-filter (group -3) for button presses: every button of this bot belongs to a person's
    private chat with it, except the volunteers' label buttons ("what was this about?", action
    ``v``) in the volunteers' group. A press anywhere else (a person's message forwarded into a
    group, the consent "yes" pressed by a volunteer ...) is answered, so the client stops
    waiting, and nothing else happens (ApplicationHandlerStop)."""
    query = update.callback_query
    if query is None:
        return
    message = query.message
    chat = message.chat if message is not None else None
    if chat is not None and chat.type == ChatType.PRIVATE and chat.id == query.from_user.id:
        return
    pressed = callbacks.decode(query.data)
    in_group = chat is not None and chat.id == services(context).settings.volunteer_chat_id
    if in_group and pressed is not None and pressed.action in GROUP_ACTIONS:
        return  # the handler checks that the presser is a member
    log.info(
        "a button pressed outside its private chat (%s, update %s): ignored",
        chat.type if chat is not None else "inline",
        update.update_id,
    )
    with contextlib.suppress(TelegramError):
        await query.answer()
    raise ApplicationHandlerStop


async def forget(update: Update, context: Context) -> None:
    """/forget: ask first (deleting cannot be undone)."""
    svc = services(context)
    user = update.effective_user
    if user is None:
        return
    await _send(update, context, svc.renderer.forget_confirm(await svc.lang_of(user.id, user.language_code)))


async def forget_choice(update: Update, context: Context) -> None:
    """The answer to /forget's question: "yes" deletes everything the bot keeps about the user
    (closing an open ticket first) and confirms in the language they used; "no" keeps it."""
    svc, lang, choice = await _button(update, context)  # the language, before it is deleted
    query = _query(update)
    await query.answer()
    user = query.from_user
    if choice != "yes":
        await _replace(update, context, svc.renderer.forget_kept(lang))
        return
    await privacy.close_ticket_before_forget(context, user.id)
    deleted = await privacy.forget_user(svc.storage, user.id)
    log.info("user %s used /forget: %d row(s) deleted", hash_user(user.id, svc.settings.log_salt), deleted)
    text = _(
        lang,
        "Done: I deleted everything I kept about you (your language and any conversation with a volunteer). If you write again, I start from zero.",
    )
    await _replace(update, context, svc.renderer.notice(text))


async def reload_command(update: Update, context: Context) -> None:
    """Admins: re-read knowledge/; a knowledge base with errors is refused and they are listed."""
    svc = services(context)
    user = update.effective_user
    if user is None:
        return
    result = await reload.reload_knowledge(svc)
    await _send(
        update, context, svc.renderer.notice(reload.report(result, await svc.lang_of(user.id, user.language_code)))
    )
    if result.ok:
        follow.schedule(context.application, 0)  # followers of changed answers get the new one
