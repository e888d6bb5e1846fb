"""bot.store.storage: schema versioning, what is kept about users (and what is not), counters."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.store import storage as storage_module
from bot.store.storage import MAX_TEXT, MIGRATIONS, Storage, StorageError, UserPrefs
from bot.telegram.logs import hash_user

DAY = dt.date(2026, 11, 23)


@pytest.fixture
async def store(tmp_path: Path):
    async with Storage(tmp_path / "bot.sqlite3", today=lambda: DAY) as opened:
        yield opened


def columns(path: Path) -> dict[str, list[str]]:
    with sqlite3.connect(path) as db:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        found = {table: [row[1] for row in db.execute(f"PRAGMA table_info({table})")] for table in tables}
    db.close()
    return found


async def test_fresh_database_gets_every_migration_and_wal(store: Storage) -> None:
    assert await store.schema_version() == len(MIGRATIONS) >= 1
    [(mode,)] = await store.db.execute_fetchall("PRAGMA journal_mode")
    [(timeout,)] = await store.db.execute_fetchall("PRAGMA busy_timeout")
    assert (mode, timeout) == ("wal", 5000)


async def test_tables_keep_no_names_and_no_user_ids_outside_users(store: Storage) -> None:
    found = columns(store.path)
    assert {table: found[table] for table in ("daily_stats", "feedback", "unanswered", "users")} == {
        "daily_stats": ["day", "lang", "entry_id_or_action", "count"],
        "feedback": ["id", "entry_id", "lang", "day", "helpful"],
        "unanswered": ["id", "day", "lang", "text", "closest_entry", "reason", "who"],
        "users": ["user_id", "lang", "lang_chosen", "active", "last_seen"],
    }
    every_column = {column for table in found.values() for column in table}
    assert not every_column & {"name", "first_name", "last_name", "username", "phone", "phone_number"}


async def test_reopening_does_not_rerun_migrations(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Storage(path) as first:
        await first.set_language(1, "ht", chosen=True)
    async with Storage(path) as second:
        assert await second.schema_version() == len(MIGRATIONS)
        assert await second.user(1) == UserPrefs("ht", True, True)


async def test_a_new_migration_runs_once_and_a_failing_one_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Storage(path):
        pass
    monkeypatch.setattr(storage_module, "MIGRATIONS", (*MIGRATIONS, "CREATE TABLE half (x); CREATE TABLE broken (;"))
    with pytest.raises(StorageError, match="cannot use"):
        await Storage(path).open()
    assert "half" not in columns(path)
    monkeypatch.setattr(
        storage_module, "MIGRATIONS", (*MIGRATIONS, "CREATE TABLE test_extra (id INTEGER PRIMARY KEY);")
    )
    async with Storage(path) as migrated:
        assert await migrated.schema_version() == len(MIGRATIONS) + 1
    assert columns(path)["test_extra"] == ["id"]


async def test_a_database_from_a_newer_bot_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(StorageError, match="newer than this bot"):
        await Storage(path).open()


async def test_unusable_path_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError, match="cannot open"):
        await Storage(tmp_path / "file" / "bot.sqlite3").open()


async def test_closed_storage_refuses_queries(tmp_path: Path) -> None:
    store = Storage(tmp_path / "bot.sqlite3")
    with pytest.raises(StorageError, match="not open"):
        await store.seen(1)
    await store.open()
    await store.close()
    await store.close()  # twice is fine
    with pytest.raises(StorageError):
        await store.count_users()


async def test_users_language_and_activity(store: Storage) -> None:
    assert await store.user(7) is None
    assert await store.seen(7) == UserPrefs(None, False)
    await store.set_language(7, "es", chosen=False)
    assert await store.seen(7) == UserPrefs("es", False)
    await store.set_language(7, "ht", chosen=True)
    await store.set_inactive(7)
    assert await store.user(7) == UserPrefs("ht", True, False)
    assert await store.count_users(active_only=True) == 0
    assert await store.seen(7) == UserPrefs("ht", True)  # writing again: active again
    assert await store.user(7) == UserPrefs("ht", True, True)
    await store.set_language(8, "en", chosen=True)  # a user first seen through a button
    assert (await store.count_users(), await store.count_users(active_only=True)) == (2, 2)
    rows = await store.db.execute_fetchall("SELECT user_id, last_seen FROM users ORDER BY user_id")
    assert [tuple(r) for r in rows] == [(7, "2026-11-23"), (8, "2026-11-23")]


async def test_daily_counts_feedback_and_unanswered(store: Storage) -> None:
    for key in ("chnv-ended", "chnv-ended", "suggest"):
        await store.count("es", key)
    await store.count("ht", "escalate")
    assert await store.daily_counts() == {("es", "chnv-ended"): 2, ("es", "suggest"): 1, ("ht", "escalate"): 1}
    assert await store.daily_counts("2026-11-22") == {}

    await store.add_feedback("chnv-ended", "es", True)
    await store.add_feedback("work-permit", "en", False)
    assert await store.feedback() == [
        ("chnv-ended", "es", "2026-11-23", True),
        ("work-permit", "en", "2026-11-23", False),
    ]

    await store.add_unanswered("es", "x" * (MAX_TEXT + 50), None, "escalate")
    await store.add_unanswered("en", "is it over", "chnv-ended", "not_helpful")
    rows = await store.unanswered()
    assert [(r[1], len(r[2]), r[3], r[4]) for r in rows] == [
        ("es", MAX_TEXT, None, "escalate"),
        ("en", 10, "chnv-ended", "not_helpful"),
    ]
    assert await store.size_bytes() > 0


def test_hash_user_is_salted_stable_and_hides_the_id() -> None:
    first = hash_user(123456789, "salt")
    assert first == hash_user(123456789, "salt")
    assert first != hash_user(123456789, "other salt") != hash_user(123456780, "salt")
    assert "123456789" not in first and len(first) == 13
    assert hash_user(None, "salt") == "-"
