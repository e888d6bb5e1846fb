"""The one storage module: a single long-lived aiosqlite connection.

Opened in the application's ``post_init`` and closed in ``post_shutdown``. The schema is
versioned with ``PRAGMA user_version``: ``MIGRATIONS[n]`` turns version ``n`` into ``n + 1``
and runs in one transaction at start-up. To change the schema, append a migration; never
edit one that has shipped.

What is kept, and what is not: a user is a numeric id with a language and an active flag
(no names, usernames or phone numbers). Feedback, daily counts and unanswered questions carry
no user id at all; candidate phrasings carry a keyed pseudonym instead (``pseudonym``), only
for /forget. Every text stored is masked here (``bot.core.redact``). Every method returns plain
values; nothing here calls Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from bot.core.domain import Lane, OutboxItem, Ticket
from bot.core.learning import CandidatePhrasing
from bot.core.redact import redact

#: Longest question text kept in ``unanswered`` (the rest is cut).
MAX_TEXT = 1000
#: Seconds ``Storage.ping`` waits for the database (/healthz).
PING_TIMEOUT = 2.0

MIGRATIONS: tuple[str, ...] = (
    # 0 -> 1: users, feedback, daily counts, unanswered questions
    """
    CREATE TABLE users (
        user_id     INTEGER PRIMARY KEY,
        lang        TEXT,
        lang_chosen INTEGER NOT NULL DEFAULT 0,
        active      INTEGER NOT NULL DEFAULT 1,
        last_seen   TEXT
    );
    CREATE TABLE feedback (
        id       INTEGER PRIMARY KEY,
        entry_id TEXT NOT NULL,
        lang     TEXT NOT NULL,
        day      TEXT NOT NULL,
        helpful  INTEGER NOT NULL
    );
    CREATE TABLE daily_stats (
        day                TEXT NOT NULL,
        lang               TEXT NOT NULL,
        entry_id_or_action TEXT NOT NULL,
        count              INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (day, lang, entry_id_or_action)
    ) WITHOUT ROWID;
    CREATE TABLE unanswered (
        id            INTEGER PRIMARY KEY,
        day           TEXT NOT NULL,
        lang          TEXT NOT NULL,
        text          TEXT NOT NULL,
        closest_entry TEXT,
        reason        TEXT NOT NULL
    );
    CREATE INDEX unanswered_day ON unanswered (day);
    """,
    # 1 -> 2: volunteer escalation: tickets, relayed message ids, the delivery outbox.
    # A ticket is the one place (besides users) that holds a user id: the relay needs it.
    # Texts are never stored here; the outbox holds redacted texts and message ids only.
    """
    CREATE TABLE tickets (
        id                  INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id             INTEGER NOT NULL,
        lang                TEXT NOT NULL,
        urgent              INTEGER NOT NULL DEFAULT 0,
        status              TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
        created_at          TEXT NOT NULL,
        first_reply_at      TEXT,
        closed_at           TEXT,
        topic_id            INTEGER,
        header_message_id   INTEGER,
        share_identifiers   INTEGER NOT NULL DEFAULT 0,
        identifiers_offered INTEGER NOT NULL DEFAULT 0,
        helpful             INTEGER
    );
    CREATE UNIQUE INDEX tickets_one_open ON tickets (user_id) WHERE status = 'open';
    CREATE INDEX tickets_topic ON tickets (topic_id);
    CREATE INDEX tickets_header ON tickets (header_message_id);
    CREATE INDEX tickets_created ON tickets (created_at);
    CREATE TABLE relayed (
        id               INTEGER PRIMARY KEY,
        ticket_id        INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
        direction        TEXT NOT NULL CHECK (direction IN ('to_group', 'to_user')),
        user_message_id  INTEGER,
        group_message_id INTEGER,
        created_at       TEXT NOT NULL
    );
    CREATE INDEX relayed_ticket ON relayed (ticket_id);
    CREATE INDEX relayed_group ON relayed (group_message_id);
    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY,
        ticket_id       INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
        target          TEXT NOT NULL CHECK (target IN ('user', 'group')),
        payload         TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL
    );
    CREATE INDEX outbox_ticket ON outbox (ticket_id, target, id);
    """,
    # 2 -> 3: "Tell me if this changes": which answers a user follows, and the reviewed date
    # they last received (the new answer is sent once when a maintainer changes that date).
    """
    CREATE TABLE follows (
        user_id  INTEGER NOT NULL,
        entry_id TEXT NOT NULL,
        lang     TEXT NOT NULL,
        reviewed TEXT NOT NULL,
        PRIMARY KEY (user_id, entry_id)
    ) WITHOUT ROWID;
    CREATE INDEX follows_entry ON follows (entry_id);
    """,
    # 3 -> 4: one outbox for everything the bot sends: a row is a ticket's delivery (``ticket_id``,
    # target user/group) or a plain message to a chat (``chat_id``, target chat: answers, notices).
    # The inbox holds an incoming update from the moment it is fetched until what it causes is
    # written (then its payload and user are cleared): a restart re-processes what was fetched
    # but not handled, and an update fetched again (its confirmation to Telegram was lost with
    # the process) is recognised by its id and skipped. Cleared rows go after a day.
    """
    CREATE TABLE outbox_4 (
        id              INTEGER PRIMARY KEY,
        ticket_id       INTEGER REFERENCES tickets (id) ON DELETE CASCADE,
        chat_id         INTEGER,
        target          TEXT NOT NULL CHECK (target IN ('user', 'group', 'chat')),
        payload         TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        CHECK ((target = 'chat') = (ticket_id IS NULL AND chat_id IS NOT NULL))
    );
    INSERT INTO outbox_4 (id, ticket_id, target, payload, attempts, next_attempt_at)
        SELECT id, ticket_id, target, payload, attempts, next_attempt_at FROM outbox;
    DROP TABLE outbox;
    ALTER TABLE outbox_4 RENAME TO outbox;
    CREATE INDEX outbox_ticket ON outbox (ticket_id, target, id);
    CREATE INDEX outbox_chat ON outbox (chat_id, id);
    CREATE TABLE inbox (
        update_id   INTEGER PRIMARY KEY,
        user_id     INTEGER,
        payload     TEXT,
        received_at TEXT NOT NULL
    );
    CREATE INDEX inbox_user ON inbox (user_id);
    """,
    # 4 -> 5: /forget reaches the questions a person could not get answered. They keep no user
    # id; ``who`` is a pseudonym (HMAC-SHA256 of the user id with a random key made here and
    # kept only in this database), so only this database can tell two rows of one person apart.
    """
    CREATE TABLE secrets (
        purpose TEXT PRIMARY KEY,
        value   TEXT NOT NULL
    );
    INSERT INTO secrets (purpose, value) VALUES ('pseudonym_key', lower(hex(randomblob(32))));
    ALTER TABLE unanswered ADD COLUMN who TEXT;
    CREATE INDEX unanswered_who ON unanswered (who);
    """,
    # 5 -> 6: learning from real questions (bot/core/learning.py). A candidate phrasing is a
    # masked question with the topic a person or a volunteer chose; it names nobody: ``who`` is
    # the asker's pseudonym (as in ``unanswered``), kept only so /forget can delete their
    # candidates. The questions of a volunteer ticket (masked, as in its header) wait in
    # ``ticket_questions`` for the volunteers' label and go with their ticket.
    """
    CREATE TABLE candidates (
        id     INTEGER PRIMARY KEY,
        day    TEXT NOT NULL,
        lang   TEXT NOT NULL,
        topic  TEXT NOT NULL,
        text   TEXT NOT NULL,
        source TEXT NOT NULL,
        who    TEXT NOT NULL
    );
    CREATE UNIQUE INDEX candidates_one ON candidates (who, lang, text);
    CREATE INDEX candidates_day ON candidates (day);
    CREATE TABLE ticket_questions (
        id        INTEGER PRIMARY KEY,
        ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
        text      TEXT NOT NULL
    );
    CREATE INDEX ticket_questions_ticket ON ticket_questions (ticket_id);
    """,
)


class StorageError(RuntimeError):
    pass


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class UserPrefs:
    """What the bot remembers about one user."""

    lang: str | None
    #: the user picked ``lang`` with /language (otherwise it was guessed)
    chosen: bool
    active: bool = True


class Storage:
    """The bot's SQLite database. ``await open()`` before use, ``await close()`` after."""

    def __init__(self, path: str | Path, *, today: Callable[[], dt.date] = utc_today) -> None:
        self.path = Path(path)
        self._today = today
        self._db: aiosqlite.Connection | None = None
        self._transactions = asyncio.Lock()  # one BEGIN ... COMMIT at a time on the connection
        self._pseudonym_key = b""

    # -- lifecycle ------------------------------------------------------------------------

    async def open(self) -> None:
        if self._db is not None:
            return
        try:
            if str(self.path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            db = await aiosqlite.connect(self.path, isolation_level=None)  # autocommit; explicit BEGIN
        except (OSError, aiosqlite.Error) as exc:
            raise StorageError(f"cannot open {self.path}: {exc}") from exc
        try:
            await db.execute_fetchall("PRAGMA journal_mode = WAL")
            await db.execute_fetchall("PRAGMA synchronous = NORMAL")
            await db.execute_fetchall("PRAGMA busy_timeout = 5000")
            await db.execute_fetchall("PRAGMA foreign_keys = ON")
            # deleted rows are overwritten with zeros, not left in free space (/forget, retention)
            await db.execute_fetchall("PRAGMA secure_delete = ON")
            await self._migrate(db)
        except aiosqlite.Error as exc:
            await db.close()
            raise StorageError(f"cannot use {self.path}: {exc}") from exc
        except BaseException:
            await db.close()
            raise
        self._db = db
        [(key,)] = await db.execute_fetchall("SELECT value FROM secrets WHERE purpose = 'pseudonym_key'")
        self._pseudonym_key = bytes.fromhex(key)

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            await db.close()

    async def __aenter__(self) -> Storage:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @staticmethod
    async def _migrate(db: aiosqlite.Connection) -> None:
        [(version,)] = await db.execute_fetchall("PRAGMA user_version")
        if version > len(MIGRATIONS):
            raise StorageError(
                f"the database is at schema version {version}, newer than this bot ({len(MIGRATIONS)}); "
                "run a newer version of the bot or restore a backup"
            )
        for target in range(version + 1, len(MIGRATIONS) + 1):
            # executescript commits first; BEGIN ... COMMIT makes each migration all-or-nothing
            script = f"BEGIN;\n{MIGRATIONS[target - 1]}\nPRAGMA user_version = {target};\nCOMMIT;"
            try:
                await db.executescript(script)
            except BaseException:
                if db.in_transaction:
                    await db.rollback()
                raise

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageError("the database is not open")
        return self._db

    async def schema_version(self) -> int:
        [(version,)] = await self.db.execute_fetchall("PRAGMA user_version")
        return int(version)

    def today(self) -> str:
        return self._today().isoformat()

    # -- users ----------------------------------------------------------------------------

    async def seen(self, user_id: int) -> UserPrefs:
        """Record that ``user_id`` wrote today (and is reachable); return what we know of them."""
        rows = await self.db.execute_fetchall(
            "INSERT INTO users (user_id, active, last_seen) VALUES (?, 1, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET active = 1, last_seen = excluded.last_seen "
            "RETURNING lang, lang_chosen",
            (user_id, self.today()),
        )
        [(lang, chosen)] = rows
        return UserPrefs(lang, bool(chosen))

    async def user(self, user_id: int) -> UserPrefs | None:
        rows = await self.db.execute_fetchall(
            "SELECT lang, lang_chosen, active FROM users WHERE user_id = ?", (user_id,)
        )
        if not rows:
            return None
        [(lang, chosen, active)] = rows
        return UserPrefs(lang, bool(chosen), bool(active))

    async def set_language(self, user_id: int, lang: str, *, chosen: bool) -> None:
        await self.db.execute_fetchall(
            "INSERT INTO users (user_id, lang, lang_chosen, active, last_seen) VALUES (?, ?, ?, 1, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET lang = excluded.lang, lang_chosen = excluded.lang_chosen",
            (user_id, lang, int(chosen), self.today()),
        )

    async def set_inactive(self, user_id: int) -> None:
        """The user blocked the bot (403): stop counting them as reachable."""
        await self.db.execute_fetchall("UPDATE users SET active = 0 WHERE user_id = ?", (user_id,))

    async def count_users(self, *, active_only: bool = False) -> int:
        sql = "SELECT count(*) FROM users" + (" WHERE active = 1" if active_only else "")
        [(count,)] = await self.db.execute_fetchall(sql)
        return int(count)

    # -- statistics (no user ids) -----------------------------------------------------------

    async def count(self, lang: str, key: str) -> None:
        """Add one to today's counter ``key`` (an entry id, or "suggest" / "escalate")."""
        await self.db.execute_fetchall(
            "INSERT INTO daily_stats (day, lang, entry_id_or_action, count) VALUES (?, ?, ?, 1) "
            "ON CONFLICT (day, lang, entry_id_or_action) DO UPDATE SET count = count + 1",
            (self.today(), lang, key),
        )

    async def daily_counts(self, day: str | None = None) -> dict[tuple[str, str], int]:
        """``{(lang, entry_id_or_action): count}`` for ``day`` (default today)."""
        rows = await self.db.execute_fetchall(
            "SELECT lang, entry_id_or_action, count FROM daily_stats WHERE day = ?", (day or self.today(),)
        )
        return {(lang, key): int(count) for lang, key, count in rows}

    async def add_feedback(self, entry_id: str, lang: str, helpful: bool) -> None:
        await self.db.execute_fetchall(
            "INSERT INTO feedback (entry_id, lang, day, helpful) VALUES (?, ?, ?, ?)",
            (entry_id, lang, self.today(), int(helpful)),
        )

    async def feedback(self) -> list[tuple[str, str, str, bool]]:
        """Every feedback row as ``(entry_id, lang, day, helpful)``, oldest first."""
        rows = await self.db.execute_fetchall("SELECT entry_id, lang, day, helpful FROM feedback ORDER BY id")
        return [(entry_id, lang, day, bool(helpful)) for entry_id, lang, day, helpful in rows]

    def pseudonym(self, user_id: int | None) -> str | None:
        """The person's pseudonym in anonymous tables (so /forget finds their rows): HMAC-SHA256
        of the user id with this database's own random key."""
        if user_id is None:
            return None
        return hmac.new(self._pseudonym_key, str(int(user_id)).encode(), hashlib.sha256).hexdigest()[:32]

    async def add_unanswered(
        self, lang: str, text: str, closest_entry: str | None, reason: str, user_id: int | None = None
    ) -> None:
        """Keep a question the bot could not answer well (``reason``: "escalate" no reliable
        answer, "suggest" only suggested, "not_helpful" rated so, "person" handed to a volunteer)
        under the asker's pseudonym."""
        await self.db.execute_fetchall(
            "INSERT INTO unanswered (day, lang, text, closest_entry, reason, who) VALUES (?, ?, ?, ?, ?, ?)",
            (self.today(), lang, redact(text).text[:MAX_TEXT], closest_entry, reason, self.pseudonym(user_id)),
        )

    async def add_escalated(
        self, lang: str, texts: Sequence[str], closest_entry: str | None, user_id: int | None = None
    ) -> None:
        """The questions a person asked before their chat went to a volunteer: each becomes
        reason "person", today's row of the same question when there is one ("escalate" or
        "suggest", which the volunteer now answers), else a new row."""
        async with self._transaction() as db:
            for text in texts:
                kept = redact(text).text[:MAX_TEXT]  # (already masked by the relay: masking again changes nothing)
                updated = await db.execute_fetchall(
                    "UPDATE unanswered SET reason = 'person', closest_entry = coalesce(closest_entry, ?) "
                    "WHERE id = (SELECT max(id) FROM unanswered WHERE day = ? AND lang = ? AND text = ? "
                    "AND reason IN ('escalate', 'suggest')) RETURNING id",
                    (closest_entry, self.today(), lang, kept),
                )
                if not list(updated):
                    await db.execute_fetchall(
                        "INSERT INTO unanswered (day, lang, text, closest_entry, reason, who) VALUES (?, ?, ?, ?, 'person', ?)",
                        (self.today(), lang, kept, closest_entry, self.pseudonym(user_id)),
                    )

    async def unanswered(self) -> list[tuple[str, str, str, str | None, str]]:
        """Every row as ``(day, lang, text, closest_entry, reason)``, oldest first."""
        rows = await self.db.execute_fetchall(
            "SELECT day, lang, text, closest_entry, reason FROM unanswered ORDER BY id"
        )
        return [tuple(row) for row in rows]

    async def erase_wal(self) -> bool:
        """Copy the write-ahead log into the database and empty the ``-wal`` file, so deleted
        rows survive in neither (with ``secure_delete`` the database's own copies are zeroed).
        Runs between transactions. False when a reader (a backup, another process) kept it from
        completing: the log is emptied at a later checkpoint."""
        async with self._transactions:
            rows = await self.db.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
        busy = next(iter(rows), (1,))[0]
        return not busy

    async def size_bytes(self) -> int:
        """Bytes used by the database's pages (for benchmarks and /stats)."""
        [(pages,)] = await self.db.execute_fetchall("PRAGMA page_count")
        [(size,)] = await self.db.execute_fetchall("PRAGMA page_size")
        return int(pages) * int(size)

    # -- maintainers' report and backups ---------------------------------------------------

    async def report_rows(
        self, since: str
    ) -> tuple[list[tuple[str, str, str | None, str]], list[tuple[str, str, int]], list[tuple[str, bool]]]:
        """Rows from ``since`` (ISO day) on: unanswered ``(lang, text, closest_entry, reason)``,
        daily counts ``(lang, entry id or action, count)`` and feedback ``(entry id, helpful)``."""
        unanswered = await self.db.execute_fetchall(
            "SELECT lang, text, closest_entry, reason FROM unanswered WHERE day >= ? ORDER BY id", (since,)
        )
        counts = await self.db.execute_fetchall(
            "SELECT lang, entry_id_or_action, sum(count) FROM daily_stats WHERE day >= ? GROUP BY lang, entry_id_or_action",
            (since,),
        )
        feedback = await self.db.execute_fetchall(
            "SELECT entry_id, helpful FROM feedback WHERE day >= ? ORDER BY id", (since,)
        )
        return (
            [(lang, text, closest, reason) for lang, text, closest, reason in unanswered],
            [(lang, key, int(count)) for lang, key, count in counts],
            [(entry_id, bool(helpful)) for entry_id, helpful in feedback],
        )

    async def top_entries(self, since: str, limit: int) -> list[str]:
        """The entries answered most often from ``since`` (ISO day) on, most first."""
        rows = await self.db.execute_fetchall(
            "SELECT entry_id_or_action FROM daily_stats WHERE day >= ? "
            "AND entry_id_or_action NOT IN ('answer', 'suggest', 'escalate') "
            "GROUP BY entry_id_or_action ORDER BY sum(count) DESC, entry_id_or_action LIMIT ?",
            (since, limit),
        )
        return [str(entry_id) for (entry_id,) in rows]

    async def stats_since(self, since: str) -> tuple[list[tuple[str, str, int]], list[tuple[str, bool, int]]]:
        """For /stats, from ``since`` (ISO day) on: daily counts summed as ``(lang, entry id or
        action, count)`` and feedback as ``(lang, helpful, count)``."""
        counts = await self.db.execute_fetchall(
            "SELECT lang, entry_id_or_action, sum(count) FROM daily_stats WHERE day >= ? GROUP BY lang, entry_id_or_action",
            (since,),
        )
        feedback = await self.db.execute_fetchall(
            "SELECT lang, helpful, count(*) FROM feedback WHERE day >= ? GROUP BY lang, helpful", (since,)
        )
        return (
            [(lang, key, int(count)) for lang, key, count in counts],
            [(lang, bool(helpful), int(count)) for lang, helpful, count in feedback],
        )

    async def ping(self) -> bool:
        """True when the database answers ``SELECT 1`` within ``PING_TIMEOUT`` seconds (/healthz)."""
        try:
            async with asyncio.timeout(PING_TIMEOUT):
                rows = await self.db.execute_fetchall("SELECT 1")
        except (StorageError, aiosqlite.Error, ValueError, TimeoutError):
            return False
        return list(rows) == [(1,)]

    async def backup(self, target: str | Path) -> None:
        """A consistent copy of the live database (SQLite's online backup API) at ``target``."""
        target = Path(target)
        if target.exists():
            raise StorageError(f"{target} already exists; choose a new file name")
        target.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(target) as copy:
            await self.db.backup(copy)

    # -- volunteer escalation: tickets, relayed messages, outbox -----------------------------

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN ... COMMIT (ROLLBACK on error), one transaction at a time."""
        async with self._transactions:
            db = self.db
            await db.execute_fetchall("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                await db.rollback()
                raise
            await db.commit()

    _TICKET_COLUMNS = (
        "id, user_id, lang, urgent, status, created_at, first_reply_at, closed_at, topic_id, "
        "header_message_id, share_identifiers, identifiers_offered, helpful"
    )
    #: Columns ``update_ticket`` may change.
    _TICKET_FIELDS = frozenset(
        {"lang", "urgent", "share_identifiers", "identifiers_offered", "helpful", "topic_id", "header_message_id"}
    )

    @staticmethod
    def _ticket(row: Sequence[Any]) -> Ticket:
        (ticket_id, user_id, lang, urgent, status, created, replied, closed, topic, header, share, offered, helpful) = (
            row
        )
        return Ticket(
            id=int(ticket_id),
            user_id=int(user_id),
            lang=lang,
            urgent=bool(urgent),
            status=status,
            created_at=_time(created),
            first_reply_at=_time(replied) if replied else None,
            closed_at=_time(closed) if closed else None,
            topic_id=topic,
            header_message_id=header,
            share_identifiers=bool(share),
            identifiers_offered=bool(offered),
            helpful=None if helpful is None else bool(helpful),
        )

    async def _one_ticket(self, where: str, params: tuple[Any, ...]) -> Ticket | None:
        rows = await self.db.execute_fetchall(
            f"SELECT {self._TICKET_COLUMNS} FROM tickets WHERE {where} ORDER BY id DESC LIMIT 1", params
        )
        row = next(iter(rows), None)
        return self._ticket(row) if row is not None else None

    async def create_ticket(
        self, user_id: int, lang: str, urgent: bool, now: dt.datetime, group_payloads: Sequence[dict[str, Any]]
    ) -> Ticket | None:
        """Open a ticket and queue its first deliveries to the group, in one transaction.
        None when the user already has an open ticket."""
        async with self._transaction() as db:
            try:
                rows = list(
                    await db.execute_fetchall(
                        "INSERT INTO tickets (user_id, lang, urgent, status, created_at) VALUES (?, ?, ?, 'open', ?) "
                        f"RETURNING {self._TICKET_COLUMNS}",
                        (user_id, lang, int(urgent), _stamp(now)),
                    )
                )
            except aiosqlite.IntegrityError:
                return None
            ticket = self._ticket(rows[0])
            for payload in group_payloads:
                await db.execute_fetchall(
                    "INSERT INTO outbox (ticket_id, target, payload, next_attempt_at) VALUES (?, 'group', ?, ?)",
                    (ticket.id, json.dumps(payload, ensure_ascii=False), _stamp(now)),
                )
        return ticket

    async def ticket(self, ticket_id: int) -> Ticket | None:
        return await self._one_ticket("id = ?", (ticket_id,))

    async def open_ticket_of(self, user_id: int) -> Ticket | None:
        return await self._one_ticket("user_id = ? AND status = 'open'", (user_id,))

    async def last_ticket_of(self, user_id: int) -> Ticket | None:
        return await self._one_ticket("user_id = ?", (user_id,))

    async def ticket_by_topic(self, topic_id: int) -> Ticket | None:
        return await self._one_ticket("topic_id = ?", (topic_id,))

    async def ticket_by_group_message(self, message_id: int) -> Ticket | None:
        """The ticket whose header, or one of whose relayed messages, is ``message_id`` in the group."""
        found = await self._one_ticket("header_message_id = ?", (message_id,))
        if found is not None:
            return found
        rows = await self.db.execute_fetchall(
            "SELECT ticket_id FROM relayed WHERE group_message_id = ? ORDER BY id DESC LIMIT 1", (message_id,)
        )
        row = next(iter(rows), None)
        return await self.ticket(int(row[0])) if row is not None else None

    async def open_tickets(self) -> list[Ticket]:
        rows = await self.db.execute_fetchall(
            f"SELECT {self._TICKET_COLUMNS} FROM tickets WHERE status = 'open' ORDER BY id"
        )
        return [self._ticket(row) for row in rows]

    async def update_ticket(self, ticket_id: int, **values: Any) -> None:
        """Change some of: lang, urgent, share_identifiers, identifiers_offered, helpful,
        topic_id, header_message_id."""
        unknown = set(values) - self._TICKET_FIELDS
        if unknown or not values:
            raise ValueError(f"cannot update ticket columns {sorted(unknown) or '(none)'}")
        columns = ", ".join(f"{name} = ?" for name in values)
        params = [int(v) if isinstance(v, bool) else v for v in values.values()]
        await self.db.execute_fetchall(f"UPDATE tickets SET {columns} WHERE id = ?", (*params, ticket_id))

    async def offer_identifiers_once(self, ticket_id: int) -> bool:
        """Note that the "share my numbers" choice was offered; True only the first time."""
        rows = await self.db.execute_fetchall(
            "UPDATE tickets SET identifiers_offered = 1 WHERE id = ? AND identifiers_offered = 0 RETURNING id",
            (ticket_id,),
        )
        return bool(rows)

    async def close_ticket(
        self, ticket_id: int, now: dt.datetime, deliveries: Sequence[tuple[str, dict[str, Any]]] = ()
    ) -> bool:
        """Close an open ticket and queue ``deliveries`` (``(target, payload)``) in the same
        transaction. False (and nothing queued) when it was already closed."""
        async with self._transaction() as db:
            rows = await db.execute_fetchall(
                "UPDATE tickets SET status = 'closed', closed_at = ? WHERE id = ? AND status = 'open' RETURNING id",
                (_stamp(now), ticket_id),
            )
            if not rows:
                return False
            for target, payload in deliveries:
                await db.execute_fetchall(
                    "INSERT INTO outbox (ticket_id, target, payload, next_attempt_at) VALUES (?, ?, ?, ?)",
                    (ticket_id, target, json.dumps(payload, ensure_ascii=False), _stamp(now)),
                )
        return True

    async def ticket_rows(
        self, since: dt.datetime
    ) -> list[tuple[dt.datetime, dt.datetime | None, dt.datetime | None, bool | None]]:
        """``(created_at, first_reply_at, closed_at, helpful)`` of tickets opened or closed since ``since``."""
        stamp = _stamp(since)
        rows = await self.db.execute_fetchall(
            "SELECT created_at, first_reply_at, closed_at, helpful FROM tickets WHERE created_at >= ? OR closed_at >= ? ORDER BY id",
            (stamp, stamp),
        )
        return [
            (_time(c), _time(r) if r else None, _time(x) if x else None, None if h is None else bool(h))
            for c, r, x, h in rows
        ]

    # relayed messages and the outbox

    async def enqueue(
        self,
        ticket_id: int | None,
        target: str,
        payload: dict[str, Any],
        now: dt.datetime,
        *,
        chat_id: int | None = None,
    ) -> int:
        """Write a delivery to the outbox (before it is attempted); return its id. A ticket's
        delivery has ``ticket_id`` and target user/group; a plain message has target "chat"
        and ``chat_id``."""
        [(item_id,)] = await self.db.execute_fetchall(
            "INSERT INTO outbox (ticket_id, chat_id, target, payload, next_attempt_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
            (ticket_id, chat_id, target, json.dumps(payload, ensure_ascii=False), _stamp(now)),
        )
        return int(item_id)

    async def enqueue_many(
        self,
        deliveries: Sequence[tuple[int | None, str, dict[str, Any], int | None]],
        now: dt.datetime,
        *,
        done_update: int | None = None,
    ) -> None:
        """Write ``(ticket_id, target, payload, chat_id)`` deliveries and remove update
        ``done_update`` from the inbox, in one transaction."""
        async with self._transaction() as db:
            for ticket_id, target, payload, chat_id in deliveries:
                await db.execute_fetchall(
                    "INSERT INTO outbox (ticket_id, chat_id, target, payload, next_attempt_at) VALUES (?, ?, ?, ?, ?)",
                    (ticket_id, chat_id, target, json.dumps(payload, ensure_ascii=False), _stamp(now)),
                )
            if done_update is not None:
                await db.execute_fetchall(self._INBOX_DONE, (done_update,))

    _OUTBOX_COLUMNS = "id, ticket_id, chat_id, target, payload, attempts, next_attempt_at"

    @staticmethod
    def _item(row: Sequence[Any]) -> OutboxItem:
        item_id, ticket_id, chat_id, target, payload, attempts, at = row
        return OutboxItem(
            int(item_id),
            None if ticket_id is None else int(ticket_id),
            target,
            json.loads(payload),
            int(attempts),
            _time(at),
            None if chat_id is None else int(chat_id),
        )

    async def outbox(self, lane: Lane) -> list[OutboxItem]:
        """The deliveries of ``lane`` still to do, oldest first: ``("user" | "group", ticket_id)``
        or ``("chat", chat_id)``."""
        target, key = lane
        column = "chat_id" if target == "chat" else "ticket_id"
        rows = await self.db.execute_fetchall(
            f"SELECT {self._OUTBOX_COLUMNS} FROM outbox WHERE {column} = ? AND target = ? ORDER BY id",
            (key, target),
        )
        return [self._item(row) for row in rows]

    async def outbox_due(self) -> list[tuple[Lane, dt.datetime]]:
        """``(lane, next attempt)`` for every lane with deliveries left, soonest first."""
        rows = await self.db.execute_fetchall(
            "SELECT target, coalesce(ticket_id, chat_id), min(next_attempt_at) FROM outbox "
            "GROUP BY target, coalesce(ticket_id, chat_id) ORDER BY 3"
        )
        return [((g, int(k)), _time(n)) for g, k, n in rows]

    async def outbox_size(self) -> int:
        [(count,)] = await self.db.execute_fetchall("SELECT count(*) FROM outbox")
        return int(count)

    async def progress(self, item_id: int, payload: dict[str, Any]) -> None:
        """Store how far a delivery in several parts got (so a retry does not repeat them)."""
        await self.db.execute_fetchall(
            "UPDATE outbox SET payload = ? WHERE id = ?", (json.dumps(payload, ensure_ascii=False), item_id)
        )

    # the inbox: updates fetched but not yet handled

    async def inbox_add(self, update_id: int, user_id: int | None, payload: str, now: dt.datetime) -> bool:
        """Keep an incoming update until it is handled (``user_id``: its sender, so /forget
        reaches it); False when it is already kept."""
        rows = await self.db.execute_fetchall(
            "INSERT INTO inbox (update_id, user_id, payload, received_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (update_id) DO NOTHING RETURNING update_id",
            (update_id, user_id, payload, _stamp(now)),
        )
        return bool(list(rows))

    _INBOX_DONE = "UPDATE inbox SET payload = NULL, user_id = NULL WHERE update_id = ?"

    async def inbox_done(self, update_id: int) -> None:
        """The update is handled: its content goes, its id stays (for a day) so that fetching
        it again does not handle it twice."""
        await self.db.execute_fetchall(self._INBOX_DONE, (update_id,))

    async def inbox(self) -> list[tuple[int, str]]:
        """``(update_id, payload)`` of the updates fetched but not handled, in order."""
        rows = await self.db.execute_fetchall(
            "SELECT update_id, payload FROM inbox WHERE payload IS NOT NULL ORDER BY update_id"
        )
        return [(int(u), p) for u, p in rows]

    async def inbox_purge(self, before: dt.datetime) -> int:
        """Forget the ids of updates handled before ``before`` (Telegram re-sends an update for
        at most a day)."""
        rows = await self.db.execute_fetchall(
            "DELETE FROM inbox WHERE payload IS NULL AND received_at < ? RETURNING update_id", (_stamp(before),)
        )
        return len(list(rows))

    async def delivered(
        self,
        item_id: int,
        now: dt.datetime,
        relay: tuple[int, str, int | None, int | None] | None = None,
        *,
        first_reply: bool = False,
    ) -> None:
        """A delivery succeeded: remove it from the outbox and, for a relayed message, record
        ``relay = (ticket_id, direction, user_message_id, group_message_id)``; with
        ``first_reply``, stamp the ticket's first volunteer reply if it has none yet."""
        if relay is None:  # one statement: no transaction needed
            await self.db.execute_fetchall("DELETE FROM outbox WHERE id = ?", (item_id,))
            return
        async with self._transaction() as db:
            await db.execute_fetchall("DELETE FROM outbox WHERE id = ?", (item_id,))
            if relay is not None:
                await db.execute_fetchall(
                    "INSERT INTO relayed (ticket_id, direction, user_message_id, group_message_id, created_at) VALUES (?, ?, ?, ?, ?)",
                    (*relay, _stamp(now)),
                )
                if first_reply:
                    await db.execute_fetchall(
                        "UPDATE tickets SET first_reply_at = ? WHERE id = ? AND first_reply_at IS NULL",
                        (_stamp(now), relay[0]),
                    )

    async def postpone(self, item_id: int, attempts: int, next_attempt_at: dt.datetime) -> None:
        await self.db.execute_fetchall(
            "UPDATE outbox SET attempts = ?, next_attempt_at = ? WHERE id = ?",
            (attempts, _stamp(next_attempt_at), item_id),
        )

    async def drop_outbox(self, item_id: int) -> None:
        await self.db.execute_fetchall("DELETE FROM outbox WHERE id = ?", (item_id,))

    async def drop_outbox_of(self, lane: Lane) -> int:
        target, key = lane
        column = "chat_id" if target == "chat" else "ticket_id"
        rows = await self.db.execute_fetchall(
            f"DELETE FROM outbox WHERE {column} = ? AND target = ? RETURNING id", (key, target)
        )
        return len(list(rows))

    async def relayed(self, ticket_id: int) -> list[tuple[str, int | None, int | None]]:
        """``(direction, user_message_id, group_message_id)`` of a ticket's relayed messages, in order."""
        rows = await self.db.execute_fetchall(
            "SELECT direction, user_message_id, group_message_id FROM relayed WHERE ticket_id = ? ORDER BY id",
            (ticket_id,),
        )
        return [(d, u, g) for d, u, g in rows]

    # -- follows ("tell me if this changes") -------------------------------------------------

    async def follow(self, user_id: int, entry_id: str, lang: str, reviewed: str) -> None:
        await self.db.execute_fetchall(
            "INSERT INTO follows (user_id, entry_id, lang, reviewed) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (user_id, entry_id) DO UPDATE SET lang = excluded.lang, reviewed = excluded.reviewed",
            (user_id, entry_id, lang, reviewed),
        )

    async def unfollow_all(self, user_id: int) -> int:
        rows = await self.db.execute_fetchall("DELETE FROM follows WHERE user_id = ? RETURNING entry_id", (user_id,))
        return len(list(rows))

    async def follows_due(self, reviewed: dict[str, str]) -> list[tuple[int, str, str]]:
        """``(user_id, entry_id, lang)`` of follows whose entry has a newer reviewed date now."""
        rows = await self.db.execute_fetchall(
            "SELECT user_id, entry_id, lang, reviewed FROM follows ORDER BY entry_id, user_id"
        )
        return [
            (user_id, entry_id, lang)
            for user_id, entry_id, lang, seen in rows
            if entry_id in reviewed and reviewed[entry_id] > seen
        ]

    async def mark_followed(self, user_id: int, entry_id: str, reviewed: str) -> None:
        await self.db.execute_fetchall(
            "UPDATE follows SET reviewed = ? WHERE user_id = ? AND entry_id = ?", (reviewed, user_id, entry_id)
        )

    # -- learning: candidate phrasings (no user id: a keyed pseudonym) ----------------------

    async def add_candidate(self, user_id: int, lang: str, topic: str, text: str, source: str) -> bool:
        """Keep ``text`` (masked here) as a candidate phrasing of ``topic``. The same person's
        same question keeps one row: the latest choice wins. False when nothing is left of it."""
        masked = " ".join(redact(text).text.split())[:MAX_TEXT]
        if not masked:
            return False
        await self.db.execute_fetchall(
            "INSERT INTO candidates (day, lang, topic, text, source, who) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (who, lang, text) DO UPDATE SET day = excluded.day, topic = excluded.topic, "
            "source = excluded.source",
            (self.today(), lang, topic, masked, source, self.pseudonym(user_id)),
        )
        return True

    async def drop_candidate(self, user_id: int, topic: str, text: str) -> int:
        """The person said the answer of ``topic`` did not help: their candidate for that
        question and topic goes."""
        masked = " ".join(redact(text).text.split())[:MAX_TEXT]
        rows = await self.db.execute_fetchall(
            "DELETE FROM candidates WHERE who = ? AND topic = ? AND text = ? RETURNING id",
            (self.pseudonym(user_id), topic, masked),
        )
        return len(list(rows))

    async def candidates(self) -> list[CandidatePhrasing]:
        """Every candidate phrasing, oldest first (without their pseudonyms)."""
        rows = await self.db.execute_fetchall("SELECT id, day, lang, topic, text, source FROM candidates ORDER BY id")
        return [CandidatePhrasing(int(i), day, lang, topic, text, source) for i, day, lang, topic, text, source in rows]

    async def delete_candidates(self, ids: Sequence[int]) -> int:
        """Delete candidates by id (accepted into the knowledge base, or rejected)."""
        deleted = 0
        for start in range(0, len(ids), 500):
            chunk = [int(i) for i in ids[start : start + 500]]
            marks = ", ".join("?" * len(chunk))
            rows = await self.db.execute_fetchall(f"DELETE FROM candidates WHERE id IN ({marks}) RETURNING id", chunk)
            deleted += len(list(rows))
        return deleted

    async def candidate_counts(self) -> list[tuple[str, str, int]]:
        """``(topic, lang, count)`` of the candidates waiting for review."""
        rows = await self.db.execute_fetchall(
            "SELECT topic, lang, count(*) FROM candidates GROUP BY topic, lang ORDER BY topic, lang"
        )
        return [(topic, lang, int(count)) for topic, lang, count in rows]

    async def keep_ticket_questions(self, ticket_id: int, questions: Sequence[str]) -> None:
        """The (masked) questions that led to a ticket, for the volunteers' label at /close."""
        for question in questions:
            masked = " ".join(redact(question).text.split())[:MAX_TEXT]
            if masked:
                await self.db.execute_fetchall(
                    "INSERT INTO ticket_questions (ticket_id, text) VALUES (?, ?)", (ticket_id, masked)
                )

    async def ticket_questions(self, ticket_id: int) -> list[str]:
        rows = await self.db.execute_fetchall(
            "SELECT text FROM ticket_questions WHERE ticket_id = ? ORDER BY id", (ticket_id,)
        )
        return [text for (text,) in rows]

    async def take_ticket_questions(self, ticket_id: int) -> list[str]:
        """The ticket's questions, deleted as they are read (a ticket is labelled once)."""
        rows = await self.db.execute_fetchall(
            "DELETE FROM ticket_questions WHERE ticket_id = ? RETURNING id, text", (ticket_id,)
        )
        return [text for _id, text in sorted(rows)]


def _stamp(moment: dt.datetime) -> str:
    """A UTC timestamp as stored: ISO 8601 with seconds, sortable as text."""
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)
