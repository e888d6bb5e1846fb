"""Masking of personal identifiers before anything is stored, logged or shown to volunteers.

``redact(text)`` replaces, with a placeholder that reads the same in Spanish, Haitian Creole
and English:

- A-numbers (Alien Registration Numbers): "A-123-456-789", "a# 123 456 789", or 8-9 digits
  a few words after "A-number", "numero de extranjero", "nimewo A" ...     -> "[A-number]"
- USCIS receipt numbers: IOE/EAC/WAC/LIN/SRC/NBC/MSC/YSC... + 10 digits   -> "[receipt no.]"
- I-94 admission numbers: 9 digits + a letter + a digit ("123456789A1") anywhere, or
  11 digits a few words after "I-94", "i94", "admission", "admision", "admisyon" -> "[admission no.]"
- Social Security numbers: "123-45-6789", "123 45 6789", or 9 digits a few words after
  "SSN", "seguro social", "social security", "sosyal"                     -> "[SSN]"
- passport numbers a few words after a passport word ("pasaporte K1234567",
  "passport number 123456789", "paspò mwen se RD1234567", "pasaporte V123456789"), and,
  without a passport word, one or two letters glued to 6-9 digits (Cuban K1234567,
  Haitian RD1234567, Honduran F12345678, US C12345678)                      -> "[passport no.]"
- dates of birth: a full date (2 de marzo de 1990, 02/03/1990, 2-3-90, 1990-03-02,
  March 2, 1990, 14 me 2012, 14 mas 2012) a few words after a birth word (naci, nacido,
  fecha de nacimiento, f. nac, cumpleaños, DOB, D.O.B., date of birth, born, birthday,
  m fèt, mwen fèt, li fèt, dat nesans, né le, née), or right before a birth noun
  ("02/03/1990 es mi fecha de nacimiento", "3/4/2015 (DOB)"); the birth words stay   -> "[date of birth]"
- phone numbers with 7 to 15 digits (US, Caribbean, Latin American)      -> "[phone]"
- e-mail addresses                                                        -> "[e-mail]"
- any other run of 16 or more digits (bank cards, unknown ids)            -> "[number]"

Left alone on purpose: dates without a birth word (2025-04-24, 24.04.2025, "mi cita es el
2 de marzo de 2026"), dates a birth word is not about (more than six words away, after a
sentence end, or after "cita", "appointment", "llegue", "expires" ...), partial birth dates
("naci en 1990", "born in March 1990", "nací el 2 de marzo"), a bare "fèt" (also "party":
"fèt la se 24 desanm 2025"), years, times (10:30), money amounts ("$1,000", "$550",
"1500 dolares"), form numbers (I-134A, I-589, I-94, N-400), counts ("532,000"), and US
toll-free numbers (USCIS Contact Center 800-375-5283), which are never a person's.
When in doubt a number is masked: an over-masked number in a log costs little, a leaked
A-number costs a lot. Redacting twice changes nothing (placeholders contain no digits).

How it works, and why it is fast: one regex finds every stretch of digits (with the spaces,
dashes, dots and brackets people put between groups); only those stretches, and the few
words just before them, are looked at. A second scan finds the birth words ("naci", "DOB",
"m fèt" ...); only after one of those is a date looked for. Text without digits, "@" or a
birth word costs these two scans.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: kind -> placeholder. The order is also the order of ``Redaction.found``.
PLACEHOLDERS: dict[str, str] = {
    "a_number": "[A-number]",
    "receipt": "[receipt no.]",
    "i94": "[admission no.]",
    "passport": "[passport no.]",
    "ssn": "[SSN]",
    "dob": "[date of birth]",
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
    "pasapo",
    "pasaport",
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
_A_BEFORE = re.compile(r"(?<![^\W_])(?<!\])[Aa](?:\s?[#:.\-]{1,2}\s?|\s)?$")
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

# --- I-94 admission numbers ---------------------------------------------------------------------
#: the letter and digit that end a new-style I-94 number after its 9 digits ("123456789A1")
_I94_TAIL = re.compile(r"[A-Za-z]\d(?![^\W_])")
#: an I-94 word a few words before an 11-digit number ("I-94 # 12345678901", "admision: ...")
_I94_BEFORE = re.compile(
    r"(?:(?<![^\W\d_])i\s?-?\s?94|admission|admisi[oó]n|adm[ií]syon)(?![^\W\d_])[^\d\[\]@\n!?;]{0,40}$",
    re.IGNORECASE,
)

# --- dates of birth -----------------------------------------------------------------------------
#: Birth words. ``noun`` ones may also come just after the date ("02/03/1990 es mi fecha de
#: nacimiento"); the others only before it ("naci en Maracaibo el 2 de marzo de 1990"). A bare
#: "fèt" (also "party") and "cumple" (also "meets") count only after a word of _FET_AFTER /
#: _CUMPLE_AFTER ("m fèt", "pitit mwen fèt", "jou fèt", "mi cumple"), and "fèt" also after a
#: name ("Roseline fèt 3 me 2010"; "fèt la se 24 desanm 2025" stays).
#: Written to start with a character class, then a look-behind for the rest of each word: the
#: regex engine then tests one class per character, about as fast as the digit scan.
_DOB_CONTEXT = re.compile(
    r"""[nfcdba](?<![^\W\d_].)(?:
        (?P<noun>
            (?<=n)(?:acimiento|ac|esans|aissance)           # nacimiento, f. nac, dat nesans
          | (?<=f)\.?\s?de\s?n                              # f. de n.
          | (?<=c)umplea[ñn]os | (?P<cumple>(?<=c)umple)
          | (?<=d)\.?\s?o\.?\s?b                            # DOB, D.O.B.
          | (?<=b)(?:irth(?:day|date)?s?|-?day)             # (date of) birth, birthday, bday
          | (?<=a)niv[eè]s[eè]                              # anivèsè
        )
      | (?<=n)(?:ac[ií](?:[oó]|mos|ste|eron)?|acid[oa]s?)   # naci, nació, nacido, nacida
      | (?<=n)(?:[ée]e?\s+le|[ée]e)                         # né le, née
      | (?<=b)orn
      | (?P<fet>(?<=f)[eèé]t)
    )(?![^\W\d_])""",
    re.IGNORECASE | re.VERBOSE,
)
_FET_AFTER = frozenset(
    ["m", "mwen", "li", "yo", "nou", "ou", "w", "ki", "te", "a", "an", "lan", "nan", "la", "pitit", "jou", "bon"]
)
_CUMPLE_AFTER = frozenset(["mi", "su", "tu", "el"])
_LAST_WORD = re.compile(r"(?<![^\W\d_])([^\W\d_]{1,15})\s+$")
_MONTH = (
    r"(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|sep?tiembre|octubre|noviembre|diciembre"
    r"|january|february|march|april|june|july|august|september|october|november|december"
    r"|janvy[eè]|f[eé]vriy[eè]|jiy[eè]t?|s[eè]pt[aà]nm|okt[oò]b|novanm|desanm|avril|mas|me|jen|out"
    r"|janvier|f[eé]vrier|mars|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[eé]cembre"
    r"|ene|feb|mar|abr|may|jun|jul|ago|sept?|oct|nov|dic|jan|apr|aug|dec|janv|f[eé]v|avr|jiy|okt|des)"
    r"(?![^\W\d_])\.?"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_YEAR4 = r"(?:19|20)\d\d"
_BIRTH_YEAR = rf"(?:{_YEAR4}|'?\d\d)"
_BETWEEN = r"(?:\s*[\-/.,]\s*|\s+)"
#: A full date: day, month and year, in the orders and spellings people use.
_FULL_DATE = (
    rf"(?<![\w\]])(?:{_YEAR4}(?P<s1>[\-/.]){_DAY}(?P=s1){_DAY}"  # 1990-03-02
    rf"|{_DAY}\s?(?P<s2>[\-/.])\s?{_DAY}\s?(?P=s2)\s?(?:{_YEAR4}|\d\d)"  # 02/03/1990, 2-3-90
    rf"|{_DAY}(?:st|nd|rd|th|ro|er|º|°)?\.?{_BETWEEN}(?:(?:de|of)\s+)?{_MONTH}{_BETWEEN}(?:del?\s+)?{_BIRTH_YEAR}"
    rf"|{_MONTH}{_BETWEEN}{_DAY}(?:st|nd|rd|th)?{_BETWEEN}(?:del?\s+)?{_BIRTH_YEAR}"  # March 2, 1990
    r")(?!\d)"
)
#: what may stand between a birth word and its date: a few words, no sentence end
_FILL_SEP = r"[ \t:,#=\-/()\"'*]"
_DOB_FORWARD = re.compile(
    rf"\.?[\s:,#=\-/()\"'*]*(?P<fill>(?:[^\W\d_]{{1,15}}{_FILL_SEP}+){{0,6}}?)(?P<date>{_FULL_DATE})",
    re.IGNORECASE,
)
#: a second date right after a date of birth: "nacio el 3/4/2015 y su hermana el 5/6/2017"
_DOB_NEXT = re.compile(
    rf"{_FILL_SEP}*(?P<fill>(?:[^\W\d_]{{1,15}}{_FILL_SEP}+){{0,4}}?)(?P<date>{_FULL_DATE})", re.IGNORECASE
)
#: a birth noun after its date: the date's last digit, then a few words ("es mi fecha de")
_DOB_BACK = re.compile(rf"\d(?P<fill>{_FILL_SEP}*(?:[^\W\d_]{{1,10}}{_FILL_SEP}+){{0,4}})$")
_DATE_ENDING = re.compile(rf"{_FULL_DATE}$", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
#: A date after a birth word has a digit at most this far from it (six words, separators, a month).
_DOB_REACH = 160
#: Words that show the date after a birth word is another date (an appointment, an arrival ...).
_NOT_BIRTH = frozenset(
    [
        "y",
        "and",
        "e",
        "ak",
        "pero",
        "but",
        "men",
        "o",
        "or",
        "cita",
        "citas",
        "appointment",
        "randevou",
        "corte",
        "court",
        "audiencia",
        "hearing",
        "entrevista",
        "interview",
        "odyans",
        "vence",
        "vencio",
        "vencimiento",
        "expira",
        "expiro",
        "expires",
        "expired",
        "expiration",
        "expiry",
        "ekspire",
        "llegue",
        "llego",
        "llegamos",
        "llegaron",
        "entre",
        "entro",
        "entramos",
        "arrived",
        "arrive",
        "came",
        "entered",
        "rive",
        "antre",
        "vini",
        "emitido",
        "emitida",
        "issued",
        "emision",
        "expedicion",
        "expedido",
        # a deadline or a period, not a birth: "el acta de nacimiento para el 2 de marzo de 2026"
        "antes",
        "despues",
        "hasta",
        "desde",
        "para",
        "before",
        "after",
        "by",
        "until",
        "till",
        "since",
        "avan",
        "apre",
        "jiska",
        "depi",
        "pou",
    ]
)
#: Between two dates of birth a conjunction is normal ("... el 3/4/2015 y su hermana el 5/6/2017",
#: "... dice 2 de marzo de 1990 pero en el pasaporte 3 de marzo de 1990").
_NOT_BIRTH_NEXT = _NOT_BIRTH - {"y", "and", "e", "ak", "o", "or", "pero", "but", "men"}
#: The only words allowed between a date and a birth noun after it ("... es mi fecha de nacimiento").
_BIRTH_NOUN_FILL = frozenset(
    [
        "es",
        "era",
        "fue",
        "is",
        "was",
        "se",
        "te",
        "mi",
        "my",
        "su",
        "tu",
        "his",
        "her",
        "their",
        "our",
        "nuestra",
        "nuestro",
        "el",
        "la",
        "los",
        "the",
        "de",
        "del",
        "of",
        "m",
        "mwen",
        "li",
        "yo",
        "nou",
        "w",
        "ou",
        "pitit",
        "hijo",
        "hija",
        "son",
        "daughter",
        "esposa",
        "esposo",
        "wife",
        "husband",
        "as",
        "como",
        "sa",
        "a",
        "fecha",
        "dat",
        "date",
    ]
)


def _fold_word(word: str) -> str:
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _fill_is(fill: str, words: frozenset[str], allowed: bool) -> bool:
    """True when every word of ``fill`` is in ``words`` (``allowed``), or none is (not ``allowed``)."""
    return all((_fold_word(w) in words) == allowed for w in _WORDS.findall(fill))


def _outside(start: int, end: int, cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of [start, end) that no (sorted, disjoint) cut covers."""
    parts = []
    for cut_start, cut_end in cuts:
        if cut_end <= start:
            continue
        if cut_start >= end:
            break
        if cut_start > start:
            parts.append((start, cut_start))
        start = max(start, cut_end)
    if start < end:
        parts.append((start, end))
    return parts


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
        #: digits before this position are already masked (an I-94 number ends past its stretch)
        self.done = 0

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
        # I-94 admission number: 123456789A1 anywhere, 11 digits after "I-94", "admission" ...
        if first.text.isdigit():
            if len(first.text) == 9 and _I94_TAIL.match(text, first.end):
                self.cut(pos, first.end + 2, "i94")
                self.done = first.end + 2
                return i + 1
            if (
                len(first.text) == 11
                and not (pos and text[pos - 1].isalpha())
                and _I94_BEFORE.search(text, max(0, pos - 50), pos)
            ):
                self.cut(pos, first.end, "i94")
                return i + 1
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
                longest = 11 if letters else 10  # V123456789: a letter and 9 digits
                j = self.take(pieces, i, tuple(n - letters for n in range(6, longest) if n - letters > 0))
                after = pieces[j - 1].end if j else pos
                if (
                    j is not None
                    and not (after < len(text) and (text[after].isalnum() or text[after] == "["))
                    and not _DATE.fullmatch(text[pos:after].strip())
                ):
                    self.cut(glued, after, kind)
                    return j
        # passport by its shape: one or two letters glued to 6-9 digits (K1234567, RD1234567)
        end = pos + first.digits
        if 6 <= first.digits <= 9 and text[pos:end].isdigit() and pos and text[pos - 1].isascii():
            k = pos
            while k > 0 and pos - k < 3 and text[k - 1].isascii() and text[k - 1].isalpha():
                k -= 1
            # what follows may not be a letter, a digit, or a mask (the masked text could have been either)
            if (
                0 < pos - k < 3
                and not (k and text[k - 1].isalpha())
                and not (end < len(text) and (text[end].isalnum() or text[end] == "["))
            ):
                self.cut(k, end, "passport")
                return i + 1
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
            if j > i and len(piece.text) == 9 and piece.text.isdigit() and _I94_TAIL.match(text, piece.end):
                break  # "1990 123456789A1": the I-94 number is judged alone
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
        # glued to letters, or to a mask that was glued to letters (so that masking twice changes nothing)
        glued = (start > 0 and (text[start - 1].isalpha() or text[start - 1] == "]")) or (
            end < len(text) and (text[end].isalpha() or text[end] == "[")
        )
        if glued and total < 9:
            return i + 1  # part of a word or a code
        if _TOLL_FREE.match(text[start:end].translate(_NOT_DIGITS)):
            return j  # an organisation's toll-free line (USCIS 800-375-5283), not a person's
        self.cut(start, end, "phone")
        return j

    # -- dates of birth --------------------------------------------------------------------
    def birth_dates(self, emails: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Mask full dates next to a birth word; return their (start, end), in order."""
        text = self.text
        dates: list[tuple[int, int]] = []
        digit = -1  # position of the first digit at or after the current birth word (len(text): none)
        for m in _DOB_CONTEXT.finditer(text):
            if text.startswith("]", m.end()):
                continue  # our own "[date of birth]"
            if digit < m.start():
                found_digit = _DIGIT.search(text, m.start())
                digit = found_digit.start() if found_digit else len(text)
            if digit - m.end() > _DOB_REACH and not m.group("noun"):
                continue  # no date can follow (a date has digits), and none may come before
            if m.group("fet") or m.group("cumple"):
                last = _LAST_WORD.search(text, max(0, m.start() - 20), m.start())
                word = last.group(1) if last else ""
                if m.group("cumple"):
                    if _fold_word(word) not in _CUMPLE_AFTER:
                        continue
                elif _fold_word(word) not in _FET_AFTER and not (word[1:].islower() and word[0].isupper()):
                    continue  # neither "m fèt", "pitit la fèt" nor "Roseline fèt"
            if m.group("noun"):
                back = _DOB_BACK.search(text, max(0, m.start() - 60), m.start())
                if back and _fill_is(back.group("fill"), _BIRTH_NOUN_FILL, True):
                    date = _DATE_ENDING.search(text, max(0, back.start() - 40), back.start() + 1)
                    if date:
                        dates.append(date.span())
            found = _DOB_FORWARD.match(text, m.end()) if digit - m.end() <= _DOB_REACH else None
            if found and _fill_is(found.group("fill"), _NOT_BIRTH, False):
                dates.append(found.span("date"))
                found = _DOB_NEXT.match(text, found.end())
                while found and _fill_is(found.group("fill"), _NOT_BIRTH_NEXT, False):
                    dates.append(found.span("date"))
                    found = _DOB_NEXT.match(text, found.end())
        kept: list[tuple[int, int]] = []
        for start, end in sorted(set(dates)):
            if kept and start < kept[-1][1]:
                continue
            if any(s < end and start < e for s, e in emails):
                continue
            kept.append((start, end))
            self.cut(start, end, "dob")
        return kept

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
        # e-mail addresses and dates of birth, masked already: digit stretches are cut around them
        masked = sorted(emails + self.birth_dates(emails))
        for m in _SPAN.finditer(text):
            if not masked and m.start() >= self.done:
                self.span(m.start(), m.end())
                continue
            # parts of the stretch outside those and outside the I-94 numbers already masked
            for start, end in _outside(max(m.start(), self.done), m.end(), masked):
                while start < end and not text[start].isdigit():
                    start += 1
                while end > start and not text[end - 1].isdigit():
                    end -= 1
                if end - start >= 5:
                    self.span(start, end)
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
