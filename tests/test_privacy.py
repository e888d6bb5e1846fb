"""bot.telegram.privacy: the retention job, /forget, and the schema rule that keeps both complete."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from conftest import RunningBot, make_settings, start_bot, stop_bot
from fakebotapi import FakeBotAPI
from helpers import forget_confirmed

from bot.store.storage import Storage
from bot.telegram import privacy
from bot.ui.i18n import _

DAY = dt.date(2026, 11, 23)
USER, OTHER, VOLUNTEERS = 4242, 5151, -1009000


class Clock:
    """An injectable ``today`` for Storage."""

    def __init__(self, day: dt.date) -> None:
        self.day = day

    def __call__(self) -> dt.date:
        return self.day

    def back(self, days: int) -> Clock:
        self.day = DAY - dt.timedelta(days=days)
        return self


@pytest.fixture
async def store(tmp_path: Path):
    clock = Clock(DAY)
    async with Storage(tmp_path / "bot.sqlite3", today=clock) as opened:
        opened.clock = clock  # type: ignore[attr-defined]
        yield opened


async def add_ticket(store: Storage, user_id: int, *, closed: dt.date | None, topic_id: int | None = None) -> int:
    """A ticket with one relayed message and one outbox item (raw SQL: only the schema matters)."""
    db = store.db
    status = "closed" if closed else "open"
    created = (closed or DAY).isoformat() + "T08:00:00+00:00"
    closed_at = closed.isoformat() + "T09:30:00+00:00" if closed else None
    cursor = await db.execute(
        "INSERT INTO tickets (user_id, lang, status, created_at, closed_at, topic_id) VALUES (?, 'es', ?, ?, ?, ?)",
        (user_id, status, created, closed_at, topic_id),
    )
    ticket_id = cursor.lastrowid
    await cursor.close()
    await db.execute_fetchall(
        "INSERT INTO relayed (ticket_id, direction, user_message_id, group_message_id, created_at) VALUES (?, 'to_group', 10, 20, ?)",
        (ticket_id, created),
    )
    await db.execute_fetchall(
        "INSERT INTO outbox (ticket_id, target, payload, next_attempt_at) VALUES (?, 'group', '{}', ?)",
        (ticket_id, created),
    )
    return int(ticket_id)


async def count(store: Storage, table: str, where: str = "1", params: tuple = ()) -> int:
    [(n,)] = await store.db.execute_fetchall(f"SELECT count(*) FROM {table} WHERE {where}", params)
    return int(n)


# -- the schema rule -------------------------------------------------------------------------


async def test_every_table_is_anonymous_or_reachable_from_a_user_id(store: Storage) -> None:
    """Every table naming a person has a user_id column or cascades from one that has: that is
    what lets /forget and the retention job find everything without a list to keep up to date.
    The exception: unanswered questions and candidate phrasings name people only by a keyed
    pseudonym (never the id) in a ``who`` column, which /forget deletes by."""
    db = store.db
    personal = set(await privacy.personal_tables(db))
    assert "users" in personal
    pseudonymous = set(await privacy.pseudonymous_tables(db))
    assert pseudonymous == {"unanswered", "candidates"}
    for table in pseudonymous:
        assert "user_id" not in await privacy.columns(db, table)
    for table in await privacy.tables(db):
        if table in personal or table in privacy.ANONYMOUS_TABLES or table in pseudonymous:
            continue
        keys = await db.execute_fetchall(f'PRAGMA foreign_key_list("{table}")')
        cascades = {row[2] for row in keys if str(row[6]).upper() == "CASCADE"}
        assert cascades & personal, (
            f"table {table!r} has no user_id column and does not reference a table that has one with "
            "ON DELETE CASCADE: /forget and the retention job would miss it (see bot/privacy.py)"
        )
    for table in privacy.ANONYMOUS_TABLES:
        assert "user_id" not in await privacy.columns(db, table)


async def test_personal_tables_put_users_last(store: Storage) -> None:
    order = await privacy.personal_tables(store.db)
    assert order[-1] == "users"


# -- retention -------------------------------------------------------------------------------


async def test_retention_deletes_what_is_past_its_period_and_nothing_else(store: Storage) -> None:
    clock: Clock = store.clock  # type: ignore[attr-defined]
    # unanswered questions: 31 and 29 days old
    clock.back(31)
    await store.add_unanswered("es", "old question", None, "escalate")
    clock.back(29)
    await store.add_unanswered("es", "recent question", None, "escalate")
    # feedback: 366 and 364 days old; daily counts from long ago stay (no user id)
    clock.back(366)
    await store.add_feedback("chnv-ended", "es", True)
    await store.count("es", "chnv-ended")
    clock.back(364)
    await store.add_feedback("chnv-ended", "es", False)
    # users: one inactive for a year and a day, one seen 364 days ago
    clock.back(366)
    await store.seen(USER)
    await store.set_language(USER, "ht", chosen=True)
    clock.back(364)
    await store.seen(OTHER)
    clock.back(0)
    # tickets: closed 31 days ago (deleted), closed 29 days ago and open (kept)
    old = await add_ticket(store, OTHER, closed=DAY - dt.timedelta(days=31))
    recent = await add_ticket(store, OTHER, closed=DAY - dt.timedelta(days=29))
    open_ = await add_ticket(store, OTHER, closed=None)

    purged = await privacy.apply_retention(store, 30)

    assert purged == privacy.Purged(tickets=1, unanswered=1, feedback=1, users=1)
    assert [row[2] for row in await store.unanswered()] == ["recent question"]
    assert [row[3] for row in await store.feedback()] == [False]
    assert await store.user(USER) is None and await store.user(OTHER) is not None
    assert await store.daily_counts((DAY - dt.timedelta(days=366)).isoformat()) == {("es", "chnv-ended"): 1}
    remaining = [row[0] for row in await store.db.execute_fetchall("SELECT id FROM tickets ORDER BY id")]
    assert remaining == [recent, open_]
    assert await count(store, "relayed", "ticket_id = ?", (old,)) == 0  # cascaded
    assert await count(store, "outbox", "ticket_id = ?", (old,)) == 0
    assert await count(store, "relayed") == 2
    # a second run finds nothing more
    assert (await privacy.apply_retention(store, 30)).total == 0


async def test_retention_period_comes_from_the_setting(store: Storage) -> None:
    store.clock.back(8)  # type: ignore[attr-defined]
    await store.add_unanswered("en", "a week and a day ago", None, "escalate")
    store.clock.back(0)  # type: ignore[attr-defined]
    assert (await privacy.apply_retention(store, 30)).unanswered == 0
    assert (await privacy.apply_retention(store, 7)).unanswered == 1


async def test_inactive_user_takes_their_tickets_along(store: Storage) -> None:
    store.clock.back(400)  # type: ignore[attr-defined]
    await store.seen(USER)
    store.clock.back(0)  # type: ignore[attr-defined]
    await add_ticket(store, USER, closed=DAY - dt.timedelta(days=2))
    purged = await privacy.apply_retention(store, 30)
    assert purged.users == 1
    assert await count(store, "tickets") == await count(store, "relayed") == await count(store, "outbox") == 0


async def test_retention_job_runs_daily_on_the_applications_storage(fake_api: FakeBotAPI, tmp_path: Path) -> None:
    """The JobQueue job, run once with the storage's clock moved forward 31 days."""
    from bot.telegram.app import build_application
    from bot.telegram.services import Services

    settings = make_settings(fake_api, tmp_path, retention_days=30)
    services = Services.load(settings)
    clock = Clock(DAY)
    services.storage = Storage(settings.database_path, today=clock)
    app = build_application(settings, services)
    [job] = app.job_queue.get_jobs_by_name("retention")
    assert job.trigger.interval == dt.timedelta(days=1)
    await start_bot(app)
    try:
        await services.storage.add_unanswered("es", "kept thirty days", None, "escalate")
        clock.day = DAY + dt.timedelta(days=30)
        await job.run(app)
        assert len(await services.storage.unanswered()) == 1
        clock.day = DAY + dt.timedelta(days=31)
        await job.run(app)
        assert await services.storage.unanswered() == []
        # and gone from the files: secure_delete zeroed it, the job emptied the -wal
        database = settings.database_path
        files = [database.with_name(database.name + suffix) for suffix in ("", "-wal", "-shm")]
        assert [f.name for f in files if f.exists() and b"kept thirty days" in f.read_bytes()] == []
    finally:
        await stop_bot(app)


async def test_unanswered_texts_are_redacted_before_they_are_stored(store: Storage) -> None:
    await store.add_unanswered("es", "mi numero A es A-123-456-789 y mi telefono 305-555-0199", None, "escalate")
    [(_day, _lang, text, _closest, _reason)] = await store.unanswered()
    assert "123-456-789" not in text and "555-0199" not in text
    assert "[A-number]" in text and "[phone]" in text


# -- /forget ---------------------------------------------------------------------------------


async def test_forget_user_deletes_every_row_naming_them_and_nothing_else(store: Storage) -> None:
    await store.seen(USER)
    await store.set_language(USER, "ht", chosen=True)
    await store.seen(OTHER)
    mine = [await add_ticket(store, USER, closed=DAY), await add_ticket(store, USER, closed=None)]
    theirs = await add_ticket(store, OTHER, closed=None)
    await store.add_feedback("chnv-ended", "ht", True)
    await store.count("ht", "chnv-ended")
    await store.add_unanswered("ht", "kesyon", None, "escalate")  # nobody's (e.g. from before pseudonyms)
    await store.add_unanswered("ht", "kesyon pa m", None, "escalate", USER)
    await store.add_unanswered("ht", "kesyon pa l", None, "suggest", OTHER)

    deleted = await privacy.forget_user(store, USER)

    # the user, two tickets with one relayed row and one outbox item each, their unanswered question
    assert deleted == 1 + 2 * 3 + 1
    assert [text for _d, _l, text, _c, _r in await store.unanswered()] == ["kesyon", "kesyon pa l"]
    assert store.pseudonym(USER) != store.pseudonym(OTHER) and str(USER) not in (store.pseudonym(USER) or "")
    assert await store.user(USER) is None
    assert await store.user(OTHER) is not None
    assert await count(store, "tickets", "user_id = ?", (USER,)) == 0
    assert await count(store, "relayed", f"ticket_id IN ({mine[0]}, {mine[1]})") == 0
    assert await count(store, "outbox", f"ticket_id IN ({mine[0]}, {mine[1]})") == 0
    assert await count(store, "relayed", "ticket_id = ?", (theirs,)) == 1
    # anonymous rows stay: they cannot be traced back to anyone
    assert len(await store.feedback()) == 1
    assert await store.daily_counts() == {("ht", "chnv-ended"): 1}
    assert await privacy.forget_user(store, USER) == 0  # twice is fine


async def test_forget_command_deletes_and_confirms_in_the_users_language(bot: RunningBot) -> None:
    from test_bot_e2e import cb, sent_after

    fake = bot.fake
    await sent_after(fake, lambda: fake.command(USER, "/start", language_code="es"))
    await sent_after(fake, lambda: fake.callback_query(USER, cb("l", "ht"), language_code="es"))
    assert (await bot.storage.user(USER)).lang == "ht"
    await sent_after(fake, lambda: fake.command(OTHER, "/start", language_code="en"), chat_id=OTHER)

    reply = await forget_confirmed(fake, USER, language_code="es")

    expected = _(
        "ht",
        "Done: I deleted everything I kept about you (your language and any conversation with a volunteer). If you write again, I start from zero.",
    )
    assert reply.text == bot.renderer.notice(expected).html
    assert await bot.storage.user(USER) is None
    assert await bot.storage.user(OTHER) is not None
    # writing again starts afresh
    await sent_after(fake, lambda: fake.command(USER, "/topics", language_code="en"))
    assert (await bot.storage.user(USER)).lang == "en"


@pytest.fixture
async def desk_services(fake_api: FakeBotAPI, tmp_path: Path):
    """The bot with a volunteers' forum group; yields its services."""
    from bot.telegram.app import build_application
    from bot.telegram.services import Services

    fake_api.add_group(VOLUNTEERS, is_forum=True)
    settings = make_settings(fake_api, tmp_path, volunteer_chat_id=VOLUNTEERS)
    services = Services.load(settings)
    app = build_application(settings, services)
    await start_bot(app)
    try:
        yield services
    finally:
        await stop_bot(app)


async def test_forget_closes_an_open_ticket_and_tells_its_topic(fake_api: FakeBotAPI, desk_services) -> None:
    from test_bot_e2e import sent_after

    services = desk_services
    await sent_after(fake_api, lambda: fake_api.command(USER, "/start", language_code="es"))
    ticket = await add_ticket(services.storage, USER, closed=None, topic_id=77)
    mark = fake_api.mark()  # after start-up (which pins how to answer in the group)
    reply = await forget_confirmed(fake_api, USER, language_code="es")
    [notice] = await fake_api.wait_for("sendMessage", lambda c: c.ok and c.chat_id == VOLUNTEERS, since=mark)
    await fake_api.wait_for("closeForumTopic", since=mark)
    assert notice.params["message_thread_id"] == 77
    assert "deleted their data" in notice.text
    assert str(USER) not in notice.text
    [closed] = fake_api.calls_to("closeForumTopic")
    assert closed.ok and closed.params["message_thread_id"] == 77
    assert fake_api.topics[(VOLUNTEERS, 77)]["closed"]
    assert notice.ok and reply.ok  # both told (two chats: two outbox lanes, no order between them)
    assert await count(services.storage, "tickets") == 0
    assert await count(services.storage, "relayed", "ticket_id = ?", (ticket,)) == 0


async def test_forget_still_deletes_when_telegram_refuses_the_topic_notice(fake_api: FakeBotAPI, desk_services) -> None:
    from test_bot_e2e import sent_after

    services = desk_services
    await sent_after(fake_api, lambda: fake_api.command(USER, "/start", language_code="en"))
    await add_ticket(services.storage, USER, closed=None, topic_id=78)
    fake_api.delete_topic(VOLUNTEERS, 78)  # "message thread not found"
    await forget_confirmed(fake_api, USER, language_code="en")
    assert await count(services.storage, "tickets") == 0
    assert await services.storage.user(USER) is None


def test_database_file_keeps_no_names(tmp_path: Path) -> None:
    """The schema has no column for names, usernames or phone numbers."""
    import asyncio

    async def make() -> None:
        async with Storage(tmp_path / "bot.sqlite3"):
            pass

    asyncio.run(make())
    with sqlite3.connect(tmp_path / "bot.sqlite3") as db:
        names = [
            row[0]
            for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        ]
        cols = {c[1].lower() for t in names for c in db.execute(f'PRAGMA table_info("{t}")')}
    db.close()
    for forbidden in ("first_name", "last_name", "username", "name", "phone", "phone_number"):
        assert forbidden not in cols


async def test_forget_asks_first_and_no_keeps_everything(fake_api: FakeBotAPI, desk_services) -> None:
    """/forget deletes nothing until the person confirms; "No" keeps everything."""
    services = desk_services
    mark = fake_api.mark()
    fake_api.command(USER, "/start", language_code="es")
    await fake_api.wait_for("sendMessage", lambda c: c.ok and c.chat_id == USER, since=mark)
    mark = fake_api.mark()
    fake_api.command(USER, "/forget", language_code="es")
    [confirm] = await fake_api.wait_for("sendMessage", lambda c: c.ok and c.chat_id == USER, since=mark)
    assert "No se puede deshacer" in confirm.text
    assert await services.storage.user(USER) is not None  # nothing deleted yet
    mark = fake_api.mark()
    fake_api.callback_query(USER, "1|f|no", message_id=confirm.result["message_id"], language_code="es")
    [kept] = await fake_api.wait_for("editMessageText", lambda c: c.ok and c.chat_id == USER, since=mark)
    assert kept.text == "No se borró nada."
    assert await services.storage.user(USER) is not None
