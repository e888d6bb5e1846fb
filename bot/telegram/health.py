"""``GET /healthz``: a tiny HTTP server for Docker's HEALTHCHECK, systemd watchers and uptime
monitors, in polling and webhook mode alike.

Started from the application's ``post_init`` on ``HEALTH_PORT`` (0 turns it off) and closed in
``post_shutdown``. Standard library only (``asyncio.start_server`` and a minimal HTTP/1.1
answer, one request per connection). The answer is JSON::

    {"status": "ok", "knowledge_base": {"version": "...", "entries": 42},
     "database": "ok", "volunteers": "ok", "outbox": 0, "uptime_seconds": 3600}

HTTP 200 while the database answers ``SELECT 1`` (through the storage module), otherwise
``"status": "degraded"``, ``"database": "unreachable"`` and HTTP 503. ``"volunteers"`` is
"ok", "off" (no group configured) or "unreachable" (configured, but Telegram refuses the bot
there: people's messages are kept; ``"status"`` is then "degraded" with HTTP 200, since the bot
still answers); ``"outbox"`` counts the messages waiting to be sent. It reveals nothing about
users. Nothing here imports Telegram: the server only needs the ``Services`` object.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

log = logging.getLogger(__name__)

#: Address the health server listens on (all interfaces; Docker publishes it on 127.0.0.1).
HOST = "0.0.0.0"
PATH = "/healthz"
#: A client gets this long to send its request line and headers.
READ_TIMEOUT = 5.0
#: Longest request head accepted (request line and headers).
MAX_HEAD = 8192

_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


async def status(services: Any, started: float) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body of /healthz for ``services`` (knowledge base read now, so
    a /reload or SIGHUP shows its new version)."""
    kb = services.engine.kb
    database = await services.storage.ping()
    desk = services.desk
    volunteers = "off" if not desk.available else ("ok" if desk.reachable else "unreachable")
    if desk.chat_id is not None and volunteers == "off":
        volunteers = "unreachable"  # configured, but the bot cannot work in the group (yet)
    outbox = await services.storage.outbox_size() if database else None
    body = {
        "status": "ok" if database and volunteers != "unreachable" else "degraded",
        "knowledge_base": {"version": kb.version, "entries": len(kb)},
        "database": "ok" if database else "unreachable",
        "volunteers": volunteers,
        "outbox": outbox,
        "uptime_seconds": int(time.monotonic() - started),
    }
    return (200 if database else 503), body


class HealthServer:
    """The running server; ``await close()`` stops it and any request still being answered."""

    def __init__(self, services: Any) -> None:
        self.services = services
        self.started = time.monotonic()
        self.server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def port(self) -> int | None:
        if self.server is None or not self.server.sockets:
            return None
        return int(self.server.sockets[0].getsockname()[1])

    async def start(self, port: int, host: str = HOST) -> None:
        self.server = await asyncio.start_server(self._connection, host, port, limit=MAX_HEAD, reuse_address=True)

    async def close(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._answer(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass  # the client went away or sent nothing useful: nothing to say
        except Exception:
            log.exception("health check failed")
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            await _respond(writer, 400, {"error": "bad request"})
            return
        parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            await _respond(writer, 400, {"error": "bad request"})
            return
        method, target = parts[0], parts[1]
        if target.split("?", 1)[0] != PATH:
            await _respond(writer, 404, {"error": "not found", "try": PATH}, head_only=method == "HEAD")
            return
        if method not in ("GET", "HEAD"):
            await _respond(writer, 405, {"error": "method not allowed"}, extra="Allow: GET, HEAD\r\n")
            return
        code, body = await status(self.services, self.started)
        await _respond(writer, code, body, head_only=method == "HEAD")


async def _respond(
    writer: asyncio.StreamWriter, code: int, body: dict[str, Any], *, head_only: bool = False, extra: str = ""
) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8") + b"\n"
    head = (
        f"HTTP/1.1 {code} {_REASONS.get(code, 'Error')}\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(payload)}\r\n"
        "Cache-Control: no-store\r\n"
        "Connection: close\r\n"
        f"{extra}\r\n"
    ).encode("latin-1")
    writer.write(head if head_only else head + payload)
    await writer.drain()


async def serve(services: Any, port: int, host: str = HOST) -> HealthServer | None:
    """Start the health server on ``port`` (None when ``port`` is 0). A port that cannot be
    opened is logged as an error and the bot runs on without it (answering people matters more;
    the Docker health check then reports the container as unhealthy)."""
    if not port:
        return None
    server = HealthServer(services)
    try:
        await server.start(port, host)
    except OSError as exc:
        log.error(
            "health server NOT started: cannot listen on %s:%s (%s); check HEALTH_PORT", host, port, exc.strerror or exc
        )
        return None
    log.info("health check on http://%s:%s%s", host, server.port, PATH)
    return server


async def close(server: HealthServer | None) -> None:
    if server is not None:
        await server.close()
