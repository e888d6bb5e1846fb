"""A fake Telegram Bot API server for end-to-end tests (standard library only).

The server runs in its own thread (``http.server.ThreadingHTTPServer`` on
127.0.0.1, random port) and speaks enough of the Bot API for a
python-telegram-bot ``Application`` -- in-process or in a subprocess -- to run
against it unchanged::

    with FakeBotAPI() as fake:
        app = (ApplicationBuilder().token("123:TEST")
               .base_url(fake.base_url).base_file_url(fake.base_file_url).build())
        ...
        fake.command(42, "/start")
        [call] = await fake.wait_for("sendMessage", {"chat_id": 42})

Requests arrive as ``POST /bot<TOKEN>/<method>`` (GET also works) with
``application/x-www-form-urlencoded``, ``multipart/form-data`` or
``application/json`` bodies.  Every call is recorded in :attr:`FakeBotAPI.calls`
as a :class:`Call`.  Updates are injected with builder methods (``message``,
``command``, ``callback_query``, ``group_message``, ``inline_query`` ...) and served by long
polling ``getUpdates`` or POSTed to a webhook with ``post_update``.  Inline mode: with
``FakeBotAPI(inline_mode=True)`` getMe says the bot supports inline queries;
``inline_query`` queues one, ``press_switch_inline`` presses a "switch_inline_query" button of a
stored message (Telegram's chat picker, then the query it pre-fills), ``inline_answer`` returns
what the bot answered and ``choose_inline_result`` posts a chosen result into a chat.  Faults are
injected with ``fail_next``, ``fail_rate`` and ``block_user``.

Some validation of real Telegram is reproduced on purpose (``strict=True``),
because these are the errors a bot meets in production: empty/too long texts
and captions, HTML / MarkdownV2 that Telegram cannot parse, callback_data over
64 bytes, inline keyboard buttons with no action or more than one, "message is
not modified" on identical edits, sends to unknown groups, topics in non-forum
chats, sends into deleted topics, getUpdates while a webhook is set, and
answerInlineQuery's limits (at most 50 results, result ids of 1-64 bytes and
unique, article titles, message texts of 1-4096 characters after entity
parsing, start_parameter of 1-64 characters A-Z a-z 0-9 _ -, one answer per
query).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html
import itertools
import json
import random
import re
import socket
import struct
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "BOT_FIRST_NAME",
    "BOT_ID",
    "BOT_USER",
    "BOT_USERNAME",
    "Call",
    "FakeBotAPI",
    "UploadedFile",
]

BOT_ID = 999000
BOT_USERNAME = "parole_help_bot"
BOT_FIRST_NAME = "Parole Help"

#: The bot as returned by getMe.
BOT_USER: dict[str, Any] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": BOT_FIRST_NAME,
    "username": BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}
#: The bot as it appears in ``from`` of messages / in ChatMember objects.
_BOT_SENDER = {"id": BOT_ID, "is_bot": True, "first_name": BOT_FIRST_NAME, "username": BOT_USERNAME}

TOPIC_ICON_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)

#: Methods that put a message into a chat (``sent_messages`` looks at these).
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVoice",
        "sendAudio",
        "sendVideo",
        "sendAnimation",
        "sendSticker",
        "sendVideoNote",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "sendMediaGroup",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    }
)
#: Methods that answer 403 when the target chat is a blocked user.
CHAT_TARGET_METHODS = SEND_METHODS | {
    "sendChatAction",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "editMessageMedia",
    "pinChatMessage",
}

_DEFAULT_DESCRIPTIONS: dict[int, str] = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

_DEFAULT_ALLOWED_UPDATES_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

# Form fields that are strings in the Bot API and must never be JSON-decoded
# (a text "123" or "true" stays a string).
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "name",
        "title",
        "description",
        "short_description",
        "query",
        "url",
        "secret_token",
        "parse_mode",
        "callback_query_id",
        "inline_query_id",
        "inline_message_id",
        "shipping_query_id",
        "pre_checkout_query_id",
        "web_app_query_id",
        "business_connection_id",
        "message_effect_id",
        "icon_custom_emoji_id",
        "custom_emoji_id",
        "file_id",
        "language_code",
        "emoji",
        "custom_title",
        "action",
        "photo",
        "document",
        "voice",
        "audio",
        "video",
        "animation",
        "sticker",
        "video_note",
        "thumbnail",
        "address",
        "phone_number",
        "first_name",
        "last_name",
        "vcard",
        "question",
        "explanation",
        "payload",
        "provider_token",
        "currency",
        "start_parameter",
        "next_offset",
        "switch_pm_text",
        "switch_pm_parameter",
        "result_id",
        "foursquare_id",
        "foursquare_type",
        "google_place_id",
        "google_place_type",
        "ip_address",
        "png_sticker",
        "gift_id",
        "tag",
        "invite_link",
        "sticker_set_name",
    }
)
_NUMBER_RE = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_MESSAGE_CONTENT_KEYS = (
    "text",
    "entities",
    "photo",
    "document",
    "voice",
    "audio",
    "video",
    "animation",
    "sticker",
    "video_note",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
    "caption",
    "caption_entities",
)

_FAKE_CONTENT = {
    "photo": b"\xff\xd8\xff\xe0fake-jpeg",
    "voice": b"OggS\x00fake-voice",
    "audio": b"ID3fake-mp3",
    "document": b"%PDF-1.4 fake document",
    "video": b"\x00\x00\x00\x18ftypmp42fake",
    "animation": b"\x00\x00\x00\x18ftypmp42fake-gif",
    "sticker": b"RIFFfake-webp",
    "video_note": b"\x00\x00\x00\x18ftypmp42fake-note",
}
_FILE_DIRS = {
    "photo": ("photos", "jpg"),
    "voice": ("voice", "oga"),
    "audio": ("music", "mp3"),
    "document": ("documents", "pdf"),
    "video": ("videos", "mp4"),
    "animation": ("animations", "mp4"),
    "sticker": ("stickers", "webp"),
    "video_note": ("video_notes", "mp4"),
}


# --------------------------------------------------------------------------- records


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    field: str
    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Call:
    """One recorded Bot API call.

    ``params`` are the decoded request parameters (JSON strings in form fields
    are decoded back to objects; uploaded files appear as
    ``{"filename", "content_type", "size"}`` and their bytes in ``files``).
    ``result`` is what the fake answered in ``result`` (``None`` for a failed
    call); ``failed_with`` is ``None`` on success, else the HTTP status (int) or
    ``"timeout"``; ``error`` is the Telegram ``description`` of a failure;
    ``injected`` tells whether the failure came from fault injection (as
    opposed to validation, e.g. "message is not modified").

    Supports ``call["method"]`` / ``call.get("params")`` as well as attributes.
    """

    seq: int
    method: str
    params: dict[str, Any]
    time: float
    token: str | None = None
    files: dict[str, UploadedFile] = field(default_factory=dict)
    content_type: str = ""
    result: Any = None
    failed_with: int | str | None = None
    error: str | None = None
    injected: bool = False

    @property
    def ok(self) -> bool:
        return self.failed_with is None

    @property
    def delivered(self) -> bool:
        """The call took effect (a "timeout" fault is delivered but never answered)."""
        return self.result is not None and self.result is not False

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    @property
    def text(self) -> str | None:
        """``text`` or ``caption`` as sent (raw, before parse_mode processing)."""
        return self.params.get("text", self.params.get("caption"))

    @property
    def reply_markup(self) -> Any:
        return self.params.get("reply_markup")

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)

    def short(self) -> str:
        params = {k: v for k, v in self.params.items()}
        text = repr(params)
        if len(text) > 180:
            text = text[:177] + "..."
        status = "ok" if self.failed_with is None else f"failed_with={self.failed_with!r}"
        return f"#{self.seq} {self.method} {text} -> {status}"


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass
class _Fault:
    status: int | str
    retry_after: int | None = None
    description: str | None = None


# --------------------------------------------------------------------------- parsing helpers


def _decode_value(key: str, value: Any) -> Any:
    if not isinstance(value, str) or key in _STRING_PARAMS:
        return value
    s = value.strip()
    if not s:
        return value
    if s[0] in "{[" or s in ("true", "false", "null") or _NUMBER_RE.fullmatch(s):
        try:
            return json.loads(s)
        except ValueError:
            return value
    return value


def _decode_params(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _decode_value(k, v) for k, v in raw.items()}


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    m = re.search(r'boundary=(?:"([^"]+)"|([^;\s]+))', content_type)
    if not m:
        raise _ApiError(400, "Bad Request: invalid multipart body")
    boundary = (m.group(1) or m.group(2)).encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for part in body.split(b"--" + boundary)[1:]:
        if part.startswith(b"--"):
            break
        if part.startswith(b"\r\n"):
            part = part[2:]
        if part.endswith(b"\r\n"):
            part = part[:-2]
        head, _, data = part.partition(b"\r\n\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disp = headers.get("content-disposition", "")
        nm = re.search(r'(?:^|;)\s*name="([^"]*)"', disp)
        if not nm:
            continue
        fname = re.search(r'filename="([^"]*)"', disp)
        key = urllib.parse.unquote(nm.group(1))
        if fname is not None:
            files[key] = UploadedFile(
                field=key,
                filename=urllib.parse.unquote(fname.group(1)),
                content_type=headers.get("content-type", "application/octet-stream"),
                data=data,
            )
        else:
            fields[key] = data.decode("utf-8", "replace")
    return fields, files


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


class _TelegramHTML(HTMLParser):
    """Validates HTML the way Telegram does (roughly) and extracts the plain text."""

    TAGS = frozenset(
        {
            "b",
            "strong",
            "i",
            "em",
            "u",
            "ins",
            "s",
            "strike",
            "del",
            "span",
            "tg-spoiler",
            "a",
            "tg-emoji",
            "code",
            "pre",
            "blockquote",
        }
    )

    def __init__(self, source: str):
        super().__init__(convert_charrefs=False)
        self.source = source
        self._line_starts = [0]
        for m in re.finditer("\n", source):
            self._line_starts.append(m.end())
        self.stack: list[str] = []
        self.out: list[str] = []
        self.error: str | None = None

    def _offset(self) -> int:
        line, col = self.getpos()
        return _byte_offset(self.source, self._line_starts[line - 1] + col)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.error:
            return
        if tag not in self.TAGS:
            self.error = f'Unsupported start tag "{tag}" at byte offset {self._offset()}'
            return
        if tag == "span" and dict(attrs).get("class") != "tg-spoiler":
            self.error = f'Tag "span" must have class "tg-spoiler" at byte offset {self._offset()}'
            return
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if not self.error:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if self.error:
            return
        if not self.stack:
            self.error = f"Unexpected end tag at byte offset {self._offset()}"
        elif self.stack[-1] != tag:
            self.error = f'Can\'t find end tag corresponding to start tag "{self.stack[-1]}"'
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        if name in ("lt", "gt", "amp", "quot"):
            self.out.append(html.unescape(f"&{name};"))
        elif not self.error:
            self.error = f'Unsupported HTML entity "&{name};" at byte offset {self._offset()}'

    def handle_charref(self, name: str) -> None:
        self.out.append(html.unescape(f"&#{name};"))

    def result(self) -> tuple[str, str | None]:
        self.feed(self.source)
        self.close()
        if not self.error and self.stack:
            self.error = f'Can\'t find end tag corresponding to start tag "{self.stack[-1]}"'
        return "".join(self.out), self.error


_MDV2_NAMES = {"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough", "||": "Spoiler"}


def _parse_markdown_v2(text: str) -> tuple[str, str | None]:
    """Approximates Telegram's MarkdownV2 parser: returns (plain text, error)."""
    out: list[str] = []
    open_: list[tuple[str, int]] = []
    i, n = 0, len(text)
    link_depth = 0

    def reserved(ch: str) -> str:
        return f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"

    while i < n:
        c = text[i]
        if c == "\\":
            if i + 1 < n:
                out.append(text[i + 1])
            i += 2
            continue
        if text.startswith("```", i):
            end = text.find("```", i + 3)
            if end < 0:
                return "", f"Can't find end of Pre entity at byte offset {_byte_offset(text, i)}"
            body = text[i + 3 : end]
            if "\n" in body and re.match(r"[\w+-]*\n", body):
                body = body.split("\n", 1)[1]
            out.append(body.replace("\\`", "`").replace("\\\\", "\\"))
            i = end + 3
            continue
        if c == "`":
            end = text.find("`", i + 1)
            if end < 0:
                return "", f"Can't find end of Code entity at byte offset {_byte_offset(text, i)}"
            out.append(text[i + 1 : end].replace("\\\\", "\\"))
            i = end + 1
            continue
        if c in "*~" or c == "_" or (c == "|" and text.startswith("||", i)):
            tok = "__" if text.startswith("__", i) else "||" if c == "|" else c
            if open_ and open_[-1][0] == tok:
                open_.pop()
            else:
                open_.append((tok, i))
            i += len(tok)
            continue
        if c == "[":
            link_depth += 1
            i += 1
            continue
        if c == "]" and link_depth:
            link_depth -= 1
            if text.startswith("(", i + 1):
                end = text.find(")", i + 2)
                if end < 0:
                    return "", reserved("(")
                i = end + 1
            else:
                i += 1
            continue
        if c == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1
            continue
        if c in "#+-={}.!>|()]":
            return "", reserved(c)
        out.append(c)
        i += 1
    if open_:
        tok, pos = open_[-1]
        return "", f"Can't find end of {_MDV2_NAMES[tok]} entity at byte offset {_byte_offset(text, pos)}"
    if link_depth:
        return "", reserved("[")
    return "".join(out), None


def _plain_text(text: str, parse_mode: Any, strict: bool) -> str:
    """Returns the text as Telegram would store it, raising 400 on unparsable markup."""
    mode = str(parse_mode or "").lower()
    if mode == "html":
        plain, error = _TelegramHTML(text).result()
    elif mode == "markdownv2":
        plain, error = _parse_markdown_v2(text)
    elif mode == "markdown":
        plain, error = re.sub(r"(?<!\\)[*_`]", "", text), None
    else:
        plain, error = text, None
    if error and strict:
        raise _ApiError(400, f"Bad Request: can't parse entities: {error}")
    return plain


#: The fields of an InlineKeyboardButton that say what it does (exactly one per button).
_BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
#: InlineQueryResult types answerInlineQuery accepts.
_INLINE_RESULT_TYPES = frozenset(
    {
        "article",
        "photo",
        "gif",
        "mpeg4_gif",
        "video",
        "audio",
        "voice",
        "document",
        "location",
        "venue",
        "contact",
        "game",
        "sticker",
    }
)
_START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _check_reply_markup(markup: Any) -> None:
    if not isinstance(markup, dict):
        return
    for row in markup.get("inline_keyboard") or []:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise _ApiError(400, "Bad Request: BUTTON_TEXT_INVALID")
            if "callback_data" in button:
                data = str(button["callback_data"]).encode("utf-8")
                if not 1 <= len(data) <= 64:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if "url" in button and not re.match(r"(https?|tg)://", str(button["url"])):
                raise _ApiError(400, "Bad Request: BUTTON_URL_INVALID")
            if set(button) <= {"text"}:
                raise _ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
            if len(set(button) & _BUTTON_ACTIONS) > 1:  # "You must use exactly one of the optional fields"
                raise _ApiError(400, "Bad Request: BUTTON_TYPE_INVALID")


def _strip_reply(message: dict) -> dict:
    msg = copy.deepcopy(message)
    msg.pop("reply_to_message", None)
    msg.pop("_deleted", None)
    return msg


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # joined in server_close(); every wait in a handler is interruptible
    block_on_close = True
    allow_reuse_address = True
    # Listen backlog: the bot opens dozens of connections at once (64 updates in parallel); the
    # default of 5 makes the kernel drop or reset them, which real Telegram never does.
    request_queue_size = 256
    fake: FakeBotAPI

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, socket.timeout, TimeoutError)):
            return
        self.fake.errors.append(exc)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server_version = "FakeTelegramBotAPI/1.0"
    timeout = 10  # socket timeout: a stalled client cannot keep a handler thread forever
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.server.fake._handle_http(self)

    do_GET = do_POST


#: Faults decided after the call is read: "timeout" (carried out, the answer comes too late),
#: "drop" (not carried out; the answer is held, then the connection closes), "reset" (the
#: connection is reset before the call is carried out), "reset_after" (carried out, then reset).
_LATE_FAULTS = ("timeout", "drop", "reset", "reset_after")


def _reset(handler: BaseHTTPRequestHandler) -> None:
    """Break the connection with a TCP reset (SO_LINGER 0), without an answer."""
    with contextlib.suppress(OSError):
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                break
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
        return b"".join(chunks)
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str = "application/json") -> None:
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        handler.wfile.flush()
    except OSError:  # client went away (e.g. it timed out or was SIGKILLed)
        pass


# --------------------------------------------------------------------------- the fake


class FakeBotAPI:
    """Fake Telegram Bot API server. See the module docstring and the method docs."""

    bot_id = BOT_ID
    bot_username = BOT_USERNAME

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_poll_wait: float = 1.0,
        timeout_delay: float = 6.0,
        timeout_delivers: bool = True,
        strict: bool = True,
        first_update_id: int = 100000,
        inline_mode: bool = False,
    ) -> None:
        """
        Args:
            max_poll_wait: cap (seconds) on how long getUpdates blocks, whatever ``timeout`` asks.
            timeout_delay: how long a "timeout" fault holds the answer back (longer than the
                client's read timeout so it raises ``telegram.error.TimedOut``).
            timeout_delivers: a "timeout" fault still performs the call (the message reaches
                the chat, the bot just never hears back) -- as in real life. ``False``: the
                call is dropped.
            strict: reproduce Telegram's validation errors (see module docstring).
            inline_mode: the bot has inline mode on (BotFather /setinline): getMe's
                ``supports_inline_queries``.
        """
        self.host = host
        self._port = port
        self.max_poll_wait = max_poll_wait
        self.timeout_delay = timeout_delay
        self.timeout_delivers = timeout_delivers
        self.strict = strict
        self.inline_mode = inline_mode

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

        #: Every call, in arrival-of-answer order (getUpdates is recorded when it returns).
        self.calls: list[Call] = []
        self._seq = itertools.count()
        self._next_seq = 0
        #: Last token seen / all tokens seen.
        self.token: str | None = None
        self.tokens: set[str] = set()
        #: Exceptions raised inside the fake's handlers (bugs of the fake); should stay empty.
        self.errors: list[BaseException] = []
        #: Injected faults by status (429, 403, 500, "timeout", ...).
        self.faults_injected: Counter[int | str] = Counter()

        self._updates: deque[dict] = deque()
        self._next_update_id = first_update_id
        self._allowed_updates: set[str] | None = None  # None = Telegram's default
        self._msg_ids: dict[int, int] = {}
        self._messages: dict[tuple[int, int], dict] = {}
        #: chat id -> message id of its pinned message (pinChatMessage / getChat's pinned_message)
        self.pinned: dict[int, int] = {}
        self._chat_order: dict[int, list[int]] = {}
        self.groups: dict[int, dict[str, Any]] = {}
        self._members: dict[tuple[int, int], dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        #: (chat_id, message_thread_id) -> {"name", "icon_color", "closed", "deleted", ...}
        self.topics: dict[tuple[int, int], dict[str, Any]] = {}
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.webhook: dict[str, Any] = {"url": "", "secret_token": None, "allowed_updates": None}
        self.blocked: set[int] = set()
        self._files: dict[str, dict[str, Any]] = {}
        self._file_paths: dict[str, str] = {}
        self._file_seq = itertools.count(1)
        self._callback_seq = itertools.count(1)
        self._callback_ids: set[str] = set()
        self._inline_seq = itertools.count(1)
        #: inline query id -> the inline_query object sent to the bot
        self._inline_queries: dict[str, dict] = {}
        #: inline query id -> the parameters of the bot's answerInlineQuery
        self.inline_answers: dict[str, dict] = {}
        self._fail_next: list[list[Any]] = []
        # (probability, statuses, methods or None, rng, retry_after)
        self._fail_rate: tuple[float, tuple, frozenset[str] | None, random.Random, int] | None = None

        self._api = {name[5:].lower(): getattr(self, name) for name in dir(self) if name.startswith("_api_")}
        self._canonical = {name[5:].lower(): name[5:] for name in dir(self) if name.startswith("_api_")}
        for m in SEND_METHODS | CHAT_TARGET_METHODS:
            self._canonical.setdefault(m.lower(), m)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeBotAPI:
        if self._server is not None:
            raise RuntimeError("FakeBotAPI already started")
        self._stopping.clear()
        server = _Server((self.host, self._port), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="FakeBotAPI", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        server.shutdown()
        server.server_close()  # joins handler threads (all their waits watch _stopping)
        if thread is not None:
            thread.join(5)
        self._server = self._thread = None

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    async def __aenter__(self) -> FakeBotAPI:
        return self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await asyncio.to_thread(self.stop)

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeBotAPI not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # ------------------------------------------------------------------ recording / querying

    def _canon(self, method: str) -> str:
        return self._canonical.get(method.lower(), method)

    def _record(self, call: Call) -> None:
        with self._cond:
            call.seq = self._next_seq
            self._next_seq += 1
            self.calls.append(call)
            self._cond.notify_all()

    def mark(self) -> int:
        """Sequence number of the next call; pass as ``since=`` to only look at later calls."""
        with self._lock:
            return self._next_seq

    def clear(self) -> None:
        """Forget the recorded calls (state, queued updates and fault settings are kept)."""
        with self._lock:
            self.calls.clear()

    def calls_to(self, method: str | Iterable[str] | None = None, *, since: int = 0) -> list[Call]:
        """Recorded calls to ``method`` (a name, several names or None for all), oldest first."""
        return self._match(method, None, since, include_failed=True)

    def sent_messages(self, chat_id: int | str | None = None, *, since: int = 0) -> list[Call]:
        """Calls that put messages into ``chat_id`` (any chat if None) and took effect:
        sendMessage, sendPhoto/Document/Voice/..., copyMessage(s), forwardMessage(s).
        Refused calls (429/403/400...) are not included; a "timeout" fault that was
        delivered is (its ``failed_with`` is "timeout")."""
        with self._lock:
            out = []
            for c in self.calls:
                if c.seq < since or c.method not in SEND_METHODS or not c.delivered:
                    continue
                if chat_id is not None and str(c.params.get("chat_id")) != str(chat_id):
                    continue
                out.append(c)
            return out

    def _match(
        self,
        method: str | Iterable[str] | None,
        predicate: Callable[[Call], Any] | Mapping[str, Any] | None,
        since: int,
        include_failed: bool,
    ) -> list[Call]:
        if method is None or method == "*":
            methods = None
        elif isinstance(method, str):
            methods = {self._canon(method)}
        else:
            methods = {self._canon(m) for m in method}
        with self._lock:
            candidates = [
                c
                for c in self.calls
                if c.seq >= since
                and (methods is None or c.method in methods)
                and (include_failed or c.failed_with is None)
            ]
        out = []
        for c in candidates:
            if predicate is None:
                out.append(c)
            elif isinstance(predicate, Mapping):
                if all(k in c.params and c.params[k] == v for k, v in predicate.items()):
                    out.append(c)
            else:
                try:
                    if predicate(c):
                        out.append(c)
                except Exception:  # a predicate that does not apply to this call is a non-match
                    pass
        return out

    def _wait_failure(self, method: Any, predicate: Any, count: int, timeout: float, got: int, since: int) -> str:
        with self._lock:
            recent = [c for c in self.calls if c.seq >= since][-15:]
            total = len(self.calls)
        lines = [
            f"wait_for({method!r}, predicate={predicate!r}, count={count}) timed out after {timeout}s: "
            f"{got} matching call(s), needed {count}.",
            f"Recent calls ({len(recent)} of {total} shown, newest last):",
        ]
        lines += [f"  {c.short()}" for c in recent] or ["  (no calls recorded)"]
        with self._lock:
            if self._updates:
                lines.append(f"Updates still queued (not confirmed by getUpdates): {len(self._updates)}")
        if self.errors:
            lines.append(f"Errors inside the fake: {self.errors!r}")
        return "\n".join(lines)

    async def wait_for(
        self,
        method: str | Iterable[str] | None,
        predicate: Callable[[Call], Any] | Mapping[str, Any] | None = None,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109  the failure on timeout lists the recent calls
        *,
        since: int = 0,
        include_failed: bool = True,
    ) -> list[Call]:
        """Waits until at least ``count`` recorded calls to ``method`` match ``predicate``
        (a callable taking a :class:`Call`, or a dict that must be a subset of ``params``).
        Returns all matching calls; raises AssertionError (listing recent calls) on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = self._match(method, predicate, since, include_failed)
            if len(found) >= count:
                return found
            if loop.time() >= deadline:
                raise AssertionError(self._wait_failure(method, predicate, count, timeout, len(found), since))
            await asyncio.sleep(0.01)

    def wait_for_sync(
        self,
        method: str | Iterable[str] | None,
        predicate: Callable[[Call], Any] | Mapping[str, Any] | None = None,
        count: int = 1,
        timeout: float = 5.0,
        *,
        since: int = 0,
        include_failed: bool = True,
    ) -> list[Call]:
        """Blocking version of :meth:`wait_for` (for subprocess tests; never call it from the
        event loop that runs an in-process bot)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self._match(method, predicate, since, include_failed)
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(self._wait_failure(method, predicate, count, timeout, len(found), since))
            with self._cond:
                self._cond.wait(min(remaining, 0.1))

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str | None,
        status: int | str = 429,
        retry_after: int = 1,
        count: int = 1,
        description: str | None = None,
    ) -> None:
        """The next ``count`` calls to ``method`` (None: any method but getUpdates) fail with
        ``status`` (429, 403, 400, 500, 502, ... or "timeout", "drop", "reset", "reset_after":
        see ``_LATE_FAULTS``). Queued faults are FIFO."""
        with self._lock:
            key = None if method in (None, "*") else self._canon(method).lower()
            self._fail_next.append([key, status, retry_after, description, count])

    def fail_rate(
        self,
        probability: float,
        statuses: Iterable[int | str] = (429, 500, "timeout"),
        methods: Iterable[str] | None = None,
        seed: int = 0,
        retry_after: int = 1,
    ) -> None:
        """Random faults for soak tests: each call to ``methods`` (None: every method except
        getUpdates) fails with probability ``probability`` with a status drawn from
        ``statuses``. Deterministic for a given ``seed``. ``fail_rate(0)`` turns it off."""
        with self._lock:
            if probability <= 0:
                self._fail_rate = None
                return
            ms = None if methods is None else frozenset(self._canon(m) for m in methods)
            self._fail_rate = (probability, tuple(statuses), ms, random.Random(seed), retry_after)

    def block_user(self, user_id: int) -> None:
        """Every send/edit/chat action to chat ``user_id`` answers 403 "bot was blocked by the user"."""
        with self._lock:
            self.blocked.add(int(user_id))

    def unblock_user(self, user_id: int) -> None:
        with self._lock:
            self.blocked.discard(int(user_id))

    def _pick_fault(self, method: str, params: dict) -> _Fault | None:
        low = method.lower()
        with self._lock:
            for entry in self._fail_next:
                key = entry[0]
                if key == low or (key is None and method != "getUpdates"):
                    entry[4] -= 1
                    if entry[4] <= 0:
                        self._fail_next.remove(entry)
                    return _Fault(entry[1], entry[2], entry[3])
            if method in CHAT_TARGET_METHODS and self.blocked:
                try:
                    chat = int(params.get("chat_id"))  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    chat = None
                if chat in self.blocked:
                    return _Fault(403, None, "Forbidden: bot was blocked by the user")
            if self._fail_rate is not None:
                prob, statuses, methods, rng, retry_after = self._fail_rate
                applies = method != "getUpdates" if methods is None else method in methods
                if applies and rng.random() < prob:
                    return _Fault(rng.choice(statuses), retry_after, None)
        return None

    @staticmethod
    def _error_payload(
        status: int, description: str | None, retry_after: int | None = None, parameters: dict | None = None
    ) -> dict:
        if status == 429:
            retry_after = retry_after or 1
            description = description or f"Too Many Requests: retry after {retry_after}"
            parameters = {"retry_after": retry_after}
        body: dict[str, Any] = {
            "ok": False,
            "error_code": status,
            "description": description or _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}"),
        }
        if parameters:
            body["parameters"] = parameters
        return body

    # ------------------------------------------------------------------ HTTP handling

    def _handle_http(self, handler: _Handler) -> None:
        arrival = time.time()
        parts = urllib.parse.urlsplit(handler.path)
        path = parts.path
        if path.startswith("/file/bot"):
            self._serve_file(handler, path)
            return
        m = re.fullmatch(r"/bot([^/]+)/([A-Za-z0-9_]+)/?", path)
        if not m:
            _send(handler, 404, json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}).encode())
            return
        token, raw_method = m.groups()
        method = self._canon(raw_method)
        ctype = handler.headers.get("Content-Type", "")
        try:
            body = _read_body(handler)
            raw: dict[str, Any] = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
            files: dict[str, UploadedFile] = {}
            ct = ctype.lower()
            if ct.startswith("multipart/form-data"):
                fields, files = _parse_multipart(ctype, body)
                raw.update(fields)
            elif ct.startswith("application/json"):
                if body.strip():
                    data = json.loads(body)
                    if not isinstance(data, dict):
                        raise _ApiError(400, "Bad Request: invalid JSON body")
                    raw.update(data)
            elif body:
                raw.update(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            params = _decode_params(raw)
        except (ValueError, _ApiError) as exc:
            desc = exc.description if isinstance(exc, _ApiError) else "Bad Request: can't parse request"
            _send(handler, 400, json.dumps(self._error_payload(400, desc)).encode())
            return
        for f in files.values():
            params[f.field] = {"filename": f.filename, "content_type": f.content_type, "size": f.size}

        with self._lock:
            self.token = token
            self.tokens.add(token)
        call = Call(seq=-1, method=method, params=params, time=arrival, token=token, files=files, content_type=ctype)

        fault = self._pick_fault(method, params)
        if fault is not None:
            with self._lock:
                self.faults_injected[fault.status] += 1
        if fault is not None and fault.status == "reset":  # the connection breaks before the call
            call.failed_with, call.error, call.injected = "reset", "connection reset (not carried out)", True
            self._record(call)
            _reset(handler)
            return
        if fault is not None and fault.status not in _LATE_FAULTS:
            status = int(fault.status)
            payload = self._error_payload(status, fault.description, fault.retry_after)
            call.failed_with, call.error, call.injected = status, payload["description"], True
            self._record(call)
            _send(handler, status, json.dumps(payload).encode())
            return

        status, payload = 200, None
        carry_out = fault is None or (self.timeout_delivers and fault.status != "drop")
        if carry_out:
            try:
                with self._cond:
                    result = self._dispatch(method, params, files)
                call.result = result
                payload = {"ok": True, "result": result}
            except _ApiError as exc:
                status = exc.status
                payload = self._error_payload(exc.status, exc.description, parameters=exc.parameters)
                call.failed_with, call.error = exc.status, payload["description"]
            except Exception as exc:  # a bug of the fake: answer 500 and keep it for the test
                self.errors.append(exc)
                status, payload = 500, self._error_payload(500, f"Internal Server Error: fake bug {exc!r}")
                call.failed_with, call.error = 500, payload["description"]
        if fault is not None and fault.status == "reset_after":  # carried out, then the connection breaks
            call.failed_with, call.error, call.injected = "reset_after", "connection reset after the call", True
            self._record(call)
            _reset(handler)
            return
        if fault is not None:  # "timeout" / "drop": hold the answer back longer than the client waits
            call.failed_with, call.error, call.injected = fault.status, "timeout (answer delayed)", True
            if fault.status == "drop":
                call.error = "answer held, then the connection dropped (not carried out)"
            self._record(call)
            if self._stopping.wait(self.timeout_delay):
                return
            if payload is None:
                return  # dropped call: close the connection without an answer
        else:
            self._record(call)
        _send(handler, status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))

    def _serve_file(self, handler: _Handler, path: str) -> None:
        m = re.fullmatch(r"/file/bot([^/]+)/(.+)", path)
        info = None
        if m:
            with self._lock:
                file_id = self._file_paths.get(urllib.parse.unquote(m.group(2)))
                info = self._files.get(file_id) if file_id else None
        if info is None:
            _send(handler, 404, json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}).encode())
            return
        _send(handler, 200, info["data"], "application/octet-stream")

    def _dispatch(self, method: str, params: dict, files: dict[str, UploadedFile]) -> Any:
        impl = self._api.get(method.lower())
        if impl is None:
            return True
        return impl(params, files)

    # ------------------------------------------------------------------ state helpers

    def _now(self) -> int:
        return int(time.time())

    def _next_mid(self, chat_id: int) -> int:
        mid = self._msg_ids.get(chat_id, 0) + 1
        self._msg_ids[chat_id] = mid
        return mid

    def _bump_mid(self, chat_id: int, at_least: int) -> None:
        if self._msg_ids.get(chat_id, 0) < at_least:
            self._msg_ids[chat_id] = at_least

    def _store(self, message: dict) -> dict:
        cid, mid = message["chat"]["id"], message["message_id"]
        if (cid, mid) not in self._messages:
            self._chat_order.setdefault(cid, []).append(mid)
        self._messages[(cid, mid)] = copy.deepcopy(message)
        return message

    def _known_user(self, user_id: int) -> dict:
        if user_id == BOT_ID:
            return dict(_BOT_SENDER)
        return copy.deepcopy(
            self.users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        )

    def _group_chat(self, chat_id: int) -> dict:
        g = self.groups[chat_id]
        chat = {"id": chat_id, "type": g["type"], "title": g["title"]}
        if g["is_forum"]:
            chat["is_forum"] = True
        return chat

    def _chat_obj(self, chat_id: int, *, strict: bool = False) -> dict:
        if chat_id in self.groups:
            return self._group_chat(chat_id)
        if chat_id < 0:
            if strict and self.strict:
                raise _ApiError(400, "Bad Request: chat not found")
            return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}
        u = self.users.get(chat_id)
        chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": (u or {}).get("first_name", "User")}
        for k in ("last_name", "username"):
            if u and u.get(k):
                chat[k] = u[k]
        return chat

    def _resolve_chat(self, value: Any) -> dict:
        if value is None or value == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        try:
            cid = int(value)
        except (TypeError, ValueError):
            raise _ApiError(400, "Bad Request: chat not found") from None
        return self._chat_obj(cid, strict=True)

    def _is_forum_chat(self, chat_id: int) -> bool:
        g = self.groups.get(chat_id)
        return bool(g and g["is_forum"])

    def _topic_root(self, chat: dict, thread_id: int, fallback_from: dict) -> dict:
        """The forum_topic_created service message a topic message implicitly replies to."""
        cid = chat["id"]
        stored = self._messages.get((cid, thread_id))
        if stored and "forum_topic_created" in stored:
            return _strip_reply(stored)
        topic = self.topics.get((cid, thread_id), {})
        self._bump_mid(cid, thread_id)
        return {
            "message_id": thread_id,
            "from": topic.get("created_by", fallback_from),
            "chat": chat,
            "date": topic.get("date", self._now()),
            "message_thread_id": thread_id,
            "forum_topic_created": {
                "name": topic.get("name", f"Topic {thread_id}"),
                "icon_color": topic.get("icon_color", TOPIC_ICON_COLORS[0]),
            },
            "is_topic_message": True,
        }

    def _place_in_thread(self, msg: dict, chat: dict, thread_id: Any, reply_to: Any, sender: dict) -> None:
        """Adds message_thread_id / is_topic_message / reply_to_message like Telegram does."""
        cid = chat["id"]
        if reply_to:
            target = self._messages.get((cid, int(reply_to)))
            if target is not None and not target.get("_deleted"):
                msg["reply_to_message"] = _strip_reply(target)
                if thread_id is None and target.get("is_topic_message"):
                    thread_id = target.get("message_thread_id")
        if thread_id:
            thread_id = int(thread_id)
            msg["message_thread_id"] = thread_id
            g = self.groups.get(cid)
            if g is None or g["is_forum"]:
                msg["is_topic_message"] = True
                if "reply_to_message" not in msg and g is not None:
                    msg["reply_to_message"] = self._topic_root(chat, thread_id, sender)

    def _check_thread(self, chat_id: int, thread_id: Any) -> None:
        if not thread_id:
            return
        topic = self.topics.get((chat_id, int(thread_id)))
        if topic and topic.get("deleted") and self.strict:
            raise _ApiError(400, "Bad Request: message thread not found")

    def _reply_target(self, params: dict) -> Any:
        rp = params.get("reply_parameters")
        if isinstance(rp, dict) and rp.get("message_id"):
            return rp["message_id"]
        return params.get("reply_to_message_id")

    def _new_bot_message(self, params: dict, content: dict, *, chat: dict | None = None) -> dict:
        chat = chat or self._resolve_chat(params.get("chat_id"))
        thread_id = params.get("message_thread_id")
        self._check_thread(chat["id"], thread_id)
        markup = params.get("reply_markup")
        if self.strict:
            _check_reply_markup(markup)
        if thread_id:
            self._bump_mid(chat["id"], int(thread_id))
        msg: dict[str, Any] = {
            "message_id": self._next_mid(chat["id"]),
            "from": dict(_BOT_SENDER),
            "chat": chat,
            "date": self._now(),
        }
        self._place_in_thread(msg, chat, thread_id, self._reply_target(params), dict(_BOT_SENDER))
        msg.update(content)
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            msg["reply_markup"] = markup  # Telegram only echoes inline keyboards
        return self._store(msg)

    def _text_content(self, params: dict, key: str = "text", limit: int = 4096) -> dict:
        text = params.get(key)
        if text is None or (key == "text" and not str(text).strip()):
            if key == "text":
                raise _ApiError(400, "Bad Request: message text is empty")
            return {}
        text = str(text)
        plain = _plain_text(text, params.get("parse_mode"), self.strict)
        if key == "text" and not plain.strip() and self.strict:
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(plain) > limit and self.strict:
            raise _ApiError(
                400, "Bad Request: message is too long" if key == "text" else "Bad Request: message caption is too long"
            )
        out: dict[str, Any] = {key: plain}
        ent_key = "entities" if key == "text" else "caption_entities"
        if isinstance(params.get(ent_key), list):
            out[ent_key] = params[ent_key]
        return out

    # files ---------------------------------------------------------------

    def add_file(
        self, content: bytes, *, kind: str = "document", file_name: str | None = None, file_id: str | None = None
    ) -> str:
        """Registers downloadable content; returns its file_id (getFile + GET base_file_url work)."""
        with self._lock:
            return self._register_file(kind, content, file_name, file_id)["file_id"]

    def _register_file(self, kind: str, data: bytes, file_name: str | None = None, file_id: str | None = None) -> dict:
        n = next(self._file_seq)
        folder, ext = _FILE_DIRS.get(kind, ("documents", "bin"))
        if file_name and "." in file_name:
            ext = file_name.rsplit(".", 1)[1]
        file_id = file_id or f"FAKE-{kind}-{n:06d}"
        info = {
            "file_id": file_id,
            "file_unique_id": f"uniq{n:06d}",
            "file_size": len(data),
            "file_path": f"{folder}/file_{n}.{ext}",
            "data": data,
            "kind": kind,
            "file_name": file_name,
        }
        self._files[file_id] = info
        self._file_paths[info["file_path"]] = file_id
        return info

    def _media(self, kind: str, params: dict, files: dict[str, UploadedFile]) -> dict:
        value = params.get(kind)
        upload = files.get(kind)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value[len("attach://") :])
        if upload is not None:
            info = self._register_file(kind, upload.data, upload.filename)
            mime = upload.content_type
        elif isinstance(value, str) and value:
            info = self._files.get(value)
            if info is None:
                if self.strict and not re.match(r"https?://", value):
                    raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
                info = self._register_file(
                    kind, _FAKE_CONTENT.get(kind, b"fake"), value.rsplit("/", 1)[-1] if "://" in value else None
                )
            mime = None
        else:
            raise _ApiError(400, f"Bad Request: there is no {kind} in the request")
        base = {"file_id": info["file_id"], "file_unique_id": info["file_unique_id"], "file_size": info["file_size"]}
        if kind == "photo":
            return {
                "photo": [
                    {
                        **base,
                        "file_id": info["file_id"] + "-s",
                        "file_unique_id": info["file_unique_id"] + "s",
                        "width": 90,
                        "height": 67,
                        "file_size": max(1, info["file_size"] // 10),
                    },
                    {**base, "width": 800, "height": 600},
                ]
            }
        if kind == "document":
            return {
                "document": {
                    **base,
                    "file_name": info["file_name"] or "document.pdf",
                    "mime_type": mime or "application/pdf",
                }
            }
        if kind == "voice":
            return {"voice": {**base, "duration": int(params.get("duration") or 1), "mime_type": "audio/ogg"}}
        if kind == "audio":
            return {
                "audio": {
                    **base,
                    "duration": int(params.get("duration") or 1),
                    "mime_type": mime or "audio/mpeg",
                    "file_name": info["file_name"] or "audio.mp3",
                }
            }
        if kind in ("video", "animation"):
            return {
                kind: {
                    **base,
                    "width": 640,
                    "height": 480,
                    "duration": int(params.get("duration") or 1),
                    "mime_type": "video/mp4",
                }
            }
        if kind == "video_note":
            return {kind: {**base, "length": 240, "duration": int(params.get("duration") or 1)}}
        if kind == "sticker":
            return {
                kind: {
                    **base,
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": params.get("emoji") or "\U0001f44d",
                }
            }
        return {kind: base}

    # ------------------------------------------------------------------ groups & members

    def add_group(
        self,
        chat_id: int,
        is_forum: bool = True,
        title: str = "Volunteers",
        *,
        chat_type: str = "supergroup",
        bot_status: str = "administrator",
        can_manage_topics: bool = True,
        **bot_rights: Any,
    ) -> dict:
        """Registers a group (negative id). The bot is ``bot_status`` there (administrator with
        can_manage_topics by default; extra ChatMemberAdministrator fields in ``bot_rights``).
        Returns the Chat dict."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative (supergroups look like -100xxxxxxxxxx)")
        with self._lock:
            self.groups[chat_id] = {"id": chat_id, "type": chat_type, "title": title, "is_forum": bool(is_forum)}
            self._members[(chat_id, BOT_ID)] = {
                "status": bot_status,
                "can_manage_topics": can_manage_topics,
                **bot_rights,
            }
            return self._group_chat(chat_id)

    def set_member(self, chat_id: int, user_id: int, status: str, **fields: Any) -> None:
        """getChatMember(chat_id, user_id) will answer ``status`` ("creator", "administrator",
        "member", "restricted", "left", "kicked"); ``fields`` override ChatMember fields."""
        with self._lock:
            self._members[(chat_id, user_id)] = {"status": status, **fields}

    def set_bot_member(self, chat_id: int, status: str = "administrator", **rights: Any) -> None:
        """Shortcut for ``set_member(chat_id, BOT_ID, status, **rights)``."""
        self.set_member(chat_id, BOT_ID, status, **rights)

    def delete_topic(self, chat_id: int, message_thread_id: int) -> None:
        """Simulates someone deleting a topic in the Telegram app."""
        with self._lock:
            self.topics.setdefault(
                (chat_id, message_thread_id), {"name": f"Topic {message_thread_id}", "icon_color": TOPIC_ICON_COLORS[0]}
            )
            self.topics[(chat_id, message_thread_id)]["deleted"] = True

    def _member_obj(self, chat_id: int, user_id: int) -> dict:
        entry = self._members.get((chat_id, user_id))
        if entry is None:
            entry = {"status": "member" if (chat_id > 0 and chat_id == user_id) else "left"}
        return self._member_dict(self._known_user(user_id), entry)

    @staticmethod
    def _member_dict(user: dict, entry: dict) -> dict:
        status = entry.get("status", "member")
        extra = {k: v for k, v in entry.items() if k != "status"}
        user = {
            k: v
            for k, v in user.items()
            if k in ("id", "is_bot", "first_name", "last_name", "username", "language_code")
        }
        if status == "creator":
            base = {"is_anonymous": False}
        elif status == "administrator":
            base = {
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
                "can_pin_messages": True,
                "can_manage_topics": True,
            }
        elif status == "restricted":
            base = {
                "is_member": True,
                "can_send_messages": False,
                "can_send_audios": False,
                "can_send_documents": False,
                "can_send_photos": False,
                "can_send_videos": False,
                "can_send_video_notes": False,
                "can_send_voice_notes": False,
                "can_send_polls": False,
                "can_send_other_messages": False,
                "can_add_web_page_previews": False,
                "can_change_info": False,
                "can_invite_users": False,
                "can_pin_messages": False,
                "can_manage_topics": False,
                "can_edit_tag": False,
                "until_date": 0,
            }
        elif status == "kicked":
            base = {"until_date": 0}
        else:
            base = {}
        return {"status": status, "user": user, **base, **extra}

    # ------------------------------------------------------------------ update builders

    def add_update(self, update: dict) -> dict:
        """Queues a raw update dict (``update_id`` is assigned if missing). Returns a copy."""
        with self._cond:
            update = copy.deepcopy(update)
            if "update_id" not in update:
                update["update_id"] = self._next_update_id
            self._next_update_id = max(self._next_update_id, update["update_id"]) + 1
            self._updates.append(update)
            self._cond.notify_all()
            return copy.deepcopy(update)

    @property
    def pending_updates(self) -> list[dict]:
        """Queued updates not yet confirmed (by a getUpdates offset) or posted to a webhook."""
        with self._lock:
            return copy.deepcopy(list(self._updates))

    def _make_user(
        self,
        user_id: int,
        first_name: str,
        username: str | None,
        language_code: str | None,
        last_name: str | None = None,
    ) -> dict:
        u: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            u["last_name"] = last_name
        if username:
            u["username"] = username
        if language_code:
            u["language_code"] = language_code
        self.users[user_id] = u
        return dict(u)

    def _user_chat(
        self, user: dict, chat_id: int | None, chat_type: str, is_forum: bool | None = None, title: str | None = None
    ) -> dict:
        cid = user["id"] if chat_id is None else chat_id
        if cid in self.groups:
            return self._group_chat(cid)
        if chat_type == "private" and cid > 0:
            return self._chat_obj(cid)
        if chat_type == "private":
            chat_type = "supergroup"
        if cid > 0:
            raise ValueError(f"a {chat_type} needs a negative chat_id, got {cid}")
        self.add_group(
            cid,
            is_forum=bool(is_forum) if chat_type == "supergroup" else False,
            title=title or f"Group {cid}",
            chat_type=chat_type,
        )
        return self._group_chat(cid)

    def _user_message(
        self,
        user_id: int,
        content: dict,
        *,
        chat_id: int | None = None,
        language_code: str | None = "es",
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        chat_type: str = "private",
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
        is_forum: bool | None = None,
        title: str | None = None,
        message_id: int | None = None,
    ) -> dict:
        user = self._make_user(user_id, first_name, username, language_code, last_name)
        chat = self._user_chat(user, chat_id, chat_type, is_forum, title)
        cid = chat["id"]
        if cid < 0 and (cid, user_id) not in self._members:
            self._members[(cid, user_id)] = {"status": "member"}
        if message_thread_id:
            self._bump_mid(cid, int(message_thread_id))
        if message_id is None:
            message_id = self._next_mid(cid)
        else:
            self._bump_mid(cid, message_id)
        msg: dict[str, Any] = {"message_id": message_id, "from": user, "chat": chat, "date": self._now()}
        self._place_in_thread(msg, chat, message_thread_id, reply_to_message_id, user)
        msg.update(content)
        return self._store(msg)

    @staticmethod
    def _command_entities(text: str) -> list[dict] | None:
        if not text.startswith("/"):
            return None
        cmd = text.split(maxsplit=1)[0] if text.strip() else text
        return [{"type": "bot_command", "offset": 0, "length": _utf16_len(cmd)}]

    def message(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        language_code: str | None = "es",
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        chat_type: str = "private",
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
        entities: list[dict] | None = None,
    ) -> dict:
        """Queues a text message from ``user_id`` (private chat unless ``chat_id`` is a group).
        Texts starting with "/" get a bot_command entity. Returns the Update dict."""
        with self._cond:
            content: dict[str, Any] = {"text": text}
            ents = entities if entities is not None else self._command_entities(text)
            if ents:
                content["entities"] = ents
            msg = self._user_message(
                user_id,
                content,
                chat_id=chat_id,
                language_code=language_code,
                first_name=first_name,
                last_name=last_name,
                username=username,
                chat_type=chat_type,
                message_thread_id=message_thread_id,
                reply_to_message_id=reply_to_message_id,
            )
            return self.add_update({"message": msg})

    def command(
        self, user_id: int, command: str = "/start", args: str | Iterable[str] | None = None, **kwargs: Any
    ) -> dict:
        """``message()`` with a bot command: ``command(42, "/start", "payload")`` -> "/start payload"."""
        if not command.startswith("/"):
            command = "/" + command
        if args:
            command += " " + (args if isinstance(args, str) else " ".join(args))
        return self.message(user_id, command, **kwargs)

    def _media_update(
        self, user_id: int, kind: str, media: dict, caption: str | None, kwargs: dict, key: str = "message"
    ) -> dict:
        with self._cond:
            content = dict(media)
            if caption is not None:
                content["caption"] = caption
            msg = self._user_message(user_id, content, **kwargs)
            return self.add_update({key: msg})

    def photo(self, user_id: int, caption: str | None = None, *, content: bytes | None = None, **kwargs: Any) -> dict:
        """Queues a photo message (3 PhotoSizes; the file is downloadable via getFile)."""
        with self._lock:
            info = self._register_file("photo", content or _FAKE_CONTENT["photo"])
        sizes = [
            {
                "file_id": f"{info['file_id']}-{w}",
                "file_unique_id": f"{info['file_unique_id']}{w}",
                "width": w,
                "height": w * 3 // 4,
                "file_size": max(1, info["file_size"] * w // 1280),
            }
            for w in (90, 320)
        ]
        sizes.append(
            {
                "file_id": info["file_id"],
                "file_unique_id": info["file_unique_id"],
                "width": 1280,
                "height": 960,
                "file_size": info["file_size"],
            }
        )
        return self._media_update(user_id, "photo", {"photo": sizes}, caption, kwargs)

    def sticker(self, user_id: int, emoji: str = "\U0001f44d", **kwargs: Any) -> dict:
        with self._lock:
            info = self._register_file("sticker", _FAKE_CONTENT["sticker"])
        st = {
            "file_id": info["file_id"],
            "file_unique_id": info["file_unique_id"],
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "FakeStickers",
            "file_size": info["file_size"],
        }
        return self._media_update(user_id, "sticker", {"sticker": st}, None, kwargs)

    def voice(
        self,
        user_id: int,
        duration: int = 3,
        *,
        content: bytes | None = None,
        caption: str | None = None,
        **kwargs: Any,
    ) -> dict:
        with self._lock:
            info = self._register_file("voice", content or _FAKE_CONTENT["voice"])
        v = {
            "file_id": info["file_id"],
            "file_unique_id": info["file_unique_id"],
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": info["file_size"],
        }
        return self._media_update(user_id, "voice", {"voice": v}, caption, kwargs)

    def document(
        self,
        user_id: int,
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        *,
        content: bytes | None = None,
        caption: str | None = None,
        **kwargs: Any,
    ) -> dict:
        with self._lock:
            info = self._register_file("document", content or _FAKE_CONTENT["document"], file_name)
        d = {
            "file_id": info["file_id"],
            "file_unique_id": info["file_unique_id"],
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": info["file_size"],
        }
        return self._media_update(user_id, "document", {"document": d}, caption, kwargs)

    def location(self, user_id: int, latitude: float = 25.7617, longitude: float = -80.1918, **kwargs: Any) -> dict:
        return self._media_update(
            user_id, "location", {"location": {"latitude": latitude, "longitude": longitude}}, None, kwargs
        )

    def edited_message(
        self, user_id: int, text: str, message_id: int | None = None, *, chat_id: int | None = None, **kwargs: Any
    ) -> dict:
        """Queues an ``edited_message`` update. ``message_id`` defaults to the user's last
        message in that chat (a new message id if there is none)."""
        with self._cond:
            cid = user_id if chat_id is None else chat_id
            if message_id is None:
                mids = [
                    m
                    for m in self._chat_order.get(cid, [])
                    if self._messages[(cid, m)].get("from", {}).get("id") == user_id
                ]
                message_id = mids[-1] if mids else None
            original = self._messages.get((cid, message_id)) if message_id is not None else None
            content: dict[str, Any] = {"text": text, "edit_date": self._now()}
            ents = self._command_entities(text)
            if ents:
                content["entities"] = ents
            if original is not None:
                kwargs.setdefault("message_thread_id", original.get("message_thread_id"))
                if original.get("reply_to_message") and not original["reply_to_message"].get("forum_topic_created"):
                    kwargs.setdefault("reply_to_message_id", original["reply_to_message"]["message_id"])
            msg = self._user_message(user_id, content, chat_id=chat_id, message_id=message_id, **kwargs)
            if original is not None:
                msg["date"] = original["date"]
                self._store(msg)
            return self.add_update({"edited_message": msg})

    def callback_query(
        self,
        user_id: int,
        data: str,
        message_id: int | None = None,
        chat_id: int | None = None,
        *,
        language_code: str | None = "es",
        first_name: str = "Test",
        username: str | None = None,
    ) -> dict:
        """Queues a callback_query from a button press on message ``message_id`` in ``chat_id``
        (default: the user's private chat; message default: the bot's last message there).
        The attached message is the stored one (with its reply_markup); a deleted message is
        attached as an InaccessibleMessage (date 0)."""
        with self._cond:
            user = self._make_user(user_id, first_name, username, language_code)
            cid = user_id if chat_id is None else chat_id
            chat = self._chat_obj(cid)
            if message_id is None:
                mids = [
                    m
                    for m in self._chat_order.get(cid, [])
                    if self._messages[(cid, m)].get("from", {}).get("id") == BOT_ID
                ]
                message_id = mids[-1] if mids else None
            stored = self._messages.get((cid, message_id)) if message_id is not None else None
            if stored is None:
                mid = message_id if message_id is not None else self._next_mid(cid)
                self._bump_mid(cid, mid)
                stored = self._store(
                    {
                        "message_id": mid,
                        "from": dict(_BOT_SENDER),
                        "chat": chat,
                        "date": self._now(),
                        "text": "...",
                        "reply_markup": {"inline_keyboard": [[{"text": "...", "callback_data": data}]]},
                    }
                )
            if stored.get("_deleted"):
                message = {"chat": chat, "message_id": stored["message_id"], "date": 0}
            else:
                message = copy.deepcopy(stored)
            cq_id = str(4_000_000_000_000_000 + next(self._callback_seq))
            self._callback_ids.add(cq_id)
            cq = {
                "id": cq_id,
                "from": user,
                "message": message,
                "chat_instance": str(abs(cid) * 7919 % 10**18 + 1),
                "data": data,
            }
            return self.add_update({"callback_query": cq})

    def inline_query(
        self,
        user_id: int,
        query: str,
        *,
        offset: str = "",
        chat_type: str | None = "sender",
        language_code: str | None = "es",
        first_name: str = "Test",
        username: str | None = None,
    ) -> dict:
        """Queues an inline_query: ``user_id`` typed "@<bot> ``query``" in a chat of
        ``chat_type`` ("sender" = their chat with the bot, "private", "group", "supergroup",
        "channel"; None: unknown). Returns the Update dict; its ``inline_query.id`` is the key
        of ``inline_answer``."""
        with self._cond:
            if len(query) > 256:
                raise ValueError("Telegram sends at most 256 characters of an inline query")
            user = self._make_user(user_id, first_name, username, language_code)
            iq_id = str(5_000_000_000_000_000 + next(self._inline_seq))
            inline: dict[str, Any] = {"id": iq_id, "from": user, "query": query, "offset": offset}
            if chat_type is not None:
                inline["chat_type"] = chat_type
            self._inline_queries[iq_id] = copy.deepcopy(inline)
            return self.add_update({"inline_query": inline})

    def press_switch_inline(
        self, user_id: int, message_id: int, *, chat_id: int | None = None, chat_type: str = "group", **kwargs: Any
    ) -> dict:
        """The user presses the "switch_inline_query" button of message ``message_id`` (in
        ``chat_id``, default their chat with the bot), picks a chat of ``chat_type`` in
        Telegram's chat picker, and Telegram sends the query the button pre-filled. Raises
        ValueError when the message has no such button. Returns the inline_query Update."""
        with self._lock:
            cid = user_id if chat_id is None else chat_id
            stored = self._messages.get((cid, message_id))
            buttons = [
                b
                for row in ((stored or {}).get("reply_markup") or {}).get("inline_keyboard", [])
                for b in row
                if "switch_inline_query" in b
            ]
        if not buttons or stored is None or stored.get("_deleted"):
            raise ValueError(f"message {message_id} in chat {cid} has no switch_inline_query button")
        return self.inline_query(user_id, str(buttons[0]["switch_inline_query"]), chat_type=chat_type, **kwargs)

    def inline_answer(self, inline_query_id: str) -> dict | None:
        """The parameters of the bot's answerInlineQuery for that query (None: not answered)."""
        with self._lock:
            found = self.inline_answers.get(inline_query_id)
            return copy.deepcopy(found) if found is not None else None

    def choose_inline_result(self, inline_query_id: str, result_id: str, chat_id: int) -> dict:
        """The user picks result ``result_id`` of an answered query: its message is posted into
        ``chat_id`` from the user, "via" the bot, with the result's keyboard. Returns the stored
        message (``text`` as Telegram shows it, after parsing the HTML)."""
        with self._cond:
            answer = self.inline_answers.get(inline_query_id)
            query = self._inline_queries.get(inline_query_id)
            if answer is None or query is None:
                raise ValueError(f"inline query {inline_query_id} was not answered")
            [result] = [r for r in answer["results"] if r.get("id") == result_id] or [None]
            if result is None:
                raise ValueError(f"no result {result_id!r} in the answer to {inline_query_id}")
            content = result["input_message_content"]
            chat = self._chat_obj(chat_id)
            msg: dict[str, Any] = {
                "message_id": self._next_mid(chat_id),
                "from": copy.deepcopy(query["from"]),
                "chat": chat,
                "date": self._now(),
                "via_bot": dict(_BOT_SENDER),
                "text": _plain_text(content["message_text"], content.get("parse_mode"), False),
            }
            if isinstance(result.get("reply_markup"), dict):
                msg["reply_markup"] = copy.deepcopy(result["reply_markup"])
            return copy.deepcopy(self._store(msg))

    def group_message(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        message_thread_id: int | None = None,
        reply_to: int | None = None,
        is_forum: bool = True,
        *,
        first_name: str = "Volunteer",
        username: str | None = None,
        language_code: str | None = "es",
        title: str | None = None,
        entities: list[dict] | None = None,
    ) -> dict:
        """Queues a text message by ``user_id`` in supergroup ``chat_id`` (registered on the fly
        with ``is_forum`` if unknown; the user becomes a "member"). In a topic it carries
        message_thread_id + is_topic_message, and -- like real Telegram -- when it is not a
        reply to a specific message (``reply_to``), ``reply_to_message`` is the topic's
        forum_topic_created service message (sent by the bot if the bot created the topic)."""
        with self._cond:
            content: dict[str, Any] = {"text": text}
            ents = entities if entities is not None else self._command_entities(text)
            if ents:
                content["entities"] = ents
            msg = self._user_message(
                user_id,
                content,
                chat_id=chat_id,
                language_code=language_code,
                first_name=first_name,
                username=username,
                chat_type="supergroup",
                message_thread_id=message_thread_id,
                reply_to_message_id=reply_to,
                is_forum=is_forum,
                title=title,
            )
            return self.add_update({"message": msg})

    def my_chat_member(
        self,
        chat_id: int,
        user_id: int | None = None,
        *,
        new_status: str = "administrator",
        old_status: str = "left",
        title: str = "Volunteers",
        is_forum: bool = True,
        chat_type: str = "supergroup",
        first_name: str = "Admin",
        username: str | None = None,
        language_code: str | None = "es",
        **rights: Any,
    ) -> dict:
        """Queues a my_chat_member update. Group (negative id): the bot was added by
        ``user_id`` (default 1000) with ``new_status``; the group is registered and the bot's
        membership updated. Private chat (positive id): the user blocked (``new_status=
        "kicked"``, also makes sends answer 403) or unblocked (``"member"``) the bot."""
        with self._cond:
            if chat_id < 0:
                user = self._make_user(user_id or 1000, first_name, username, language_code)
                if chat_id not in self.groups:
                    self.add_group(
                        chat_id, is_forum=is_forum, title=title, chat_type=chat_type, bot_status=new_status, **rights
                    )
                else:
                    self._members[(chat_id, BOT_ID)] = {"status": new_status, **rights}
                self._members.setdefault((chat_id, user["id"]), {"status": "creator"})
                chat = self._group_chat(chat_id)
            else:
                uid = user_id or chat_id
                user = self._make_user(uid, first_name if user_id else "Test", username, language_code)
                chat = self._chat_obj(chat_id)
                if new_status == "kicked":
                    self.blocked.add(chat_id)
                elif new_status == "member":
                    self.blocked.discard(chat_id)
            entry = {"status": new_status, **rights}
            if chat_id < 0 and new_status == "administrator":
                entry = dict(self._members[(chat_id, BOT_ID)])
            update = {
                "my_chat_member": {
                    "chat": chat,
                    "from": user,
                    "date": self._now(),
                    "old_chat_member": self._member_dict(dict(_BOT_SENDER), {"status": old_status}),
                    "new_chat_member": self._member_dict(dict(_BOT_SENDER), entry),
                }
            }
            return self.add_update(update)

    # ------------------------------------------------------------------ webhook delivery

    def post_update(
        self, url: str | None, update: dict, secret_token: str | None = None, *, timeout: float = 10.0
    ) -> int:
        """POSTs ``update`` as JSON to ``url`` (None: the URL given to setWebhook, and its
        secret if ``secret_token`` is None) with X-Telegram-Bot-Api-Secret-Token when set.
        Returns the HTTP status. The update is removed from the getUpdates queue (Telegram
        delivers an update one way only). Blocking: from async code use ``apost_update``."""
        with self._lock:
            if url is None:
                url = self.webhook["url"]
                if secret_token is None:
                    secret_token = self.webhook.get("secret_token")
            uid = update.get("update_id")
            if uid is not None:
                self._updates = deque(u for u in self._updates if u.get("update_id") != uid)
        if not url:
            raise ValueError("no webhook URL (pass url= or let the bot call setWebhook)")
        headers = {"Content-Type": "application/json"}
        if secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        req = urllib.request.Request(url, data=json.dumps(update).encode("utf-8"), headers=headers, method="POST")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=timeout) as resp:
                resp.read()
                return resp.status
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code

    async def apost_update(
        self,
        url: str | None,
        update: dict,
        secret_token: str | None = None,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109  the HTTP client's socket timeout, as in post_update
    ) -> int:
        """``post_update`` run in a worker thread (safe next to an in-process webhook server)."""
        return await asyncio.to_thread(self.post_update, url, update, secret_token, timeout=timeout)

    # ------------------------------------------------------------------ chat state views

    def get_message(self, chat_id: int, message_id: int) -> dict | None:
        """The stored message as the chat shows it now (edits applied; ``_deleted`` flag)."""
        with self._lock:
            m = self._messages.get((chat_id, message_id))
            return copy.deepcopy(m) if m else None

    def chat_history(self, chat_id: int, *, include_deleted: bool = False) -> list[dict]:
        """All messages of a chat (user's and bot's) in order, as they look now."""
        with self._lock:
            out = [copy.deepcopy(self._messages[(chat_id, m)]) for m in self._chat_order.get(chat_id, [])]
        return [m for m in out if include_deleted or not m.get("_deleted")]

    # ================================================================== Bot API methods
    # Each _api_<method>(params, files) runs under the lock and returns the result or raises
    # _ApiError. Methods without an implementation answer True.

    def _api_getMe(self, params: dict, files: dict) -> dict:
        return {**BOT_USER, "supports_inline_queries": self.inline_mode}

    def _api_logOut(self, params: dict, files: dict) -> bool:
        return True

    def _api_close(self, params: dict, files: dict) -> bool:
        return True

    def _set_allowed(self, allowed: Any) -> None:
        if isinstance(allowed, list):
            self._allowed_updates = set(allowed) if allowed else None

    def _deliverable(self, update: dict) -> bool:
        kind = next((k for k in update if k != "update_id"), None)
        if self._allowed_updates is None:
            return kind not in _DEFAULT_ALLOWED_UPDATES_EXCLUDED
        return kind in self._allowed_updates

    def _api_getUpdates(self, params: dict, files: dict) -> list[dict]:
        if self.webhook["url"]:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        try:
            limit = min(100, max(1, int(params.get("limit") or 100)))
            timeout = float(params.get("timeout") or 0)
        except (TypeError, ValueError):
            raise _ApiError(400, "Bad Request: wrong parameter in request") from None
        self._set_allowed(params.get("allowed_updates"))
        if offset is not None:
            offset = int(offset)
            if offset < 0:
                keep = list(self._updates)[offset:]
                self._updates = deque(keep)
            else:
                while self._updates and self._updates[0]["update_id"] < offset:
                    self._updates.popleft()
        deadline = time.monotonic() + max(0.0, min(timeout, self.max_poll_wait))
        while True:
            self._updates = deque(u for u in self._updates if self._deliverable(u))
            if self._updates or self._stopping.is_set():
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._cond.wait(remaining)
        return copy.deepcopy(list(self._updates)[:limit])

    def _api_setWebhook(self, params: dict, files: dict) -> bool:
        url = params.get("url") or ""
        if url and self.strict and not re.match(r"https?://", url):
            raise _ApiError(400, "Bad Request: bad webhook: invalid URL")
        self.webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "allowed_updates": params.get("allowed_updates"),
            "max_connections": int(params.get("max_connections") or 40),
        }
        self._set_allowed(params.get("allowed_updates"))
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _api_deleteWebhook(self, params: dict, files: dict) -> bool:
        self.webhook = {"url": "", "secret_token": None, "allowed_updates": None}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _api_getWebhookInfo(self, params: dict, files: dict) -> dict:
        info: dict[str, Any] = {
            "url": self.webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook["url"]:
            info["max_connections"] = self.webhook.get("max_connections", 40)
            info["ip_address"] = "127.0.0.1"
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    # messages -----------------------------------------------------------

    def _api_sendMessage(self, params: dict, files: dict) -> dict:
        chat = self._resolve_chat(params.get("chat_id"))
        return self._new_bot_message(params, self._text_content(params), chat=chat)

    def _send_media(self, kind: str, params: dict, files: dict) -> dict:
        chat = self._resolve_chat(params.get("chat_id"))
        content = self._media(kind, params, files)
        content.update(self._text_content(params, "caption", 1024))
        return self._new_bot_message(params, content, chat=chat)

    def _api_sendPhoto(self, params: dict, files: dict) -> dict:
        return self._send_media("photo", params, files)

    def _api_sendDocument(self, params: dict, files: dict) -> dict:
        return self._send_media("document", params, files)

    def _api_sendVoice(self, params: dict, files: dict) -> dict:
        return self._send_media("voice", params, files)

    def _api_sendAudio(self, params: dict, files: dict) -> dict:
        return self._send_media("audio", params, files)

    def _api_sendVideo(self, params: dict, files: dict) -> dict:
        return self._send_media("video", params, files)

    def _api_sendAnimation(self, params: dict, files: dict) -> dict:
        return self._send_media("animation", params, files)

    def _api_sendVideoNote(self, params: dict, files: dict) -> dict:
        return self._send_media("video_note", params, files)

    def _api_sendSticker(self, params: dict, files: dict) -> dict:
        return self._send_media("sticker", params, files)

    def _api_sendLocation(self, params: dict, files: dict) -> dict:
        loc = {"latitude": float(params.get("latitude", 0)), "longitude": float(params.get("longitude", 0))}
        return self._new_bot_message(params, {"location": loc})

    def _api_sendContact(self, params: dict, files: dict) -> dict:
        contact = {k: params[k] for k in ("phone_number", "first_name", "last_name", "vcard") if k in params}
        return self._new_bot_message(params, {"contact": contact})

    def _api_sendDice(self, params: dict, files: dict) -> dict:
        return self._new_bot_message(params, {"dice": {"emoji": params.get("emoji") or "\U0001f3b2", "value": 4}})

    def _api_sendMediaGroup(self, params: dict, files: dict) -> list[dict]:
        chat = self._resolve_chat(params.get("chat_id"))
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise _ApiError(400, "Bad Request: wrong number of messages in a media group")
        out = []
        group_id = str(10**17 + next(self._file_seq))
        for item in media:
            kind = item.get("type", "photo")
            sub = dict(params, **{kind: item.get("media")})
            content = self._media(kind, sub, files)
            content.update(self._text_content(item, "caption", 1024))
            content["media_group_id"] = group_id
            out.append(self._new_bot_message(params, content, chat=chat))
        return out

    def _api_sendChatAction(self, params: dict, files: dict) -> bool:
        self._resolve_chat(params.get("chat_id"))
        if self.strict and params.get("action") not in _CHAT_ACTIONS:
            raise _ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _source_message(self, params: dict, what: str) -> tuple[int, dict | None]:
        try:
            src_chat = int(params.get("from_chat_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise _ApiError(400, "Bad Request: chat not found") from None
        src = self._messages.get((src_chat, int(params.get("message_id") or 0)))
        if src is not None and src.get("_deleted"):
            raise _ApiError(400, f"Bad Request: message to {what} not found")
        return src_chat, src

    def _copy_one(self, params: dict, chat: dict, src: dict | None) -> dict:
        content: dict[str, Any] = {}
        if src is not None:
            if "forum_topic_created" in src:
                raise _ApiError(400, "Bad Request: message can't be copied")
            content = {k: copy.deepcopy(src[k]) for k in _MESSAGE_CONTENT_KEYS if k in src}
        else:
            content = {"text": "(copied message)"}
        if params.get("caption") is not None:
            content.pop("caption_entities", None)
            content.update(self._text_content(params, "caption", 1024))
        return self._new_bot_message(params, content, chat=chat)

    def _api_copyMessage(self, params: dict, files: dict) -> dict:
        chat = self._resolve_chat(params.get("chat_id"))
        _, src = self._source_message(params, "copy")
        msg = self._copy_one(params, chat, src)
        return {"message_id": msg["message_id"]}

    def _api_copyMessages(self, params: dict, files: dict) -> list[dict]:
        chat = self._resolve_chat(params.get("chat_id"))
        out = []
        for mid in params.get("message_ids") or []:
            _, src = self._source_message(dict(params, message_id=mid), "copy")
            out.append({"message_id": self._copy_one(params, chat, src)["message_id"]})
        return out

    def _forward_one(self, params: dict, chat: dict, src_chat: int, src: dict | None) -> dict:
        if src is not None:
            content = {k: copy.deepcopy(src[k]) for k in _MESSAGE_CONTENT_KEYS if k in src}
            origin = {
                "type": "user",
                "sender_user": copy.deepcopy(src.get("from", _BOT_SENDER)),
                "date": src.get("date", self._now()),
            }
        else:
            content = {"text": "(forwarded message)"}
            origin = {
                "type": "user",
                "sender_user": self._known_user(src_chat if src_chat > 0 else BOT_ID),
                "date": self._now(),
            }
        content["forward_origin"] = origin
        return self._new_bot_message(params, content, chat=chat)

    def _api_forwardMessage(self, params: dict, files: dict) -> dict:
        chat = self._resolve_chat(params.get("chat_id"))
        src_chat, src = self._source_message(params, "forward")
        return self._forward_one(params, chat, src_chat, src)

    def _api_forwardMessages(self, params: dict, files: dict) -> list[dict]:
        chat = self._resolve_chat(params.get("chat_id"))
        out = []
        for mid in params.get("message_ids") or []:
            src_chat, src = self._source_message(dict(params, message_id=mid), "forward")
            out.append({"message_id": self._forward_one(params, chat, src_chat, src)["message_id"]})
        return out

    def _editable(self, params: dict) -> dict | None:
        """The stored message to edit, or None for inline messages / unknown ones."""
        if params.get("inline_message_id"):
            return None
        chat = self._resolve_chat(params.get("chat_id"))
        mid = params.get("message_id")
        if not mid:
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        stored = self._messages.get((chat["id"], int(mid)))
        if stored is None:
            # not sent through the fake (e.g. before it started): synthesize one
            stored = self._store({"message_id": int(mid), "from": dict(_BOT_SENDER), "chat": chat, "date": self._now()})
            self._bump_mid(chat["id"], int(mid))
            stored = self._messages[(chat["id"], int(mid))]
        if stored.get("_deleted"):
            raise _ApiError(400, "Bad Request: message to edit not found")
        if stored.get("from", {}).get("id") != BOT_ID:
            raise _ApiError(400, "Bad Request: message can't be edited")
        return stored

    _NOT_MODIFIED = (
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"
    )

    def _apply_edit(self, stored: dict, changes: dict, params: dict) -> dict:
        markup = params.get("reply_markup")
        if self.strict:
            _check_reply_markup(markup)
        new = copy.deepcopy(stored)
        if "text" in changes:
            new.pop("entities", None)
        if "caption" in changes:
            new.pop("caption_entities", None)
        new.update(changes)
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            new["reply_markup"] = markup
        else:
            new.pop("reply_markup", None)  # Telegram drops the keyboard when none is passed
        if self.strict and all(
            new.get(k) == stored.get(k) for k in ("text", "caption", "reply_markup", "entities", "caption_entities")
        ):
            raise _ApiError(400, self._NOT_MODIFIED)
        new["edit_date"] = self._now()
        self._messages[(new["chat"]["id"], new["message_id"])] = copy.deepcopy(new)
        return new

    def _api_editMessageText(self, params: dict, files: dict) -> Any:
        changes = self._text_content(params)
        stored = self._editable(params)
        if stored is None:
            return True
        return self._apply_edit(stored, changes, params)

    def _api_editMessageCaption(self, params: dict, files: dict) -> Any:
        changes = self._text_content(params, "caption", 1024) or {"caption": ""}
        stored = self._editable(params)
        if stored is None:
            return True
        return self._apply_edit(stored, changes, params)

    def _api_editMessageReplyMarkup(self, params: dict, files: dict) -> Any:
        stored = self._editable(params)
        if stored is None:
            return True
        return self._apply_edit(stored, {}, params)

    def _api_deleteMessage(self, params: dict, files: dict) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        key = (chat["id"], int(params.get("message_id") or 0))
        stored = self._messages.get(key)
        if stored is not None:
            if stored.get("_deleted"):
                raise _ApiError(400, "Bad Request: message to delete not found")
            stored["_deleted"] = True
        return True

    def _api_deleteMessages(self, params: dict, files: dict) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        for mid in params.get("message_ids") or []:
            stored = self._messages.get((chat["id"], int(mid)))
            if stored is not None:
                stored["_deleted"] = True
        return True

    def _api_answerCallbackQuery(self, params: dict, files: dict) -> bool:
        cq_id = params.get("callback_query_id")
        if self.strict and cq_id not in self._callback_ids:
            raise _ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if self.strict and len(str(params.get("text") or "")) > 200:
            raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _api_answerInlineQuery(self, params: dict, files: dict) -> bool:
        iq_id = str(params.get("inline_query_id") or "")
        if self.strict and (iq_id not in self._inline_queries or iq_id in self.inline_answers):
            raise _ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        results = params.get("results")
        if not isinstance(results, list):
            raise _ApiError(400, "Bad Request: can't parse inline query results JSON object")
        if self.strict:
            self._check_inline_results(results)
            cache_time = params.get("cache_time", 300)
            if not isinstance(cache_time, int) or cache_time < 0:
                raise _ApiError(400, 'Bad Request: field "cache_time" must be a non-negative Integer')
            if len(str(params.get("next_offset") or "").encode("utf-8")) > 64:
                raise _ApiError(400, "Bad Request: NEXT_OFFSET_INVALID")
            button = params.get("button")
            if button is not None:
                if not isinstance(button, dict) or not str(button.get("text") or "").strip():
                    raise _ApiError(400, "Bad Request: BUTTON_TEXT_INVALID")
                start = button.get("start_parameter")
                if "web_app" not in button and not (isinstance(start, str) and _START_PARAMETER.fullmatch(start)):
                    raise _ApiError(400, "Bad Request: START_PARAM_INVALID")
        self.inline_answers[iq_id] = copy.deepcopy(params)
        return True

    @staticmethod
    def _check_inline_results(results: list) -> None:
        if len(results) > 50:
            raise _ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            if not isinstance(result, dict) or result.get("type") not in _INLINE_RESULT_TYPES:
                raise _ApiError(400, "Bad Request: RESULT_TYPE_INVALID")
            rid = result.get("id")
            if not isinstance(rid, str) or not 1 <= len(rid.encode("utf-8")) <= 64:
                raise _ApiError(400, "Bad Request: RESULT_ID_INVALID")
            if rid in seen:
                raise _ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
            seen.add(rid)
            if result["type"] == "article" and not str(result.get("title") or "").strip():
                raise _ApiError(400, "Bad Request: ARTICLE_TITLE_EMPTY")
            content = result.get("input_message_content")
            if result["type"] == "article" and not isinstance(content, dict):
                raise _ApiError(400, "Bad Request: SEND_MESSAGE_TYPE_INVALID")
            if isinstance(content, dict) and "message_text" in content:
                plain = _plain_text(str(content["message_text"]), content.get("parse_mode"), True)
                if not plain.strip():
                    raise _ApiError(400, "Bad Request: MESSAGE_EMPTY")
                if len(plain) > 4096:
                    raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
            _check_reply_markup(result.get("reply_markup"))

    # commands -----------------------------------------------------------

    @staticmethod
    def _commands_key(params: dict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _api_setMyCommands(self, params: dict, files: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        if self.strict:
            for c in commands:
                if not _COMMAND_RE.fullmatch(str(c.get("command", ""))):
                    raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
                if not 1 <= len(str(c.get("description", ""))) <= 256:
                    raise _ApiError(400, "Bad Request: command description must be non-empty")
        self.commands[self._commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _api_getMyCommands(self, params: dict, files: dict) -> list[dict]:
        return copy.deepcopy(self.commands.get(self._commands_key(params), []))

    def _api_deleteMyCommands(self, params: dict, files: dict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    # chats / members ------------------------------------------------------

    def _api_getChat(self, params: dict, files: dict) -> dict:
        chat = self._resolve_chat(params.get("chat_id"))
        full: dict[str, Any] = dict(chat)
        full.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        if chat["type"] != "private":
            full["is_forum"] = self._is_forum_chat(chat["id"])
            full["permissions"] = {
                "can_send_messages": True,
                "can_send_photos": True,
                "can_send_documents": True,
                "can_send_voice_notes": True,
                "can_manage_topics": False,
            }
        pinned = self.pinned.get(chat["id"])
        if pinned is not None and (chat["id"], pinned) in self._messages:
            full["pinned_message"] = copy.deepcopy(self._messages[(chat["id"], pinned)])
        return full

    def _api_pinChatMessage(self, params: dict, files: dict) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        try:
            message_id = int(params.get("message_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise _ApiError(400, "Bad Request: message to pin not found") from None
        if (chat["id"], message_id) not in self._messages:
            raise _ApiError(400, "Bad Request: message to pin not found")
        self.pinned[chat["id"]] = message_id
        return True

    def _api_getChatMember(self, params: dict, files: dict) -> dict:
        chat = self._resolve_chat(params.get("chat_id"))
        try:
            user_id = int(params.get("user_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise _ApiError(400, "Bad Request: invalid user_id specified") from None
        return self._member_obj(chat["id"], user_id)

    def _api_getChatAdministrators(self, params: dict, files: dict) -> list[dict]:
        chat = self._resolve_chat(params.get("chat_id"))
        if chat["type"] == "private":
            raise _ApiError(400, "Bad Request: there are no administrators in the private chat")
        return [
            self._member_obj(cid, uid)
            for (cid, uid), e in self._members.items()
            if cid == chat["id"] and e.get("status") in ("creator", "administrator")
        ]

    def _api_getChatMemberCount(self, params: dict, files: dict) -> int:
        chat = self._resolve_chat(params.get("chat_id"))
        if chat["type"] == "private":
            return 2
        return sum(
            1
            for (cid, _), e in self._members.items()
            if cid == chat["id"] and e.get("status") not in ("left", "kicked")
        )

    def _api_getFile(self, params: dict, files: dict) -> dict:
        info = self._files.get(str(params.get("file_id")))
        if info is None:
            # photo sizes of injected photos use "<file_id>-<width>"
            base = re.sub(r"-\d+$", "", str(params.get("file_id")))
            info = self._files.get(base)
        if info is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        return {k: info[k] for k in ("file_id", "file_unique_id", "file_size", "file_path")} | {
            "file_id": params.get("file_id")
        }

    # forum topics ---------------------------------------------------------

    def _forum_chat(self, params: dict) -> dict:
        chat = self._resolve_chat(params.get("chat_id"))
        if not self._is_forum_chat(chat["id"]):
            raise _ApiError(400, "Bad Request: the chat is not a forum")
        return chat

    def _can_manage_topics(self, chat_id: int) -> bool:
        entry = self._members.get((chat_id, BOT_ID), {})
        return entry.get("status") == "creator" or (
            entry.get("status") == "administrator" and entry.get("can_manage_topics", True)
        )

    def _topic(self, params: dict) -> tuple[dict, dict]:
        chat = self._forum_chat(params)
        tid = int(params.get("message_thread_id") or 0)
        topic = self.topics.get((chat["id"], tid))
        if topic is None:  # created outside the fake: accept
            topic = self.topics[(chat["id"], tid)] = {
                "name": f"Topic {tid}",
                "icon_color": TOPIC_ICON_COLORS[0],
                "closed": False,
                "deleted": False,
            }
        if topic.get("deleted"):
            raise _ApiError(400, "Bad Request: TOPIC_ID_INVALID")
        return chat, topic

    def _api_createForumTopic(self, params: dict, files: dict) -> dict:
        chat = self._forum_chat(params)
        if self.strict and not self._can_manage_topics(chat["id"]):
            raise _ApiError(400, "Bad Request: not enough rights to create a topic")
        name = str(params.get("name") or "")
        if self.strict and not 1 <= len(name) <= 128:
            raise _ApiError(400, "Bad Request: TOPIC_TITLE_EMPTY" if not name else "Bad Request: TOPIC_TITLE_INVALID")
        color = int(params.get("icon_color") or TOPIC_ICON_COLORS[0])
        if self.strict and color not in TOPIC_ICON_COLORS:
            raise _ApiError(400, "Bad Request: TOPIC_ICON_COLOR_INVALID")
        tid = self._next_mid(chat["id"])
        created = {"name": name, "icon_color": color}
        result: dict[str, Any] = {"message_thread_id": tid, **created}
        if params.get("icon_custom_emoji_id"):
            created["icon_custom_emoji_id"] = result["icon_custom_emoji_id"] = params["icon_custom_emoji_id"]
        self.topics[(chat["id"], tid)] = {
            **created,
            "closed": False,
            "deleted": False,
            "created_by": dict(_BOT_SENDER),
            "date": self._now(),
        }
        self._store(
            {
                "message_id": tid,
                "from": dict(_BOT_SENDER),
                "chat": chat,
                "date": self._now(),
                "message_thread_id": tid,
                "forum_topic_created": created,
                "is_topic_message": True,
            }
        )
        return result

    def _api_editForumTopic(self, params: dict, files: dict) -> bool:
        _, topic = self._topic(params)
        changes = {k: params[k] for k in ("name", "icon_custom_emoji_id") if params.get(k) is not None}
        if self.strict and all(topic.get(k) == v for k, v in changes.items()):
            raise _ApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        topic.update(changes)
        return True

    def _api_closeForumTopic(self, params: dict, files: dict) -> bool:
        _, topic = self._topic(params)
        if self.strict and topic.get("closed"):
            raise _ApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        topic["closed"] = True
        return True

    def _api_reopenForumTopic(self, params: dict, files: dict) -> bool:
        _, topic = self._topic(params)
        if self.strict and not topic.get("closed"):
            raise _ApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        topic["closed"] = False
        return True

    def _api_deleteForumTopic(self, params: dict, files: dict) -> bool:
        chat, topic = self._topic(params)
        topic["deleted"] = True
        tid = int(params.get("message_thread_id") or 0)
        for mid in self._chat_order.get(chat["id"], []):
            m = self._messages[(chat["id"], mid)]
            if m.get("message_thread_id") == tid:
                m["_deleted"] = True
        return True
