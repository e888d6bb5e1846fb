"""bot.telegram.delivery: which Bot API faults are retried, how often, and that a send that may have
been delivered is never sent again."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.telegram.delivery import MAX_RETRIES, RetryingRateLimiter, retryable


def caused(error: Exception, cause: BaseException) -> Exception:
    error.__cause__ = cause
    return error


REQUEST = httpx.Request("POST", "http://127.0.0.1/bot1:x/sendMessage")


@pytest.mark.parametrize(
    ("error", "endpoint", "expected"),
    [
        (NetworkError("Internal Server Error (500)"), "sendMessage", True),  # Telegram answered 5xx
        (NetworkError("Bad Gateway"), "sendMessage", True),
        (
            caused(NetworkError("httpx.ConnectError: refused"), httpx.ConnectError("refused", request=REQUEST)),
            "sendMessage",
            True,
        ),
        (caused(TimedOut("Pool timeout"), httpx.PoolTimeout("pool")), "sendMessage", True),  # never sent
        (caused(TimedOut(), httpx.ConnectTimeout("connect")), "copyMessage", True),
        (caused(TimedOut(), httpx.ReadTimeout("read")), "sendMessage", False),  # may have been delivered
        (caused(TimedOut(), httpx.WriteTimeout("write")), "copyMessage", False),
        (caused(NetworkError("httpx.ReadError: reset"), httpx.ReadError("reset")), "sendMessage", False),
        (caused(TimedOut(), httpx.ReadTimeout("read")), "getMe", True),  # idempotent
        (caused(TimedOut(), httpx.ReadTimeout("read")), "setMyCommands", True),
        (BadRequest("Bad Request: chat not found"), "sendMessage", False),
        (Forbidden("Forbidden: bot was blocked by the user"), "sendMessage", False),
        (ValueError("x"), "sendMessage", False),
    ],
)
def test_what_is_retried(error: Exception, endpoint: str, expected: bool) -> None:
    assert retryable(error, endpoint) is expected


def test_429_is_left_to_aioratelimiter() -> None:
    assert not retryable(RetryAfter(dt.timedelta(seconds=1)), "sendMessage")


class Flaky:
    """A Bot API callback that fails with the given errors, then answers."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self, endpoint: str, data: dict) -> dict:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return {"ok": endpoint}


async def call(limiter: RetryingRateLimiter, flaky: Flaky, endpoint: str = "sendMessage"):
    return await limiter.process_request(flaky, (endpoint, {"chat_id": 1}), {}, endpoint, {"chat_id": 1}, None)


@pytest.fixture
def limiter() -> RetryingRateLimiter:
    return RetryingRateLimiter(backoff=0.001)


async def test_5xx_is_retried_until_it_succeeds(limiter: RetryingRateLimiter) -> None:
    flaky = Flaky(NetworkError("Internal Server Error (500)"), NetworkError("Bad Gateway"))
    assert await call(limiter, flaky) == {"ok": "sendMessage"}
    assert flaky.calls == 3 and limiter.retried == {"NetworkError": 2}


async def test_retries_are_bounded(limiter: RetryingRateLimiter) -> None:
    flaky = Flaky(*[NetworkError("Internal Server Error (500)") for _ in range(MAX_RETRIES + 1)])
    with pytest.raises(NetworkError):
        await call(limiter, flaky)
    assert flaky.calls == MAX_RETRIES + 1


async def test_a_send_that_timed_out_is_not_sent_again(limiter: RetryingRateLimiter) -> None:
    flaky = Flaky(caused(TimedOut(), httpx.ReadTimeout("read")))
    with pytest.raises(TimedOut):
        await call(limiter, flaky)
    assert flaky.calls == 1


async def test_an_idempotent_call_that_timed_out_is_retried(limiter: RetryingRateLimiter) -> None:
    flaky = Flaky(caused(TimedOut(), httpx.ReadTimeout("read")))
    assert await call(limiter, flaky, "getMe") == {"ok": "getMe"}
    assert flaky.calls == 2


async def test_429_is_retried_after_retry_after_by_aioratelimiter(limiter: RetryingRateLimiter) -> None:

    flaky = Flaky(RetryAfter(dt.timedelta(seconds=0)))
    assert await call(limiter, flaky) == {"ok": "sendMessage"}
    assert flaky.calls == 2


async def test_refusals_are_not_retried(limiter: RetryingRateLimiter) -> None:
    for error in (BadRequest("Bad Request: message is too long"), Forbidden("Forbidden: bot was blocked by the user")):
        flaky = Flaky(error)
        with pytest.raises(type(error)):
            await call(limiter, flaky)
        assert flaky.calls == 1
