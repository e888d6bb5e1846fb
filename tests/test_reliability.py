"""Reliability: a SIGKILL in the middle of a conversation, and a soak test with Bot API faults.

The soak test (marker ``soak``, runs by default; skip it with ``-m "not soak"``) sends 360
messages from 60 users while 10 % of the Bot API calls fail: 429, 500, 502, an answer that
comes too late (the call was carried out), an answer held and then dropped (not carried out),
a connection reset before the call and a reset after it. Every answer must arrive and every
message of a user with an open ticket must reach its topic (at least once); at most 3 % may
arrive twice (a call Telegram carried out but whose answer was lost). It prints its figures.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import make_settings, start_bot, stop_bot
from fakebotapi import FakeBotAPI
from test_bot_e2e import USER, _bot_process, _env, cb, sent_after

from bot.telegram.delivery import MAX_RETRIES, RetryingRateLimiter
from bot.telegram.outbox import outbox_of

QUESTION = "se acabó el parole humanitario?"
VOLUNTEERS = -1009000


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as db:
        [(result,)] = db.execute("PRAGMA integrity_check").fetchall()
    db.close()
    return result


VOLUNTEER = 777


TO_TOPIC = 15  # the person's messages to the topic (the group takes a burst of 20, then 20 a minute)
TO_PERSON = 20  # the volunteer's replies, copied to the person (about one a second: Telegram's pace per chat)
ASKING = 120  # other people's questions, answered by the bot


async def test_sigkill_mid_relay_then_restart_loses_nothing(fake_api: FakeBotAPI, tmp_path: Path) -> None:
    """kill -9 in the middle of a two-way relay (15 messages to the topic, 20 replies to the
    person) while 120 other questions are answered; after a restart: nothing lost in either
    direction, at most 2 % sent twice (a send Telegram carried out while the process died),
    the database intact; then SIGTERM stops the bot within 10 s."""
    fake = fake_api
    fake.add_group(VOLUNTEERS, is_forum=True)
    fake.set_member(VOLUNTEERS, VOLUNTEER, "member")
    env = _env(fake, tmp_path, VOLUNTEER_CHAT_ID=str(VOLUNTEERS))
    database = tmp_path / "data" / "bot.sqlite3"
    first = await _bot_process(env)
    try:
        await fake.wait_for("getUpdates", timeout=20)
        await sent_after(fake, lambda: fake.callback_query(USER, cb("l", "ht"), language_code="es"), timeout=10)
        [consent] = await sent_after(fake, lambda: fake.command(USER, "/human", language_code="es"), timeout=10)
        mark = fake.mark()
        fake.callback_query(USER, cb("k", "yes"), message_id=consent.result["message_id"], language_code="es")
        [header] = await fake.wait_for(
            "sendMessage",
            lambda c: c.ok and c.chat_id == VOLUNTEERS and c.text.startswith("<b>#"),
            since=mark,
            timeout=10,
        )
        topic = header.params["message_thread_id"]
        mark = fake.mark()
        fake.fail_next("sendMessage", "timeout")  # one relay is on its way when the process dies
        for n in range(max(TO_TOPIC, TO_PERSON, ASKING)):
            if n < TO_TOPIC:
                fake.message(USER, f"a la topic {n}", language_code="es")
            if n < TO_PERSON:
                fake.group_message(VOLUNTEERS, VOLUNTEER, f"a la persona {n}", message_thread_id=topic)
            if n < ASKING:
                fake.message(9000 + n, QUESTION, language_code="es")
        await fake.wait_for(
            ["sendMessage", "copyMessage"],
            lambda c: c.ok and (c.chat_id in (USER, VOLUNTEERS) or c.chat_id >= 9000),
            since=mark,
            count=40,
        )
        first.send_signal(signal.SIGKILL)
        await asyncio.wait_for(first.communicate(), 10)
    finally:
        if first.returncode is None:
            first.kill()
            await first.communicate()
    assert first.returncode == -signal.SIGKILL
    assert integrity(database) == "ok"
    before_restart = {
        "topic": len([c for c in fake.sent_messages(VOLUNTEERS, since=mark) if c.text.startswith("a la topic")]),
        "person": len([c for c in fake.calls_to("copyMessage", since=mark) if c.delivered]),
    }

    def tally() -> dict[str, Counter]:
        return {
            "topic": Counter(
                c.text
                for c in fake.sent_messages(VOLUNTEERS, since=mark)
                if c.text.startswith("a la topic") and c.params.get("message_thread_id") == topic
            ),
            "person": Counter(
                fake.get_message(USER, c.result["message_id"])["text"]
                for c in fake.calls_to("copyMessage", since=mark)
                if c.delivered and c.chat_id == USER
            ),
            "answers": Counter(c.chat_id for c in fake.sent_messages(since=mark) if "reply_parameters" in c.params),
        }

    expected = {
        "topic": {f"a la topic {n}" for n in range(TO_TOPIC)},
        "person": {f"a la persona {n}" for n in range(TO_PERSON)},
        "answers": {9000 + n for n in range(ASKING)},
    }
    second = await _bot_process(env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = tally()
            if all(set(found[k]) >= expected[k] for k in expected):
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # room for a late duplicate
        found = tally()
        lost = {k: sorted(map(str, expected[k] - set(found[k]))) for k in expected}
        twice = {k: sum(n - 1 for n in found[k].values() if n > 1) for k in expected}
        total = sum(len(v) for v in expected.values())
        print(
            f"\nSIGKILL mid relay: sent before the kill: {before_restart}; after the restart: lost {lost}, "
            f"sent twice {twice} ({100 * sum(twice.values()) / total:.1f} % of {total})"
        )
        assert lost == {"topic": [], "person": [], "answers": []}
        assert sum(twice.values()) <= 0.02 * total
        with sqlite3.connect(database) as db:
            assert db.execute("SELECT lang, lang_chosen FROM users WHERE user_id = ?", (USER,)).fetchone() == ("ht", 1)
            assert db.execute("SELECT status, topic_id FROM tickets WHERE user_id = ?", (USER,)).fetchall() == [
                ("open", topic)
            ]
            assert db.execute("SELECT count(*) FROM outbox").fetchone() == (0,)
            assert db.execute("SELECT count(*) FROM inbox WHERE payload IS NOT NULL").fetchone() == (0,)
        db.close()
        assert len(fake.calls_to("createForumTopic")) == 1
        stopping = time.monotonic()
        second.send_signal(signal.SIGTERM)
        _stdout, stderr = await asyncio.wait_for(second.communicate(), 15)
        stopped = time.monotonic() - stopping
    finally:
        if second.returncode is None:
            second.kill()
            await second.communicate()
    print(f"SIGTERM: stopped in {stopped:.1f} s")
    assert second.returncode == 0, stderr.decode()
    assert stopped <= 10
    assert "Traceback" not in stderr.decode()
    assert integrity(database) == "ok"


# -- soak ------------------------------------------------------------------------------------

USERS = 60
PER_USER = 6
ESCALATING = 10  # users with an open ticket: their messages go to their topic, not to the bot
FAULT_RATE = 0.10
FAULTS = (429, 500, 502, "timeout", "drop", "reset", "reset_after")
SEED = 20261123
TEXTS = (
    QUESTION,
    "is the parole program over",
    "paròl la fini?",
    "puedo trabajar con mi permiso de trabajo",
    "donde consigo un abogado gratis",
    "trabajo abogado",
    "cuál es la capital de Mongolia",
    "hola",
    "thanks",
    "me piden dinero para reabrir el parole",
    "ice detuvo a mi esposo",
)


async def open_ticket(fake: FakeBotAPI, services, user: int) -> int:
    """/human, then "yes" on the consent screen; the topic id of the new ticket."""
    mark = fake.mark()
    fake.command(user, "/human", language_code="es")
    [consent] = await fake.wait_for(
        "sendMessage",
        lambda c: c.ok and c.chat_id == user and cb("k", "yes") in str(c.params.get("reply_markup")),
        since=mark,
        timeout=10,
    )
    fake.callback_query(user, cb("k", "yes"), message_id=consent.result["message_id"], language_code="es")
    deadline = time.monotonic() + 10
    while True:
        ticket = await services.storage.open_ticket_of(user)
        if ticket is not None and ticket.topic_id is not None and ticket.header_message_id is not None:
            return int(ticket.topic_id)
        assert time.monotonic() < deadline, "the ticket was not opened"
        await asyncio.sleep(0.05)


@pytest.mark.soak
async def test_soak_every_answer_and_escalated_message_delivered(tmp_path: Path) -> None:
    from bot.telegram.app import build_application
    from bot.telegram.services import Services

    started = time.monotonic()
    with FakeBotAPI(max_poll_wait=0.2, timeout_delay=1.0) as fake:
        fake.add_group(VOLUNTEERS, is_forum=True)
        settings = make_settings(fake, tmp_path, volunteer_chat_id=VOLUNTEERS)
        services = Services.load(settings)
        services.desk.retry_base = 0.2  # the relay's outbox retries quickly
        # Telegram's own 30 messages/second cap is lifted (the fake has none) so 2,000 answers fit
        # in the time budget; retries and the 429 handling are the production ones.
        limiter = RetryingRateLimiter(max_retries=MAX_RETRIES, overall_max_rate=0, group_max_rate=0)
        app = build_application(settings, services, rate_limiter=limiter, read_timeout=0.5)
        await start_bot(app)
        try:
            users = [100_000 + n for n in range(USERS)]
            topics = dict(
                zip(
                    users[:ESCALATING],
                    await asyncio.gather(*(open_ticket(fake, services, u) for u in users[:ESCALATING])),
                )
            )
            mark = fake.mark()
            fake.fail_rate(FAULT_RATE, statuses=FAULTS, seed=SEED)
            asked: list[tuple[int, int, str]] = []
            for round_ in range(PER_USER):  # round robin: every user has a message in flight
                for n, user in enumerate(users):
                    text = f"{TEXTS[(n + round_) % len(TEXTS)]} {n}x{round_}"
                    update = fake.message(user, text, language_code="es")
                    asked.append((user, update["message"]["message_id"], text))

            def tally() -> tuple[Counter, Counter]:
                calls = fake.sent_messages(since=mark)
                replies = Counter(
                    (c.chat_id, c.params["reply_parameters"]["message_id"])
                    for c in calls
                    if "reply_parameters" in c.params
                )
                relayed = Counter((c.params.get("message_thread_id"), c.text) for c in calls if c.chat_id == VOLUNTEERS)
                return replies, relayed

            def arrived(replies: Counter, relayed: Counter, item: tuple[int, int, str]) -> int:
                user, message_id, text = item
                return relayed[(topics[user], text)] if user in topics else replies[(user, message_id)]

            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                replies, relayed = tally()
                if all(arrived(replies, relayed, item) for item in asked):
                    break
                await asyncio.sleep(0.25)
            await asyncio.sleep(1.5)  # room for a late duplicate
            fake.fail_rate(0)
            replies, relayed = tally()
        finally:
            await stop_bot(app)
        faults = dict(fake.faults_injected)
        retried = dict(outbox_of(app).retried)
        calls = len([c for c in fake.calls if c.method != "getUpdates" and c.seq >= mark])
        relay_timeouts = len(
            [
                c
                for c in fake.calls_to(["sendMessage", "copyMessage"], since=mark)
                if c.chat_id == VOLUNTEERS and c.failed_with == "timeout"
            ]
        )
    answers = [item for item in asked if item[0] not in topics]
    escalated = [item for item in asked if item[0] in topics]
    counts = {
        "answers": [arrived(replies, relayed, i) for i in answers],
        "escalated": [arrived(replies, relayed, i) for i in escalated],
    }
    lost = {kind: sum(1 for n in found if n == 0) for kind, found in counts.items()}
    duplicated = {kind: sum(1 for n in found if n > 1) for kind, found in counts.items()}
    print(
        f"\nsoak: {len(asked)} messages from {USERS} users ({len(answers)} answered by the bot, {len(escalated)} relayed "
        f"to {len(topics)} tickets); {calls} Bot API calls; injected faults {sum(faults.values())} "
        f"({', '.join(f'{k}: {v}' for k, v in sorted(faults.items(), key=str))}); retried by the rate limiter {limiter.retried}, by the outbox {retried}; "
        f"lost {lost}; duplicated {duplicated} (relay sends answered late, waited for: {relay_timeouts}); "
        f"{time.monotonic() - started:.1f} s"
    )
    assert len(asked) == USERS * PER_USER
    assert sum(faults.values()) > 0.03 * calls
    assert lost == {"answers": 0, "escalated": 0}
    # At least once: only a call Telegram carried out but whose answer was lost (a reset after
    # the call, an answer later than the send timeout) is sent twice; at most 3 % of messages.
    twice = sum(n - 1 for found in counts.values() for n in found if n > 1)
    assert twice <= faults.get("reset_after", 0) + faults.get("timeout", 0)
    assert twice <= 0.03 * len(asked)
