"""Updates python-telegram-bot cannot read ("poison" updates): skipped, confirmed, logged as one
line with their update id and nothing else.

Left to the library, one unreadable update inside a ``getUpdates`` batch stops the bot: the
whole batch is dropped and logged (names, phone numbers, texts) at CRITICAL, the offset never
moves, and the same batch is fetched and logged again and again. A webhook body it cannot read
is logged whole and answered 400 or 500, so Telegram sends it again and again. Here:

- polling: ``UpdatesRequest`` is the connection ``getUpdates`` uses (the application builder's
  ``get_updates_request``). It hands the library each update it can read unchanged and, in
  place of one it cannot, an empty update with the same ``update_id``: the good updates before
  and after it are processed, and the library's own offset confirms the bad one, so it is never
  fetched again. An empty update matches no handler.
- webhook: ``protect_webhook()`` makes the library's webhook server use ``_WebhookHandler``:
  with the right secret, a body that is not JSON or not an update is answered 200 (Telegram
  does not send it again) and dropped; the rest is unchanged (403 without the secret, the
  update queued otherwise).

Only the ``update_id`` and the error's class are logged, never the exception's message (it can
quote a field's value) or the body.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from telegram import Bot, Update
from telegram._utils.types import JSONDict
from telegram.ext import ExtBot
from telegram.ext._utils import webhookhandler
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)


def update_id(raw: object) -> int | None:
    """The ``update_id`` of a raw update, when it has an integer one."""
    if isinstance(raw, dict):
        found = raw.get("update_id")
        if isinstance(found, int) and not isinstance(found, bool):
            return found
    return None


def parse(raw: object, bot: Bot | None = None) -> Update | None:
    """The update, or None when python-telegram-bot cannot read it (logged: its update id and
    the error's class)."""
    try:
        if not isinstance(raw, dict):
            raise TypeError("an update is a JSON object")
        return Update.de_json(raw, bot)
    except Exception as exc:  # whatever the library raises on a field it does not expect
        log.warning("update %s cannot be read (%s): skipped", update_id(raw), type(exc).__name__)
        return None


def screen(batch: list[Any]) -> list[Any]:
    """A ``getUpdates`` result with every update the library cannot read replaced by an empty
    one with the same ``update_id`` (confirmed with the others); one without an id is dropped."""
    kept: list[Any] = []
    for raw in batch:
        if parse(raw) is not None:
            kept.append(raw)
        elif (found := update_id(raw)) is not None:
            kept.append({"update_id": found})
    return kept


class UpdatesRequest(HTTPXRequest):
    """The connection ``getUpdates`` uses (a pool of one, as the builder's default), screening
    the updates in each answer (see the module docstring). The library uses this connection for
    ``getUpdates`` only; ``parse_json_payload`` is the override point it documents."""

    def __init__(self) -> None:
        super().__init__(connection_pool_size=1)

    @staticmethod
    def parse_json_payload(payload: bytes) -> JSONDict:
        data = HTTPXRequest.parse_json_payload(payload)
        result = data.get("result") if isinstance(data, dict) else None
        if isinstance(result, list) and data.get("ok") is True:
            data["result"] = screen(result)
        return data


class _WebhookHandler(webhookhandler.TelegramHandler):
    """The library's webhook request handler, reading the body without ever logging it."""

    async def post(self) -> None:
        self._validate_post()  # the library's checks: JSON content type, the secret (403 otherwise)
        self.set_status(HTTPStatus.OK)  # whatever follows: Telegram must not send it again
        try:
            raw = json.loads(self.request.body)
        except ValueError as exc:  # not JSON, or not UTF-8
            log.warning(
                "webhook: a body that is not JSON (%s, %d bytes): skipped", type(exc).__name__, len(self.request.body)
            )
            return
        update = parse(raw, self.bot)
        if update is None:
            return
        if isinstance(self.bot, ExtBot):
            self.bot.insert_callback_data(update)
        await self.update_queue.put(update)


def protect_webhook() -> None:
    """Make the library's webhook server (``run_webhook``) use ``_WebhookHandler``. Idempotent.

    python-telegram-bot builds its tornado application with the ``TelegramHandler`` of its
    webhook module and offers no option to change it, so the name is replaced there."""
    if not issubclass(webhookhandler.TelegramHandler, _WebhookHandler):
        vars(webhookhandler)["TelegramHandler"] = _WebhookHandler
