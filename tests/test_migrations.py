"""The database across versions: an older file migrates at start-up and keeps its rows, a file
from a newer bot is refused with a clear message, and a backup restores as README says."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

from fakebotapi import FakeBotAPI
from test_bot_e2e import _bot_process, _env

from bot.store.storage import MIGRATIONS, Storage, UserPrefs


def make_v1(path: Path) -> None:
    """A database exactly as the first released bot left it (schema version 1), with rows."""
    with sqlite3.connect(path) as db:
        db.executescript(f"BEGIN;\n{MIGRATIONS[0]}\nPRAGMA user_version = 1;\nCOMMIT;")
        db.execute(
            "INSERT INTO users (user_id, lang, lang_chosen, active, last_seen) VALUES (7, 'ht', 1, 1, '2026-11-01')"
        )
        db.execute(
            "INSERT INTO unanswered (day, lang, text, closest_entry, reason) VALUES ('2026-11-01', 'ht', 'kesyon', NULL, 'escalate')"
        )
        db.execute("INSERT INTO daily_stats VALUES ('2026-11-01', 'ht', 'chnv-ended', 3)")
    db.close()


async def test_an_older_database_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    make_v1(path)
    async with Storage(path) as store:
        assert await store.schema_version() == len(MIGRATIONS)
        assert await store.user(7) == UserPrefs("ht", True, True)
        assert [row[2] for row in await store.unanswered()] == ["kesyon"]
        assert await store.daily_counts("2026-11-01") == {("ht", "chnv-ended"): 3}
        [(check,)] = await store.db.execute_fetchall("PRAGMA integrity_check")
        assert check == "ok"
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    db.close()
    assert {"users", "feedback", "daily_stats", "unanswered"} <= tables


async def test_bot_refuses_a_database_from_a_newer_version(fake_api: FakeBotAPI, tmp_path: Path) -> None:
    path = tmp_path / "data" / "bot.sqlite3"
    path.parent.mkdir()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    process = await _bot_process(_env(fake_api, tmp_path))
    _stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    log = stderr.decode()
    assert process.returncode == 1, log
    assert f"newer than this bot ({len(MIGRATIONS)})" in log and "restore a backup" in log
    assert "Traceback" not in log
    assert not fake_api.calls_to("getUpdates")  # it never started polling
    with sqlite3.connect(path) as db:  # and left the file alone
        assert db.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS) + 1,)
    db.close()


def restore(copy: Path, live: Path) -> None:
    """README's restore, with the bot stopped: replace DATABASE_PATH with the copy, removing -wal/-shm."""
    live.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{live}{suffix}").unlink(missing_ok=True)
    shutil.copy(copy, live)


async def test_backup_taken_while_the_bot_writes_restores(tmp_path: Path) -> None:
    """README's restore: stop the bot, replace DATABASE_PATH with the copy (removing -wal/-shm)."""
    live = tmp_path / "bot.sqlite3"
    copy = tmp_path / "backups" / "copy.sqlite3"
    async with Storage(live) as store:
        await store.set_language(1, "es", chosen=True)
        await store.backup(copy)  # online, while the connection is open
        await store.set_language(2, "en", chosen=True)  # after the backup: not in the copy
    restore(copy, live)
    async with Storage(live) as restored:
        assert await restored.user(1) == UserPrefs("es", True, True)
        assert await restored.user(2) is None
        [(check,)] = await restored.db.execute_fetchall("PRAGMA integrity_check")
        assert check == "ok"
