"""Translation drift: which answers were translated from an older source-language answer.

Each entry names its ``source_lang`` (default ``es``); every other language block records
``translated_from``, the fingerprint of the source answer it was translated from. When the
source answer changes, the fingerprint no longer matches and ``check`` warns.
``python -m bot translations`` lists the stale ones; ``--stamp ENTRY LANG`` records that a
person reviewed the translation against the current source answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.core.knowledge import Entry, KnowledgeBase


@dataclass(frozen=True)
class Stale:
    entry_id: str
    lang: str
    source_lang: str
    file: str
    line: int
    reason: str  # "changed" | "never stamped"


def stale(kb: KnowledgeBase) -> list[Stale]:
    out = []
    for entry in kb:
        for lang in entry.stale_translations():
            text = entry.texts[lang]
            out.append(
                Stale(
                    entry.id,
                    lang,
                    entry.source_lang,
                    entry.file,
                    text.translated_from_line or entry.lines.get(lang, entry.line),
                    "changed" if text.translated_from else "never stamped",
                )
            )
    return out


def stamp(entry: Entry, lang: str) -> bool:
    """Write the current source fingerprint into ``lang``'s block of the entry's file.

    Returns False when ``lang`` is the entry's source language (nothing to stamp)."""
    if lang == entry.source_lang or lang not in entry.texts:
        return False
    value = entry.texts[entry.source_lang].fingerprint
    path = Path(entry.file)
    text = path.read_text(encoding="utf-8")
    block = re.search(rf"^{lang}:[ \t]*\n", text, flags=re.M)
    if block is None:
        raise ValueError(f"{entry.file}: no top-level '{lang}:' block found")
    start = block.end()
    nxt = re.search(r"^\S", text[start:], flags=re.M)
    end = start + nxt.start() if nxt else len(text)
    body = text[start:end]
    line = f'  translated_from: "{value}"\n'
    if re.search(r"^  translated_from:.*\n", body, flags=re.M):
        body = re.sub(r"^  translated_from:.*\n", line, body, count=1, flags=re.M)
    else:
        body = line + body
    path.write_text(text[:start] + body + text[end:], encoding="utf-8")
    return True
