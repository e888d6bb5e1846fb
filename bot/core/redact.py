"""Masking of personal identifiers before anything is stored, logged or shown to volunteers.

``redact(text)`` replaces, with a placeholder that reads the same in Spanish, Haitian Creole
and English:

- A-numbers (Alien Registration Numbers): "A-123-456-789", "a# 123 456 789", or 8-9 digits
  a few words after "A-number", "numero de extranjero", "nimewo A" ...     -> "[A-number]"
- USCIS receipt numbers: IOE/EAC/WAC/LIN/SRC/NBC/MSC/YSC... + 10 digits   -> "[receipt no.]"
- Social Security numbers: "123-45-6789", "123 45 6789", or 9 digits a few words after
  "SSN", "seguro social", "social security", "sosyal"                     -> "[SSN]"
- passport numbers a few words after a passport word ("pasaporte K1234567",
  "passport number 123456789", "paspò mwen se RD1234567")                  -> "[passport no.]"
- phone numbers with 7 to 15 digits (US, Caribbean, Latin American)      -> "[phone]"
- e-mail addresses                                                        -> "[e-mail]"
- any other run of 16 or more digits (bank cards, unknown ids)            -> "[number]"

Left alone on purpose: dates (2025-04-24, 24.04.2025), years, times (10:30), money amounts
("$1,000", "$550", "1500 dolares"), form numbers (I-134A, I-589, N-400), counts ("532,000"),
and US toll-free numbers (USCIS Contact Center 800-375-5283), which are never a person's.
When in doubt a number is masked: an over-masked number in a log costs little, a leaked
A-number costs a lot. Redacting twice changes nothing (placeholders contain no digits).

How it works, and why it is fast: one regex finds every stretch of digits (with the spaces,
dashes, dots and brackets people put between groups); only those stretches, and the few
words just before them, are looked at. Text without digits or "@" costs one scan.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: kind -> placeholder. The order is also the order of ``Redaction.found``.
PLACEHOLDERS: dict[str, str] = {
    "a_number": "[A-number]",
    "receipt": "[receipt no.]",
    "passport": "[passport no.]",
    "ssn": "[SSN]",
    "phone": "[phone]",
    "email": "[e-mail]",
    "number": "[number]",
}


@dataclass(frozen=True)
class Redaction:
    #: the text with every identifier replaced by its placeholder
    text: str
    #: kinds masked, in the order of PLACEHOLDERS, each once: ("a_number", "phone")
    found: tuple[str, ...] = ()


# --- context words, written folded (lowercase, no accents), as word tuples ----------------------
# A number counts as that kind when one of these phrases comes right before it, or at most
# MAX_FILLER short words before it ("mi A-number ES 123...", "nimewo A MWEN SE 201-234-567").

_A_CONTEXT = (
    "a number",
    "anumber",
    "a numero",
    "a no",
    "a nro",
    "a num",
    "a nimewo",
    "a#",
    "alien",
    "alien number",
    "alien no",
    "alien registration",
    "alien registration number",
    "numero de extranjero",
    "numero extranjero",
    "numero de extranjera",
    "registro de extranjero",
    "numero de registro de extranjero",
    "numero de registro",
    "numero a",
    "numero de a",
    "nro a",
    "num a",
    "no a",
    "el a",
    "la a",
    "mi a",
    "my a",
    "su a",
    "tu a",
    "your a",
    "his a",
    "her a",
    "nimewo a",
    "nimewo etranje",
    "nimewo alien",
    "nimewo imigrasyon",
    "nimewo uscis",
    "uscis number",
    "uscis no",
    "uscis numero",
    "uscis",
    "numero de uscis",
    "immigration number",
    "numero de inmigracion",
    "numero de migracion",
)
_SSN_CONTEXT = (
    "ssn",
    "s s n",
    "social security",
    "social security number",
    "social security no",
    "seguro social",
    "numero de seguro social",
    "numero del seguro social",
    "el social",
    "mi social",
    "my social",
    "seguridad social",
    "sosyal",
    "sekirite sosyal",
    "nimewo sosyal",
    "nimewo sekirite sosyal",
    "social",
)
_PASSPORT_CONTEXT = (
    "pasaporte",
    "pasaportes",
    "passport",
    "passports",
    "passaporte",
    "passeport",
    "paspo",
    "paspot",
    "pasapot",
    "pasport",
)
#: How many short words may stand between the context phrase and the number.
MAX_FILLER = 3
_MAX_FILLER_LEN = 12


def _phrase_table(phrases: tuple[str, ...]) -> dict[str, list[tuple[str, ...]]]:
    table: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        words = tuple(phrase.replace("#", " #").split())
        table.setdefault(words[-1], []).append(words)
    return table


_CONTEXTS = (
    ("a_number", _phrase_table(_A_CONTEXT)),
    ("ssn", _phrase_table(_SSN_CONTEXT)),
    ("passport", _phrase_table(_PASSPORT_CONTEXT)),
)

_RECEIPT_PREFIXES = frozenset(
    [
        "IOE",
        "EAC",
        "WAC",
        "LIN",
        "SRC",
        "NBC",
        "MSC",
        "YSC",
        "ESC",
        "TSC",
        "NSC",
        "CSC",
        "VSC",
        "ZLA",
        "ZSF",
        "ZNY",
        "ZMI",
        "ZHN",
        "ZOR",
        "ZAR",
        "ZBO",
        "ZCH",
        "ZDA",
        "ZHO",
        "ZNK",
        "ZPH",
    ]
)

# --- regexes, compiled once ---------------------------------------------------------------------
_EMAIL = re.compile(r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
# A stretch of digit groups joined by one space, dash or dot, with "(305)" style brackets.
# It starts with a digit, so the regex engine skips everything else quickly.
# Stretches shorter than 5 characters hold fewer than 5 digits and are never identifiers.
_SPAN = re.compile(r"\d(?:\d|[ \t.\-](?=\d)|[ \t.\-]?\((?=\d{1,4}\))|\)[ \t.\-]?(?=\d)){4,}")
_WORDS = re.compile(r"[^\W\d_]+|#")
_WHITE = re.compile(r"(\s+)")
#: ``str.translate`` table that deletes the separators a digit stretch may contain.
_NOT_DIGITS = str.maketrans("", "", "+() \t.-")
_LAST_STOP = re.compile(r".*[\d\[\]@]", re.DOTALL)
_GAP_CHARS = " \t\n:#=.,-()\"'º°*"
_RECEIPT_BEFORE = re.compile(r"(?<![^\W\d_])([A-Za-z]{3})[\s\-#:]{0,2}$")
_A_BEFORE = re.compile(r"(?<![^\W_])[Aa](?:\s?[#:.\-]{1,2}\s?|\s)?$")
_FORM_BEFORE = re.compile(r"(?<![^\W_])[A-Za-z]{1,2}-?$")
_CURRENCY_BEFORE = re.compile(r"(?:\$|us\$|usd|bs\.?|c\$|€|£|htg|cup|mlc)\s?$", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(
    r"\s?(?:\$(?!\s?\d)|usd|us\$|d[oó]lar(?:es)?|dollars?|dola|pesos?|cup|mlc|bs\.?|bol[ií]vares|"
    r"gourdes?|goud|c[oó]rdobas?|euros?|€)(?![^\W\d_])",
    re.IGNORECASE,
)
#: US toll-free numbers belong to organisations, never to a person.
_TOLL_FREE = re.compile(r"1?8(?:00|33|44|55|66|77|88)\d{7}$")
_YEAR = re.compile(r"(?:19|20)\d\d")
_DATE = re.compile(r"\d{4}([\-./])\d{1,2}\1\d{1,2}|\d{1,2}([\-./])\d{1,2}\2\d{2,4}")
_SSN_SHAPE = re.compile(r"\d{3}([\-.])\d{2}\1\d{4}")


def _fold_word(word: str) -> str:
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass
class _Piece:
    start: int
    end: int
    text: str
    digits: int


class _Redactor:
    """Decides, for the digit stretches of one text, what each one is."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.found: set[str] = set()
        #: (start, end, placeholder), in order, never overlapping
        self.cuts: list[tuple[int, int, str]] = []

    def cut(self, start: int, end: int, kind: str) -> None:
        self.found.add(kind)
        self.cuts.append((start, end, PLACEHOLDERS[kind]))

    # -- context ---------------------------------------------------------------------------
    def context(self, pos: int) -> tuple[str | None, int]:
        """Kind named by the words just before ``pos``, and where letters glued to the number
        start ("K1234567": the K belongs to the passport number)."""
        text = self.text
        before = text[max(0, pos - 100) : pos]
        stop = _LAST_STOP.match(before)  # never look past another number, mask or e-mail
        if stop:
            before = before[stop.end() :]
        n = len(before)
        while n and before[n - 1].isalpha():
            n -= 1
        stripped, glued = before[:n], pos - (len(before) - n)
        if pos - glued > 3:
            return None, pos  # a long word glued to the digits: not an identifier word
        words_part = stripped.rstrip(_GAP_CHARS)
        if not words_part or not (words_part[-1].isalpha() or words_part[-1] == "#"):
            return None, glued
        words = [_fold_word(w) for w in _WORDS.findall(words_part)]
        for skip in range(min(MAX_FILLER, len(words) - 1) + 1):
            if skip and len(words[-skip]) > _MAX_FILLER_LEN:
                break
            head = words[: len(words) - skip]
            for kind, table in _CONTEXTS:
                for phrase in table.get(head[-1], ()):
                    if tuple(head[-len(phrase) :]) == phrase:
                        return kind, glued
        return None, glued

    # -- one digit stretch -----------------------------------------------------------------
    def span(self, start: int, end: int) -> None:
        text = self.text
        if _DATE.fullmatch(text, start, end):
            return
        if start and text[start - 1] == "(" and ")" in text[start : start + 5]:
            start -= 1
        if start and text[start - 1] == "+":
            start -= 1
        elif start > 1 and text[start - 2 : start] == "+ ":
            start -= 2
        pieces: list[_Piece] = []
        pos = start
        for piece in _WHITE.split(text[start:end]):
            if piece.isspace():
                pos += len(piece)
                continue
            pieces.append(_Piece(pos, pos + len(piece), piece, len(piece.translate(_NOT_DIGITS))))
            pos += len(piece)
        i = 0
        while i < len(pieces):
            i = self.at(pieces, i)

    def take(self, pieces: list[_Piece], i: int, wanted: tuple[int, ...]) -> int | None:
        """Index after the pieces from i whose digits add up to one of ``wanted``."""
        total = 0
        best = None
        for j in range(i, len(pieces)):
            total += pieces[j].digits
            if total in wanted:
                best = j + 1
            if total >= max(wanted):
                break
        return best

    def at(self, pieces: list[_Piece], i: int) -> int:
        text = self.text
        first = pieces[i]
        pos = first.start
        # receipt: IOE0912345678, EAC-21-123-45678
        m = _RECEIPT_BEFORE.search(text, max(0, pos - 5), pos)
        if m and m.group(1).upper() in _RECEIPT_PREFIXES and first.text[0].isdigit():
            j = self.take(pieces, i, (10,))
            if j is not None:
                self.cut(m.start(), pieces[j - 1].end, "receipt")
                return j
        # A-number written with its A: A123456789, A-123-456-789, a# 123 456 789
        m = _A_BEFORE.search(text, max(0, pos - 6), pos)
        if m and first.text[0].isdigit():
            j = self.take(pieces, i, (8, 9))
            if j is not None:
                self.cut(m.start(), pieces[j - 1].end, "a_number")
                return j
        # Social Security number by its shape: 123-45-6789, 123 45 6789
        trio = pieces[i : i + 3]
        if _SSN_SHAPE.fullmatch(first.text):
            self.cut(pos, first.end, "ssn")
            return i + 1
        if [len(p.text) if p.text.isdigit() else 0 for p in trio] == [3, 2, 4]:
            self.cut(pos, trio[-1].end, "ssn")
            return i + 3
        if _DATE.fullmatch(first.text):
            return i + 1
        # identifiers announced by a word before them
        reach = sum(p.digits for p in pieces[i : i + 4])
        if (
            reach >= 5
            and first.digits <= 9
            and first.text[0].isdigit()
            and not _CURRENCY_BEFORE.search(text, max(0, pos - 5), pos)
        ):
            kind, glued = self.context(pos)
            if kind == "a_number" and glued == pos:
                j = self.take(pieces, i, (8, 9))
                if j is not None:
                    self.cut(pos, pieces[j - 1].end, kind)
                    return j
            elif kind == "ssn" and glued == pos:
                j = self.take(pieces, i, (9,))
                if j is not None:
                    self.cut(pos, pieces[j - 1].end, kind)
                    return j
            elif kind == "passport":
                letters = pos - glued
                j = self.take(pieces, i, tuple(n - letters for n in range(6, 10) if n - letters > 0))
                after = pieces[j - 1].end if j else pos
                if j is not None and not (after < len(text) and text[after].isalnum()):
                    if not _DATE.fullmatch(text[pos:after].strip()):
                        self.cut(glued, after, kind)
                        return j
        # form and visa numbers (I-589, I-134A, N-400, H-1B) stay
        if first.digits <= 4 and first.text.isdigit() and _FORM_BEFORE.search(text, max(0, pos - 3), pos):
            return i + 1
        return self.phone(pieces, i)

    def phone(self, pieces: list[_Piece], i: int) -> int:
        text = self.text
        first = pieces[i]
        if first.digits > 15:
            self.cut(first.start, first.end, "number")
            return i + 1
        total, j = 0, i
        while j < len(pieces):
            piece = pieces[j]
            if j > i and _DATE.fullmatch(piece.text):
                break
            if total + piece.digits > 15:
                break
            total += piece.digits
            j += 1
        start, end = first.start, pieces[j - 1].end
        if total < 7:
            return i + 1
        if all(_YEAR.fullmatch(p.text) for p in pieces[i:j]):
            return j  # "2023 2024 2025"
        if _CURRENCY_BEFORE.search(text, max(0, start - 5), start):
            return i + 1  # money: "$550", "Bs 1.500.000"; what follows it is judged alone
        if _CURRENCY_AFTER.match(text, end):
            return j  # money: "1500000 pesos"
        glued = (start > 0 and text[start - 1].isalpha()) or (end < len(text) and text[end].isalpha())
        if glued and total < 9:
            return i + 1  # part of a word or a code
        if _TOLL_FREE.match(text[start:end].translate(_NOT_DIGITS)):
            return j  # an organisation's toll-free line (USCIS 800-375-5283), not a person's
        self.cut(start, end, "phone")
        return j

    def run(self) -> str:
        text = self.text
        emails: list[tuple[int, int]] = []
        at = text.find("@")
        while at >= 0:
            local = at
            while local > 0 and (text[local - 1].isalnum() or text[local - 1] in "._+-"):
                local -= 1
            m = _EMAIL.match(text, local) if local < at else None
            if m:
                emails.append(m.span())
                self.cut(m.start(), m.end(), "email")
                at = text.find("@", m.end())
            else:
                at = text.find("@", at + 1)
        e = 0
        for m in _SPAN.finditer(text):
            while e < len(emails) and emails[e][1] <= m.start():
                e += 1
            if e < len(emails) and emails[e][0] <= m.start():
                continue  # inside an e-mail address
            self.span(m.start(), m.end())
        if not self.cuts:
            return text
        out, last = [], 0
        for start, end, placeholder in sorted(self.cuts):
            if start < last:  # overlapping cuts (never expected): mask the union
                last = max(last, end)
                continue
            out.append(text[last:start])
            out.append(placeholder)
            last = end
        out.append(text[last:])
        return "".join(out)


def redact(text: str) -> Redaction:
    """Mask every identifier in ``text``; ``found`` lists the kinds that were masked."""
    if not text:
        return Redaction("", ())
    worker = _Redactor(text)
    masked = worker.run()
    return Redaction(masked, tuple(kind for kind in PLACEHOLDERS if kind in worker.found))


def contains_identifier(text: str) -> bool:
    """True when ``redact`` would mask something in ``text``."""
    return bool(redact(text).found)
