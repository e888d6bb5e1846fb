"""Admin commands in Telegram: ``/stats`` and ``/report`` (``/reload`` lives in ``bot.telegram.reload``).

Only the accounts in ``ADMIN_USER_IDS`` reach these handlers, and only in a private chat: the
gate is the ``filters.User(user_id=...)`` filter they are registered with in
``telegram_app.build_application`` (anyone else sending /stats gets the "unknown command"
help, as for any command the bot does not know). The texts are for maintainers and stay in
English, like the CLI report.

- ``/stats``: answers, suggestions, escalations and the helpful ratio of the last 7 days
  (today and the 6 days before, UTC), in total and per language.
- ``/report [DAYS]``: ``python -m bot report --days DAYS`` (default 30), short
  (``bot.core.report.to_short``): the biggest groups of unanswered questions per language and the
  least helpful entries.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from telegram import Update
from telegram.ext import ContextTypes

from bot.core import report as reports
from bot.core.langs import LANGS
from bot.telegram.outbox import outbox_of
from bot.telegram.services import services
from bot.ui.render import Screen, esc

Context = ContextTypes.DEFAULT_TYPE

#: The window of /stats, in days (today included).
STATS_DAYS = 7
#: The default window of /report (as ``python -m bot report``).
REPORT_DAYS = 30
#: The longest window /report accepts.
MAX_REPORT_DAYS = 366


@dataclass
class LangStats:
    answers: int = 0
    suggestions: int = 0
    escalations: int = 0
    helpful: int = 0
    not_helpful: int = 0

    def add(self, other: LangStats) -> None:
        self.answers += other.answers
        self.suggestions += other.suggestions
        self.escalations += other.escalations
        self.helpful += other.helpful
        self.not_helpful += other.not_helpful

    def helpful_text(self) -> str:
        votes = self.helpful + self.not_helpful
        if not votes:
            return "no votes"
        return f"{self.helpful} of {reports.plural(votes, 'vote')} ({self.helpful / votes:.0%})"


def summarize(
    counts: Iterable[tuple[str, str, int]], feedback: Iterable[tuple[str, bool, int]]
) -> tuple[LangStats, dict[str, LangStats]]:
    """Totals and per-language numbers from ``Storage.stats_since`` rows: counts
    ``(lang, entry id or action, count)`` and feedback ``(lang, helpful, count)``."""
    per_lang: dict[str, LangStats] = {lang: LangStats() for lang in LANGS}
    for lang, key, count in counts:
        item = per_lang.setdefault(lang, LangStats())
        if key == "suggest":
            item.suggestions += count
        elif key == "escalate":
            item.escalations += count
        else:
            item.answers += count
    for lang, helpful, count in feedback:
        item = per_lang.setdefault(lang, LangStats())
        if helpful:
            item.helpful += count
        else:
            item.not_helpful += count
    total = LangStats()
    for item in per_lang.values():
        total.add(item)
    return total, per_lang


def stats_text(since: dt.date, until: dt.date, total: LangStats, per_lang: dict[str, LangStats]) -> str:
    """The /stats message."""
    days = (until - since).days + 1
    lines = [
        f"{reports.period(days).capitalize()} ({since.isoformat()} to {until.isoformat()}, UTC)",
        f"Answers: {total.answers} · suggestions: {total.suggestions} · escalations: {total.escalations}",
        f"Helpful: {total.helpful_text()}",
        "",
        "Per language:",
    ]
    for lang, item in per_lang.items():
        lines.append(
            f"{lang}: {reports.plural(item.answers, 'answer')}, {reports.plural(item.suggestions, 'suggestion')}, "
            f"{reports.plural(item.escalations, 'escalation')}; helpful: {item.helpful_text()}"
        )
    return "\n".join(lines)


def report_days(args: list[str]) -> int | None:
    """The DAYS of ``/report [DAYS]`` (default REPORT_DAYS); None when it is not a usable number."""
    if not args:
        return REPORT_DAYS
    try:
        days = int(args[0])
    except ValueError:
        return None
    return days if 1 <= days <= MAX_REPORT_DAYS else None


async def _reply(update: Update, context: Context, text: str) -> None:
    """Plain text (no parse mode: nothing to escape), through the outbox (split at 4,096
    characters there)."""
    chat = update.effective_chat
    if chat is None:  # never for the private messages these commands are registered for
        return
    await outbox_of(context.application).send(chat.id, Screen(esc(text), text), plain=True)


async def stats(update: Update, context: Context) -> None:
    """/stats (admins): the last 7 days, in total and per language."""
    svc = services(context)
    until = dt.date.fromisoformat(svc.storage.today())
    since = until - dt.timedelta(days=STATS_DAYS - 1)
    counts, feedback = await svc.storage.stats_since(since.isoformat())
    total, per_lang = summarize(counts, feedback)
    await _reply(update, context, stats_text(since, until, total, per_lang))


async def report(update: Update, context: Context) -> None:
    """/report [DAYS] (admins): the maintainers' report, short."""
    days = report_days(list(context.args or []))
    if days is None:
        await _reply(
            update,
            context,
            f"Usage: /report [DAYS], DAYS a whole number from 1 to {MAX_REPORT_DAYS} (default {REPORT_DAYS}).",
        )
        return
    svc = services(context)
    since = dt.date.fromisoformat(svc.storage.today()) - dt.timedelta(days=days)  # as the CLI
    unanswered, counts, feedback = await svc.storage.report_rows(since.isoformat())
    built = await asyncio.to_thread(reports.build, days, unanswered, counts, feedback)  # clustering takes a moment
    text = reports.to_short(built)
    if not any(built.groups.values()) and not built.actions:
        text += "\nNothing recorded in this period."
    await _reply(update, context, text + "\nFull report: python -m bot report --days " + str(days))
