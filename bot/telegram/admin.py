"""Admin commands in Telegram: ``/stats``, ``/report`` and ``/learn`` (``/reload`` lives in ``bot.telegram.reload``).

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
- ``/learn``: ``python -m bot learn`` with buttons: the candidate phrasings people and
  volunteers taught the bot (``bot.core.learning``), one at a time, most asked first; "Accept"
  writes it into the knowledge base's files (``/reload`` then uses it), "Reject" drops it. Its
  screens are in the admin's language, like ``/reload``'s.
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
from bot.core.learning import LearnError
from bot.telegram import handlers
from bot.telegram.outbox import outbox_of
from bot.telegram.services import KnowledgeBaseError, Services, services
from bot.ui import callbacks
from bot.ui.i18n import _
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
    waiting = await svc.storage.candidate_counts()
    # clustering takes a moment
    built = await asyncio.to_thread(reports.build, days, unanswered, counts, feedback, waiting)
    text = reports.to_short(built)
    if not any(built.groups.values()) and not built.actions and not built.candidates:
        text += "\nNothing recorded in this period."
    await _reply(update, context, text + "\nFull report: python -m bot report --days " + str(days))


# -- /learn ------------------------------------------------------------------------------------


async def _learn_screen(svc: Services, lang: str, *, after: int | None = None, notice: str = "") -> Screen:
    """The next candidate phrasing to review (after group number ``after``, when given)."""
    try:
        review = await svc.learn_review()
    except KnowledgeBaseError as exc:
        text = (
            _(lang, "The knowledge base has errors; fix them first (python -m bot check):")
            + "\n"
            + "\n".join(exc.problems[:10])
        )
        return svc.renderer.notice(text)
    waiting = sorted(review.of(status="new"), key=lambda g: (-g.count, g.id))
    group = waiting[0] if waiting else None
    if after is not None and waiting:
        numbers = [g.id for g in waiting]
        at = numbers.index(after) + 1 if after in numbers else 0
        group = waiting[at % len(waiting)]
    same = len(review.of(group.topic, group.lang, "new")) if group is not None else 0
    return svc.renderer.learn_card(
        lang,
        group,
        waiting=len(waiting),
        candidates=sum(g.count for g in waiting),
        same_topic=same,
        notice=notice,
    )


async def learn(update: Update, context: Context) -> None:
    """/learn (admins): the candidate phrasings, one at a time, with accept / reject buttons."""
    svc, user = services(context), update.effective_user
    if user is None:
        return
    lang = await svc.lang_of(user.id, user.language_code)
    await handlers._send(update, context, await _learn_screen(svc, lang))


async def learn_choice(update: Update, context: Context) -> None:
    """A button of /learn: accept (write into the knowledge base) or reject a candidate (or all
    of its topic and language), or show the next one."""
    svc, query = services(context), update.callback_query
    assert query is not None  # registered as a CallbackQueryHandler
    await query.answer()
    pressed = callbacks.decode(query.data)
    if query.from_user.id not in svc.settings.admin_user_ids or pressed is None:
        return  # only admins review; anyone else's press does nothing
    lang = await svc.lang_of(query.from_user.id, query.from_user.language_code)
    op, number = pressed.arg[0], int(pressed.arg[1:])
    if op == "s":
        await handlers._replace(update, context, await _learn_screen(svc, lang, after=number))
        return
    try:
        review = await svc.learn_review()
    except KnowledgeBaseError:
        await handlers._replace(update, context, await _learn_screen(svc, lang))
        return
    group = review.group(number)
    if group is None or group.status != "new":
        notice = _(lang, "That phrasing was already reviewed.")
    else:
        groups = [group] if op in "ar" else review.of(group.topic, group.lang, "new")
        if op in "aA":
            try:
                written = await svc.learn_accept(groups)
            except LearnError as exc:
                notice = _(lang, "Nothing was written: {error}", error=str(exc))
            else:
                files = ", ".join(written.files) or "-"
                notice = _(
                    lang,
                    "Added {count} phrasing(s) to {files}. Send /reload to use them.",
                    count=written.count,
                    files=files,
                )
        else:
            await svc.learn_reject(groups)
            notice = _(lang, "Rejected: {count}.", count=len(groups))
    await handlers._replace(update, context, await _learn_screen(svc, lang, notice=notice))
