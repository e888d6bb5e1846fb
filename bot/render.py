"""The one renderer: every message the bot shows, as Telegram HTML and as plain text.

A ``Screen`` holds the text twice (``html`` for Telegram, ``plain`` for the terminal chat) and
its buttons. Everything that comes from users or from the YAML files is escaped here and
nowhere else; the only tags are the ones this module writes. Pure: no Telegram import.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from babel.dates import format_date

from bot import callbacks
from bot.i18n import _
from bot.knowledge import CATEGORIES, Entry, KnowledgeBase
from bot.langs import LANG_NAMES, LANGS

#: Telegram's limit for one message.
MESSAGE_LIMIT = 4096

# CLDR's Haitian Creole data still carries French month names; these are the Creole ones.
_HT_MONTHS = {
    "janvier": "janvye", "février": "fevriye", "mars": "mas", "avril": "avril", "mai": "me",
    "juin": "jen", "juillet": "jiyè", "août": "out", "septembre": "septanm", "octobre": "oktòb",
    "novembre": "novanm", "décembre": "desanm",
}


@dataclass(frozen=True)
class Button:
    label: str
    data: str = ""  # callback data (see bot.callbacks)
    url: str = ""  # or a link


@dataclass(frozen=True)
class Screen:
    html: str
    plain: str
    buttons: tuple[tuple[Button, ...], ...] = field(default_factory=tuple)

    def chunks(self) -> list[str]:
        """The HTML split into messages of at most 4,096 characters, at paragraph breaks."""
        return split_message(self.html)


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def format_day(day: dt.date, lang: str) -> str:
    """A date written out in ``lang`` ("23 de noviembre de 2026", "23 novanm 2026")."""
    text = format_date(day, format="long", locale=lang)
    if lang == "ht":
        text = " ".join(_HT_MONTHS.get(word, word) for word in text.split())
    return text


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split at blank lines, then lines, then spaces, never inside a tag or an entity."""
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for separator_piece in _pieces(text, limit):
        if current and len(current) + len(separator_piece) > limit:
            chunks.append(current.rstrip())
            current = separator_piece.lstrip("\n")
        else:
            current += separator_piece
    if current.strip():
        chunks.append(current.rstrip())
    return chunks


def _pieces(text: str, limit: int) -> list[str]:
    pieces: list[str] = []
    for index, paragraph in enumerate(text.split("\n\n")):
        prefix = "\n\n" if index else ""
        if len(paragraph) + len(prefix) <= limit:
            pieces.append(prefix + paragraph)
            continue
        words: list[str] = []
        for part in paragraph.split(" "):  # a space inside a tag (<a href="...">) is no break
            if words and words[-1].rfind("<") > words[-1].rfind(">"):
                words[-1] += " " + part
            else:
                words.append(part)
        line = prefix
        for word in words:
            while len(word) > limit - 1:  # a single enormous "word": cut it where no tag/entity is open
                cut = _safe_cut(word, limit - 1)
                if line.strip():
                    pieces.append(line)
                pieces.append(word[:cut])
                word, line = word[cut:], ""
            if len(line) + len(word) + 1 > limit:
                pieces.append(line)
                line = ""
            line += (" " if line.strip() else "") + word
        if line:
            pieces.append(line)
    return pieces


def _safe_cut(word: str, at: int) -> int:
    cut = at
    for opener, closer in (("<", ">"), ("&", ";")):
        start = word.rfind(opener, 0, cut)
        if start != -1 and word.find(closer, start, cut) == -1 and start > 0:
            cut = start
    return cut


class Renderer:
    """Builds screens for one knowledge base."""

    def __init__(self, kb: KnowledgeBase, bot_username: str = "") -> None:
        self.kb = kb
        self.bot_username = bot_username

    # -- pieces ----------------------------------------------------------------------------

    def title(self, entry: Entry, lang: str) -> str:
        text = entry.text(lang)
        if text.title:
            return text.title
        first = text.questions[0]
        return first[:1].upper() + first[1:]

    def _entry_button(self, entry_id: str, lang: str, prefix: str = "") -> Button | None:
        entry = self.kb.get(entry_id)
        if entry is None:
            return None
        return Button(prefix + self.title(entry, lang), callbacks.encode("a", entry_id))

    def human_button(self, lang: str, entry_id: str = "") -> Button:
        return Button("🙋 " + _(lang, "Talk to a person"), callbacks.encode("h", entry_id))

    def category_label(self, category: str, lang: str) -> str:
        labels = {
            "closure": _(lang, "End of parole (CHNV)"),
            "scams": _(lang, "Scams and fake offers"),
            "alternatives": _(lang, "Legal options and help"),
            "bot": _(lang, "About this bot"),
        }
        return labels[category]

    # -- screens ---------------------------------------------------------------------------

    def answer(self, entry: Entry, lang: str, *, extra_buttons: Sequence[Button] = ()) -> Screen:
        text = entry.text(lang)
        reviewed = _(lang, "Reviewed: {date}", date=format_day(entry.reviewed, lang))
        disclaimer = _(lang, "General information, not legal advice.")
        sources_html = "; ".join(f'<a href="{html.escape(s.url, quote=True)}">{esc(s.title)}</a>' for s in entry.sources)
        sources_plain = "\n".join(f"- {s.title}: {s.url}" for s in entry.sources)
        label = _(lang, "Sources:")
        helpful = _(lang, "Was this helpful?")
        body_html = esc(text.answer)
        parts_html = [body_html, f"<i>{esc(reviewed)} · {esc(disclaimer)}</i>\n{esc(label)} {sources_html}"]
        parts_plain = [text.answer, f"{reviewed} · {disclaimer}\n{label}\n{sources_plain}"]
        if entry.urgent:
            urgent = _(lang, "If this is happening now, press “Talk to a person”: a volunteer will see your message first.")
            parts_html.insert(1, f"<b>{esc(urgent)}</b>")
            parts_plain.insert(1, urgent)
        parts_html.append(esc(helpful))
        parts_plain.append(helpful)
        rows: list[tuple[Button, ...]] = []
        if entry.urgent:
            rows.append((self.human_button(lang, entry.id),))
        for rel in entry.related[:3]:
            button = self._entry_button(rel, lang, "➡️ ")
            if button:
                rows.append((button,))
        rows.append((
            Button("👍 " + _(lang, "Yes"), callbacks.encode("y", entry.id)),
            Button("👎 " + _(lang, "No"), callbacks.encode("n", entry.id)),
        ))
        if extra_buttons:
            rows.append(tuple(extra_buttons))
        if not entry.urgent:
            rows.append((self.human_button(lang, entry.id),))
        return Screen("\n\n".join(parts_html), "\n\n".join(parts_plain), tuple(rows))

    def suggest(self, entry_ids: Sequence[str], lang: str) -> Screen:
        text = _(lang, "I'm not sure I understood. Did you mean one of these?")
        rows = [(b,) for b in (self._entry_button(e, lang) for e in entry_ids) if b]
        rows.append((Button("🙋 " + _(lang, "None of these — talk to a person"), callbacks.encode("h")),))
        return Screen(esc(text), text, tuple(rows))

    def escalate(self, lang: str, *, volunteers: bool = True) -> Screen:
        text = _(lang, "I don't have a reliable answer to that. A volunteer can read your question and reply here.")
        if not volunteers:
            text = _(lang, "I don't have a reliable answer to that, and no volunteer is available right now.")
        rows = ((self.human_button(lang),), (Button("📚 " + _(lang, "See all topics"), callbacks.encode("m")),))
        return Screen(esc(text), text, rows)

    def smalltalk(self, message: str, lang: str) -> Screen:
        return Screen(esc(message), message, self.menu_rows(lang))

    def menu_rows(self, lang: str) -> tuple[tuple[Button, ...], ...]:
        return tuple((Button(self.category_label(c, lang), callbacks.encode("c", c)),) for c in CATEGORIES)

    def welcome(self, lang: str) -> Screen:
        hello = _(lang, "Hello! I answer questions about the end of humanitarian parole (CHNV), scams and legal options, in Spanish, Haitian Creole and English.")
        disclaimer = _(lang, "General information from public sources, not legal advice. This bot is not the government and never asks for money or documents.")
        how = _(lang, "Write your question in your own words, or pick a topic:")
        return Screen(f"{esc(hello)}\n\n<i>{esc(disclaimer)}</i>\n\n{esc(how)}", f"{hello}\n\n{disclaimer}\n\n{how}", self.menu_rows(lang))

    def help(self, lang: str) -> Screen:
        lines = [
            _(lang, "How I can help:"),
            _(lang, "- Write a question in your own words (Spanish, Kreyòl or English)."),
            _(lang, "- /topics shows every topic; /language changes the language."),
            _(lang, "- /human asks a volunteer to read your chat (volunteers are not lawyers)."),
            _(lang, "- /forget deletes everything this bot keeps about you."),
            _(lang, "I never ask for money, passwords or photos of your documents."),
        ]
        text = "\n".join(lines)
        return Screen(esc(text), text, ((self.human_button(lang),),))

    def menu(self, lang: str) -> Screen:
        text = _(lang, "Pick a topic:")
        return Screen(esc(text), text, self.menu_rows(lang))

    def category(self, category: str, lang: str) -> Screen:
        text = self.category_label(category, lang)
        rows = [(b,) for b in (self._entry_button(e.id, lang) for e in self.kb.in_category(category)) if b]
        rows.append((Button("⬅️ " + _(lang, "All topics"), callbacks.encode("m")),))
        return Screen(f"<b>{esc(text)}</b>", text, tuple(rows))

    def language_picker(self, lang: str) -> Screen:
        text = _(lang, "Choose your language:")
        rows = tuple((Button(LANG_NAMES[code], callbacks.encode("l", code)),) for code in LANGS)
        return Screen(esc(text), text, rows)

    def notice(self, message: str) -> Screen:
        """A plain message with no buttons (already translated)."""
        return Screen(esc(message), message)

    # -- Telegram-only screens ---------------------------------------------------------------

    def language_picker_any(self) -> Screen:
        """The language picker for someone whose language is not known yet (asked in all three)."""
        text = " · ".join(_(code, "Choose your language:") for code in LANGS)
        rows = tuple((Button(LANG_NAMES[code], callbacks.encode("l", code)),) for code in LANGS)
        return Screen(esc(text), text, rows)

    def human_unavailable(self, lang: str) -> Screen:
        """"Talk to a person" while volunteers are not connected: how to find help meanwhile."""
        note = _(lang, "Volunteers are not connected to this bot yet. Meanwhile, this is how to get help from a person:")
        entry = self.kb.get("find-lawyer")
        answer = entry.text(lang).answer if entry else ""
        rows = ((Button("📚 " + _(lang, "See all topics"), callbacks.encode("m")),),)
        html_parts = [f"<b>{esc(note)}</b>"] + ([esc(answer)] if answer else [])
        return Screen("\n\n".join(html_parts), "\n\n".join([note] + ([answer] if answer else [])), rows)

    def not_helpful(self, entry_id: str, lang: str) -> Screen:
        """After "No, this did not help": try other words, or a person."""
        text = _(lang, "Sorry this did not help. You can ask again in other words, or talk to a person.")
        rows = ((self.human_button(lang, entry_id),), (Button("📚 " + _(lang, "See all topics"), callbacks.encode("m")),))
        return Screen(esc(text), text, rows)

    def expired(self, lang: str) -> Screen:
        """A button that is too old, or that was tampered with."""
        text = _(lang, "This button has expired. Here are the topics:")
        return Screen(esc(text), text, self.menu_rows(lang))

    def only_text(self, lang: str, *, documents: bool = False) -> Screen:
        """A sticker, photo, voice message, file or location instead of text."""
        text = _(lang, "I can only read text messages. Please write your question in words.")
        if documents:
            text += "\n" + _(lang, "For your safety, do not send photos of your documents or papers here.")
        return Screen(esc(text), text)

    def too_long(self, lang: str) -> Screen:
        text = _(lang, "Your message is too long for me. Please ask your question in a few sentences.")
        return Screen(esc(text), text)

    def edited(self, lang: str) -> Screen:
        text = _(lang, "I only read new messages. If you corrected your question, please send it again.")
        return Screen(esc(text), text)
