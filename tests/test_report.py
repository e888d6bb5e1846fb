"""The maintainers' report and the backup command, on a seeded SQLite database."""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core import report
from bot.store.storage import Storage, StorageError

ROOT = Path(__file__).resolve().parent.parent


async def seed(path: Path) -> None:
    async with Storage(path) as storage:
        for text in (
            "como saco la licencia de manejar",
            "licencia de manejar con parole?",
            "se puede sacar licencia de manejar",
        ):
            await storage.add_unanswered("es", text, "work-permit", "escalate")
        await storage.add_unanswered("es", "receta de arroz congri", None, "escalate")
        await storage.add_unanswered("ht", "kijan pou m jwenn lisans kondwi", "work-permit", "escalate")
        await storage.add_unanswered("en", "this did not help about my EAD", "work-permit", "not_helpful")
        for _ in range(3):
            await storage.count("es", "chnv-ended")
        await storage.count("en", "asylum")
        await storage.count("es", "escalate")
        await storage.count("ht", "suggest")
        await storage.add_feedback("chnv-ended", "es", True)
        await storage.add_feedback("chnv-ended", "es", True)
        await storage.add_feedback("work-permit", "en", False)
        # candidate phrasings waiting for review (python -m bot learn)
        await storage.add_candidate(1, "es", "work-permit", "la tarjeta esa del empleo", "suggestion")
        await storage.add_candidate(2, "es", "work-permit", "el papelito pa laborar", "volunteer")
        await storage.add_candidate(1, "ht", "work-permit", "kat travay mwen an pa bon ankò", "suggestion")
        await storage.add_candidate(3, "es", "out-of-scope", "receta de arroz congri", "volunteer")


def run_cli(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    env["DATABASE_PATH"] = str(db)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_group_questions_puts_similar_questions_together():
    groups = report.group_questions(
        [
            ("es", "como saco la licencia de manejar", "work-permit"),
            ("es", "licencia de manejar con parole?", "work-permit"),
            ("es", "receta de arroz congri", None),
        ]
    )
    assert [(g.count, g.closest_entry) for g in groups["es"]] == [(2, "work-permit"), (1, None)]


async def test_report_markdown_on_seeded_database(tmp_path: Path):
    db = tmp_path / "bot.sqlite3"
    await seed(db)
    result = run_cli("report", "--days", "7", db=db)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Answers: 4 · suggestions: 1 · escalations: 1 (total 6)" in out
    assert (
        "| 3 | como saco la licencia de manejar | work-permit |" in out
        or "| 3 | licencia de manejar con parole? | work-permit |" in out
        or "| 3 | se puede sacar licencia de manejar | work-permit |" in out
    )
    assert "| 1 | receta de arroz congri | - |" in out
    assert "| chnv-ended | 3 |" in out
    assert "| work-permit | 0 | 1 | 0% |" in out
    assert "| chnv-ended | 2 | 0 | 100% |" in out
    assert "## Candidate phrasings waiting for review (4): python -m bot learn" in out
    assert out.endswith("| work-permit | 2 | 1 | 0 | 3 |\n| out-of-scope | 1 | 0 | 0 | 1 |\n")


async def test_report_csv_on_seeded_database(tmp_path: Path):
    db = tmp_path / "bot.sqlite3"
    await seed(db)
    result = run_cli("report", "--format", "csv", db=db)
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["section", "lang", "count", "text_or_entry", "closest_entry", "helpful", "not_helpful"]
    unanswered = [r for r in rows if r[0] == "unanswered"]
    assert sorted((r[1], r[2]) for r in unanswered) == [("en", "1"), ("es", "1"), ("es", "3"), ("ht", "1")]
    assert ["answered", "", "3", "chnv-ended", "", "", ""] in rows
    assert [r for r in rows if r[0] == "candidates"] == [
        ["candidates", "es", "2", "work-permit", "", "", ""],
        ["candidates", "ht", "1", "work-permit", "", "", ""],
        ["candidates", "es", "1", "out-of-scope", "", "", ""],
    ]


def test_short_report_says_how_many_candidates_wait():
    built = report.build(30, [], [], [], [("work-permit", "es", 2), ("asylum", "ht", 1), ("work-permit", "ht", 1)])
    assert built.candidates == {"work-permit": {"es": 2, "ht": 1}, "asylum": {"ht": 1}}
    assert report.to_short(built).splitlines()[-1] == (
        "Candidate phrasings waiting: 4 (work-permit 3, asylum 1); review them with /learn"
    )
    assert "Candidate phrasings" not in report.to_short(report.build(30, [], [], []))


async def test_backup_is_a_consistent_copy_and_never_overwrites(tmp_path: Path):
    db = tmp_path / "bot.sqlite3"
    await seed(db)
    target = tmp_path / "backups" / "copy.sqlite3"
    result = run_cli("backup", str(target), db=db)
    assert result.returncode == 0, result.stderr
    copy = sqlite3.connect(target)
    try:
        assert copy.execute("SELECT count(*) FROM unanswered").fetchone() == (6,)
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        copy.close()
    again = run_cli("backup", str(target), db=db)
    assert again.returncode == 1
    assert "already exists" in again.stderr
    async with Storage(db) as storage:
        with pytest.raises(StorageError):
            await storage.backup(target)
