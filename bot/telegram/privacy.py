"""What the bot keeps about people, for how long, and how it forgets them.

Two use cases, both on ``Storage`` and nothing else (no Telegram here):

- ``apply_retention(storage, retention_days)``: the daily clean-up (``retention_job`` runs it
  from the JobQueue). It deletes

  * closed volunteer tickets and their relayed-message records ``retention_days`` after they
    were closed (``purge_closed_tickets``),
  * the texts of unanswered questions after ``retention_days``, and the candidate phrasings
    (``bot.core.learning``) with them,
  * feedback rows after a year,
  * users inactive for a year, with every row that names them.

  ``daily_stats`` (counts per day, language and entry or action) is kept: it holds no user id.

- ``forget_user(storage, user_id)``: /forget. Deletes every row that names the user, in every
  table that has a ``user_id`` column, and the rows kept under their pseudonym (``who``, e.g.
  unanswered questions and candidate phrasings), in one transaction, then empties the
  write-ahead log (``Storage.erase_wal``): with ``PRAGMA secure_delete`` on, the deleted rows
  are then in none of the database, ``-wal`` and ``-shm`` files. The retention job empties it too.

The rule that keeps both complete as the schema grows: **every table that holds data about a
person has a ``user_id`` column, or references such a table with ``ON DELETE CASCADE``, or keeps
the person's pseudonym in a ``who`` column (``PSEUDONYM_COLUMN``) that ``forget_user`` clears by**.
``tests/test_privacy.py`` checks the schema against that rule, so a new table that breaks it
fails the tests instead of silently escaping /forget.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.store.storage import Storage

log = logging.getLogger(__name__)

#: Feedback rows and inactive users are deleted after this many days.
YEAR_DAYS = 365
#: Tables without a user id. ``unanswered`` and ``candidates`` keep a pseudonym (``who``: HMAC of
#: the user id with the database's own random key in ``secrets``) that /forget uses; the others
#: name nobody.
ANONYMOUS_TABLES = frozenset({"feedback", "daily_stats", "unanswered", "secrets"})
#: The column of a person's pseudonym in the tables without user ids (``Storage.pseudonym``).
PSEUDONYM_COLUMN = "who"


@dataclass(frozen=True)
class Purged:
    """Rows deleted by one retention run, per kind."""

    tickets: int = 0
    unanswered: int = 0
    feedback: int = 0
    users: int = 0
    candidates: int = 0

    @property
    def total(self) -> int:
        return self.tickets + self.unanswered + self.feedback + self.users + self.candidates


async def tables(db: aiosqlite.Connection) -> list[str]:
    rows = await db.execute_fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )
    return [row[0] for row in rows]


async def columns(db: aiosqlite.Connection, table: str) -> list[str]:
    return [row[1] for row in await db.execute_fetchall(f'PRAGMA table_info("{table}")')]


async def pseudonymous_tables(db: aiosqlite.Connection) -> list[str]:
    """Tables that keep a person's pseudonym (``who``) instead of their user id."""
    return [t for t in await tables(db) if "who" in await columns(db, t)]


async def personal_tables(db: aiosqlite.Connection) -> list[str]:
    """Tables with a ``user_id`` column, the ones that reference others first (so a foreign key
    never blocks a delete), ``users`` last."""
    found = [t for t in await tables(db) if "user_id" in await columns(db, t)]
    parents = {t: {row[2] for row in await db.execute_fetchall(f'PRAGMA foreign_key_list("{t}")')} for t in found}
    ordered: list[str] = []

    def visit(table: str, path: tuple[str, ...] = ()) -> None:
        if table in ordered or table in path:
            return
        for child in found:  # whoever references ``table`` goes before it
            if table in parents[child] and child != table:
                visit(child, (*path, table))
        ordered.append(table)

    for table in sorted(found, key=lambda t: t == "users"):
        visit(table)
    return ordered


def _day(storage: Storage, today: dt.date | None) -> dt.date:
    return today or dt.date.fromisoformat(storage.today())


async def apply_retention(storage: Storage, retention_days: int, *, today: dt.date | None = None) -> Purged:
    """Delete what is past its retention period (see the module docstring); ``today`` defaults to
    the storage's clock, so tests inject the day through either."""
    day = _day(storage, today)
    short = (day - dt.timedelta(days=retention_days)).isoformat()
    year = (day - dt.timedelta(days=YEAR_DAYS)).isoformat()
    db = storage.db
    tickets = await purge_closed_tickets(db, short)
    unanswered = await _delete(db, "DELETE FROM unanswered WHERE day < ?", (short,))
    candidates = await _delete(db, "DELETE FROM candidates WHERE day < ?", (short,))
    feedback = await _delete(db, "DELETE FROM feedback WHERE day < ?", (year,))
    users = await purge_inactive_users(db, year)
    return Purged(tickets, unanswered, feedback, users, candidates)


async def purge_closed_tickets(db: aiosqlite.Connection, before: str) -> int:
    """HOOK for the volunteer relay (issue 5): delete tickets closed before ``before`` (ISO day)
    and their relayed-message records.

    Written against the shape the relay is expected to have: a ``tickets`` table with a
    ``closed_at`` column (ISO date or timestamp, NULL while open), whose relayed-message rows
    reference it with ``ON DELETE CASCADE``. While there is no such table this deletes nothing;
    if the relay stores tickets differently, replace the body of this function (it is the only
    place the retention job touches tickets)."""
    if "tickets" not in await tables(db) or "closed_at" not in await columns(db, "tickets"):
        return 0
    return await _delete(db, "DELETE FROM tickets WHERE closed_at IS NOT NULL AND closed_at < ?", (before,))


async def purge_inactive_users(db: aiosqlite.Connection, before: str) -> int:
    """Delete users not seen since ``before`` (ISO day) and every row that names them."""
    inactive = "SELECT user_id FROM users WHERE last_seen IS NULL OR last_seen < ?"
    [(count,)] = await db.execute_fetchall(f"SELECT count(*) FROM ({inactive})", (before,))
    if not count:
        return 0
    for table in await personal_tables(db):
        await _delete(db, f'DELETE FROM "{table}" WHERE user_id IN ({inactive})', (before,))
    return int(count)


async def forget_user(storage: Storage, user_id: int) -> int:
    """/forget: delete every row naming ``user_id`` from every table with a ``user_id`` column
    (and, through ``ON DELETE CASCADE``, the rows that hang off them) and from the pseudonymous
    tables, all or nothing. Returns the number of rows deleted."""
    db = storage.db
    user_id = int(user_id)  # inlined below: executescript takes no parameters
    statements = "".join(f'DELETE FROM "{table}" WHERE user_id = {user_id};\n' for table in await personal_tables(db))
    # the tables without user ids: the rows under the person's pseudonym (hex digits only)
    who = storage.pseudonym(user_id)
    statements += "".join(f"DELETE FROM \"{table}\" WHERE who = '{who}';\n" for table in await pseudonymous_tables(db))
    # One executescript runs in aiosqlite's worker thread as a single call, so no other query
    # of the shared connection slips in between BEGIN and COMMIT; the storage's transaction
    # lock keeps it from committing another coroutine's open transaction.
    async with _transaction_lock(storage):
        before = db.total_changes
        await db.executescript(f"BEGIN IMMEDIATE;\n{statements}COMMIT;")
        deleted = db.total_changes - before
    # secure_delete zeroed the rows in the database; the -wal file still holds their old pages
    if not await storage.erase_wal():
        log.warning("/forget: the write-ahead log could not be emptied now (a reader is busy); it will be later")
    return deleted


def _transaction_lock(storage: Storage) -> Any:
    lock = getattr(storage, "_transactions", None)  # Storage's "one BEGIN ... COMMIT at a time"
    return lock if lock is not None else contextlib.nullcontext()


async def close_ticket_before_forget(context: Any, user_id: int) -> bool:
    """/forget, before the rows go: if the user has an open ticket, tell its topic that the user
    deleted their data and close the topic (best effort: the data is deleted even if Telegram
    fails). Also drops what the volunteer relay keeps in memory about the user. Returns whether
    a ticket was open.

    The notice is a plain message of the outbox: the ticket's own outbox rows are deleted with it."""

    from bot.telegram.outbox import outbox_of
    from bot.telegram.services import services
    from bot.ui.i18n import _
    from bot.ui.render import Screen, esc

    svc = services(context)
    svc.topics.forget(user_id)
    svc.rephrasings.forget(user_id)
    desk = getattr(svc, "desk", None)  # the volunteer relay's in-memory state, when present
    if desk is not None:
        for memory in (getattr(desk, "recent", None), getattr(desk, "pending", None)):
            if memory is not None and hasattr(memory, "forget"):
                memory.forget(user_id)
            elif isinstance(memory, dict):
                memory.pop(user_id, None)
    ticket = await open_ticket(svc.storage.db, user_id)
    if ticket is None:
        return False
    ticket_id, topic_id, header_id = ticket
    chat_id = getattr(desk, "chat_id", None) or svc.settings.volunteer_chat_id
    if chat_id is None:
        return True
    text = _(
        getattr(desk, "lang", "en"),
        "The user deleted their data with /forget. This ticket is closed and its records are deleted; nothing more will be relayed.",
    )
    # Plain messages of the outbox, in this order (the ticket's own lanes are deleted with it).
    box = outbox_of(context.application)
    await box.send(
        chat_id, Screen(esc(text), text), thread_id=topic_id or None, reply_to=None if topic_id else header_id
    )
    if topic_id:
        await box.close_topic(chat_id, topic_id)
    log.info("ticket %s: the volunteers are told about /forget", ticket_id)
    return True


async def open_ticket(db: aiosqlite.Connection, user_id: int) -> tuple[int, int | None, int | None] | None:
    """``(ticket id, topic id, header message id)`` of the user's open ticket, if any."""
    if "tickets" not in await tables(db):
        return None
    rows = await db.execute_fetchall(
        "SELECT id, topic_id, header_message_id FROM tickets WHERE user_id = ? AND status = 'open'", (user_id,)
    )
    row = next(iter(rows), None)
    return (row[0], row[1], row[2]) if row is not None else None


async def _delete(db: aiosqlite.Connection, sql: str, params: tuple[Any, ...]) -> int:
    cursor = await db.execute(sql, params)
    try:
        return max(cursor.rowcount, 0)
    finally:
        await cursor.close()


async def retention_job(context: Any) -> None:
    """JobQueue callback: run ``apply_retention`` with the configured ``RETENTION_DAYS``."""
    from bot.telegram.services import services  # the Telegram layer imports this module

    svc = services(context)
    purged = await apply_retention(svc.storage, svc.settings.retention_days)
    await svc.storage.inbox_purge(dt.datetime.now(dt.UTC) - dt.timedelta(days=1))  # ids of handled updates
    if purged.total:
        await svc.storage.erase_wal()  # what was deleted leaves the -wal file too
    log.info(
        "retention: deleted %d closed ticket(s), %d unanswered question(s), %d candidate phrasing(s), "
        "%d feedback row(s), %d inactive user(s)",
        purged.tickets,
        purged.unanswered,
        purged.candidates,
        purged.feedback,
        purged.users,
    )


#: The retention job runs this long after start-up, then once a day.
FIRST_RUN = dt.timedelta(minutes=1)
INTERVAL = dt.timedelta(days=1)


def schedule_retention(application: Any) -> None:
    """Register the daily retention job on the application's JobQueue."""
    if application.job_queue is None:
        raise RuntimeError("the JobQueue is missing: install python-telegram-bot[job-queue]")
    if not application.job_queue.get_jobs_by_name("retention"):
        application.job_queue.run_repeating(retention_job, interval=INTERVAL, first=FIRST_RUN, name="retention")
    if not application.job_queue.get_jobs_by_name("wal-erase"):
        application.job_queue.run_repeating(_wal_job, interval=WAL_ERASE_SECONDS, name="wal-erase")


#: The inbox holds each incoming update (with its text) until it is handled, seconds; its
#: content is then cleared (zeroed by ``secure_delete``) but older copies of the page stay in the
#: ``-wal`` file until a checkpoint. This often, the log is copied back and emptied.
WAL_ERASE_SECONDS = 60


async def _wal_job(context: Any) -> None:
    from bot.telegram.services import services  # the Telegram layer imports this module

    await services(context).storage.erase_wal()
