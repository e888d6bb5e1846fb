"""Bot API faults: bounded retries that do not send an answer twice.

Every Bot API call but ``getUpdates`` goes through the application's rate limiter, so that is
where retries live. ``RetryingRateLimiter`` is PTB's ``AIORateLimiter`` (Telegram's rate
limits: 30 requests a second overall, 20 a minute per group) plus bounded retries of the faults
after which Telegram certainly or almost certainly did not carry out the request. A 429 is
retried after the ``retry_after`` Telegram asks for, ``MAX_RETRIES`` times, delaying only the
request that got it (AIORateLimiter's own 429 handling would pause every request of the bot,
so one busy chat would stall everybody's answers):

============================================  ===========================================
fault                                         retried?
============================================  ===========================================
429 Too Many Requests                         yes, after retry_after
5xx answer (NetworkError without a cause)     yes, with back-off
connection refused / connect or pool timeout  yes, with back-off (nothing was sent)
read/write timeout, connection dropped        only for idempotent methods (get*, set*...):
  after the request went out                  a send may have been delivered, and
                                              sending it again would duplicate it
400 / 403 / 409 ...                           no: the request itself is refused
============================================  ===========================================

So an answer is delivered at most once; it is lost only when a send timed out *and* Telegram
had really not delivered it (the user sees no answer and can ask again). The process never
crashes on any of these: the error reaches the error handler, which logs its class.
``getUpdates`` has its own retry loop in PTB's Updater.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

#: Retries after a 429 (each waits retry_after) and, separately, after a network fault.
MAX_RETRIES = 3
#: First back-off after a network fault, doubled each time (plus up to 25 % jitter).
BACKOFF = 0.3
#: Seconds PTB waits for Telegram's answer (PTB's default, stated here on purpose).
READ_TIMEOUT = 5.0
CONNECT_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
#: Waiting for a free connection of the pool (nothing has been sent when it runs out).
POOL_TIMEOUT = 3.0

#: Methods that can be repeated without a visible effect, so even a timeout is retried.
IDEMPOTENT = frozenset(
    {
        "getMe",
        "getChat",
        "getChatMember",
        "getChatAdministrators",
        "getChatMemberCount",
        "getFile",
        "getMyCommands",
        "setMyCommands",
        "deleteMyCommands",
        "getWebhookInfo",
        "setWebhook",
        "deleteWebhook",
        "getForumTopicIconStickers",
    }
)

#: httpx errors raised before any byte of the request reached Telegram.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def retryable(error: BaseException, endpoint: str) -> bool:
    """Whether ``error`` from ``endpoint`` can be retried without risking a duplicate."""
    if not isinstance(error, NetworkError) or isinstance(error, BadRequest):
        return False  # 400/403/409/401 ... and RetryAfter (handled by AIORateLimiter)
    cause = error.__cause__
    if isinstance(cause, _NOT_SENT):
        return True
    if isinstance(error, TimedOut) or isinstance(cause, httpx.HTTPError):
        return endpoint in IDEMPOTENT  # the request went out; it may have been carried out
    return True  # Telegram answered 5xx: it did not carry the request out


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter plus bounded retries of network faults (see the module docstring)."""

    def __init__(
        self,
        *,
        max_retries: int = MAX_RETRIES,
        network_retries: int = MAX_RETRIES,
        backoff: float = BACKOFF,
        **limits: Any,
    ) -> None:
        super().__init__(max_retries=0, **limits)  # 429s are retried here (see the docstring)
        self.flood_retries = max_retries
        self.network_retries = network_retries
        self.backoff = backoff
        #: Faults retried so far, by error class (for tests and benchmarks).
        self.retried: dict[str, int] = {}

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        async def send(*call_args: Any, **call_kwargs: Any) -> Any:
            try:
                return await callback(*call_args, **call_kwargs)
            except RetryAfter as error:  # past AIORateLimiter, which would pause every request
                raise _Refused(error) from None

        attempt = waited = 0
        while True:
            try:
                return await super().process_request(send, args, kwargs, endpoint, data, rate_limit_args)
            except _Refused as refused:
                error = refused.error
                if waited >= self.flood_retries:
                    raise error from None
                waited += 1
                self.retried["RetryAfter"] = self.retried.get("RetryAfter", 0) + 1
                delay = _seconds(error) + 0.1
                log.info("%s refused with 429; retry %d of %d in %.1f s", endpoint, waited, self.flood_retries, delay)
                await asyncio.sleep(delay)
            except NetworkError as error:
                if attempt >= self.network_retries or not retryable(error, endpoint):
                    raise
                attempt += 1
                name = type(error).__name__
                self.retried[name] = self.retried.get(name, 0) + 1
                delay = self.backoff * 2 ** (attempt - 1) * (1 + random.random() / 4)
                log.info(
                    "%s failed (%s); retry %d of %d in %.1f s", endpoint, name, attempt, self.network_retries, delay
                )
                await asyncio.sleep(delay)


class _Refused(Exception):
    """A 429 carried through AIORateLimiter untouched."""

    def __init__(self, error: RetryAfter) -> None:
        super().__init__(str(error))
        self.error = error


def _seconds(error: RetryAfter) -> float:
    """``retry_after`` in seconds (read without PTB's int/timedelta deprecation warning)."""
    value = getattr(error, "_retry_after", None)
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value or 1)
