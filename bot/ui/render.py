"""The one renderer: every message the bot shows, as Telegram HTML and as plain text.

A ``Screen`` holds the text twice (``html`` for Telegram, ``plain`` for the terminal chat) and
its buttons. Everything that comes from users or from the YAML files is escaped here and
nowhere else; the only tags are the ones this module writes. Pure: no Telegram import.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from babel.dates import format_date

from bot.core.conversation import Reply
from bot.core.knowledge import CATEGORIES, OUT_OF_SCOPE, Entry, KnowledgeBase
from bot.core.langs import LANG_NAMES, LANGS
from bot.core.learning import REPHRASE, SUGGESTION, VOLUNTEER, Group
from bot.core.normalize import fold
from bot.ui import callbacks
from bot.ui.i18n import _

#: Related topics offered under an answer: with "was this helpful", a person and "More" the
#: keyboard stays at five rows, so the answer itself stays on a small phone's screen.
RELATED_SHOWN = 2
#: Telegram's limit for one message.
MESSAGE_LIMIT = 4096
#: The entry that explains how to reach a person (not shown as a related topic under an answer
#: that already has the "talk to a person" button).
PERSON_ENTRY = "talk-to-human"
#: Telegram's limit for a caption (photos, files).
CAPTION_LIMIT = 1024
#: Characters of the answer an inline card shows under its title.
CARD_SNIPPET = 90

# Haitian Creole month names, ours rather than CLDR's: CLDR's "ht" data has changed between Babel
# releases (French month names in 2.18, "M11" in 2.19), so Creole dates never depend on it.
HT_MONTHS = (
    "janvye",
    "fevriye",
    "mas",
    "avril",
    "me",
    "jen",
    "jiyè",
    "out",
    "septanm",
    "oktòb",
    "novanm",
    "desanm",
)


@dataclass(frozen=True)
class Button:
    label: str
    data: str = ""  # callback data (see bot.ui.callbacks)
    url: str = ""  # or a link
    #: or, when not None, Telegram's chat picker: the chosen chat's input field gets
    #: "@<bot> <inline_query>" and shows this bot's inline answers (``Renderer.inline_card``)
    inline_query: str | None = None


@dataclass(frozen=True)
class Screen:
    html: str
    plain: str
    buttons: tuple[tuple[Button, ...], ...] = field(default_factory=tuple)

    def chunks(self) -> list[str]:
        """The HTML split into messages of at most 4,096 characters, at paragraph breaks."""
        return split_message(self.html)


@dataclass(frozen=True)
class Card:
    """One inline answer (``@bot question`` in any chat): what the list of results shows (title
    and description) and the message it puts into the chat when chosen (``screen``)."""

    id: str
    title: str
    description: str
    screen: Screen


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def format_day(day: dt.date, lang: str) -> str:
    """A date written out in ``lang`` ("23 de noviembre de 2026", "23 novanm 2026")."""
    if lang == "ht":
        return f"{day.day} {HT_MONTHS[day.month - 1]} {day.year}"
    return format_date(day, format="long", locale=lang)


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

    def __init__(
        self,
        kb: KnowledgeBase,
        bot_username: str = "",
        operator_name: str = "",
        operator_contact: str = "",
        *,
        inline_mode: bool = False,
    ) -> None:
        self.kb = kb
        self.bot_username = bot_username
        self.operator_name = operator_name
        self.operator_contact = operator_contact
        #: The bot answers inline queries (BotFather /setinline): "Share this answer" opens
        #: Telegram's chat picker; without it there is nothing to share with, so no button.
        self.inline_mode = inline_mode
        self._titles: dict[str, tuple[Entry, str]] | None = None

    def answer_text(self, entry: Entry, lang: str) -> str:
        """The answer in force today, with the operator's name and contact (OPERATOR_NAME,
        OPERATOR_CONTACT) filled in where the answer writes {operator_name} / {operator_contact}."""
        text = entry.text(lang).answer
        if "{operator_" not in text:
            return text
        unset = _(lang, "(not set yet)")
        return text.replace("{operator_name}", self.operator_name or unset).replace(
            "{operator_contact}", self.operator_contact or unset
        )

    # -- pieces ----------------------------------------------------------------------------

    def title(self, entry: Entry, lang: str) -> str:
        text = entry.text(lang)
        if text.title:
            return text.title
        first = text.questions[0]
        return first[:1].upper() + first[1:]

    def _entry_button(self, entry_id: str, lang: str, prefix: str = "", action: str = "a") -> Button | None:
        entry = self.kb.get(entry_id)
        if entry is None:
            return None
        return Button(prefix + self.title(entry, lang), callbacks.encode(action, entry_id))

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

    def answer(
        self,
        entry: Entry,
        lang: str,
        *,
        extra_buttons: Sequence[Button] = (),
        scam_warning: bool = False,
        person: bool = True,
        consent_hours: int | None = None,
    ) -> Screen:
        """An entry's answer. ``scam_warning``: the user's message matched the scam radar, so a
        warning comes first (above the scam entry, or above the answer the user asked for).
        ``person=False``: no "talk to a person" button (a volunteer is already talking).
        ``consent_hours``: volunteers are connected and answer within about that many hours: an
        urgent entry then carries the consent question itself, so one tap opens the request."""
        one_tap = entry.urgent and person and consent_hours is not None
        reviewed = _(lang, "Reviewed: {date}", date=format_day(entry.reviewed, lang))
        disclaimer = _(lang, "General information, not legal advice.")
        sources_html = "; ".join(
            f'<a href="{html.escape(s.url, quote=True)}">{esc(s.title_in(lang))}</a>' for s in entry.sources
        )
        sources_plain = "\n".join(f"- {s.title_in(lang)}: {s.url}" for s in entry.sources)
        label = _(lang, "Sources:")
        helpful = _(lang, "Was this helpful?")
        answer = self.answer_text(entry, lang)
        body_html = esc(answer)
        parts_html = [body_html, f"<i>{esc(reviewed)} · {esc(disclaimer)}</i>\n{esc(label)} {sources_html}"]
        parts_plain = [answer, f"{reviewed} · {disclaimer}\n{label}\n{sources_plain}"]
        if one_tap and consent_hours is not None:
            consent = self.consent(lang, consent_hours).plain.split("\n")
            parts_html.insert(1, "<b>" + esc(consent[0]) + "</b>\n" + esc("\n".join(consent[1:])))
            parts_plain.insert(1, "\n".join(consent))
        elif entry.urgent and person:
            urgent = _(
                lang, "If this is happening now, press “Talk to a person”: a volunteer will see your message first."
            )
            parts_html.insert(1, f"<b>{esc(urgent)}</b>")
            parts_plain.insert(1, urgent)
        if scam_warning:
            warning = "⚠️ " + _(
                lang,
                "Careful: your message looks like a common scam. Do not pay and do not send documents or codes. This bot never asks for money.",
            )
            parts_html.insert(0, f"<b>{esc(warning)}</b>")
            parts_plain.insert(0, warning)
        parts_html.append(esc(helpful))
        parts_plain.append(helpful)
        rows: list[tuple[Button, ...]] = []
        if one_tap:
            rows.append((Button("✅ " + _(lang, "Yes, send to a volunteer now"), callbacks.encode("u", entry.id)),))
        elif entry.urgent and person:
            rows.append((self.human_button(lang, entry.id),))
        # the entry on reaching a person is not repeated next to the button that does it
        shown = [rel for rel in entry.related if not (person and rel == PERSON_ENTRY)][:RELATED_SHOWN]
        for rel in shown:
            button = self._entry_button(rel, lang, "➡️ ")
            if button:
                rows.append((button,))
        rows.append(
            (
                Button("👍 " + _(lang, "Yes"), callbacks.encode("y", entry.id)),
                Button("👎 " + _(lang, "No"), callbacks.encode("n", entry.id)),
            )
        )
        if extra_buttons:
            rows.append(tuple(extra_buttons))
        if not entry.urgent and person:
            rows.append((self.human_button(lang, entry.id),))
        rows.append((Button("⋯ " + _(lang, "More"), callbacks.encode("o", entry.id)),))
        return Screen("\n\n".join(parts_html), "\n\n".join(parts_plain), tuple(rows))

    def more_buttons(self, entry_id: str, lang: str) -> tuple[Button, ...]:
        """What "More" under an answer opens: follow the answer, share it (Telegram's chat
        picker, with the answer's title typed after the bot's name: ``titled`` finds it again)."""
        follow = Button("🔔 " + _(lang, "Tell me if this changes"), callbacks.encode("w", entry_id))
        entry = self.kb.get(entry_id)
        if entry is None or not self.inline_mode or not self.bot_username:
            return (follow,)
        return (follow, Button("📤 " + _(lang, "Share this answer"), inline_query=self.title(entry, lang)))

    def titled(self, text: str) -> tuple[Entry, str] | None:
        """The entry and language whose title is ``text`` (folded: case, accents and punctuation
        do not count), or None: the query "Share this answer" types finds its own answer."""
        if self._titles is None:
            self._titles = {}
            for entry in self.kb:
                for lang in entry.texts:
                    self._titles.setdefault(fold(self.title(entry, lang)), (entry, lang))
        return self._titles.get(fold(text)) if text.strip() else None

    def deep_link(self, entry_id: str = "") -> str:
        """``https://t.me/<bot>?start=<entry>``: opens this bot on that answer (``/start <entry>``)."""
        if not self.bot_username:
            return ""
        return f"https://t.me/{self.bot_username}" + (f"?start={entry_id}" if entry_id else "")

    def share_card(self, entry: Entry, lang: str) -> Screen:
        """A compact card to post in any chat: the answer, its reviewed date, its sources and a
        link (and a button) that opens this bot on the same answer, so a correct answer can
        travel like a rumour. At most one Telegram message: a very long answer is cut, the link
        leads to the rest."""
        reviewed = _(lang, "Reviewed: {date}", date=format_day(entry.reviewed, lang))
        disclaimer = _(lang, "General information, not legal advice.")
        sources = "\n".join(f"- {s.title_in(lang)}: {s.url}" for s in entry.sources)
        link = self.deep_link(entry.id)
        ask = _(lang, "More answers, in Spanish, Kreyòl and English:") + (f" {link}" if link else "")
        title = self.title(entry, lang)
        answer = self.answer_text(entry, lang)
        frame = f"{title}\n\n\n\n{reviewed} · {disclaimer}\n{_(lang, 'Sources:')}\n{sources}\n\n{ask}"
        room = MESSAGE_LIMIT - len(frame)
        if len(answer) > room:
            answer = answer[: max(0, room - 1)].rstrip() + "…"
        plain = f"{title}\n\n{answer}\n\n{reviewed} · {disclaimer}\n{_(lang, 'Sources:')}\n{sources}\n\n{ask}"
        html_text = (
            f"<b>{esc(title)}</b>\n\n{esc(answer)}\n\n<i>{esc(reviewed)} · {esc(disclaimer)}</i>\n"
            f"{esc(_(lang, 'Sources:'))}\n{esc(sources)}\n\n{esc(ask)}"
        )
        rows = ((Button("💬 " + _(lang, "Open this answer in the bot"), url=link),),) if link else ()
        return Screen(html_text, plain, rows)

    def inline_card(self, entry: Entry, lang: str) -> Card:
        """An entry as an inline answer: its title, the reviewed date and the start of the
        answer in the list; the share card in the chat."""
        reviewed = _(lang, "Reviewed: {date}", date=format_day(entry.reviewed, lang))
        answer = " ".join(self.answer_text(entry, lang).split())
        snippet = answer if len(answer) <= CARD_SNIPPET else answer[: CARD_SNIPPET - 1].rstrip() + "…"
        return Card(
            f"{entry.id}.{lang}", self.title(entry, lang), f"{reviewed} · {snippet}", self.share_card(entry, lang)
        )

    def inline_invite(self, lang: str) -> Card:
        """The inline answer when nothing in the knowledge base fits: an invitation to ask the
        bot in private (in their own words, or a volunteer)."""
        title = _(lang, "Ask the bot in private")
        description = _(
            lang, "No reliable answer to this here. In the bot you can ask in your own words or talk to a volunteer."
        )
        hello = _(
            lang,
            "Hello! I answer questions about the end of humanitarian parole (CHNV), scams and legal options, in Spanish, Haitian Creole and English.",
        )
        disclaimer = _(lang, "General information, not legal advice.")
        link = self.deep_link()
        ask = _(lang, "Ask me in private:") + (f" {link}" if link else "")
        rows = ((Button("💬 " + _(lang, "Ask the bot in private"), url=link),),) if link else ()
        screen = Screen(
            f"{esc(hello)}\n\n<i>{esc(disclaimer)}</i>\n\n{esc(ask)}", f"{hello}\n\n{disclaimer}\n\n{ask}", rows
        )
        return Card(f"ask.{lang}", title, description, screen)

    def suggest(self, entry_ids: Sequence[str], lang: str) -> Screen:
        text = _(lang, "I'm not sure I understood. Did you mean one of these?")
        # "g": the pick also teaches the bot (the question becomes a candidate phrasing)
        rows = [(b,) for b in (self._entry_button(e, lang, action="g") for e in entry_ids) if b]
        rows.append((Button("🙋 " + _(lang, "None of these — talk to a person"), callbacks.encode("h")),))
        return Screen(esc(text), text, tuple(rows))

    def escalate(self, lang: str, *, volunteers: bool = True) -> Screen:
        text = _(lang, "I don't have a reliable answer to that. A volunteer can read your question and reply here.")
        if not volunteers:
            text = _(lang, "I don't have a reliable answer to that, and no volunteer is available right now.")
        return Screen(esc(text), text, self.way_out(lang))

    def not_delivered(self, lang: str) -> Screen:
        """Telegram refused a message the bot had for the person: say so, and the way out."""
        text = _(
            lang,
            "Sorry, a message I had for you could not be shown. Please ask again, pick a topic or talk to a person.",
        )
        return Screen(esc(text), text, self.way_out(lang))

    def volunteers_unreachable(self, lang: str) -> Screen:
        """The volunteers' group cannot be reached for now: the truth, and that nothing is lost."""
        text = _(
            lang,
            "The volunteers cannot be reached right now because of a technical problem on our side. "
            "Your messages are kept and will reach them as soon as it is fixed. If you are in danger, call 911.",
        )
        return Screen(esc(text), text)

    def admin_alert(self, lang: str, key: str, **values: object) -> Screen:
        """Alerts for the bot's admins (ADMIN_USER_IDS)."""
        alerts = {
            "unreachable": lambda: _(
                lang,
                "⚠️ The bot cannot reach the volunteers' group ({reason}). People's messages are kept; "
                "they are delivered once the bot's rights are restored (checked every few seconds).",
                **values,
            ),
            "reachable": lambda: _(
                lang, "✅ The volunteers' group can be reached again: the messages kept are being delivered."
            ),
        }
        text = alerts[key]()
        return Screen(esc(text), text)

    def way_out(self, lang: str) -> tuple[tuple[Button, ...], ...]:
        """The buttons under every reply that is not an answer, so no reply is a dead end: a
        person (a volunteer; without volunteers connected, how to reach a lawyer or an
        accredited representative) and all the topics."""
        return ((self.human_button(lang),), (Button("📚 " + _(lang, "See all topics"), callbacks.encode("m")),))

    def smalltalk(self, kind: str, lang: str) -> Screen:
        """The polite reply to thanks, a goodbye or a greeting, with the topics (never a volunteer
        offer)."""
        if kind == "thanks":
            message = _(lang, "You're welcome! Ask me anything else about parole, scams or your options.")
        elif kind == "goodbye":
            message = _(lang, "Take care! Write to me whenever you have a question.")
        else:
            message = _(lang, "Hello! Write your question in your own words, or pick a topic.")
        return Screen(esc(message), message, self.menu_rows(lang))

    def reply(self, reply: Reply, *, volunteers: bool = True, hours: int | None = None) -> Screen:
        """The screen for the engine's reply (shared by Telegram, inline answers and the terminal).

        ``volunteers``: whether a person can take over an escalated question right now."""
        if reply.smalltalk:
            return self.smalltalk(reply.smalltalk, reply.lang)
        if reply.person:  # Telegram shows the consent screen instead; elsewhere: how to reach one
            return self.escalate(reply.lang, volunteers=volunteers)
        if reply.action == "answer" and reply.topic:
            entry = self.kb.get(reply.topic)
            if entry is not None:
                return self.answer(
                    entry, reply.lang, scam_warning=reply.scam is not None, consent_hours=hours if volunteers else None
                )
        if reply.action == "suggest":
            screen = self.suggest(reply.suggestions, reply.lang)
        else:
            screen = self.escalate(reply.lang, volunteers=volunteers)
        if reply.scam is not None:  # the warning first, above the suggestions or the offer of a person
            warning = self.scam_warning(reply.lang)
            screen = Screen(f"{warning.html}\n\n{screen.html}", f"{warning.plain}\n\n{screen.plain}", screen.buttons)
        return screen

    def menu_rows(self, lang: str) -> tuple[tuple[Button, ...], ...]:
        return tuple((Button(self.category_label(c, lang), callbacks.encode("c", c)),) for c in CATEGORIES)

    def welcome(self, lang: str) -> Screen:
        hello = _(
            lang,
            "Hello! I answer questions about the end of humanitarian parole (CHNV), scams and legal options, in Spanish, Haitian Creole and English.",
        )
        disclaimer = _(
            lang,
            "General information from public sources, not legal advice. This bot is not the government and never asks for money or documents.",
        )
        how = _(lang, "Write your question in your own words, or pick a topic:")
        return Screen(
            f"{esc(hello)}\n\n<i>{esc(disclaimer)}</i>\n\n{esc(how)}",
            f"{hello}\n\n{disclaimer}\n\n{how}",
            self.menu_rows(lang),
        )

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
        """ "Talk to a person" while no volunteer can be reached: how to find help meanwhile."""
        note = _(lang, "No volunteer is available right now. Meanwhile, this is how to get help from a person:")
        entry = self.kb.get("find-lawyer")
        answer = self.answer_text(entry, lang) if entry else ""
        rows = ((Button("📚 " + _(lang, "See all topics"), callbacks.encode("m")),),)
        html_parts = [f"<b>{esc(note)}</b>"] + ([esc(answer)] if answer else [])
        return Screen("\n\n".join(html_parts), "\n\n".join([note] + ([answer] if answer else [])), rows)

    def not_helpful(self, entry_id: str, lang: str) -> Screen:
        """After "No, this did not help": try other words, or a person."""
        text = _(lang, "Sorry this did not help. You can ask again in other words, or talk to a person.")
        rows = (
            (self.human_button(lang, entry_id),),
            (Button("📚 " + _(lang, "See all topics"), callbacks.encode("m")),),
        )
        return Screen(esc(text), text, rows)

    def expired(self, lang: str) -> Screen:
        """A button that is too old, or that was tampered with."""
        text = _(lang, "This button has expired. Here are the topics:")
        return Screen(esc(text), text, self.menu_rows(lang))

    def only_text(self, lang: str, *, documents: bool = False, voice: bool = False, volunteers: bool = True) -> Screen:
        """A sticker, photo, voice message, file or location instead of text."""
        if voice and volunteers:
            text = _(lang, "I can't listen to voice notes: write your question, or send it to a volunteer.")
        elif voice:
            text = _(lang, "I can't listen to voice notes: please write your question in words.")
        else:
            text = _(lang, "I can only read text messages. Please write your question in words.")
        if documents:
            text += "\n" + _(lang, "For your safety, do not send photos of your documents or papers here.")
        return Screen(esc(text), text, self.way_out(lang))

    def too_long(self, lang: str) -> Screen:
        text = _(lang, "Your message is too long for me. Please ask your question in a few sentences.")
        return Screen(esc(text), text, self.way_out(lang))

    def edited(self, lang: str) -> Screen:
        text = _(lang, "I only read new messages. If you corrected your question, please send it again.")
        return Screen(esc(text), text, self.way_out(lang))

    # -- talking to a person (bot.core.escalation): what the user sees ----------------------------

    def reply_estimate(self, lang: str, hours: int) -> str:
        """Roughly when a volunteer answers ("usually within a day")."""
        if hours <= 1:
            return _(lang, "usually within an hour")
        if hours < 24:
            return _(lang, "usually within {hours} hours", hours=hours)
        if hours == 24:
            return _(lang, "usually within a day")
        return _(lang, "usually within {days} days", days=-(-hours // 24))

    def consent(self, lang: str, hours: int) -> Screen:
        """Before anything goes to a person: who reads it, when, not legal advice, /forget."""
        title = _(lang, "Before a person reads your messages:")
        lines = [
            _(
                lang,
                "- Who reads them: volunteers who help with this bot. They are not the government and not lawyers.",
            ),
            _(lang, "- When: {estimate}.", estimate=self.reply_estimate(lang, hours)),
            _(lang, "- What they tell you is general information, not legal advice."),
            _(
                lang,
                "- Numbers such as your A-number, passport or phone number are hidden from them unless you choose to share them.",
            ),
            _(lang, "- You can delete your data at any time with /forget."),
        ]
        question = _(lang, "Nothing is sent until you agree. Do you want a volunteer to read your messages?")
        rows = (
            (
                Button("✅ " + _(lang, "Yes, send"), callbacks.encode("k", "yes")),
                Button("✖️ " + _(lang, "No"), callbacks.encode("k", "no")),
            ),
        )
        body = "\n".join(lines)
        return Screen(f"<b>{esc(title)}</b>\n{esc(body)}\n\n{esc(question)}", f"{title}\n{body}\n\n{question}", rows)

    def forget_confirm(self, lang: str) -> Screen:
        """/forget asks first: deleting cannot be undone."""
        text = _(
            lang,
            "This deletes everything I keep about you: your language, the answers you follow and any conversation with a volunteer (the volunteers are told it ended). It cannot be undone. Delete now?",
        )
        rows = (
            (
                Button("🗑️ " + _(lang, "Yes, delete everything"), callbacks.encode("f", "yes")),
                Button("✖️ " + _(lang, "No"), callbacks.encode("f", "no")),
            ),
        )
        return Screen(esc(text), text, rows)

    def forget_kept(self, lang: str) -> Screen:
        text = _(lang, "Nothing was deleted.")
        return Screen(esc(text), text, self.menu_rows(lang))

    def consent_declined(self, lang: str) -> Screen:
        text = _(lang, "All right: nothing was sent. You can keep asking me, or pick a topic:")
        return Screen(esc(text), text, self.menu_rows(lang))

    def _cancel_row(self, lang: str) -> tuple[Button, ...]:
        return (Button("✖️ " + _(lang, "Cancel my request"), callbacks.encode("x")),)

    def ticket_opened(self, lang: str, hours: int) -> Screen:
        """The request went to the volunteers: a person will answer here, when, how to cancel."""
        sent = _(
            lang,
            "Thank you. A volunteer will read your messages and answer here, {estimate}.",
            estimate=self.reply_estimate(lang, hours),
        )
        meanwhile = _(
            lang,
            "Until then I will not answer on my own: everything you write here goes to the volunteer. To cancel, send /cancel or press the button.",
        )
        return Screen(f"{esc(sent)}\n\n{esc(meanwhile)}", f"{sent}\n\n{meanwhile}", (self._cancel_row(lang),))

    def ticket_already_open(self, lang: str) -> Screen:
        text = _(lang, "A volunteer already has your request: just write here. To cancel, send /cancel.")
        return Screen(esc(text), text, (self._cancel_row(lang),))

    def request_cancelled(self, lang: str) -> Screen:
        text = _(
            lang,
            "Your request was cancelled and the volunteers were told. I answer your questions again; you can ask for a person at any time.",
        )
        return Screen(esc(text), text, self.menu_rows(lang))

    def no_open_request(self, lang: str) -> Screen:
        text = _(lang, "You have no open request with a volunteer.")
        return Screen(esc(text), text)

    def document_warning(self, lang: str) -> Screen:
        """A photo, file or contact while talking to a volunteer: think before sending it."""
        text = _(
            lang,
            "⚠️ Photos and files of documents (passport, parole notice, work permit...) and contacts show private numbers. Send one only if the volunteer needs it, and cover the numbers you do not want to share. Send this to the volunteer?",
        )
        rows = (
            (
                Button(_(lang, "Send it"), callbacks.encode("p", "yes")),
                Button(_(lang, "Do not send"), callbacks.encode("p", "no")),
            ),
        )
        return Screen(esc(text), text, rows)

    def document_sent(self, lang: str, sent: bool) -> Screen:
        text = _(lang, "Sent to the volunteer.") if sent else _(lang, "Not sent.")
        return Screen(esc(text), text)

    def identifiers_hidden(self, lang: str) -> Screen:
        """Offered once per request when a message had an A-number, phone number ..."""
        text = _(
            lang,
            "I hid numbers such as your A-number, passport or phone number from the volunteer. If the volunteer needs them, you can share them.",
        )
        return Screen(
            esc(text), text, ((Button("🔓 " + _(lang, "Share my numbers with the volunteer"), callbacks.encode("i")),),)
        )

    def identifiers_shared(self, lang: str) -> Screen:
        text = _(
            lang,
            "From now on the volunteer sees the numbers you write in this conversation. Send again any message they need.",
        )
        return Screen(esc(text), text)

    def ticket_closed(self, lang: str) -> Screen:
        """A volunteer closed the conversation: thanks, and "did this help?"."""
        text = _(
            lang,
            "The volunteer closed this conversation. Thank you for writing! I answer your questions again from now on.",
        )
        helped = _(lang, "Did the volunteer help you?")
        rows = (
            (
                Button("👍 " + _(lang, "Yes"), callbacks.encode("r", "yes")),
                Button("👎 " + _(lang, "No"), callbacks.encode("r", "no")),
            ),
        )
        return Screen(f"{esc(text)}\n\n{esc(helped)}", f"{text}\n\n{helped}", rows)

    # -- talking to a person: what the volunteers see (in the volunteers' language) ----------

    def desk_howto_text(self, lang: str, *, plain: bool = False) -> str:
        """How volunteers answer a ticket (pinned once in the group, or at the end of headers)."""
        if plain:
            return _(
                lang,
                "Reply to this message (or to any message of this ticket) to answer: your reply is copied to the person without your name. Replies starting with ! or /note stay here. Commands, as replies: /kb <id> sends an answer from the knowledge base, /lang es|ht|en changes the language, /close ends the conversation.",
            )
        else:
            return _(
                lang,
                "Write in this topic to answer: your messages are copied to the person without your name. Messages starting with ! or /note stay here. /kb <id> sends an answer from the knowledge base, /lang es|ht|en changes the language, /close ends the conversation.",
            )

    def desk_howto(self, lang: str, *, plain: bool = False) -> Screen:
        """The message pinned in the volunteers' group: how to answer the tickets."""
        title = _(lang, "How to answer the people who write to the bot:")
        html_text = f"<b>{esc(title)}</b>\n{esc(self.desk_howto_text(lang, plain=plain))}"
        return Screen(html_text, _plain(html_text))

    def ticket_header(
        self,
        lang: str,
        *,
        name: str,
        user_lang: str,
        waited: str,
        questions: Sequence[str],
        guesses: Sequence[tuple[str, float]],
        entry_id: str = "",
        plain: bool = False,
        reopened: bool = False,
        howto: bool = True,
    ) -> Screen:
        """The first message of a ticket: what the person asked (identifiers hidden), the bot's
        best guesses, their language, how long they have waited, and (``howto``: unless it is
        pinned in the group) how to answer."""
        lines = [f"<b>{esc(name)}</b>"]
        lines.append(
            esc(
                _(
                    lang,
                    "Language: {language} ({code}) · waiting {waited}",
                    language=LANG_NAMES.get(user_lang, user_lang),
                    code=user_lang,
                    waited=waited,
                )
            )
        )
        if reopened:
            lines.append(esc(_(lang, "(The ticket's topic was deleted: this is a new one.)")))
        entry = self.kb.get(entry_id) if entry_id else None
        if entry is not None:
            lines.append(
                esc(_(lang, "Came from the answer: {title} ({id})", title=self.title(entry, lang), id=entry.id))
            )
        if questions:
            lines.append("\n" + esc(_(lang, "What they asked (identifiers hidden):")))
            lines.extend("• " + esc(question) for question in questions)
        elif not reopened:
            lines.append("\n" + esc(_(lang, "They asked for a person without a question yet.")))
        known = [(self.kb.get(e), score) for e, score in guesses]
        if known and any(e is not None for e, _s in known):
            lines.append("\n" + esc(_(lang, "The bot's best guesses:")))
            # by title, with the command that sends that answer; no raw scores (they mean nothing to a person)
            lines.extend(f"• {esc(self.title(e, lang))} — /kb {esc(e.id)}" for e, _score in known if e is not None)
        if howto:
            lines.append("\n<i>" + esc(self.desk_howto_text(lang, plain=plain)) + "</i>")
        html_text = "\n".join(lines)
        return Screen(html_text, _plain(html_text))

    def urgent_mention(self, lang: str, *, name: str, waited: str, link: str | None) -> Screen:
        """Posted in the general topic when an urgent ticket opens."""
        text = _(
            lang,
            "⚠️ Urgent request {name}: someone may be detained or facing removal (waiting {waited}).",
            name=name,
            waited=waited,
        )
        html_text = esc(text)
        if link:
            label = _(lang, "Open the topic")
            html_text += f'\n<a href="{html.escape(link, quote=True)}">{esc(label)}</a>'
        return Screen(html_text, _plain(html_text))

    def scam_warning(self, lang: str) -> Screen:
        """Shown to a user whose message in an open ticket matched the scam radar."""
        text = "⚠️ " + _(
            lang,
            "Careful: your message looks like a common scam. Do not pay and do not send documents or codes. This bot never asks for money.",
        )
        return Screen(f"<b>{esc(text)}</b>", text)

    def desk_note(self, lang: str, key: str, **values: object) -> Screen:
        """Short notes the bot posts for the volunteers."""
        notes = {
            "cancelled": lambda: _(lang, "The person cancelled the request. Ticket closed."),
            "blocked": lambda: _(lang, "The person blocked the bot: ticket closed, nothing more can reach them."),
            "closed": lambda: _(lang, "Ticket closed. The person was thanked and asked whether this helped."),
            "is_closed": lambda: _(lang, "This ticket is closed: nothing was sent to the person."),
            "not_ticket": lambda: _(
                lang, "Use this command inside a ticket's topic (or as a reply to a ticket's message)."
            ),
            "kb_sent": lambda: _(lang, "Sent to the person: {title} ({id}), in {language}.", **values),
            "kb_unknown": lambda: _(lang, "There is no entry {id}. Closest: {ids}", **values),
            "kb_usage": lambda: _(lang, "Usage: /kb <entry id>, for example /kb find-lawyer"),
            "lang_set": lambda: _(lang, "The person's language is now {language}.", **values),
            "lang_usage": lambda: _(lang, "Usage: /lang es, /lang ht or /lang en"),
            "undelivered": lambda: _(lang, "A message could not be delivered to the person (Telegram refused it)."),
            "not_copied": lambda: _(lang, "A message from the person could not be copied here (Telegram refused it)."),
            "now_urgent": lambda: _(lang, "⚠️ The person wrote urgent words: the ticket is now marked urgent."),
            "scam": lambda: _(
                lang,
                "⚠️ Scam radar: the person's last message looks like a scam offer ({rule}). They were warned not to pay or send documents.",
                **values,
            ),
        }
        text = notes[key]()
        return Screen(esc(text), text)

    def queue(self, lang: str, rows: Sequence[tuple[str, str, str | None]], *, limit: int = 50) -> Screen:
        """/queue: ``rows`` of (topic name, waiting time, link), urgent first, oldest first."""
        if not rows:
            text = _(lang, "No open tickets.")
            return Screen(esc(text), text)
        heading = _(lang, "Open tickets: {count}", count=len(rows))
        lines = [f"<b>{esc(heading)}</b>"]
        for name, waited, link in rows[:limit]:
            label = esc(name)
            if link:
                label = f'<a href="{html.escape(link, quote=True)}">{label}</a>'
            lines.append(f"• {label} · " + esc(_(lang, "waiting {waited}", waited=waited)))
        if len(rows) > limit:
            lines.append(esc(_(lang, "... and {count} more", count=len(rows) - limit)))
        html_text = "\n".join(lines)
        return Screen(html_text, _plain(html_text))

    def desk_stats(
        self, lang: str, windows: Sequence[tuple[int, int, int, str | None, int, int]], open_now: int
    ) -> Screen:
        """/stats: per window (days, opened, closed, median first reply, helped, not helped)."""
        heading = _(lang, "Open tickets now: {count}", count=open_now)
        lines = [f"<b>{esc(heading)}</b>"]
        for days, opened, closed, median, helped, not_helped in windows:
            lines.append(
                esc(
                    _(
                        lang,
                        "Last {days} days: {opened} opened, {closed} closed, median time to first reply {median}; helped: {yes} yes, {no} no.",
                        days=days,
                        opened=opened,
                        closed=closed,
                        median=median or "-",
                        yes=helped,
                        no=not_helped,
                    )
                )
            )
        html_text = "\n".join(lines)
        return Screen(html_text, _plain(html_text))

    # -- learning from real questions (bot.core.learning) ------------------------------------

    def _label_button(self, ticket_id: int, choice: str, label: str) -> Button | None:
        try:
            return Button(label, callbacks.encode("v", f"{ticket_id}.{choice}"))
        except ValueError:  # an entry id too long for Telegram's 64 bytes of button data
            return None

    def label_prompt(
        self,
        lang: str,
        ticket_id: int,
        questions: Sequence[str],
        guesses: Sequence[str],
        *,
        every_topic: bool = False,
    ) -> Screen:
        """After /close, in the ticket's topic: what was this about? The person's questions
        (identifiers hidden) become examples of the topic picked, for a maintainer to review.
        ``guesses``: the bot's best guesses, offered first; ``every_topic``: every entry."""
        title = _(lang, "What was this about?")
        asked = _(lang, "What they asked (identifiers hidden):")
        why = _(
            lang,
            "Pick the topic that answers it: these questions become examples the bot learns from, once a maintainer has reviewed them. “None of these”: examples of questions the bot should not answer.",
        )
        lines = [f"<b>{esc(title)}</b>", esc(asked)]
        lines.extend("• " + esc(question) for question in questions)
        lines.append("\n" + esc(why))
        rows: list[tuple[Button, ...]] = []
        if every_topic:
            buttons = [
                self._label_button(ticket_id, entry.id, self.title(entry, lang))
                for category in CATEGORIES
                for entry in self.kb.in_category(category)
            ]
            found = [b for b in buttons if b]
            rows.extend(tuple(found[i : i + 2]) for i in range(0, len(found), 2))
        else:
            for entry_id in guesses:
                entry = self.kb.get(entry_id)
                button = self._label_button(ticket_id, entry_id, self.title(entry, lang)) if entry else None
                if button:
                    rows.append((button,))
            more = self._label_button(ticket_id, "+", "📚 " + _(lang, "Another topic…"))
            if more:
                rows.append((more,))
        none = self._label_button(ticket_id, "-", "✖️ " + _(lang, "None of these"))
        if none:
            rows.append((none,))
        html_text = "\n".join(lines)
        return Screen(html_text, _plain(html_text), tuple(rows))

    def label_done(self, lang: str, entry_id: str | None, kept: int, *, already: bool = False) -> Screen:
        """The label prompt once a volunteer has answered it (no buttons left)."""
        if already:
            text = _(lang, "This conversation was already labelled.")
        elif kept == 0:
            text = _(lang, "Thank you. There was no question to learn from in this conversation.")
        elif entry_id is None:
            text = _(
                lang,
                "Thank you: {count} question(s) kept as examples of questions the bot should not answer, for a maintainer to review.",
                count=kept,
            )
        else:
            entry = self.kb.get(entry_id)
            text = _(
                lang,
                "Thank you: {count} question(s) kept as examples of “{title}” ({id}), for a maintainer to review.",
                count=kept,
                title=self.title(entry, lang) if entry else entry_id,
                id=entry_id,
            )
        return Screen(esc(text), text)

    def learn_card(
        self,
        lang: str,
        group: Group | None,
        *,
        waiting: int,
        candidates: int,
        same_topic: int = 0,
        notice: str = "",
    ) -> Screen:
        """/learn (admins): one candidate phrasing to accept into the knowledge base or reject.
        ``waiting``: new groups left (``candidates`` questions); ``same_topic``: new groups of the
        same topic and language (for "accept all"); ``notice``: what the last button did."""
        parts_html: list[str] = [f"<i>{esc(notice)}</i>"] if notice else []
        if group is None:
            text = _(lang, "No phrasings are waiting for review.")
            parts_html.append(esc(text))
            html_text = "\n\n".join(parts_html)
            return Screen(html_text, _plain(html_text))
        heading = _(lang, "Phrasings to review: {count} ({questions} questions)", count=waiting, questions=candidates)
        if group.topic == OUT_OF_SCOPE:
            where = _(lang, "Off-topic: the bot should not answer this")
        else:
            entry = self.kb.get(group.topic)
            where = f"{self.title(entry, lang) if entry else group.topic} ({group.topic})"
        how = {
            SUGGESTION: _(lang, "picked among suggestions"),
            REPHRASE: _(lang, "asked again in other words"),
            VOLUNTEER: _(lang, "labelled by a volunteer"),
        }
        sources = ", ".join(f"{how.get(source, source)} ×{count}" for source, count in sorted(group.sources.items()))
        people = _(lang, "Asked {count} time(s): {sources}", count=group.count, sources=sources)
        parts_html.append(
            f"<b>{esc(heading)}</b>\n{esc(where)} · {group.lang.upper()} · #{group.id}\n\n“{esc(group.text)}”\n\n{esc(people)}"
        )
        number = group.id
        rows: list[tuple[Button, ...]] = [
            (
                Button("✅ " + _(lang, "Accept"), callbacks.encode("e", f"a{number}")),
                Button("✖️ " + _(lang, "Reject"), callbacks.encode("e", f"r{number}")),
            )
        ]
        if same_topic > 1:
            rows.append(
                (
                    Button(
                        "✅ " + _(lang, "Accept all {count}", count=same_topic), callbacks.encode("e", f"A{number}")
                    ),
                    Button("✖️ " + _(lang, "Reject all {count}", count=same_topic), callbacks.encode("e", f"R{number}")),
                )
            )
        if waiting > 1:
            rows.append((Button("⏭ " + _(lang, "Next"), callbacks.encode("e", f"s{number}")),))
        html_text = "\n\n".join(parts_html)
        return Screen(html_text, _plain(html_text), tuple(rows))


def _plain(html_text: str) -> str:
    """The plain-text twin of HTML this module wrote (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))
