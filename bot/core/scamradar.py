"""Scam radar: does a message (typed or forwarded) look like an immigration scam?

The phrases and rules live in ``knowledge/scam-patterns.yaml`` (format explained at the top
of that file), so maintainers can extend them without touching code:

- a *signal* is a named group of phrases per language (es, ht, en): ``payment``,
  ``reopening``, ``guarantee`` ...;
- a *rule* names signals that must *all* be present: ``paid-reopening: [payment, reopening]``,
  and may name signals that must *not* be (``unless: [not_an_offer]``: a message that asks how
  to report a scam, or says the person will not pay, is no offer to warn about). The first rule
  (in file order) that matches wins.

Phrases and messages are compared after ``bot.core.normalize.fold`` (no accents, no capitals, no
punctuation), as whole words: "pago" does not match inside "pagoda". ``reabr*`` matches every
word starting with "reabr"; a lone ``*`` stands for any one word ("extender * parole").
The "$" sign is read as the word "usd" on both sides, so "$" in a list matches "$500". A web
address that is not a government one (``uscis-pagos.com``, not ``my.uscis.gov``) is followed by
the word ``weblink`` (``LINK_WORD``), so a signal can name "a link" whatever its words.

``ScamPatterns.check(text, lang)`` always looks for the phrases of all three languages (people
mix them); ``lang`` adds that language's informal abbreviations ("m" -> "mwen", "x" -> "por"),
and without ``lang`` every language's abbreviations are tried. Pure: no Telegram, no files
after loading, no environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.langs import LANGS
from bot.core.normalize import MAX_TEXT, expand, fold
from bot.core.validate import Problem
from bot.core.yamlload import LineDict, LineList, load_yaml

FILE_NAME = "scam-patterns.yaml"
TOP_KEYS = ("signals", "rules")
RULE_KEYS = ("name", "all", "unless", "entry")
#: A wildcard needs at least this many letters before the "*" ("reabr*", not "pa*").
MIN_STEM = 3
#: Longest message looked at (Telegram's own limit is 4,096 characters).
MAX_CHECK = 8000
#: The word added after a web address that is not a government one ("uscis-pagos.com").
LINK_WORD = "weblink"
#: Endings of the web addresses that get ``LINK_WORD`` (.gov and .mil never do).
LINK_ENDINGS = (
    "com",
    "net",
    "org",
    "info",
    "us",
    "io",
    "ly",
    "site",
    "online",
    "app",
    "xyz",
    "biz",
    "click",
    "store",
    "shop",
    "ht",
)
_LINK = re.compile(
    r"(?i)\b(?:https?://)?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(" + "|".join(LINK_ENDINGS) + r")\b(?:/[^\s]*)?"
)

_NAME = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_ENTRY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Placeholders that survive ``fold`` (letters only) and mark the wildcards inside a phrase.
_STAR = "xqstarqx"
_ANY = "xqanyqx"


@dataclass(frozen=True)
class Rule:
    name: str
    signals: tuple[str, ...]
    #: optional knowledge entry to show with the warning (e.g. "scam-reopening")
    entry: str | None = None
    line: int = 0
    #: signals that stop the rule: none of them may be present
    unless: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScamHit:
    #: name of the rule that matched ("paid-reopening")
    rule: str
    #: the rule's signals, all of which were found ("payment", "reopening")
    signals: tuple[str, ...]
    #: knowledge entry to show, when the rule names one
    entry: str | None = None
    #: (signal, words of the message that matched it), for logs and maintainers
    evidence: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ScamPatterns:
    #: signal -> language -> phrases, as written in the file
    signals: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()

    def __post_init__(self) -> None:
        compiled = {
            name: _compile([(p, lang) for lang in LANGS for p in phrases.get(lang, ())])
            for name, phrases in self.signals.items()
        }
        object.__setattr__(self, "_regex", compiled)

    @classmethod
    def empty(cls) -> ScamPatterns:
        return cls({}, ())

    def __bool__(self) -> bool:
        return bool(self.rules)

    def check(self, text: str, lang: str | None = None) -> ScamHit | None:
        """The first rule whose signals all occur in ``text``, or None."""
        if not self.rules or not text or not text.strip():
            return None
        variants = _variants(text, lang)
        regex: Mapping[str, re.Pattern[str] | None] = self._regex  # type: ignore[attr-defined]
        seen: dict[str, str | None] = {}

        def find(signal: str) -> str | None:
            if signal not in seen:
                pattern = regex.get(signal)
                hit = None
                if pattern is not None:
                    for variant in variants:
                        m = pattern.search(variant)
                        if m:
                            hit = m.group(0).strip()
                            break
                seen[signal] = hit
            return seen[signal]

        for rule in self.rules:
            if all(find(signal) is not None for signal in rule.signals) and not any(
                find(signal) is not None for signal in rule.unless
            ):
                evidence = tuple((s, seen[s] or "") for s in rule.signals)
                return ScamHit(rule.name, rule.signals, rule.entry, evidence)
        return None


# --- matching -----------------------------------------------------------------------------------


def _fold_long(text: str) -> str:
    """``fold`` for texts longer than its limit: cut between words, fold each piece."""
    text = mark_links(text[:MAX_CHECK]).replace("$", " usd ")
    if len(text) <= MAX_TEXT:
        return fold(text)
    pieces, start = [], 0
    step = MAX_TEXT - 100
    while start < len(text):
        end = min(len(text), start + step)
        if end < len(text):
            space = text.rfind(" ", start + step // 2, end)
            end = space if space > start else end
        pieces.append(fold(text[start:end]))
        start = end
    return " ".join(p for p in pieces if p)


def mark_links(text: str) -> str:
    """``text`` with ``LINK_WORD`` after each web address that is not a government one."""
    if "." not in text:
        return text
    return _LINK.sub(lambda m: f"{m.group(0)} {LINK_WORD} ", text)


def _variants(text: str, lang: str | None) -> list[str]:
    """The folded text, then the same with abbreviations expanded, each as " word word "."""
    folded = _fold_long(text)
    words = folded.split()
    out = [f" {folded} "]
    for code in [lang] if lang in LANGS else list(LANGS):
        expanded = f" {' '.join(expand(words, code))} "
        if expanded not in out:
            out.append(expanded)
    return out


def _phrase_atoms(phrase: str) -> list[str] | None:
    """A phrase as folded words; None when it folds to nothing. Wildcards stay as markers."""
    marked = re.sub(r"(?<=\S)\*", _STAR, phrase.replace("$", " usd "))
    marked = re.sub(r"(?<!\S)\*(?!\S)", _ANY, marked)
    words = fold(marked).split()
    return words or None


def _compile(phrases: list[tuple[str, str]]) -> re.Pattern[str] | None:
    """One regex for a whole signal: a trie of its phrases, matched on whole words.

    Each phrase is added as written and with its language's abbreviations expanded, so that
    "y ap depote w" and "yo ap depote ou" are the same phrase."""
    trie: dict = {}
    for phrase, lang in phrases:
        words = _phrase_atoms(phrase)
        if not words:
            continue
        for form in {tuple(words), tuple(expand(words, lang))}:
            if not form:
                continue
            node = trie
            for i, word in enumerate(form):
                for part in ([" "] if i else []) + _split_word(word):
                    node = node.setdefault(part, {})
            node[""] = {}  # end of a phrase
    if not trie:
        return None
    # The texts searched are folded words with a space before and after (see ``_variants``):
    # starting the pattern with a plain space lets the regex engine jump from word to word.
    return re.compile(" (?:" + _trie_regex(trie) + ")(?= )")


def _split_word(word: str) -> list[str]:
    """Characters of a folded word; a wildcard is one element."""
    if word == _ANY:
        return ["[a-z0-9]+"]
    if word.endswith(_STAR):
        return [re.escape(c) for c in word[: -len(_STAR)]] + ["[a-z0-9]*"]
    return [re.escape(c) for c in word]


def _trie_regex(node: dict) -> str:
    branches = []
    ends = False
    for part, child in sorted(node.items(), key=lambda kv: (kv[0] == "", kv[0])):
        if part == "":
            ends = True
            continue
        branches.append(part + _trie_regex(child) if child else part)
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if ends:
        return "(?:" + body + ")?"
    return body


# --- loading and validation ---------------------------------------------------------------------


def load_patterns(path: str | Path) -> tuple[ScamPatterns | None, list[Problem]]:
    """Read and check ``scam-patterns.yaml``.

    Returns the patterns (None when there is an error) and every problem found, as
    ``file:line: message`` records. A missing file is not a problem: the radar is then simply
    empty (``ScamPatterns.empty()``), so the knowledge loader can always call this.
    ``path`` may also be the knowledge folder.
    """
    path = Path(path)
    if path.is_dir():
        path = path / FILE_NAME
    if not path.exists():
        return ScamPatterns.empty(), []
    label = str(path)
    problems: list[Problem] = []

    def add(line: int, message: str, level: str = "error") -> None:
        problems.append(Problem(label, line, message, level))

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        add(0, f"cannot read the file ({exc.__class__.__name__}); save it as UTF-8 text")
        return None, problems
    return parse_patterns(text, label)


def parse_patterns(text: str, label: str = FILE_NAME) -> tuple[ScamPatterns | None, list[Problem]]:
    """``load_patterns`` on text already read (``label`` names the file in messages)."""
    problems: list[Problem] = []

    def add(line: int, message: str, level: str = "error") -> None:
        problems.append(Problem(label, line, message, level))

    parsed = load_yaml(text)
    for line, message in parsed.problems:
        add(line, message)
    data = parsed.data
    if data is None:
        if not parsed.problems:
            add(1, "the file is empty")
        return None, problems
    if not isinstance(data, LineDict):
        add(1, 'the file must have two parts, "signals:" and "rules:" (see the explanation at the top of the file)')
        return None, problems
    for key in data:
        if key not in TOP_KEYS:
            add(
                data.key_lines[key],
                f'unknown part "{key}" (allowed: signals, rules); check the spelling, and indent signal names under signals:',
            )
    for key in TOP_KEYS:
        if key not in data:
            add(data.line, f'the part "{key}:" is missing')

    signals = _parse_signals(data, add)
    rules = _parse_rules(data, signals, add)
    used: set[object] = set()
    if isinstance(data.get("rules"), list):
        for item in data["rules"]:
            for key in ("all", "unless"):
                if isinstance(item, dict) and isinstance(item.get(key), list):
                    used.update(s for s in item[key] if isinstance(s, str))
    signal_lines = data["signals"].key_lines if isinstance(data.get("signals"), LineDict) else {}
    for name in signals:
        if name not in used:
            add(
                signal_lines.get(name, 1),
                f'the signal "{name}" is not used by any rule, so it never has an effect',
                "warning",
            )
    if "rules" in data and not rules and not any(p.level == "error" for p in problems):
        add(data.key_lines["rules"], "there are no rules: the scam radar will never warn anyone", "warning")
    problems = sorted(set(problems), key=lambda p: (p.line, p.level, p.message))
    if any(p.level == "error" for p in problems):
        return None, problems
    return ScamPatterns(signals, tuple(rules)), problems


def _describe(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (LineDict, dict)):
        return "a group of fields"
    if isinstance(value, (LineList, list)):
        return "a list" if value else "an empty list"
    return f'"{value}"'


def _parse_signals(data: LineDict, add) -> dict[str, dict[str, tuple[str, ...]]]:
    block = data.get("signals")
    if "signals" not in data:
        return {}
    line = data.key_lines["signals"]
    if not isinstance(block, LineDict) or not block:
        add(
            line,
            "signals: must contain named groups of phrases, like\n  payment:\n    es: [pagar, cobran]\n    ht: [peye, lajan]\n    en: [pay, fee]",
        )
        return {}
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for name, langs in block.items():
        at = block.key_lines[name]
        ok = True
        if not isinstance(name, str) or not _NAME.match(name):
            add(
                at,
                f'the signal name "{name}" must be lowercase letters and digits, joined by "_" or "-" (like documents_by_chat)',
            )
            ok = False
        if not isinstance(langs, LineDict):
            add(
                at,
                f'the signal "{name}" must have three lists of phrases under it: es:, ht: and en: (it is {_describe(langs)})',
            )
            continue
        for key in langs:
            if key not in LANGS:
                add(langs.key_lines[key], f'unknown language "{key}" in the signal "{name}" (allowed: es, ht, en)')
                ok = False
        phrases: dict[str, tuple[str, ...]] = {}
        for lang in LANGS:
            if lang not in langs:
                add(at, f'the signal "{name}" has no "{lang}:" list; every signal needs es:, ht: and en:')
                ok = False
                continue
            got = _parse_phrases(langs[lang], langs.value_lines[lang], name, lang, add)
            if got is None:
                ok = False
            else:
                phrases[lang] = got
        if ok:
            out[str(name)] = phrases
    return out


def _parse_phrases(items: object, line: int, name: str, lang: str, add) -> tuple[str, ...] | None:
    where = f'the signal "{name}" ({lang})'
    if not isinstance(items, LineList) or not items:
        add(
            line,
            f'the "{lang}" phrases of the signal "{name}" must be a list in [ ] with at least one phrase (it is {_describe(items)})',
        )
        return None
    ok = True
    out: list[str] = []
    seen: dict[str, int] = {}
    for item, at in zip(items, items.item_lines):
        if isinstance(item, bool):
            word = "no" if item is False else "yes"
            add(
                at,
                f'a phrase of {where} was read as {_describe(item)}: YAML reads words like no, yes, on, off as true/false; put the word in quotes, like "{word}"',
            )
            ok = False
            continue
        if isinstance(item, int):
            item = str(item)
        if not isinstance(item, str) or not item.strip():
            add(
                at,
                f"a phrase of {where} is {_describe(item)}, not a word or phrase; write it as text (in quotes if in doubt)",
            )
            ok = False
            continue
        phrase = item.strip()
        message = _phrase_problem(phrase)
        if message:
            add(at, f'the phrase "{phrase}" of {where} {message}')
            ok = False
            continue
        key = " ".join(_phrase_atoms(phrase) or [])
        if key in seen:
            add(
                at, f'the phrase "{phrase}" of {where} is already in the list (line {seen[key]}); remove one', "warning"
            )
        seen.setdefault(key, at)
        out.append(phrase)
    return tuple(out) if ok else None


def _phrase_problem(phrase: str) -> str | None:
    for token in phrase.split():
        if token == "*":
            continue
        if "*" in token.rstrip("*") or token.endswith("**"):
            return 'has a * inside a word; a * may only end a word ("reabr*") or stand alone for any one word ("extender * parole")'
        if token.endswith("*") and len(fold(token.rstrip("*"))) < MIN_STEM:
            return f'has a * after fewer than {MIN_STEM} letters ("{token}"); such a short start matches far too many words'
    words = phrase.split()
    if words and (words[0] == "*" or words[-1] == "*"):
        return "starts or ends with a lone *; a lone * stands for one word between two others"
    atoms = _phrase_atoms(phrase)
    if not atoms or all(a == _ANY for a in atoms):
        return "has no letters or digits, so it can never match"
    return None


def _parse_rules(data: LineDict, signals: Mapping[str, object], add) -> list[Rule]:
    block = data.get("rules")
    if "rules" not in data:
        return []
    line = data.key_lines["rules"]
    if not isinstance(block, LineList):
        add(line, 'rules: must be a list of rules, each starting with "- name:" (see the top of the file)')
        return []
    signals_ok = isinstance(data.get("signals"), LineDict)
    defined = set(data["signals"]) if signals_ok else set()
    known = ", ".join(sorted(str(s) for s in defined)) or "none"
    out: list[Rule] = []
    names: dict[str, int] = {}
    for item, at in zip(block, block.item_lines):
        if not isinstance(item, LineDict):
            add(at, "each rule needs name: and all:, like\n  - name: paid-reopening\n    all: [payment, reopening]")
            continue
        ok = True
        for key in item:
            if key not in RULE_KEYS:
                add(item.key_lines[key], f'unknown field "{key}" in a rule (allowed: name, all, unless, entry)')
                ok = False
        name = item.get("name")
        who = f'the rule "{name}"' if isinstance(name, str) and name.strip() else "this rule"
        if "name" not in item:
            add(at, "this rule has no name:")
            ok = False
        elif not (isinstance(name, str) and _ENTRY.match(name)):
            add(
                item.key_lines["name"],
                f'the rule name {_describe(name)} must be lowercase words joined by "-" (like paid-reopening)',
            )
            ok = False
        elif name in names:
            add(
                item.key_lines["name"],
                f'the rule name "{name}" is already used on line {names[name]}; every rule needs its own name',
            )
            ok = False
        else:
            names[name] = item.key_lines["name"]
        wanted = item.get("all")
        if "all" not in item:
            add(at, f"{who} has no all: list of signals")
            ok = False
            wanted = LineList()
        elif not isinstance(wanted, LineList) or not wanted:
            add(
                item.key_lines["all"], f"all: of {who} must be a list of signal names in [ ], like [payment, reopening]"
            )
            ok = False
            wanted = LineList()
        else:
            for sig, sig_line in zip(wanted, wanted.item_lines):
                if not isinstance(sig, str) or sig not in defined:
                    add(
                        sig_line,
                        f"{who} uses the signal {_describe(sig)}, which is not defined under signals: (known: {known})",
                    )
                    ok = False
            if len(set(map(str, wanted))) != len(wanted):
                add(item.key_lines["all"], f"{who} names the same signal twice", "warning")
        unless = item.get("unless", LineList())
        if "unless" in item:
            if not isinstance(unless, LineList) or not unless:
                add(
                    item.key_lines["unless"],
                    f"unless: of {who} must be a list of signal names in [ ], like [not_an_offer]",
                )
                ok = False
                unless = LineList()
            else:
                for sig, sig_line in zip(unless, unless.item_lines):
                    if not isinstance(sig, str) or sig not in defined:
                        add(
                            sig_line,
                            f"{who} uses the signal {_describe(sig)}, which is not defined under signals: (known: {known})",
                        )
                        ok = False
                    elif sig in wanted:
                        add(
                            sig_line, f'{who} names the signal "{sig}" both in all: and in unless:, so it never matches'
                        )
                        ok = False
        entry = item.get("entry")
        if "entry" in item and not (isinstance(entry, str) and _ENTRY.match(entry)):
            add(item.key_lines["entry"], f"entry: of {who} must be the id of a knowledge entry, like scam-reopening")
            ok = False
        if ok and all(s in signals for s in (*wanted, *unless)):
            out.append(Rule(str(name), tuple(dict.fromkeys(wanted)), entry, at, tuple(dict.fromkeys(unless))))
    return out
