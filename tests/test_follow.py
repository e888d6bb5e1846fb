"""Follow an answer: "Tell me if this changes" sends the new answer once after a maintainer
changes the entry's reviewed date; /unfollow and /forget remove the subscription."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from pathlib import Path

from fakebotapi import FakeBotAPI
from helpers import forget_confirmed
from test_bot_e2e import USER, cb, sent_after
from test_reload import ADMIN, entry_file, fixture_admin_bot, fixture_kb_dir  # noqa: F401  fixtures, found by name

from bot.ui.i18n import _

QUESTION = "se acabó el parole humanitario?"


def bump_reviewed(directory: Path, day: dt.date) -> None:
    path = entry_file(directory)
    path.write_text(
        re.sub(
            r"^reviewed: .*$", f"reviewed: {day.isoformat()}", path.read_text(encoding="utf-8"), count=1, flags=re.M
        ),
        encoding="utf-8",
    )


def updates_to_user(fake: FakeBotAPI) -> list:
    return [c for c in fake.calls_to("sendMessage") if c.ok and c.chat_id == USER and c.text.startswith("<b>🔔 ")]


async def test_follow_sends_the_new_answer_once_after_a_reload(admin_bot, fake_api: FakeBotAPI, kb_dir: Path) -> None:
    _app, services = admin_bot
    await sent_after(fake_api, lambda: fake_api.message(USER, QUESTION, language_code="es"))
    mark = fake_api.mark()
    fake_api.callback_query(USER, cb("w", "chnv-ended"))
    [ack] = await fake_api.wait_for("answerCallbackQuery", since=mark)
    assert ack.params["show_alert"] is True
    assert ack.params["text"] == _(
        "es", "Done: if this answer changes, I will send you the new one. /unfollow stops it."
    )

    # a reload without a change sends nothing
    await sent_after(fake_api, lambda: fake_api.command(ADMIN, "/reload", language_code="es"), chat_id=ADMIN)
    await asyncio.sleep(0.3)
    assert updates_to_user(fake_api) == []

    bump_reviewed(kb_dir, dt.date.today())
    await sent_after(fake_api, lambda: fake_api.command(ADMIN, "/reload", language_code="es"), chat_id=ADMIN)
    [update] = await fake_api.wait_for(
        "sendMessage", lambda c: c.ok and c.chat_id == USER and c.text.startswith("<b>🔔 ")
    )
    entry = services.engine.kb.get("chnv-ended")
    assert entry.reviewed == dt.date.today()
    assert entry.text("es").answer.split("\n")[0][:40] in update.text
    assert cb("y", "chnv-ended") in str(update.params["reply_markup"])

    # once: a second reload does not send it again
    await sent_after(fake_api, lambda: fake_api.command(ADMIN, "/reload", language_code="es"), chat_id=ADMIN)
    await asyncio.sleep(0.3)
    assert len(updates_to_user(fake_api)) == 1


async def test_unfollow_and_forget_remove_the_subscription(admin_bot, fake_api: FakeBotAPI, kb_dir: Path) -> None:
    _app, services = admin_bot
    await sent_after(fake_api, lambda: fake_api.message(USER, QUESTION, language_code="es"))
    mark = fake_api.mark()
    fake_api.callback_query(USER, cb("w", "chnv-ended"))
    await fake_api.wait_for("answerCallbackQuery", since=mark)
    due = {"chnv-ended": "9999-12-31"}
    assert await services.storage.follows_due(due) == [(USER, "chnv-ended", "es")]
    [done] = await sent_after(fake_api, lambda: fake_api.command(USER, "/unfollow", language_code="es"))
    assert done.text == _("es", "Done: you no longer follow any answer ({count}).", count=1)
    assert await services.storage.follows_due(due) == []

    mark = fake_api.mark()
    fake_api.callback_query(USER, cb("w", "chnv-ended"))
    await fake_api.wait_for("answerCallbackQuery", since=mark)
    await forget_confirmed(fake_api, USER, language_code="es")
    assert await services.storage.follows_due(due) == []
