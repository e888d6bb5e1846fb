"""Admin commands in Telegram: /stats and /report answer the ADMIN_USER_IDS accounts, in a
private chat, from a seeded database; anyone else gets the "unknown command" help, and in a
group nobody gets an answer."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from conftest import make_settings, start_bot, stop_bot
from fakebotapi import FakeBotAPI

from bot.core import report
from bot.telegram import admin

ADMIN = 777001
USER = 4242
GROUP = -1009876543210


async def sent_after(fake: FakeBotAPI, user_id: int, text: str, *, chat_id: int | None = None, **kwargs) -> list:
    mark = fake.mark()
    fake.command(user_id, text, language_code="en", **kwargs)
    return await fake.wait_for(
        "sendMessage", lambda c: c.ok and c.chat_id == (chat_id or user_id), since=mark, timeout=10
    )


async def seed(storage) -> None:
    """Today: es 3 answers, 1 suggestion, 2 escalations; ht 2 answers; en 1 escalation.
    Votes today: es 2 yes 1 no, ht 1 yes. Twenty days ago: 10 more es answers and one no."""
    for lang, key, times in [
        ("es", "chnv-ended", 3),
        ("es", "suggest", 1),
        ("es", "escalate", 2),
        ("ht", "work-permit", 2),
        ("en", "escalate", 1),
    ]:
        for _ in range(times):
            await storage.count(lang, key)
    for lang, entry, helpful in [
        ("es", "chnv-ended", True),
        ("es", "chnv-ended", True),
        ("es", "chnv-ended", False),
        ("ht", "work-permit", True),
    ]:
        await storage.add_feedback(entry, lang, helpful)
    for text in ["mi carro no arranca", "mi carro no arranca hoy", "¿puedo viajar a Canadá?"]:
        await storage.add_unanswered("es", text, None, "escalate")
    await storage.add_unanswered("en", "is my work permit still valid after june", "work-permit", "not_helpful")
    old = (dt.date.fromisoformat(storage.today()) - dt.timedelta(days=20)).isoformat()
    await storage.db.execute_fetchall(
        "INSERT INTO daily_stats (day, lang, entry_id_or_action, count) VALUES (?, 'es', 'chnv-ended', 10)", (old,)
    )
    await storage.db.execute_fetchall(
        "INSERT INTO feedback (entry_id, lang, day, helpful) VALUES ('work-permit', 'ht', ?, 0)", (old,)
    )


@pytest.fixture
async def admin_bot(fake_api: FakeBotAPI, tmp_path: Path):
    from bot.telegram.app import build_application
    from bot.telegram.services import Services

    settings = make_settings(fake_api, tmp_path, admin_user_ids=frozenset({ADMIN}))
    services = Services.load(settings)
    app = build_application(settings, services)
    await start_bot(app)
    await seed(services.storage)
    try:
        yield services
    finally:
        await stop_bot(app)


async def test_stats_for_an_admin_counts_the_last_7_days_per_language(admin_bot, fake_api: FakeBotAPI) -> None:
    [reply] = await sent_after(fake_api, ADMIN, "/stats")
    text = reply.text
    assert "parse_mode" not in reply.params  # plain text: nothing to escape
    today = dt.date.fromisoformat(admin_bot.storage.today())
    assert text.startswith(f"Last 7 days ({(today - dt.timedelta(days=6)).isoformat()} to {today.isoformat()}, UTC)")
    assert "Answers: 5 · suggestions: 1 · escalations: 3" in text  # the 10 answers of 20 days ago are not counted
    assert "Helpful: 3 of 4 votes (75%)" in text
    assert "es: 3 answers, 1 suggestion, 2 escalations; helpful: 2 of 3 votes (67%)" in text
    assert "ht: 2 answers, 0 suggestions, 0 escalations; helpful: 1 of 1 vote (100%)" in text
    assert "en: 0 answers, 0 suggestions, 1 escalation; helpful: no votes" in text


async def test_report_for_an_admin_is_the_cli_report_short(admin_bot, fake_api: FakeBotAPI) -> None:
    [reply] = await sent_after(fake_api, ADMIN, "/report")
    since = (dt.date.fromisoformat(admin_bot.storage.today()) - dt.timedelta(days=30)).isoformat()
    unanswered, counts, feedback = await admin_bot.storage.report_rows(since)
    expected = report.to_short(report.build(30, unanswered, counts, feedback))
    assert reply.text == expected + "\nFull report: python -m bot report --days 30"
    assert reply.text.startswith("Last 30 days: 15 answers, 1 suggestion, 3 escalations.")
    assert "[es] ×2: mi carro no arranca (2 no reliable answer; closest: -)" in reply.text  # grouped
    assert "[en] ×1: is my work permit still valid after june (1 rated not helpful; closest: work-permit)" in reply.text
    assert "Least helpful: work-permit 50%, chnv-ended 67%" in reply.text


async def test_report_takes_a_number_of_days(admin_bot, fake_api: FakeBotAPI) -> None:
    [reply] = await sent_after(fake_api, ADMIN, "/report 7")
    assert reply.text.startswith("Last 7 days: 5 answers, 1 suggestion, 3 escalations.")
    assert reply.text.endswith("python -m bot report --days 7")
    [usage] = await sent_after(fake_api, ADMIN, "/report lots")
    assert usage.text.startswith("Usage: /report [DAYS]")


@pytest.mark.parametrize("command", ["/stats", "/report"])
async def test_not_for_anyone_else(admin_bot, fake_api: FakeBotAPI, command: str) -> None:
    [reply] = await sent_after(fake_api, USER, command)
    assert reply.text == admin_bot.renderer.help("en").html  # an unknown command, as for /reload
    assert "Answers:" not in reply.text and "Last " not in reply.text


@pytest.mark.parametrize("command", ["/stats", "/report"])
async def test_admin_commands_are_private_chat_only(admin_bot, fake_api: FakeBotAPI, command: str) -> None:
    mark = fake_api.mark()
    fake_api.command(ADMIN, command, language_code="en", chat_id=GROUP, chat_type="supergroup")
    await sent_after(fake_api, ADMIN, "/stats")  # a later private command is answered ...
    await asyncio.sleep(0.2)
    assert fake_api.sent_messages(GROUP, since=mark) == []  # ... the group one never is


async def test_an_empty_database(fake_api: FakeBotAPI, tmp_path: Path) -> None:
    from bot.telegram.app import build_application
    from bot.telegram.services import Services

    settings = make_settings(fake_api, tmp_path, admin_user_ids=frozenset({ADMIN}))
    app = build_application(settings, Services.load(settings))
    await start_bot(app)
    try:
        [stats] = await sent_after(fake_api, ADMIN, "/stats")
        assert "Answers: 0 · suggestions: 0 · escalations: 0" in stats.text and "Helpful: no votes" in stats.text
        [rep] = await sent_after(fake_api, ADMIN, "/report")
        assert "Nothing recorded in this period." in rep.text
    finally:
        await stop_bot(app)


def test_summarize_keeps_unknown_languages_and_counts_votes() -> None:
    total, per_lang = admin.summarize([("es", "x", 2), ("fr", "suggest", 1)], [("es", False, 3)])
    assert (total.answers, total.suggestions, total.not_helpful) == (2, 1, 3)
    assert list(per_lang) == ["es", "ht", "en", "fr"]
    assert per_lang["es"].helpful_text() == "0 of 3 votes (0%)"


@pytest.mark.parametrize("args, days", [([], 30), (["7"], 7), (["0"], None), (["367"], None), (["x"], None)])
def test_report_days(args: list[str], days: int | None) -> None:
    assert admin.report_days(args) == days
