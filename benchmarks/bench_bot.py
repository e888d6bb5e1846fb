"""End-to-end throughput and memory of the Telegram bot.

    .venv/bin/python benchmarks/bench_bot.py [--users 1000] [--known 10000]

The real ``Application`` (``bot.telegram.app.build_application``) long-polls the fake Bot API
server (``tests/fakebotapi.py``) over HTTP on 127.0.0.1. The fake runs in a child process so
that it does not share the bot's interpreter; with two or more CPUs the bot is pinned to one
core and the fake to another.

1. Throughput: ``--users`` different people each ask one question (es/ht/en, taken from the
   knowledge base); the clock runs from the first update queued to the last reply received.
   Reported as updates per second (wall clock) and per CPU-second of the bot process.
2. Memory: more people write until ``--known`` users are known to the bot; reported as the
   growth of the users table (SQLite pages) and of the bot process's resident memory, per
   10,000 users.

Telegram itself allows a bot about 30 messages per second in total, so the rate limiter's
overall limit is switched off here (the fake server has none): the benchmark measures the
bot, not Telegram's quota. 429 handling (retries) stays on. Target: >= 200 updates/s on one
core.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("PTB_TIMEDELTA", "true")

TOKEN = "123456:BENCH-token"
TARGET = 200.0


# -- the fake Bot API, in its own process ------------------------------------------------------


def _fake_server(conn, cpu: int | None) -> None:
    """Child process: serve the fake Bot API; inject batches of questions on request."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    import fakebotapi

    # socketserver's default listen backlog is 5 connections; the bot opens up to 256 at once
    fakebotapi._Server.request_queue_size = 1024
    with fakebotapi.FakeBotAPI(max_poll_wait=0.5) as fake:
        conn.send(fake.base_url)
        seen = 0  # index in fake.calls already counted
        while True:
            command = conn.recv()
            if command[0] == "stop":
                break
            _, first_user, questions = command
            started = time.time()
            for offset, (text, code) in enumerate(questions):
                fake.message(first_user + offset, text, language_code=code)
            replies, failures, last = 0, 0, started
            deadline = time.monotonic() + 30  # moved on by every reply
            while replies < len(questions) and time.monotonic() < deadline:
                calls = fake.calls  # append-only list: count only the new calls
                for call in calls[seen : len(calls)]:
                    if call.method == "sendMessage":
                        if call.ok:
                            replies += 1
                            last = call.time
                            deadline = time.monotonic() + 30
                        else:
                            failures += 1
                seen = len(calls)
                time.sleep(0.005)
            conn.send((replies, failures, last - started, list(fake.errors)))
        conn.send("stopped")


# -- the bot ---------------------------------------------------------------------------------


def _rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _knowledge_dir() -> tuple[Path, str]:
    from bot.core import knowledge

    real = ROOT / "knowledge"
    if knowledge.load(real).kb is not None:
        return real, "knowledge/"
    return ROOT / "tests" / "data" / "knowledge", "tests/data/knowledge (knowledge/ has errors right now)"


def _questions(engine, count: int) -> list[tuple[str, str]]:
    """``count`` questions cycling over entries and languages, with Telegram language codes."""
    pool = []
    for entry in engine.kb:
        for lang in ("es", "ht", "en"):
            for question in entry.text(lang).questions[:4]:
                pool.append((question, lang))
    pool.append(("cual es la capital de mongolia", "es"))  # an escalation now and then
    return [pool[(i * 7) % len(pool)] for i in range(count)]


def _receive(conn, server, timeout: float = 180.0):
    """The fake server's next answer; fails instead of hanging if the server process died."""
    deadline = time.monotonic() + timeout
    while not conn.poll(0.2):
        if not server.is_alive():
            raise RuntimeError(f"the fake Bot API server process died (exit code {server.exitcode})")
        if time.monotonic() > deadline:
            raise TimeoutError("the fake Bot API server did not answer")
    return conn.recv()


async def _batch(conn, server, first_user: int, questions: list[tuple[str, str]]) -> tuple[int, int, float]:
    conn.send(("inject", first_user, questions))
    replies, failures, seconds, errors = await asyncio.to_thread(_receive, conn, server)
    if errors:
        raise RuntimeError(f"the fake server failed: {errors!r}")
    return replies, failures, seconds


def _rate_limiter(max_retries: int):
    """The bot's own rate limiter (429s retried), without Telegram's 30 messages/s quota."""
    try:
        from bot.telegram.delivery import RetryingRateLimiter as Limiter
    except ImportError:  # before the delivery module existed
        from telegram.ext import AIORateLimiter as Limiter
    return Limiter(max_retries=max_retries, overall_max_rate=0)


async def _users_table_bytes(storage) -> int | None:
    try:
        rows = await storage.db.execute_fetchall("SELECT sum(pgsize) FROM dbstat WHERE name IN ('users')")
    except Exception:  # dbstat is an optional SQLite feature
        return None
    return int(rows[0][0] or 0)


async def bench(users: int, known: int, conn, server) -> int:
    from bot.config import Settings
    from bot.telegram.app import MAX_RETRIES, build_application
    from bot.telegram.services import Services

    base_url = await asyncio.to_thread(_receive, conn, server, 30.0)
    knowledge_dir, kb_label = _knowledge_dir()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            token=TOKEN,
            base_url=base_url,
            base_file_url=base_url.replace("/bot", "/file/bot"),
            database_path=Path(tmp) / "bot.sqlite3",
            knowledge_dir=knowledge_dir,
        )
        services = Services.load(settings)
        limiter = _rate_limiter(MAX_RETRIES)
        app = build_application(settings, services, rate_limiter=limiter, concurrent_updates=256)
        await app.initialize()
        await app.post_init(app)
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        await app.start()
        try:
            print(f"knowledge base: {kb_label}, {len(services.engine.kb)} entries")
            warm = 200
            await _batch(conn, server, 1, _questions(services.engine, warm))

            cpu0 = time.process_time()
            replies, failures, seconds = await _batch(conn, server, 1_000_000, _questions(services.engine, users))
            cpu = time.process_time() - cpu0
            rate = replies / seconds if seconds else 0.0
            per_cpu = replies / cpu if cpu else 0.0
            print(
                f"throughput: {replies}/{users} replies ({failures} refused) in {seconds:.2f} s "
                f"= {rate:.0f} updates/s wall clock; bot CPU {cpu:.2f} s = {per_cpu:.0f} updates per CPU-second"
            )

            gc.collect()
            rss_before = _rss_bytes()
            db_before = await services.storage.size_bytes()
            users_before = await services.storage.count_users()
            table_before = await _users_table_bytes(services.storage)
            first = 2_000_000
            remaining = max(0, known - users_before)
            while remaining:
                step = min(2000, remaining)
                await _batch(conn, server, first, _questions(services.engine, step))
                first += step
                remaining -= step
            gc.collect()
            grown = await services.storage.count_users() - users_before
            scale = 10_000 / grown if grown else 0.0
            rss_growth = (_rss_bytes() - rss_before) * scale
            db_growth = (await services.storage.size_bytes() - db_before) * scale
            table_after = await _users_table_bytes(services.storage)
            print(
                f"memory: {await services.storage.count_users()} known users; per 10,000 users: "
                f"process RSS +{rss_growth / 1e6:.1f} MB, database +{db_growth / 1e6:.2f} MB"
                + (
                    f" (users table +{(table_after - table_before) * scale / 1e6:.2f} MB)"
                    if table_after is not None
                    else ""
                )
            )
            flood = getattr(services, "flood", None)  # sliding-window counters, swept after a minute idle
            print(
                f"per-user state in the process: {len(app.user_data)} user_data, {len(app.chat_data)} chat_data entries"
                + (f", {len(flood)} users in the flood guard's last-minute window" if flood is not None else "")
            )
            verdict = "OK" if per_cpu >= TARGET else "BELOW TARGET"
            print(f"target >= {TARGET:.0f} updates/s on one core: {verdict}")
            return 0 if per_cpu >= TARGET else 1
        finally:
            await app.updater.stop()
            await app.stop()
            await app.post_stop(app)  # the outbox's workers
            await app.shutdown()
            await app.post_shutdown(app)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1000, help="people asking one question each (throughput)")
    parser.add_argument("--known", type=int, default=10_000, help="known users to reach for the memory figure")
    parser.add_argument(
        "--without-sniffio",
        action="store_true",
        help="hide sniffio from the bot process, as before it was a dependency: httpcore then retries "
        "a failed import on every request (encode/httpcore discussion #1102); compare the CPU figures",
    )
    args = parser.parse_args()
    if args.without_sniffio:
        sys.modules["sniffio"] = None  # type: ignore[assignment]  # makes "import sniffio" fail, as when missing
    print(f"sniffio: {'hidden' if args.without_sniffio else 'installed'}")

    import logging

    logging.basicConfig(level=logging.WARNING)
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    bot_cpu, fake_cpu = (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)
    parent, child = mp.get_context("spawn").Pipe()
    server = mp.get_context("spawn").Process(target=_fake_server, args=(child, fake_cpu), daemon=True)
    server.start()
    if bot_cpu is not None:
        os.sched_setaffinity(0, {bot_cpu})
        print(f"bot pinned to CPU {bot_cpu}, fake Bot API server to CPU {fake_cpu}")
    started = time.monotonic()
    try:
        code = asyncio.run(bench(args.users, args.known, parent, server))
    finally:
        if server.is_alive():
            parent.send(("stop",))
            _receive(parent, server, 10.0)
        server.join(10)
    print(f"benchmark took {time.monotonic() - started:.0f} s")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
