"""Tests of the fake Telegram Bot API server, driven by python-telegram-bot's own client."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import json
import re
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import telegram
from fakebotapi import BOT_ID, FakeBotAPI
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

TOKEN = "123456:TEST-token_for-the-fake-bot-api-0000"
USER = 4242
GROUP = -1001234567890


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # With filterwarnings=error, PTB 22's deprecation warning about int durations is raised
    # from *inside* RetryAfter.__init__ (and other duration attributes) unless opted in.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def fake_api():
    with FakeBotAPI(timeout_delay=2.0) as fake:
        yield fake
    assert not fake.errors, f"errors inside the fake: {fake.errors!r}"


def make_bot(fake: FakeBotAPI, **request_kwargs) -> telegram.Bot:
    kwargs = {}
    if request_kwargs:
        kwargs["request"] = HTTPXRequest(**request_kwargs)
    return telegram.Bot(TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url, **kwargs)


async def test_get_me(fake_api: FakeBotAPI) -> None:
    async with make_bot(fake_api) as bot:
        me = await bot.get_me()
        assert bot.username == "parole_help_bot"
    assert me.id == BOT_ID == 999000
    assert me.is_bot is True
    assert me.first_name == "Parole Help"
    assert me.can_join_groups is True
    assert me.supports_inline_queries is False
    assert fake_api.token == TOKEN
    assert [c.method for c in fake_api.calls_to("getMe")] == ["getMe", "getMe"]  # initialize + call
    assert fake_api.base_url.endswith("/bot") and fake_api.base_file_url.endswith("/file/bot")


async def test_send_message_inline_keyboard_round_trips(fake_api: FakeBotAPI) -> None:
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Sí", callback_data="lang:es"), InlineKeyboardButton("Web", url="https://uscis.gov")]]
    )
    async with make_bot(fake_api) as bot:
        first = await bot.send_message(USER, "<b>Hola</b> &amp; bienvenido", parse_mode="HTML", reply_markup=markup)
        second = await bot.send_message(USER, "otra")
        await bot.send_message(USER + 1, "a otro chat")
    assert first.message_id == 1 and second.message_id == 2
    assert first.from_user.id == BOT_ID
    assert first.chat.id == USER and first.chat.type == "private"
    assert first.text == "Hola & bienvenido"  # Telegram returns the parsed plain text
    assert first.reply_markup == markup
    assert second.reply_markup is None

    call = fake_api.sent_messages(USER)[0]
    assert call.params["chat_id"] == USER
    assert call.params["text"] == "<b>Hola</b> &amp; bienvenido"
    assert call.params["parse_mode"] == "HTML"
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Sí", "callback_data": "lang:es"}, {"text": "Web", "url": "https://uscis.gov"}]]
    }
    assert [c.text for c in fake_api.sent_messages(USER)] == ["<b>Hola</b> &amp; bienvenido", "otra"]
    assert len(fake_api.sent_messages()) == 3


async def test_telegram_validation_errors(fake_api: FakeBotAPI) -> None:
    async with make_bot(fake_api) as bot:
        with pytest.raises(BadRequest, match=r"(?i)unsupported start tag \"br\""):
            await bot.send_message(USER, "a<br>b", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)character '\.' is reserved"):
            await bot.send_message(USER, "Hola.", parse_mode="MarkdownV2")
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(
                USER, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
            )
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(USER, "x" * 4097)
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(-100999, "unknown group")
        msg = await bot.send_message(USER, "igual")
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("igual", chat_id=USER, message_id=msg.message_id)
        edited = await bot.edit_message_text("distinto", chat_id=USER, message_id=msg.message_id)
        assert edited.text == "distinto" and edited.edit_date is not None
    assert fake_api.get_message(USER, msg.message_id)["text"] == "distinto"
    assert fake_api.faults_injected == {}  # validation errors are not injected faults
    assert [c.failed_with for c in fake_api.calls_to("sendMessage")] == [400, 400, 400, 400, 400, None]


def _article(result_id: str, text: str = "x", title: str = "t") -> InlineQueryResultArticle:
    return InlineQueryResultArticle(result_id, title, InputTextMessageContent(text, parse_mode="HTML"))


async def test_inline_query_and_its_answer_as_telegram_validates_them(fake_api: FakeBotAPI) -> None:
    inline_mode = FakeBotAPI(inline_mode=True)
    assert inline_mode._api_getMe({}, {})["supports_inline_queries"] is True
    async with make_bot(fake_api) as bot:
        queries = [fake_api.inline_query(USER, f"q{n}", chat_type="group", language_code="ht") for n in range(10)]
        updates = await bot.get_updates(timeout=0)
        query = updates[0].inline_query
        assert (query.query, query.chat_type, query.from_user.language_code) == ("q0", "group", "ht")
        ok = await bot.answer_inline_query(
            query.id,
            [_article("a.es", "<b>hola</b>"), _article("b" * 64)],
            cache_time=900,
            button=InlineQueryResultsButton("Abrir", start_parameter="inline"),
        )
        assert ok is True
        answer = fake_api.inline_answer(query.id)
        assert [r["id"] for r in answer["results"]] == ["a.es", "b" * 64] and answer["cache_time"] == 900
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):  # one answer per query
            await bot.answer_inline_query(query.id, [])
        bad = [
            ([_article(str(n)) for n in range(51)], {}, "RESULTS_TOO_MUCH"),
            ([_article("b" * 65)], {}, "RESULT_ID_INVALID"),
            ([_article("a"), _article("a")], {}, "RESULT_ID_DUPLICATE"),
            ([_article("a", title=" ")], {}, "ARTICLE_TITLE_EMPTY"),
            ([_article("a", "x" * 4097)], {}, "MESSAGE_TOO_LONG"),
            ([_article("a", "<b>x")], {}, "can't parse entities"),
            ([_article("a")], {"button": InlineQueryResultsButton("x", start_parameter="no spaces")}, "START_PARAM"),
        ]
        for (results, extra, error), update in zip(bad, updates[1:]):
            with pytest.raises(BadRequest, match="(?i)" + re.escape(error)):
                await bot.answer_inline_query(update.inline_query.id, results, **extra)
        # a result's text counts after the HTML is parsed: 4,096 letters in bold fit
        await bot.answer_inline_query(updates[8].inline_query.id, [_article("a", "<b>" + "x" * 4096 + "</b>")])
    assert len(queries) == 10 and queries[0]["inline_query"]["from"]["id"] == USER


async def test_switch_inline_button_and_choosing_a_result(fake_api: FakeBotAPI) -> None:
    fake_api.add_group(GROUP, is_forum=False, title="Familia")
    async with make_bot(fake_api) as bot:
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_TYPE_INVALID"):  # one action per button
            await bot.send_message(
                USER,
                "x",
                reply_markup={"inline_keyboard": [[{"text": "x", "url": "https://a.b", "callback_data": "y"}]]},
            )
        shared = await bot.send_message(
            USER,
            "respuesta",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Compartir", switch_inline_query="El título")]]),
        )
        plain = await bot.send_message(USER, "sin botón")
        with pytest.raises(ValueError, match="no switch_inline_query button"):
            fake_api.press_switch_inline(USER, plain.message_id)
        update = fake_api.press_switch_inline(USER, shared.message_id, chat_type="group")
        assert update["inline_query"]["query"] == "El título" and update["inline_query"]["chat_type"] == "group"
        query_id = update["inline_query"]["id"]
        card = InlineQueryResultArticle(
            "card.es",
            "Título",
            InputTextMessageContent("<b>Título</b>\nTexto", parse_mode="HTML"),
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Abrir", url="https://t.me/parole_help_bot")]]),
        )
        await bot.answer_inline_query(query_id, [card])
    posted = fake_api.choose_inline_result(query_id, "card.es", GROUP)
    assert posted["text"] == "Título\nTexto" and posted["via_bot"]["id"] == BOT_ID
    assert posted["from"]["id"] == USER and posted["chat"]["id"] == GROUP
    assert posted["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://t.me/parole_help_bot"
    assert fake_api.chat_history(GROUP)[-1]["text"] == "Título\nTexto"


async def test_get_updates_language_code_and_offset(fake_api: FakeBotAPI) -> None:
    sent = fake_api.message(USER, "hola", language_code="ht", first_name="Jean")
    fake_api.command(USER, "/start", "ref42")
    async with make_bot(fake_api) as bot:
        updates = await bot.get_updates(timeout=0)
        assert [u.update_id for u in updates] == [sent["update_id"], sent["update_id"] + 1]
        assert updates[0].effective_user.language_code == "ht"
        assert updates[0].effective_user.first_name == "Jean"
        assert updates[0].effective_chat.type == "private"
        assert updates[1].message.text == "/start ref42"
        assert updates[1].message.entities[0].type == "bot_command"
        assert updates[1].message.entities[0].length == len("/start")
        assert updates[1].message.message_id == updates[0].message.message_id + 1

        # offset confirms (and drops) older updates
        again = await bot.get_updates(offset=updates[0].update_id + 1, timeout=0)
        assert [u.update_id for u in again] == [updates[1].update_id]
        assert len(await bot.get_updates(limit=1, timeout=0)) == 1

        # long polling: blocks (capped at 1 s) when nothing is queued ...
        t0 = time.monotonic()
        empty = await bot.get_updates(offset=updates[1].update_id + 1, timeout=5)
        waited = time.monotonic() - t0
        assert empty == ()
        assert 0.8 <= waited < 3
        assert fake_api.pending_updates == []

        # ... and returns as soon as an update is injected
        poll = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.2)
        assert not poll.done()
        fake_api.message(USER, "¿hay alguien?")
        got = await asyncio.wait_for(poll, 1.5)
        assert [u.message.text for u in got] == ["¿hay alguien?"]
    assert fake_api.calls_to("getUpdates")[0].params["timeout"] == 0


async def test_callback_query_and_group_topic_updates(fake_api: FakeBotAPI) -> None:
    fake_api.add_group(GROUP, is_forum=True, title="Voluntarios")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("English", callback_data="lang:en")]])
    async with make_bot(fake_api) as bot:
        menu = await bot.send_message(USER, "Idioma?", reply_markup=markup)
        topic = await bot.create_forum_topic(GROUP, "Caso 4242")
        fake_api.callback_query(USER, "lang:en")
        fake_api.group_message(GROUP, 777, "respuesta", message_thread_id=topic.message_thread_id)
        fake_api.my_chat_member(-1009, 555)
        cq_update, group_update, member_update = await bot.get_updates(timeout=0)
        cq = cq_update.callback_query
        assert cq.data == "lang:en" and cq.from_user.id == USER
        assert cq.message.message_id == menu.message_id and cq.message.reply_markup == markup
        assert await cq.answer("ok") is True

        msg = group_update.message
        assert msg.chat.id == GROUP and msg.chat.is_forum is True
        assert msg.message_thread_id == topic.message_thread_id and msg.is_topic_message is True
        assert msg.message_id > topic.message_thread_id
        # like Telegram: an un-replied topic message "replies" to the topic's service message
        assert msg.reply_to_message.forum_topic_created.name == "Caso 4242"
        assert msg.reply_to_message.from_user.id == BOT_ID

        mcm = member_update.my_chat_member
        assert mcm.chat.id == -1009 and mcm.new_chat_member.status == "administrator"
        assert mcm.old_chat_member.status == "left" and mcm.from_user.id == 555
        assert (await bot.get_chat(-1009)).is_forum is True
        assert (await bot.get_chat_member(GROUP, 777)).status == "member"
        assert (await bot.get_chat_member(GROUP, 1)).status == "left"
    assert fake_api.calls_to("answerCallbackQuery")[0].params["callback_query_id"] == cq.id


async def test_retry_after_then_success(fake_api: FakeBotAPI) -> None:
    fake_api.fail_next("sendMessage", status=429, retry_after=1)
    async with make_bot(fake_api) as bot:
        with pytest.raises(RetryAfter) as exc_info:
            await bot.send_message(USER, "primero")
        assert exc_info.value.retry_after == dtm.timedelta(seconds=1)
        msg = await bot.send_message(USER, "segundo")
    assert msg.text == "segundo"
    failed, ok = fake_api.calls_to("sendMessage")
    assert failed.failed_with == 429 and failed.injected and "retry after 1" in failed.error
    assert ok.failed_with is None
    assert fake_api.faults_injected == {429: 1}
    assert [c.text for c in fake_api.sent_messages(USER)] == ["segundo"]


async def test_blocked_user_gets_forbidden(fake_api: FakeBotAPI) -> None:
    fake_api.block_user(USER)
    async with make_bot(fake_api) as bot:
        with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
            await bot.send_message(USER, "hola")
        with pytest.raises(Forbidden):
            await bot.send_chat_action(USER, "typing")
        assert (await bot.send_message(USER + 1, "otro usuario")).chat.id == USER + 1
        fake_api.unblock_user(USER)
        assert (await bot.send_message(USER, "hola de nuevo")).chat.id == USER
    assert fake_api.faults_injected[403] == 2
    assert [c.failed_with for c in fake_api.calls_to("sendMessage")] == [403, None, None]


async def test_server_errors_raise_network_error(fake_api: FakeBotAPI) -> None:
    async with make_bot(fake_api) as bot:
        fake_api.fail_next("sendMessage", 502)
        fake_api.fail_next(None, 500)  # any method (but getUpdates)
        with pytest.raises(NetworkError, match=r"(?i)Bad Gateway"):
            await bot.send_message(USER, "x")
        with pytest.raises(NetworkError, match=r"(?i)Internal Server Error"):
            await bot.send_chat_action(USER, "typing")
        await bot.send_message(USER, "x")
    assert fake_api.faults_injected == {502: 1, 500: 1}


async def test_forum_topic_and_copy_message_into_it(fake_api: FakeBotAPI) -> None:
    fake_api.add_group(GROUP, is_forum=True, title="Voluntarios")
    fake_api.add_group(-1005, is_forum=False, title="Sin temas")
    user_msg = fake_api.message(USER, "necesito ayuda")["message"]
    async with make_bot(fake_api) as bot:
        topic = await bot.create_forum_topic(GROUP, "Caso 4242", icon_color=16766590)
        assert isinstance(topic.message_thread_id, int) and topic.message_thread_id > 0
        assert topic.name == "Caso 4242" and topic.icon_color == 16766590
        copied = await bot.copy_message(GROUP, USER, user_msg["message_id"], message_thread_id=topic.message_thread_id)
        assert copied.message_id > topic.message_thread_id
        with pytest.raises(BadRequest, match=r"(?i)not a forum"):
            await bot.create_forum_topic(-1005, "x")
        assert await bot.close_forum_topic(GROUP, topic.message_thread_id) is True
        assert await bot.delete_forum_topic(GROUP, topic.message_thread_id) is True
        with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
            await bot.send_message(GROUP, "tarde", message_thread_id=topic.message_thread_id)
    [call] = fake_api.calls_to("copyMessage")
    assert call.params == {
        "chat_id": GROUP,
        "from_chat_id": USER,
        "message_id": user_msg["message_id"],
        "message_thread_id": topic.message_thread_id,
    }
    assert call.result == {"message_id": copied.message_id}
    stored = fake_api.get_message(GROUP, copied.message_id)
    assert stored["text"] == "necesito ayuda" and stored["is_topic_message"] is True
    assert [c.method for c in fake_api.sent_messages(GROUP)] == ["copyMessage"]


async def test_no_topic_rights(fake_api: FakeBotAPI) -> None:
    fake_api.add_group(GROUP, is_forum=True, can_manage_topics=False)
    async with make_bot(fake_api) as bot:
        with pytest.raises(BadRequest, match=r"(?i)not enough rights"):
            await bot.create_forum_topic(GROUP, "x")
        member = await bot.get_chat_member(GROUP, BOT_ID)
        assert member.status == "administrator" and member.can_manage_topics is False
        fake_api.set_member(GROUP, 5, "creator")
        admins = await bot.get_chat_administrators(GROUP)
    assert sorted(a.user.id for a in admins) == [5, BOT_ID]


async def test_timeout_fault_raises_timed_out(fake_api: FakeBotAPI) -> None:
    fake_api.fail_next("sendMessage", "timeout")
    async with make_bot(fake_api, read_timeout=0.3) as bot:
        t0 = time.monotonic()
        with pytest.raises(TimedOut):
            await bot.send_message(USER, "lento")
        assert time.monotonic() - t0 < fake_api.timeout_delay
        assert (await bot.send_message(USER, "rápido")).text == "rápido"
    assert fake_api.faults_injected == {"timeout": 1}
    slow, fast = fake_api.calls_to("sendMessage")
    assert slow.failed_with == "timeout" and fast.failed_with is None
    # the timed-out message was still delivered (the bot just never heard back)
    assert [c.text for c in fake_api.sent_messages(USER)] == ["lento", "rápido"]


async def test_fail_rate_is_deterministic(fake_api: FakeBotAPI) -> None:
    async def run() -> list:
        fake_api.clear()
        fake_api.fail_rate(0.5, statuses=(429, 500), methods=["sendMessage"], seed=7)
        async with make_bot(fake_api) as bot:
            for i in range(12):
                with contextlib.suppress(RetryAfter, NetworkError):
                    await bot.send_message(USER, f"m{i}")
        return [c.failed_with for c in fake_api.calls_to("sendMessage")]

    first, second = await run(), await run()
    assert first == second
    assert {429, 500, None} <= set(first)
    fake_api.fail_rate(0)
    assert sum(fake_api.faults_injected.values()) == 2 * sum(1 for f in first if f is not None)


async def test_wait_for_raises_assertion_error_when_nothing_comes(fake_api: FakeBotAPI) -> None:
    async with make_bot(fake_api) as bot:
        await bot.send_chat_action(USER, "typing")
    t0 = time.monotonic()
    with pytest.raises(AssertionError) as exc_info:
        await fake_api.wait_for("sendMessage", timeout=0.3)
    assert 0.25 <= time.monotonic() - t0 < 2
    text = str(exc_info.value)
    assert "sendMessage" in text and "0 matching" in text
    assert "sendChatAction" in text  # recent calls are listed
    with pytest.raises(AssertionError):
        fake_api.wait_for_sync("sendMessage", {"chat_id": USER}, timeout=0.1)


async def test_wait_for_and_wait_for_sync_see_calls(fake_api: FakeBotAPI) -> None:
    async with make_bot(fake_api) as bot:
        mark = fake_api.mark()
        waiter = asyncio.create_task(fake_api.wait_for("sendMessage", lambda c: c.text == "dos", since=mark))
        await bot.send_message(USER, "uno")
        await bot.send_message(USER, "dos")
        [call] = await waiter
        assert call.params["chat_id"] == USER

        result: list = []
        thread = threading.Thread(
            target=lambda: result.extend(fake_api.wait_for_sync("sendMessage", {"text": "tres"}, timeout=3))
        )
        thread.start()
        await bot.send_message(USER, "tres")
        await asyncio.to_thread(thread.join, 5)
    assert [c.text for c in result] == ["tres"]


async def test_uploads_json_bodies_and_file_download(fake_api: FakeBotAPI) -> None:
    async with make_bot(fake_api) as bot:
        photo = await bot.send_photo(USER, b"\x89PNG-bytes", caption="foto", filename="a.png")
        doc = await bot.send_document(USER, b"%PDF-1.4 guia", filename="guia.pdf")
        f = await bot.get_file(doc.document.file_id)
        assert bytes(await f.download_as_bytearray()) == b"%PDF-1.4 guia"
    assert photo.caption == "foto" and photo.photo[-1].file_id
    call = fake_api.calls_to("sendPhoto")[0]
    assert call.content_type.startswith("multipart/form-data")
    assert call.files["photo"].data == b"\x89PNG-bytes"
    assert call.params["photo"]["filename"] == "a.png" and call.params["chat_id"] == USER

    # a client that speaks application/json
    body = json.dumps(
        {"chat_id": USER, "text": "json", "reply_markup": {"inline_keyboard": [[{"text": "b", "callback_data": "d"}]]}}
    ).encode()
    req = urllib.request.Request(
        f"{fake_api.base_url}{TOKEN}/sendMessage", data=body, headers={"Content-Type": "application/json"}
    )

    def post() -> dict:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.load(resp)

    answer = await asyncio.to_thread(post)  # the fake serves from its own thread
    assert answer["ok"] is True and answer["result"]["text"] == "json"
    assert answer["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "d"
    assert fake_api.calls_to("sendMessage")[-1].params["reply_markup"]["inline_keyboard"][0][0]["text"] == "b"


async def test_post_update_to_webhook(fake_api: FakeBotAPI) -> None:
    received: list = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            data = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers.get("X-Telegram-Bot-Api-Secret-Token"), json.loads(data)))
            self.send_response(200 if received[-1][0] == "s3cret" else 403)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        async with make_bot(fake_api) as bot:
            await bot.set_webhook(url, secret_token="s3cret")
            info = await bot.get_webhook_info()
            assert info.url == url
            update = fake_api.message(USER, "por webhook")
            assert info.pending_update_count == 0 and len(fake_api.pending_updates) == 1
            with pytest.raises(telegram.error.Conflict):
                await bot.get_updates(timeout=0)
            assert await fake_api.apost_update(None, update) == 200
            assert await fake_api.apost_update(url, update, secret_token="wrong") == 403
            assert fake_api.pending_updates == []
            await bot.delete_webhook()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert [secret for secret, _ in received] == ["s3cret", "wrong"]
    assert received[0][1]["message"]["text"] == "por webhook"


async def test_application_replies_to_start(fake_api: FakeBotAPI) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text("hi")

    app = ApplicationBuilder().token(TOKEN).base_url(fake_api.base_url).base_file_url(fake_api.base_file_url).build()
    app.add_handler(CommandHandler("start", start))
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        fake_api.command(USER, "/start", language_code="en")
        [reply] = await fake_api.wait_for("sendMessage", {"chat_id": USER}, timeout=5)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert reply.params["text"] == "hi"
    assert reply.token == TOKEN
    assert fake_api.calls_to("deleteWebhook")  # start_polling bootstrap
    assert fake_api.pending_updates == []  # the update was confirmed with offset
