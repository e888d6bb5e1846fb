"""Text normalisation shared by the knowledge base and the user's messages.

``fold`` is language-independent: casefold, strip accents, turn punctuation and emoji into
spaces, collapse spaces. ``tokens`` folds and then expands the informal abbreviations of one
language ("q" -> "que", "m" -> "mwen", "u" -> "you"). Both are pure functions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import numpy as np

from bot.core.lexicon import ABBREVIATIONS

#: Longest text we look at. Longer messages are cut before any work is done on them.
MAX_TEXT = 2000

# Line ends are kept: ``fold_texts`` folds many texts at once, one a line.
_NON_WORD = re.compile(r"[^0-9a-z\n]+")
#: the same for ASCII text, as a translation table (``str.translate`` is several times faster)
_ASCII_NON_WORD = str.maketrans(
    {chr(c): " " for c in range(128) if not ("0" <= chr(c) <= "9" or "a" <= chr(c) <= "z" or c == 10)}
)
# "I-134A", "i 134 a", "I134-A" -> "i134a"; "A-123" kept as "a123" (form and A-numbers).
# Runs after punctuation became spaces. A suffix letter is only taken when it really follows
# ("i 134 de" stays "i134 de", not "i134de"); after a space only "a"/"b" count as a suffix,
# so "el I-134 y el I-94" keeps its "y".
# Only "i" (USCIS forms) and visa letters are joined, so "y 20 personas" and "a 30 dias" stay.
# " *" rather than " ?": the translation table below turns each punctuation mark into its own
# space, so "I--134" is "i  134" at this point.
_FORM = re.compile(r"\b(i) *(\d{2,3})(?:([a-z])| +([ab]))?\b|\b([hfjl]) *(\d{1,2}[ab]?)\b")
_REPEAT = re.compile(r"([a-z])\1{2,}")  # "holaaaa" -> "holaa", "pleeease" -> "pleease"
#: From this length on, ``_has_repeat`` looks for a repeated letter with numpy.
_LONG = 512
_MONEY = re.compile(r"(?:us)?\$\s?(\d[\d.,]*)|(\d[\d.,]*)\s?\$")  # "$300", "300$" -> "300 usd"


def _join_form(m: re.Match[str]) -> str:
    if m.group(1):
        return m.group(1) + m.group(2) + (m.group(3) or m.group(4) or "")
    return m.group(5) + m.group(6)


_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def strip_accents(text: str) -> str:
    if text.isascii():
        return text
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text))


def fold_texts(texts: Iterable[str]) -> tuple[str, ...]:
    """``fold_text`` of each text, with the regular expressions run once over all of them
    (several times faster for many short texts, such as an entry's questions)."""
    items = []
    for text in texts:
        text = strip_accents(text[:MAX_TEXT].casefold())
        if "$" in text:
            text = _MONEY.sub(lambda m: f" {m.group(1) or m.group(2)} usd ", text)
        items.append(text.replace("\n", " "))
    # One text a line: no step below crosses a line end ("i 134" and "$ 300" never join across).
    joined = "\n".join(items)
    joined = joined.translate(_ASCII_NON_WORD) if joined.isascii() else _NON_WORD.sub(" ", joined)
    if any(digit in joined for digit in "0123456789"):  # (ten substring tests beat one regex)
        joined = _FORM.sub(_join_form, joined)
    if _has_repeat(joined):  # a cheap test first: most texts repeat no letter three times
        joined = _REPEAT.sub(r"\1\1", joined)
    if not items:
        return ()
    # Only letters, digits and spaces are left: a line with no double space needs at most a strip.
    return tuple([" ".join(line.split()) if "  " in line else line.strip(" ") for line in joined.split("\n")])


def _has_repeat(text: str) -> bool:
    """Whether ``_REPEAT`` matches: some letter a-z three times in a row. Long texts (the
    knowledge base, folded at load) are tested with numpy, several times faster than the regex;
    short ones (messages) with the regex, which has no set-up cost."""
    if len(text) < _LONG:
        return _REPEAT.search(text) is not None
    codes = np.frombuffer(text.encode(), dtype=np.uint8)  # letters a-z are single bytes in UTF-8
    same = codes[1:] == codes[:-1]
    third = codes[2:]
    return bool((same[1:] & same[:-1] & (third >= 97) & (third <= 122)).any())


def fold_text(text: str) -> str:
    """Casefold, strip accents, drop punctuation and emoji, collapse white space.

    Uncached: for bulk work on texts seen once (the knowledge base at load). Messages go
    through ``fold``, the same function with a cache."""
    return fold_texts((text,))[0]


#: ``fold_text`` with a cache (users repeat themselves, and one message is folded several times).
fold = lru_cache(maxsize=1 << 16)(fold_text)


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
