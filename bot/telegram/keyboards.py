"""The one place where the renderer's buttons become Telegram inline keyboards."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.ui import callbacks
from bot.ui.render import Button

#: Button actions that vote on an answer; removed from the message once the user has voted.
FEEDBACK_ACTIONS = frozenset({"y", "n"})


def markup(rows: Iterable[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    """An inline keyboard for the renderer's rows of buttons (None when there are none)."""
    keyboard = [[button(b) for b in row] for row in rows if row]
    return InlineKeyboardMarkup(keyboard) if keyboard else None


def button(b: Button) -> InlineKeyboardButton:
    """One of the renderer's buttons: a link, Telegram's chat picker for an inline query
    ("Share this answer") or a callback payload."""
    if b.url:
        return InlineKeyboardButton(b.label, url=b.url)
    if b.inline_query is not None:
        return InlineKeyboardButton(b.label, switch_inline_query=b.inline_query)
    return InlineKeyboardButton(b.label, callback_data=b.data)


def without_feedback(current: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    """``current`` without its yes/no row, so an answer can be rated only once."""
    return without_actions(current, FEEDBACK_ACTIONS)


def without_actions(current: InlineKeyboardMarkup | None, actions: Iterable[str]) -> InlineKeyboardMarkup | None:
    """``current`` without the buttons of those callback actions (rows left empty go too)."""
    if current is None:
        return None
    drop = frozenset(actions)
    rows = []
    for row in current.inline_keyboard:
        kept = [b for b in row if _action(b) not in drop]
        if kept:
            rows.append(kept)
    return InlineKeyboardMarkup(rows) if rows else None


def expanded(current: InlineKeyboardMarkup | None, more: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """``current`` with its "More" button replaced by the ``more`` buttons (one row)."""
    if current is None:
        return None
    rows = []
    for row in current.inline_keyboard:
        if any(_action(b) == "o" for b in row):
            rows.append([button(b) for b in more])
        else:
            rows.append(list(row))
    return InlineKeyboardMarkup(rows)


def _action(button: InlineKeyboardButton) -> str | None:
    data = button.callback_data if isinstance(button.callback_data, str) else None
    pressed = callbacks.decode(data)
    return pressed.action if pressed else None
