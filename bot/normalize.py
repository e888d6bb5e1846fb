"""Text normalisation shared by the knowledge base and the user's messages.

``fold`` is language-independent: casefold, strip accents, turn punctuation and emoji into
spaces, collapse spaces. ``tokens`` folds and then expands the informal abbreviations of one
language ("q" -> "que", "m" -> "mwen", "u" -> "you"). Both are pure functions.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from bot.lexicon import ABBREVIATIONS

#: Longest text we look at. Longer messages are cut before any work is done on them.
MAX_TEXT = 2000

_NON_WORD = re.compile(r"[^0-9a-z]+")
# "I-134A", "i 134 a", "I134-A" -> "i134a"; "A-123" kept as "a123" (form and A-numbers).
_FORM = re.compile(r"\b([a-z])[\s\-.]?(\d{2,3})[\s\-]?([a-z])?\b")
_REPEAT = re.compile(r"([a-z])\1{2,}")  # "holaaaa" -> "holaa", "pleeease" -> "pleease"


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Casefold, strip accents, drop punctuation and emoji, collapse white space."""
    text = strip_accents(text[:MAX_TEXT].casefold())
    text = _FORM.sub(lambda m: m.group(1) + m.group(2) + (m.group(3) or ""), text)
    text = _NON_WORD.sub(" ", text)
    text = _REPEAT.sub(r"\1\1", text)
    return " ".join(text.split())


def expand(words: list[str], lang: str) -> list[str]:
    """Expand the informal abbreviations of ``lang`` in a list of folded words."""
    table = ABBREVIATIONS.get(lang, {})
    out: list[str] = []
    for word in words:
        repl = table.get(word)
        if repl is None:
            out.append(word)
        elif repl:
            out.extend(repl.split())
    return out


def tokens(text: str, lang: str) -> list[str]:
    """Folded words of ``text`` with ``lang``'s abbreviations expanded."""
    return expand(fold(text).split(), lang)
