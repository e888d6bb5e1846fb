"""Inline-button payloads: short, versioned, validated. Pure.

Telegram gives a button at most 64 bytes of ``callback_data`` and sends back whatever a client
claims, so every payload is checked on the way in: a tampered, stale or unknown one decodes to
``None`` and the bot says "this button has expired" instead of failing.

Format: ``<version>|<action>|<argument>``, for example ``1|a|chnv-ended``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = "1"
MAX_BYTES = 64

_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"
#: action -> pattern its argument must match
ACTIONS: dict[str, re.Pattern[str]] = {
    "a": re.compile(rf"^{_ID}$"),  # show the answer of an entry
    "g": re.compile(rf"^{_ID}$"),  # the same, picked among the bot's suggestions (teaches the bot)
    "c": re.compile(r"^(closure|scams|alternatives|bot)$"),  # list a category's entries
    "m": re.compile(r"^$"),  # main menu (categories)
    "l": re.compile(r"^(es|ht|en)$"),  # choose the language
    "y": re.compile(rf"^{_ID}$"),  # "this answer helped"
    "n": re.compile(rf"^{_ID}$"),  # "this answer did not help"
    "h": re.compile(rf"^(|{_ID})$"),  # talk to a person (optionally about an entry)
    "k": re.compile(r"^(yes|no)$"),  # consent before a person reads the chat
    "p": re.compile(r"^(yes|no)$"),  # send a document photo after the warning
    "r": re.compile(r"^(yes|no)$"),  # closing survey: did the volunteer help
    "i": re.compile(r"^$"),  # share my numbers (A-number, phone ...) with the volunteer
    "w": re.compile(rf"^{_ID}$"),  # follow an entry (tell me if it changes)
    "o": re.compile(rf"^{_ID}$"),  # more options under an answer (follow, share)
    "f": re.compile(r"^(yes|no)$"),  # /forget: confirm deleting everything
    "u": re.compile(rf"^{_ID}$"),  # urgent answer: "yes, a volunteer now" (consent given in that message)
    "x": re.compile(r"^$"),  # cancel the request for a person
    # volunteers, after /close: what the ticket was about (<ticket>.<entry id>, "-": none of
    # these, "+": show every topic)
    "v": re.compile(rf"^\d{{1,12}}\.(-|\+|{_ID})$"),
    # admins, /learn: accept (a) or reject (r) a candidate phrasing, all of its topic and
    # language (A, R), or show the next one (s); then its number
    "e": re.compile(r"^[arARs]\d{1,12}$"),
}


@dataclass(frozen=True)
class Callback:
    action: str
    arg: str = ""


def encode(action: str, arg: str = "") -> str:
    data = f"{VERSION}|{action}|{arg}"
    if action not in ACTIONS or not ACTIONS[action].fullmatch(arg) or len(data.encode()) > MAX_BYTES:
        raise ValueError(f"invalid button payload {data!r}")
    return data


def decode(data: str | None) -> Callback | None:
    """The payload's meaning, or None when it is malformed, unknown or from an old version."""
    if not data or len(data.encode("utf-8", "replace")) > MAX_BYTES:
        return None
    parts = data.split("|")
    if len(parts) != 3 or parts[0] != VERSION:
        return None
    _, action, arg = parts
    pattern = ACTIONS.get(action)
    if pattern is None or not pattern.fullmatch(arg):
        return None
    return Callback(action, arg)
