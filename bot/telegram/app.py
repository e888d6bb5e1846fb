"""The Telegram side, wired together: ``build_application()`` and ``run()``.

``run(settings)`` loads the knowledge base first (an invalid one stops start-up with its
``file:line`` errors), then builds the application and runs long polling until SIGTERM/SIGINT.
``build_application(settings, services)`` is the composition root: the builder (token,
``base_url`` for a self-hosted Bot API server, rate limiter, lifecycle hooks, concurrency, the
``getUpdates`` connection that skips updates the library cannot read) and every handler,
registered in one ordered block. Tests and benchmarks call it with their own
``Services`` and a fake Bot API server.

The use cases the handlers need live in ``bot.telegram.services`` (``Services``), put in
``bot_data`` here and read by every handler with ``services(context)``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import secrets
import sys
from collections import Counter
from collections.abc import Awaitable
from dataclasses import replace
from typing import Any

from telegram import BotCommand, BotCommandScopeDefault, Message, Update
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.config import ConfigError, Settings, check_webhook, webhook_path
from bot.core import knowledge
from bot.core.domain import utc_now
from bot.core.langs import DEFAULT_LANG, LANGS
from bot.store.storage import Storage, StorageError
from bot.telegram import delivery, follow, health, inline, logs, privacy, reload, updates
from bot.telegram.outbox import Delivery, Outbox
from bot.telegram.services import KnowledgeBaseError, Services
from bot.telegram.services import services as services_of
from bot.ui import callbacks
from bot.ui.i18n import MissingCatalog, _
from bot.ui.render import MESSAGE_LIMIT

log = logging.getLogger(__name__)

#: Seconds the start-up check (getMe) waits for the Bot API.
PREFLIGHT_TIMEOUT = 15.0
#: Retries of a request refused with 429 (each waits the ``retry_after`` Telegram asks for).
MAX_RETRIES = 3
#: Updates processed at the same time (one at a time per chat, see PerChatUpdateProcessor).
CONCURRENT_UPDATES = 64
#: Times an update whose handlers failed on a busy database is handled again (2, 4, 8 ... s apart).
BUSY_RETRIES = 6
#: The update types the bot handles (asked for explicitly in getUpdates / setWebhook).
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "inline_query", "my_chat_member"]


class Inbox(asyncio.Queue[object]):
    """The application's update queue, kept in SQLite until each update is handled.

    python-telegram-bot confirms a batch of updates to Telegram (the next ``getUpdates``
    offset; in webhook mode the HTTP answer) as soon as they are in this queue. ``put`` writes
    each update to the database first, so one fetched but not yet handled when the process
    dies is handled after the restart (``replay``); ``PerChatUpdateProcessor`` deletes it
    once its handlers are done (what they caused is in the database by then: the outbox).
    The row holds the update as Telegram sent it, for seconds; ``/forget`` and retention never
    need to look here."""

    def __init__(self) -> None:
        super().__init__()
        self.storage: Storage | None = None  # set in post_init, once the database is open

    async def put(self, item: object) -> None:
        if isinstance(item, Update) and self.storage is not None:
            try:
                user = item.effective_user
                payload = json.dumps(item.to_dict())
                if not await self.storage.inbox_add(item.update_id, user.id if user else None, payload, utc_now()):
                    log.info("update %s was fetched before: not handled twice", item.update_id)
                    return
            except Exception as exc:  # a locked or broken database: still handle the update now
                log.warning("update %s not kept in the inbox (%s)", item.update_id, type(exc).__name__)
        await super().put(item)

    async def replay(self, bot: Any) -> int:
        """Queue the updates kept from before a restart; return how many."""
        assert self.storage is not None
        await self.storage.inbox_purge(utc_now() - dt.timedelta(days=1))
        kept = await self.storage.inbox()
        for update_id, payload in kept:
            try:
                update = Update.de_json(json.loads(payload), bot)
            except Exception as exc:  # unreadable: drop it rather than block the others
                log.warning("update %s from the inbox dropped (%s)", update_id, type(exc).__name__)
                await self.storage.inbox_done(update_id)
                continue
            await super().put(update)
        if kept:
            log.info("inbox: %d update(s) fetched before the restart handled now", len(kept))
        return len(kept)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Many chats at once, but each chat's updates one at a time and in order (so a language
    choice is stored before the next question of the same person is answered). When an
    update's handlers are done it leaves the inbox; one that failed because the database was
    busy is handled again a little later (``retry_later``), up to ``BUSY_RETRIES`` times."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: Counter[int] = Counter()
        self.inbox: Inbox | None = None
        self.outbox: Outbox | None = None
        self._retry: set[int] = set()
        self._tries: Counter[int] = Counter()
        self._later: set[asyncio.Task[None]] = set()

    def retry_later(self, update: object) -> bool:
        """Handle ``update`` again after a pause (its handlers failed on a busy database);
        False when it was tried too often."""
        if not isinstance(update, Update) or self._tries[update.update_id] >= BUSY_RETRIES:
            return False
        self._retry.add(update.update_id)
        return True

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        token = Outbox.begin()  # what the handlers queue is written with the update's removal
        try:
            if chat is None:
                await coroutine
                return
            lock = self._locks.setdefault(chat.id, asyncio.Lock())
            self._users[chat.id] += 1
            try:
                async with lock:
                    await coroutine
            finally:
                self._users[chat.id] -= 1
                if not self._users[chat.id]:  # nobody waiting: forget the chat (memory stays flat)
                    del self._users[chat.id], self._locks[chat.id]
        finally:
            deliveries = Outbox.end(token)
            if isinstance(update, Update):
                await self._done(update, deliveries)
            elif deliveries and self.outbox is not None:
                await self.outbox.commit(deliveries, None)

    async def _done(self, update: Update, deliveries: list[Delivery]) -> None:
        update_id = update.update_id
        if update_id not in self._retry and self.outbox is not None:
            try:  # what the update caused, and its removal from the inbox: one transaction
                await self.outbox.commit(deliveries, update_id)
                self._tries.pop(update_id, None)
                return
            except Exception as exc:  # a busy database: the update is handled again
                log.warning("update %s: its replies could not be written (%s)", update_id, type(exc).__name__)
                if not self.retry_later(update):
                    return
        if update_id in self._retry:
            self._retry.discard(update_id)
            self._tries[update_id] += 1
            delay = min(30.0, 2.0 * 2 ** (self._tries[update_id] - 1))
            log.warning("update %s: the database was busy; handled again in %.0f s", update_id, delay)
            task = asyncio.get_running_loop().create_task(self._again(update, delay))
            self._later.add(task)
            task.add_done_callback(self._later.discard)
            return
        self._tries.pop(update_id, None)
        if self.inbox is not None and self.inbox.storage is not None:
            try:
                await self.inbox.storage.inbox_done(update_id)
            except Exception as exc:  # kept: handled again after a restart (a duplicate, not a loss)
                log.warning("update %s not removed from the inbox (%s)", update_id, type(exc).__name__)

    async def _again(self, update: Update, delay: float) -> None:
        await asyncio.sleep(delay)
        if self.inbox is not None:
            await asyncio.Queue.put(self.inbox, update)  # already kept in the inbox

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


class _LongText(filters.MessageFilter):
    """Text longer than one Telegram message."""

    def filter(self, message: Message) -> bool:
        return message.text is not None and len(message.text) > MESSAGE_LIMIT


#: Messages that are not text (the bot says it only reads text).
NOT_TEXT = (
    filters.Sticker.ALL
    | filters.PHOTO
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.ANIMATION
    | filters.Document.ALL
    | filters.LOCATION
    | filters.VENUE
    | filters.CONTACT
    | filters.POLL
    | filters.Dice.ALL
)


def _pressed(action: str):
    """A CallbackQueryHandler pattern: a valid, current payload with this action."""

    def check(data: object) -> bool:
        decoded = callbacks.decode(data if isinstance(data, str) else None)
        return decoded is not None and decoded.action == action

    return check


def commands(lang: str) -> list[BotCommand]:
    """The command menu in ``lang``."""
    return [
        BotCommand("start", _(lang, "Start and show the topics")),
        BotCommand("topics", _(lang, "Browse the topics")),
        BotCommand("language", _(lang, "Change the language")),
        BotCommand("help", _(lang, "What this bot can do")),
        BotCommand("human", _(lang, "Talk to a person")),
    ]


async def set_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """setMyCommands per language_code (French phones get Kreyòl) and a Spanish default."""
    scopes: list[tuple[str | None, str]] = [(code, code) for code in LANGS] + [("fr", "ht"), (None, DEFAULT_LANG)]
    for language_code, lang in scopes:
        await application.bot.set_my_commands(
            commands(lang), scope=BotCommandScopeDefault(), language_code=language_code
        )


#: Where each description goes: Telegram has no Haitian Creole interface and Haitians' phones are
#: mostly in French, so the Creole texts go under "fr"; other interface languages get Spanish.
DESCRIPTION_LANGS: tuple[tuple[str | None, str], ...] = (("es", "es"), ("en", "en"), ("fr", "ht"), (None, DEFAULT_LANG))


async def set_descriptions(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """setMyDescription (shown before /start) and setMyShortDescription (profile and shares):
    what the bot does; that it is not the government; that it never asks for money or documents."""
    for language_code, lang in DESCRIPTION_LANGS:
        await application.bot.set_my_description(description(lang), language_code=language_code)
        await application.bot.set_my_short_description(short_description(lang), language_code=language_code)


def description(lang: str) -> str:
    """At most 512 characters (Telegram's limit for setMyDescription)."""
    return _(
        lang,
        "I answer questions about the end of humanitarian parole (CHNV), scams and legal options, in Spanish, "
        "Haitian Creole and English, with dated information from public sources, and I can pass your chat to a "
        "volunteer. I am not the government and I give no legal advice. I never ask for money or documents.",
    )[:512]


def short_description(lang: str) -> str:
    """At most 120 characters (Telegram's limit for setMyShortDescription)."""
    return _(lang, "End of parole (CHNV), scams, legal options. Not the government. Never asks for money.")[:120]


async def _post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    svc = services_of(application)
    await svc.storage.open()
    desk = svc.desk
    box = Outbox(
        application.bot,
        svc.storage,
        svc.renderer,
        retry_base=desk.retry_base,
        retry_max=desk.retry_max,
        send_timeout=desk.send_timeout,
    )
    application.bot_data["outbox"] = box
    svc.renderer.bot_username = application.bot.username
    svc.renderer.inline_mode = bool(application.bot.supports_inline_queries)
    if not svc.renderer.inline_mode:  # "Share this answer" needs it: the button is left out until then
        log.warning("inline mode is off: answers cannot be shared; turn it on with /setinline in @BotFather")
    try:
        await set_commands(application)
    except TelegramError as exc:  # the bot works without its command menu
        log.warning("could not register the command menu: %s", type(exc).__name__)
    try:
        await set_descriptions(application)
    except TelegramError as exc:  # nor does it need its description
        log.warning("could not set the bot's description: %s", type(exc).__name__)
    reload.install_sighup(application)  # kill -HUP re-reads knowledge/ (removed in post_shutdown)
    from bot.telegram import relay  # relay imports this module

    await relay.connect(application)  # volunteers' group: forum, plain group or none (one log line)
    await box.start()  # what was left to send before a restart
    inbox = application.update_queue
    if isinstance(inbox, Inbox):
        inbox.storage = svc.storage
        processor = application.update_processor
        if isinstance(processor, PerChatUpdateProcessor):
            processor.inbox, processor.outbox = inbox, box
        await inbox.replay(application.bot)  # what was fetched but not handled before a restart
    # GET /healthz on HEALTH_PORT (0: off), polling and webhook mode alike; closed in post_shutdown
    application.bot_data["health"] = await health.serve(svc, svc.settings.health_port)


async def _post_stop(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    box = application.bot_data.get("outbox")
    if isinstance(box, Outbox):
        await box.stop()  # sends in progress get a moment; the rest waits in the database


async def _post_shutdown(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    await health.close(application.bot_data.pop("health", None))
    reload.remove_sighup()
    await services_of(application).storage.close()


def build_application(
    settings: Settings,
    services: Services | None = None,
    *,
    rate_limiter: BaseRateLimiter[Any] | None = None,
    concurrent_updates: int = CONCURRENT_UPDATES,
    read_timeout: float = delivery.READ_TIMEOUT,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The configured application. ``services`` defaults to ``Services.load(settings)``;
    ``rate_limiter`` to delivery.RetryingRateLimiter (Telegram's limits, 429s retried after
    retry_after, network faults retried without sending an answer twice)."""
    from bot.telegram import admin  # admin imports this module
    from bot.telegram import handlers as h  # handlers import this module
    from bot.telegram import person_talk as p
    from bot.telegram import volunteer_talk as v

    services = services or Services.load(settings)
    application = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .rate_limiter(rate_limiter or delivery.RetryingRateLimiter(max_retries=MAX_RETRIES))
        .read_timeout(read_timeout)
        .connect_timeout(delivery.CONNECT_TIMEOUT)
        .write_timeout(delivery.WRITE_TIMEOUT)
        .pool_timeout(delivery.POOL_TIMEOUT)
        .get_updates_request(updates.UpdatesRequest())  # an update PTB cannot read is skipped, not fatal
        .concurrent_updates(PerChatUpdateProcessor(concurrent_updates))
        .update_queue(Inbox())
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data["services"] = services
    logs.protect(settings.token, settings.webhook_secret)  # no token in any log record
    updates.protect_webhook()  # run_webhook: a body PTB cannot read is answered 200, never logged

    private = filters.ChatType.PRIVATE
    new = private & filters.UpdateType.MESSAGE  # new messages in private chats (not edits)
    # 0. Pre-filters. A button pressed anywhere but in the person's private chat with the bot
    #    is answered and does nothing (ApplicationHandlerStop).
    application.add_handler(CallbackQueryHandler(h.private_buttons_only), group=-3)
    #    Over FLOOD_LIMIT messages a minute a user gets one notice, then nothing is
    #    handled (ApplicationHandlerStop) until the minute has passed.
    application.add_handler(TypeHandler(Update, h.flood_gate), group=-2)
    # 0b. While a user has an open ticket, what they send goes to the volunteers and nothing
    #     below answers it (ApplicationHandlerStop); commands and buttons still work.
    application.add_handler(MessageHandler(new & ~filters.COMMAND & (filters.TEXT | NOT_TEXT), p.while_open), group=-1)
    admins = new & filters.User(user_id=settings.admin_user_ids)
    # Note: order matters. In a group, the first handler whose check matches wins.
    application.add_handlers(
        [
            # 1. Commands, in private chats only: in any other group the bot stays silent.
            CommandHandler("start", h.start, filters=new),
            CommandHandler("language", h.language, filters=new),
            CommandHandler("topics", h.topics, filters=new),
            CommandHandler("help", h.help_command, filters=new),
            CommandHandler("human", h.human, filters=new),
            CommandHandler("forget", h.forget, filters=new),
            CommandHandler("cancel", p.cancel, filters=new),
            CommandHandler("unfollow", h.unfollow, filters=new),
            # Admin-only commands, gated at registration (ADMIN_USER_IDS).
            CommandHandler("reload", h.reload_command, filters=admins),
            CommandHandler("stats", admin.stats, filters=admins),
            CommandHandler("report", admin.report, filters=admins),
            CommandHandler("learn", admin.learn, filters=admins),
            MessageHandler(new & filters.COMMAND, h.help_command),  # an unknown command
            # 2. Buttons: each action by its validated payload; anything else has expired.
            CallbackQueryHandler(h.show_entry, pattern=_pressed("a")),
            CallbackQueryHandler(h.show_entry, pattern=_pressed("g")),  # a suggestion picked: also a candidate
            CallbackQueryHandler(h.follow_entry, pattern=_pressed("w")),
            CallbackQueryHandler(h.more_options, pattern=_pressed("o")),
            CallbackQueryHandler(h.forget_choice, pattern=_pressed("f")),
            CallbackQueryHandler(h.show_category, pattern=_pressed("c")),
            CallbackQueryHandler(h.show_menu, pattern=_pressed("m")),
            CallbackQueryHandler(h.choose_language, pattern=_pressed("l")),
            CallbackQueryHandler(h.helpful, pattern=_pressed("y")),
            CallbackQueryHandler(h.not_helpful, pattern=_pressed("n")),
            CallbackQueryHandler(h.talk_to_person, pattern=_pressed("h")),
            CallbackQueryHandler(p.consent, pattern=_pressed("k")),
            CallbackQueryHandler(p.urgent_yes, pattern=_pressed("u")),
            CallbackQueryHandler(p.document_choice, pattern=_pressed("p")),
            CallbackQueryHandler(p.share_numbers, pattern=_pressed("i")),
            CallbackQueryHandler(p.cancel, pattern=_pressed("x")),
            CallbackQueryHandler(p.survey, pattern=_pressed("r")),
            CallbackQueryHandler(v.label, pattern=_pressed("v")),  # volunteers: what a closed ticket was about
            CallbackQueryHandler(admin.learn_choice, pattern=_pressed("e")),  # admins: /learn's buttons
            CallbackQueryHandler(h.expired_button),
            # 3. Other messages in private chats, the most specific first.
            MessageHandler(new & _LongText(), h.long_message),
            MessageHandler(new & filters.TEXT, h.question),
            MessageHandler(new & NOT_TEXT, h.not_text),
            MessageHandler(private & filters.UpdateType.EDITED_MESSAGE, h.edited),
            # 4. "@bot question" typed in any chat, and "Share this answer": answer cards.
            InlineQueryHandler(inline.answer),
            # 5. The bot's own membership: blocked by a user, or added to a group.
            ChatMemberHandler(h.membership, ChatMemberHandler.MY_CHAT_MEMBER),
        ]
    )
    if settings.volunteer_chat_id is not None:
        # 6. The volunteers' group, and no other group: members' commands, then their messages.
        team = filters.Chat(chat_id=settings.volunteer_chat_id) & filters.UpdateType.MESSAGE
        application.add_handlers(
            [
                CommandHandler("close", v.close, filters=team),
                CommandHandler("kb", v.kb, filters=team),
                CommandHandler("lang", v.lang, filters=team),
                CommandHandler("queue", v.queue, filters=team),
                CommandHandler("stats", v.stats, filters=team),
                MessageHandler(team & ~filters.COMMAND & ~filters.StatusUpdate.ALL, v.relay_to_user),
                MessageHandler(team & filters.StatusUpdate.LEFT_CHAT_MEMBER, v.member_left),
            ]
        )
    application.add_error_handler(h.on_error)
    privacy.schedule_retention(application)  # daily: RETENTION_DAYS, feedback and inactive users
    follow.schedule(application)  # answers updated while the bot was down reach their followers
    return application


def run(settings: Settings, webhook: bool = False) -> int:
    """Run the bot until SIGTERM/SIGINT; return the process exit code."""
    logs.setup()
    if webhook:
        try:
            check_webhook(settings)  # WEBHOOK_URL and WEBHOOK_SECRET, before anything is loaded
        except ConfigError as exc:
            print(f"Configuration error: {exc}", file=sys.stderr)
            return 2
    if not settings.log_salt:  # unsalted hashes of user ids could be reversed by trying every id
        settings = replace(settings, log_salt=secrets.token_hex(16))
        log.warning("LOG_SALT is not set: user pseudonyms in the logs change at every restart")
    loaded = knowledge.load(settings.knowledge_dir, near_duplicates=False)  # warnings: see check
    if loaded.kb is None:
        print(
            f"Not starting: the knowledge base in {settings.knowledge_dir} has {len(loaded.errors)} error(s):",
            file=sys.stderr,
        )
        print("\n".join(str(p) for p in loaded.errors), file=sys.stderr)
        return 1
    problem = asyncio.run(preflight(settings))
    if problem:  # one clear line, before the model loads and with no library traceback
        print(f"Not starting: {problem}", file=sys.stderr)
        return 2 if "TELEGRAM_BOT_TOKEN" in problem else 1
    try:
        svc = Services.load(settings, loaded)
    except KnowledgeBaseError as exc:
        print(f"Not starting: {exc}:", file=sys.stderr)
        print("\n".join(exc.problems), file=sys.stderr)
        return 1
    except MissingCatalog as exc:
        print(f"Not starting: {exc}", file=sys.stderr)
        return 1
    application = build_application(settings, svc)
    mode = f"webhook on {settings.webhook_listen}:{settings.webhook_port}" if webhook else "polling"
    log.info(
        "knowledge base %s: %d entries; %s %s",
        svc.engine.kb.version,
        len(svc.engine.kb),
        mode,
        _host(settings.base_url),
    )
    try:
        if webhook:
            # PTB's own webhook server: setWebhook(url, secret_token), then every request without
            # the right X-Telegram-Bot-Api-Secret-Token header gets 403 and is never processed.
            application.run_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=webhook_path(settings),
                webhook_url=settings.webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            application.run_polling(allowed_updates=ALLOWED_UPDATES)
    except InvalidToken:
        print("Not starting: Telegram refused TELEGRAM_BOT_TOKEN (check it with @BotFather).", file=sys.stderr)
        return 2
    except BadRequest as exc:  # (a NetworkError subclass) e.g. setWebhook refused the address
        what = f"the webhook address WEBHOOK_URL={settings.webhook_url}" if webhook else "a start-up request"
        print(f"Not starting: Telegram refused {what}: {exc.message}", file=sys.stderr)
        return 2 if webhook else 1
    except OSError as exc:  # the webhook port is taken or not allowed
        if not webhook:
            raise
        print(
            f"Not starting: cannot listen on WEBHOOK_LISTEN:WEBHOOK_PORT = {settings.webhook_listen}:{settings.webhook_port} ({exc.strerror or exc}).",
            file=sys.stderr,
        )
        return 1
    except NetworkError as exc:
        print(
            f"Not starting: cannot reach the Bot API at {_host(settings.base_url)} ({type(exc).__name__}); check TELEGRAM_BASE_URL and the network.",
            file=sys.stderr,
        )
        return 1
    except StorageError as exc:
        print(f"Not starting: DATABASE_PATH: {exc}", file=sys.stderr)
        return 1
    return 0


async def preflight(settings: Settings) -> str | None:
    """Ask the Bot API who we are (``getMe``) before anything else: a rejected token or an
    unreachable server becomes one readable line instead of a library traceback after start-up.
    Returns that line, or None when Telegram answered."""
    from telegram import Bot

    quiet = [logging.getLogger(name) for name in ("telegram", "httpx", "httpcore")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.CRITICAL)
    try:
        async with Bot(settings.token, base_url=settings.base_url, base_file_url=settings.base_file_url) as bot:
            async with asyncio.timeout(PREFLIGHT_TIMEOUT):
                await bot.get_me()
    except InvalidToken:
        return "Telegram refused TELEGRAM_BOT_TOKEN (check it with @BotFather)."
    except (NetworkError, TimeoutError, OSError) as exc:
        return f"cannot reach the Bot API at {_host(settings.base_url)} ({type(exc).__name__}); check TELEGRAM_BASE_URL and the network."
    except TelegramError as exc:
        return f"the Bot API at {_host(settings.base_url)} answered getMe with an error ({type(exc).__name__})."
    finally:
        for logger, level in zip(quiet, levels):
            logger.setLevel(level)
    return None


def _host(base_url: str) -> str:
    """The Bot API address without the token path (safe to print)."""
    return base_url.split("/bot")[0]
