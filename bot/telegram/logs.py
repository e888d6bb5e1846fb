"""Logging for the Telegram bot: no message text, no names, user ids only as salted hashes.

``setup()`` configures the root logger once (called by ``telegram_app.run``). ``protect(token)``
(called by ``telegram_app.build_application``) puts a ``PrivacyFilter`` on the loggers of the
libraries the bot uses, whatever level they are set to:

- ``telegram.*`` and ``aiosqlite`` DEBUG records are dropped: PTB logs every Bot API call with
  its parameters and result ("Calling Bot API endpoint `sendMessage` with parameters ..."), and
  aiosqlite every statement with its values, so they would carry message text and names;
- ``httpx``/``httpcore`` records below WARNING are dropped: "HTTP Request: POST
  https://api.telegram.org/bot<TOKEN>/sendMessage" carries the bot token;
- ``telegram.*`` records that are kept (INFO and above) lose whatever could quote an update or
  a webhook body: python-telegram-bot logs "Received data was %r" (a whole ``getUpdates`` batch
  or request body), the update itself, and exceptions whose message quotes a field's value. Of
  their arguments only numbers (update ids, counts, seconds) and the names of exception classes
  are kept, anything else becomes ``<omitted>``; their traceback keeps its frames and the
  exception classes but not the messages (those of ``TelegramError``, Telegram's own answers,
  are kept);
- in every record that is kept, the token (and the other secrets passed to ``protect``) is
  replaced by ``<secret>``, in the message, its arguments and the exception text.

Our own modules log only event names, counts, update ids and ``hash_user(...)`` pseudonyms.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import hmac
import logging
import traceback
from collections.abc import Mapping

from telegram.error import TelegramError

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

#: Loggers whose DEBUG records carry request payloads (message text, names, SQL values).
PAYLOAD_LOGGERS = (
    "telegram",
    "telegram.Bot",
    "telegram.ext",
    "telegram.ext.ExtBot",
    "telegram.ext.Application",
    "telegram.ext.Updater",
    "telegram.ext.AIORateLimiter",
    "telegram.ext.JobQueue",
    "telegram.ext.ConversationHandler",
    "telegram.request",
    "telegram.request.BaseRequest",
    "telegram.request.HTTPXRequest",
    "aiosqlite",
)
#: Loggers whose INFO records carry the request URL, and so the bot token.
URL_LOGGERS = ("httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy")
_PREFIXES = ("telegram", "aiosqlite", "httpx", "httpcore")
HIDDEN = "<secret>"
#: What replaces, in python-telegram-bot's records, an argument or exception message that could
#: quote an update.
OMITTED = "<omitted>"
#: The one kind of text argument python-telegram-bot logs that is its own: its retry loop's
#: "Network Retry Loop (Polling Updates): ..." prefix.
_LIBRARY_PREFIX = "Network Retry Loop ("

_secrets: set[str] = set()


def hash_user(user_id: int | None, salt: str) -> str:
    """A short, stable pseudonym for ``user_id`` in log lines (HMAC-SHA256 with ``salt``)."""
    if user_id is None:
        return "-"
    digest = hmac.new(salt.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()
    return "u" + digest[:12]


def scrub(text: str) -> str:
    """``text`` with every registered secret replaced by ``<secret>``."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, HIDDEN)
    return text


class PrivacyFilter(logging.Filter):
    """Drop third-party payload records; hide secrets in the ones that are kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        root = record.name.split(".")[0]
        if root in ("httpx", "httpcore") and record.levelno < logging.WARNING:
            return False
        if root in ("telegram", "aiosqlite") and record.levelno < logging.INFO:
            return False
        if root == "telegram":
            _without_payload(record)
        if _secrets:
            _scrub_record(record)
        return True


def _without_payload(record: logging.LogRecord) -> None:
    """Keep only numbers and exception class names of a python-telegram-bot record (see the
    module docstring). The message is rendered once, so a second pass (the same filter on a
    handler) changes nothing."""
    if not isinstance(record.msg, str):
        record.msg = str(_safe_arg(record.msg))
    if record.args:
        args = record.args
        safe: Mapping[str, object] | tuple[object, ...] = (
            {key: _safe_arg(value) for key, value in args.items()}
            if isinstance(args, Mapping)
            else tuple(_safe_arg(arg) for arg in args)
        )
        with contextlib.suppress(TypeError, ValueError, KeyError):  # a template needing what was omitted
            record.msg = record.msg % safe
        record.args = ()
    if record.exc_info:
        error = record.exc_info[1]
        record.exc_text = _safe_traceback(error) if error is not None else record.exc_text
        record.exc_info = None


def _safe_arg(value: object) -> object:
    if value is None or isinstance(value, (bool, int, float, enum.Enum)):
        return value
    if isinstance(value, BaseException):
        return type(value).__name__
    if isinstance(value, str) and value.startswith(_LIBRARY_PREFIX):
        return value
    return OMITTED


def _safe_traceback(error: BaseException) -> str:
    """The traceback of ``error`` and its causes as ``logging`` prints it, with every exception
    message but Telegram's replaced by ``<omitted>``."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    parts: list[str] = []
    for later, item in zip([None, *chain], chain, strict=False):
        block = [
            "Traceback (most recent call last):\n",
            *traceback.format_tb(item.__traceback__),
            _exception_line(item),
        ]
        if later is not None:
            link = (
                "The above exception was the direct cause of the following exception:"
                if later.__cause__ is item
                else "During handling of the above exception, another exception occurred:"
            )
            block.append(f"\n{link}\n\n")
        parts[:0] = block  # oldest first, as Python prints a chain
    return "".join(parts).rstrip("\n")


def _exception_line(error: BaseException) -> str:
    kind = type(error)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    message = str(error) if isinstance(error, TelegramError) else (OMITTED if error.args else "")
    return f"{name}: {message}\n" if message else f"{name}\n"


def _scrub_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep the template only
        message = str(record.msg)
    cleaned = scrub(message)
    if cleaned != message or record.args:
        record.msg, record.args = cleaned, ()
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


_FILTER = PrivacyFilter()


def protect(*secrets: str) -> None:
    """Hide ``secrets`` (the bot token ...) in every log record and put the privacy filter on the
    libraries' loggers. Idempotent."""
    _secrets.update(s for s in secrets if s and len(s) >= 6)
    names = set(PAYLOAD_LOGGERS) | set(URL_LOGGERS)
    names |= {n for n in list(logging.root.manager.loggerDict) if n.split(".")[0] in _PREFIXES}
    for name in sorted(names):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    for handler in logging.getLogger().handlers:  # our own records too (token in an exception ...)
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)


def setup(level: int = logging.INFO) -> None:
    """Log to stderr; keep third-party loggers that would print the token or payloads quiet."""
    logging.basicConfig(format=FORMAT, level=level)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # "HTTP Request: POST .../bot<TOKEN>/..."
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)  # logs every statement at DEBUG
    protect()
