"""/forget erases for real, end to end (real ``Application``, fake Bot API, real SQLite file).

What a person wrote passes through the database: the questions in their ticket's header and
the messages relayed to the volunteers wait in the outbox until Telegram has them. Deleting
those rows is not enough: SQLite leaves deleted rows in free space and their old pages in the
``-wal`` file. With ``PRAGMA secure_delete`` and a ``wal_checkpoint(TRUNCATE)`` after /forget,
the texts are in none of the database, ``-wal`` and ``-shm`` files (their bytes are read).

Questions the bot could not answer are kept for the maintainers' report (``unanswered``),
masked and without a user id but under the person's pseudonym, so /forget deletes them too.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from conftest import RunningBot
from helpers import forget_confirmed
from test_escalation_e2e import USER, VOLUNTEER, VOLUNTEERS, escalate, sent, topic_of

#: In a question the bot answers (it rides in the ticket's header), in one it cannot answer (the
#: maintainers' report) and in a message relayed to the volunteers while the ticket is open.
IN_HEADER = "zqheadermarkerxq"
UNANSWERED = "zqunansweredmarkerxq"
RELAYED = "zqrelayedmarkerxq"
MARKERS = (IN_HEADER.encode(), UNANSWERED.encode(), RELAYED.encode())
NOWHERE: dict[str, list[bytes]] = {"db": [], "-wal": [], "-shm": []}


def found_in_files(database: Path) -> dict[str, list[bytes]]:
    """Which markers are in the bytes of the database, its -wal and its -shm file."""
    found = {}
    for suffix in ("", "-wal", "-shm"):
        path = database.with_name(database.name + suffix)
        content = path.read_bytes() if path.exists() else b""
        found[suffix or "db"] = [m for m in MARKERS if m in content]
    return found


async def test_forget_leaves_the_persons_texts_in_no_database_file(desk: RunningBot) -> None:
    fake, database = desk.fake, desk.services.settings.database_path
    await sent(fake, lambda: fake.message(USER, f"cual es la capital de Mongolia {UNANSWERED}", language_code="es"))
    header = await escalate(desk, question=f"se acabo el parole? {IN_HEADER}")
    assert IN_HEADER in header.text
    topic = topic_of(header)
    [relayed] = await sent(fake, lambda: fake.message(USER, f"tengo cita en corte {RELAYED}"), chat_id=VOLUNTEERS)
    assert relayed.params["message_thread_id"] == topic
    await sent(fake, lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "Hola", message_thread_id=topic), "copyMessage")
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM unanswered WHERE who IS NOT NULL").fetchall()[0][0] >= 1
    db.close()
    # the texts went through the outbox: delivered and deleted, yet their bytes are still there
    before = found_in_files(database)
    assert set(before["db"] + before["-wal"]) == set(MARKERS), before

    await forget_confirmed(fake, USER)
    started = time.monotonic()
    for _attempt in range(250):  # 5 s
        if (after := found_in_files(database)) == NOWHERE:
            break
        await asyncio.sleep(0.02)
    erased = time.monotonic() - started
    assert after == NOWHERE, f"5 s after /forget: {after}"
    assert await desk.storage.open_ticket_of(USER) is None and await desk.storage.user(USER) is None
    # the bot keeps working on the same database
    await sent(fake, lambda: fake.message(USER, "se acabo el parole?"))
    print(f"\n/forget: markers gone from the database, -wal and -shm {erased:.2f} s after the confirmation")
