"""Follow an answer ("Tell me if this changes").

A user who pressed the button under an answer gets that entry's new answer, once, in their
language, when a maintainer changes its ``reviewed`` date: checked after every successful
reload (/reload, SIGHUP) and at start-up, through the outbox (a person who blocked the bot
is marked inactive there and their follows end).
/unfollow and /forget remove the subscriptions.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.telegram.outbox import outbox_of
from bot.ui.i18n import _
from bot.ui.render import Screen, esc

log = logging.getLogger(__name__)


async def notify_changes(application: Any) -> int:
    """Send the new answer to every follower of a changed entry; return how many were sent."""
    from bot.telegram.services import services

    svc = services(application)
    current = {entry.id: entry.reviewed.isoformat() for entry in svc.engine.kb}
    sent = 0
    for user_id, entry_id, lang in await svc.storage.follows_due(current):
        entry = svc.engine.kb.get(entry_id)
        if entry is None:  # removed by a reload while the follows were read
            continue
        screen = svc.renderer.answer(entry, lang)
        intro = "🔔 " + _(lang, "An answer you follow was updated:")
        notice = Screen(f"<b>{esc(intro)}</b>\n\n{screen.html}", f"{intro}\n\n{screen.plain}", screen.buttons)
        await outbox_of(application).send(user_id, notice, lang=lang)
        await svc.storage.mark_followed(user_id, entry_id, current[entry_id])
        sent += 1
    if sent:
        log.info("sent %d updated answer(s) to followers", sent)
    return sent


async def notify_job(context: Any) -> None:
    """JobQueue callback for ``notify_changes``."""
    await notify_changes(context.application)


def schedule(application: Any, when: float = 1.0) -> None:
    """Check the followed answers soon (at start-up, and after every successful reload)."""
    if application.job_queue is not None:
        application.job_queue.run_once(notify_job, when, name="follow-notify")
