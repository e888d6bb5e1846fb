"""Safe knowledge-base reload: ``/reload`` (admins only) and ``SIGHUP``.

``reload_knowledge(services)`` reads ``knowledge/`` again with the same loader as start-up
(in a worker thread, the model trained in a worker process and cached by knowledge-base
version: the bot keeps answering meanwhile with the knowledge base it has). Only a knowledge base with no error replaces the one in service, Engine and
Renderer together; otherwise the old one stays and the result carries the ``file:line``
errors. ``report`` cuts them to fit one Telegram message.

``install_sighup(application)`` (from ``post_init``) makes ``kill -HUP <pid>`` do the same;
a failed reload is logged and sent to every ``ADMIN_USER_IDS`` account.
``remove_sighup()`` (from ``post_shutdown``) undoes it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core import domain, knowledge
from bot.core.calibration import can_cross_validate
from bot.core.conversation import Engine
from bot.core.langs import DEFAULT_LANG
from bot.core.model import prepare_apart
from bot.ui.i18n import _
from bot.ui.render import MESSAGE_LIMIT, Renderer

log = logging.getLogger(__name__)

#: Room kept for the heading of the error message.
_HEADING_ROOM = 400


@dataclass(frozen=True)
class ReloadResult:
    ok: bool
    entries: int
    version: str
    errors: tuple[str, ...] = ()
    warnings: int = 0


def _load(directory: Path, cache_dir: Path) -> tuple[knowledge.LoadResult, Engine | None]:
    """Read the knowledge base and its model: the model is trained in a worker process (it
    takes tens of seconds of CPU) and cached, then loaded here in a moment."""
    result = knowledge.load(directory, near_duplicates=False)  # near-duplicate warnings: see check
    if result.kb is None:
        return result, None
    if can_cross_validate(result.kb):  # a small knowledge base trains in a moment, here
        prepare_apart(directory, cache_dir)
    return result, Engine(result.kb, cache_dir)


async def reload_knowledge(services: Any) -> ReloadResult:
    """Load ``services.settings.knowledge_dir``; swap it in only if it has no error."""
    result, engine = await asyncio.to_thread(_load, services.settings.knowledge_dir, services.settings.model_cache)
    if result.kb is None or engine is None:
        errors = tuple(str(p) for p in result.errors)
        old = services.engine.kb
        log.warning("knowledge base NOT reloaded: %d error(s); still serving %s", len(errors), old.version)
        return ReloadResult(False, len(old), old.version, errors, len(result.warnings))
    renderer = Renderer(
        result.kb,
        bot_username=services.renderer.bot_username,
        operator_name=services.settings.operator_name,
        operator_contact=services.settings.operator_contact,
        inline_mode=services.renderer.inline_mode,
    )
    services.engine, services.renderer = engine, renderer  # in-flight updates finish with the old pair
    services.desk.urgent_words = domain.load_urgent_words(services.settings.knowledge_dir)[0]  # checked above
    log.info(
        "knowledge base reloaded: %s, %d entries, %d warning(s)",
        result.kb.version,
        len(result.kb),
        len(result.warnings),
    )
    return ReloadResult(True, len(result.kb), result.kb.version, (), len(result.warnings))


def report(result: ReloadResult, lang: str, limit: int = MESSAGE_LIMIT) -> str:
    """What the admin reads: a confirmation, or the errors cut to fit one message."""
    if result.ok:
        return _(
            lang,
            "Knowledge base reloaded: {entries} entries, version {version}.",
            entries=result.entries,
            version=result.version,
        )
    heading = _(
        lang,
        "The knowledge base was NOT reloaded: it has {count} error(s). The previous version stays in service.",
        count=len(result.errors),
    )
    lines: list[str] = []
    used = len(heading) + _HEADING_ROOM
    for number, line in enumerate(result.errors):
        if used + len(line) + 1 > limit:
            lines.append(
                _(lang, "... and {count} more (run: python -m bot check knowledge)", count=len(result.errors) - number)
            )
            break
        lines.append(line)
        used += len(line) + 1
    return heading + "\n\n" + "\n".join(lines)


# -- SIGHUP ----------------------------------------------------------------------------------

_installed: list[asyncio.AbstractEventLoop] = []


def install_sighup(application: Any) -> bool:
    """Reload on SIGHUP (Unix). Returns False where signals cannot be handled (other OS, or not
    the main thread)."""
    if not hasattr(signal, "SIGHUP"):
        return False
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(
            signal.SIGHUP, lambda: application.create_task(reload_and_notify(application), name="sighup-reload")
        )
    except (NotImplementedError, RuntimeError, ValueError):
        return False
    _installed.append(loop)
    return True


def remove_sighup() -> None:
    while _installed:
        loop = _installed.pop()
        if not loop.is_closed():
            loop.remove_signal_handler(signal.SIGHUP)


async def reload_and_notify(application: Any) -> ReloadResult:
    """SIGHUP: reload; on failure send the errors to every admin (each in their language)."""
    from telegram.error import TelegramError

    from bot.telegram.services import services

    svc = services(application)
    result = await reload_knowledge(svc)
    if result.ok:
        from bot.telegram import follow

        follow.schedule(application, 0)
    if not result.ok:
        for line in result.errors[:50]:
            log.warning("knowledge base: %s", line)
        for admin in sorted(svc.settings.admin_user_ids):
            prefs = await svc.storage.user(admin)  # read only: no row is created for the admin
            lang = prefs.lang if prefs and prefs.lang else DEFAULT_LANG
            try:
                await application.bot.send_message(
                    admin, svc.renderer.notice(report(result, lang)).html, parse_mode="HTML"
                )
            except TelegramError as exc:  # the admin never opened a chat with the bot, or blocked it
                log.warning("could not tell an admin about the failed reload: %s", type(exc).__name__)
    return result
