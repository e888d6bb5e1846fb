"""A transcript anyone can read: what people and volunteers see, written to docs/conversation.md.

Runs the real application (``bot.telegram.app.build_application``) on the real knowledge base
over HTTP against the fake Bot API (``tests/fakebotapi.py``), with a volunteers' forum group,
and drives the main conversations in Spanish, Haitian Creole and English: /start and the
language, a question answered, a question only suggested, no reliable answer and a volunteer
(consent, the ticket's topic, the volunteer's reply, /close and the survey), an urgent message,
a voice note, an inline query and "Share this answer". Every message is shown as Telegram shows
it (the text after its HTML, buttons in brackets).

Deterministic: a fresh database, the bot's clock frozen (and moved on only by the script), ids
from the fake, the answers' own reviewed dates. ``tests/test_transcript.py`` regenerates it and
fails when docs/conversation.md differs.

    python tests/transcript.py            # (re)write docs/conversation.md
    python tests/transcript.py --check    # exit 1 when docs/conversation.md is out of date

The first run trains the question model of the knowledge base (under a minute, then cached in
data/models/).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakebotapi import Call, FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "conversation.md"
COMMAND = "python tests/transcript.py"
TOKEN = "123456:TRANSCRIPT-token-for-the-fake-bot-api"
VOLUNTEERS = -1001000000001
VOLUNTEER = 700
FAMILY = -1002000000002
#: The bot's clock: frozen here, moved on only by the script (``Clock.advance``).
START = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)
#: After the expected messages, the bot must be idle (no update queued or being handled, no new
#: call) this many times in a row, this many seconds apart, before the next step.
IDLE_CHECKS, IDLE_EVERY = 4, 0.05

#: What each person writes, per language.
SCRIPT: dict[str, dict[str, str]] = {
    "es": {
        "name": "Español",
        "title": "Spanish",
        "answered": "mi permiso de trabajo c11 sigue valido?",
        "suggested": "se acabo el parole?",
        "unknown": "¿Cuál es la capital de Mongolia?",
        "volunteer": "Hola, soy voluntaria. Eso no es de migración, pero te ayudo: la capital de Mongolia es Ulán Bator. ¿Tienes alguna duda sobre tu parole?",
        "reply": "Gracias, era curiosidad. Por ahora no.",
        "urgent": "ICE detuvo a mi esposo",
        "inline": "me van a quitar el permiso de trabajo",
    },
    "ht": {
        "name": "Kreyòl ayisyen",
        "title": "Haitian Creole",
        "answered": "pèmi travay mwen an toujou bon?",
        "suggested": "eskwokri",
        "unknown": "ki kapital Mongoli?",
        "volunteer": "Bonjou, mwen se volontè. Sa pa gen rapò ak imigrasyon, men kapital Mongoli se Oulan-Bator. Èske ou gen yon kesyon sou paròl ou?",
        "reply": "Mèsi, se te yon kiryozite. Pa kounye a.",
        "urgent": "ICE arete mari m",
        "inline": "pèmi travay mwen an toujou bon?",
    },
    "en": {
        "name": "English",
        "title": "English",
        "answered": "is my work permit still valid",
        "suggested": "work and parole",
        "unknown": "what is the capital of mongolia?",
        "volunteer": "Hi, I'm a volunteer. That's not about immigration, but the capital of Mongolia is Ulaanbaatar. Do you have a question about your parole?",
        "reply": "Thanks, I was just curious. Not for now.",
        "urgent": "ICE detained my husband",
        "inline": "is my work permit still valid",
    },
}
PEOPLE = {"es": 1001, "ht": 1002, "en": 1003}
RELATIVE = 2001


class Clock:
    """The bot's ``utc_now``: frozen at START, moved on by ``advance``."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@contextmanager
def frozen_clock(clock: Clock) -> Iterator[None]:
    """Every module that reads ``utc_now`` reads ``clock`` (restored afterwards)."""
    from bot.core import domain
    from bot.telegram import outbox, person_talk, relay, volunteer_talk

    modules = [domain, outbox, relay, person_talk, volunteer_talk]
    saved = [module.utc_now for module in modules]
    for module in modules:
        module.utc_now = clock
    try:
        yield
    finally:
        for module, original in zip(modules, saved):
            module.utc_now = original


# -- writing it down -------------------------------------------------------------------------

#: Characters Markdown would read as markup anywhere in a line (``_`` only works at word
#: edges in GitHub's Markdown and must stay as it is inside links such as t.me/parole_help_bot).
_MARKDOWN = re.compile(r"([\\`*<\[\]])")


def _escape(line: str) -> str:
    line = _MARKDOWN.sub(r"\\\1", line)
    line = re.sub(r"^(\s*)([-+#])", r"\1\\\2", line)  # no accidental list items or headings
    return re.sub(r"^(\s*\d+)\.", r"\1\\.", line)


def _quote(text: str) -> list[str]:
    return [("> " + _escape(line)) if line.strip() else ">" for line in text.split("\n")]


def _buttons(markup: Any) -> list[str]:
    rows = (markup or {}).get("inline_keyboard", []) if isinstance(markup, dict) else []
    return [" ".join(f"`[{button['text']}]`" for button in row) for row in rows]


@dataclass
class Transcript:
    fake: FakeBotAPI
    clock: Clock
    app: Any
    lines: list[str] = field(default_factory=list)
    topics: dict[int, str] = field(default_factory=dict)
    mark: int = 0

    def say(self, *lines: str) -> None:
        self.lines.extend(lines)

    # actions -------------------------------------------------------------------------------

    async def act(
        self, who: str, what: str, inject: Callable[[], Any], expect: list[Callable[[Call], bool]] | None = None
    ) -> list[Call]:
        """Show ``who`` doing ``what``, inject the update, wait for the calls ``expect``ed (by
        default: anything) and then for quiet; write down what the bot did, in order."""
        self.say(f"**{who}** {what}", "")
        self.mark = self.fake.mark()
        inject()
        return await self.settle(expect)

    async def settle(self, expect: list[Callable[[Call], bool]] | None = None) -> list[Call]:
        deadline = time.monotonic() + 20
        checks = expect if expect is not None else [lambda c: True]
        while not all(any(check(c) for c in self._new()) for check in checks):
            assert time.monotonic() < deadline, f"the bot did not answer: {[c.short() for c in self._new()]}"
            await asyncio.sleep(0.02)
        calm, count = 0, len(self._new())
        while calm < IDLE_CHECKS:  # then idle: nothing queued, nothing being handled, nothing new
            await asyncio.sleep(IDLE_EVERY)
            assert time.monotonic() < deadline, "the bot did not settle"
            now = len(self._new())
            calm = calm + 1 if self._idle() and await self._outbox_empty() and now == count else 0
            count = now
        # Each chat's messages in the order sent; between chats the outbox's lanes run side by
        # side, so the chats come in a fixed order: people first, then the volunteers' group.
        calls = sorted(self._new(), key=lambda c: c.chat_id == VOLUNTEERS)
        for call in calls:
            self._write(call)
        return calls

    async def _outbox_empty(self) -> bool:
        """Nothing left to send (the outbox paces a person's chat to about one message a second)."""
        from bot.telegram.outbox import outbox_of

        box = outbox_of(self.app)
        return box.busy == 0 and await box.storage.outbox_size() == 0

    def _idle(self) -> bool:
        return (
            not self.fake.pending_updates
            and self.app.update_queue.empty()
            and self.app.update_processor.current_concurrent_updates == 0
        )

    def _new(self) -> list[Call]:
        skip = {"getUpdates", "getMe", "getChat", "getChatMember", "sendChatAction"}
        return [c for c in self.fake.calls_to(None, since=self.mark) if c.ok and c.method not in skip]

    def _where(self, chat_id: Any, thread: Any = None) -> str:
        chat = int(chat_id)
        if chat == VOLUNTEERS:
            return f"Volunteers' group, topic {self.topics[int(thread)]}" if thread else "Volunteers' group, General"
        if chat == FAMILY:
            return "Family group"
        if chat > RELATIVE:
            return "the relative's chat with the bot"
        return ""

    def _write(self, call: Call) -> None:
        params, result = call.params, call.result
        where = self._where(params.get("chat_id", 0), params.get("message_thread_id"))
        bot = f"**Bot** ({where})" if where else "**Bot**"
        if call.method == "sendMessage":
            self.say(bot + ":", "", *_quote(result["text"]), *self._keyboard(params.get("reply_markup")), "")
        elif call.method == "copyMessage":
            copied = self.fake.get_message(int(params["chat_id"]), result["message_id"]) or {}
            text = copied.get("text") or copied.get("caption") or "(a copy of the message)"
            self.say(f"{bot} copies it, without the sender's name:", "", *_quote(text), "")
        elif call.method == "editMessageText":
            self.say(
                f"{bot} replaces that message with:",
                "",
                *_quote(result["text"]),
                *self._keyboard(params.get("reply_markup")),
                "",
            )
        elif call.method == "editMessageReplyMarkup":
            rows = _buttons(params.get("reply_markup"))
            self.say(f"{bot} changes the buttons under that message" + (" to:" if rows else " (none left)."), "")
            if rows:
                self.say(*self._keyboard(params.get("reply_markup")), "")
        elif call.method == "answerCallbackQuery" and params.get("text"):
            kind = "a pop-up" if params.get("show_alert") else "a short notice"
            self.say(f"**Bot** shows {kind}: “{params['text']}”", "")
        elif call.method == "createForumTopic":
            self.topics[int(result["message_thread_id"])] = result["name"]
            self.say(f"**Bot** (Volunteers' group) opens the topic **{result['name']}**.", "")
        elif call.method == "editForumTopic" and params.get("name"):
            old = self.topics[int(params["message_thread_id"])]
            self.topics[int(params["message_thread_id"])] = params["name"]
            self.say(f"**Bot** (Volunteers' group) renames the topic {old} to **{params['name']}**.", "")
        elif call.method == "closeForumTopic":
            self.say(
                f"**Bot** (Volunteers' group) closes the topic {self.topics[int(params['message_thread_id'])]}.", ""
            )
        elif call.method == "pinChatMessage":
            self.say(f"**Bot** ({self._where(params['chat_id'])}) pins that message.", "")
        elif call.method == "answerInlineQuery":
            self._inline(params)

    def _keyboard(self, markup: Any) -> list[str]:
        rows = _buttons(markup)
        return [">", *(f"> {row}  " for row in rows)] if rows else []

    def _inline(self, params: dict) -> None:
        button = params.get("button")
        self.say("**Telegram** shows the bot's answers above the text field:", "")
        if button:
            self.say(f"- `[{button['text']}]` (opens the bot)")
        for result in params["results"]:
            self.say(f"- **{_escape(result['title'])}** · {_escape(result.get('description', ''))}")
        self.say("")

    # pieces of the conversation --------------------------------------------------------------

    def last_message(self, chat_id: int, calls: list[Call], method: str = "sendMessage") -> int:
        return [c for c in calls if c.method == method and int(c.params["chat_id"]) == chat_id][-1].result["message_id"]

    def button(self, chat_id: int, message_id: int, label: str) -> dict:
        """The button of that message whose label contains ``label``."""
        stored = self.fake.get_message(chat_id, message_id) or {}
        found = [
            b for row in stored.get("reply_markup", {}).get("inline_keyboard", []) for b in row if label in b["text"]
        ]
        assert found, f"no button {label!r} under message {message_id}: {stored.get('reply_markup')}"
        return found[0]

    async def tap(self, user: int, message_id: int, label: str, lang: str | None = None, **expect: Any) -> list[Call]:
        button = self.button(user, message_id, label)
        return await self.act(
            "Person taps",
            f"`[{button['text']}]`",
            lambda: self.fake.callback_query(user, button["callback_data"], message_id=message_id, language_code=lang),
            **expect,
        )


def to_user(user: int, method: str = "sendMessage") -> Callable[[Call], bool]:
    return lambda c: c.method == method and c.params.get("chat_id") == user


def to_group(start: str = "") -> Callable[[Call], bool]:
    return lambda c: (
        c.method == "sendMessage" and c.params.get("chat_id") == VOLUNTEERS and c.result["text"].startswith(start)
    )


async def converse(t: Transcript, lang: str) -> None:
    """Every conversation of the script in ``lang``."""
    fake, words, user = t.fake, SCRIPT[lang], PEOPLE[lang]
    name = words["name"]

    t.say(f"## {words['title']}", "", "### /start and the language", "")
    calls = await t.act(
        "Person",
        "sends `/start` (their phone's language tells the bot nothing)",
        lambda: fake.command(user, "/start", language_code=None),
    )
    picker = t.last_message(user, calls)
    await t.tap(user, picker, name)

    t.say("### A question the bot can answer", "")
    calls = await t.act(
        "Person", f"writes: “{words['answered']}”", lambda: fake.message(user, words["answered"], language_code=None)
    )
    answer = t.last_message(user, calls)
    await t.tap(user, answer, "⋯", expect=[to_user(user, "editMessageReplyMarkup")])
    await t.tap(user, answer, "👍", expect=[lambda c: c.method == "editMessageReplyMarkup"])

    t.say("### A question the bot is not sure about", "")
    calls = await t.act(
        "Person", f"writes: “{words['suggested']}”", lambda: fake.message(user, words["suggested"], language_code=None)
    )
    suggestions = t.last_message(user, calls)
    first = fake.get_message(user, suggestions)["reply_markup"]["inline_keyboard"][0][0]["text"]
    await t.tap(user, suggestions, first)

    t.say("### No reliable answer: a volunteer", "")
    calls = await t.act(
        "Person", f"writes: “{words['unknown']}”", lambda: fake.message(user, words["unknown"], language_code=None)
    )
    offer = t.last_message(user, calls)
    t.clock.advance(minutes=3)
    calls = await t.tap(user, offer, "🙋")
    consent = t.last_message(user, calls)
    calls = await t.tap(user, consent, "✅", expect=[to_user(user, "editMessageText"), to_group("#")])
    topic = [c for c in calls if c.method == "createForumTopic"][-1].result["message_thread_id"]
    t.clock.advance(minutes=20)
    await t.act(
        "Volunteer",
        f"writes in the topic {t.topics[topic]}: “{words['volunteer']}”",
        lambda: fake.group_message(
            VOLUNTEERS, VOLUNTEER, words["volunteer"], message_thread_id=topic, first_name="Marta"
        ),
        expect=[to_user(user, "copyMessage")],
    )
    t.clock.advance(minutes=2)
    await t.act(
        "Person",
        f"writes: “{words['reply']}”",
        lambda: fake.message(user, words["reply"], language_code=None),
        expect=[lambda c: c.params.get("chat_id") == VOLUNTEERS],
    )
    calls = await t.act(
        "Volunteer",
        f"sends `/close` in the topic {t.topics[topic]}",
        lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "/close", message_thread_id=topic, first_name="Marta"),
        expect=[to_user(user), lambda c: c.method == "closeForumTopic"],
    )
    survey = t.last_message(user, calls)
    await t.tap(user, survey, "👍", expect=[lambda c: c.method == "answerCallbackQuery"])

    t.say("### An urgent message: one tap to a volunteer", "")
    calls = await t.act(
        "Person", f"writes: “{words['urgent']}”", lambda: fake.message(user, words["urgent"], language_code=None)
    )
    urgent = t.last_message(user, calls)
    t.clock.advance(minutes=1)
    calls = await t.tap(user, urgent, "✅", expect=[to_group("#"), to_group("⚠️")])
    topic = [c for c in calls if c.method == "createForumTopic"][-1].result["message_thread_id"]
    await t.act(
        "Volunteer",
        f"sends `/close` in the topic {t.topics[topic]} once the person has help",
        lambda: fake.group_message(VOLUNTEERS, VOLUNTEER, "/close", message_thread_id=topic, first_name="Marta"),
        expect=[to_user(user), lambda c: c.method == "closeForumTopic"],
    )

    t.say("### A voice note", "")
    await t.act("Person", "sends a voice note", lambda: fake.voice(user, language_code=None))

    t.say("### Answers that travel: inline mode and “Share this answer”", "")
    await t.act(
        "Person",
        f"types in the family group: “@{fake.bot_username} {words['inline']}”",
        lambda: fake.inline_query(user, words["inline"], chat_type="supergroup", language_code=None),
    )
    t.say("Back in the chat with the bot, the share button under the first answer (it appeared with `[⋯]`, above):", "")
    share = t.button(user, answer, "📤")
    query_calls = await t.act(
        "Person taps",
        f"`[{share['text']}]`, picks the family group in Telegram's chat list, and Telegram types there: “@{fake.bot_username} {share['switch_inline_query']}”",
        lambda: fake.press_switch_inline(user, answer, chat_type="supergroup", language_code=None),
    )
    query_id = [c for c in query_calls if c.method == "answerInlineQuery"][-1].params["inline_query_id"]
    first_card = fake.inline_answer(query_id)["results"][0]
    posted = fake.choose_inline_result(query_id, first_card["id"], FAMILY)
    t.say(
        f"**Person** picks “{_escape(first_card['title'])}”. **Family group** now shows, from the person “via @{fake.bot_username}”:",
        "",
        *_quote(posted["text"]),
        *t._keyboard(posted.get("reply_markup")),
        "",
    )
    entry_id = first_card["id"].split(".")[0]
    await t.act(
        "A relative",
        f"taps the link in that message and starts the bot (`/start {entry_id}`), their phone in {words['title']}",
        lambda: fake.command(RELATIVE + PEOPLE[lang], "/start", args=[entry_id], language_code=lang),
    )


async def build() -> str:
    """Run the conversations and return the Markdown transcript."""
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    from bot.config import Settings
    from bot.telegram.app import build_application
    from bot.telegram.delivery import RetryingRateLimiter
    from bot.telegram.services import Services

    clock = Clock()
    with (
        tempfile.TemporaryDirectory() as tmp,
        frozen_clock(clock),
        FakeBotAPI(max_poll_wait=0.2, inline_mode=True) as fake,
    ):
        fake.add_group(VOLUNTEERS, is_forum=True, title="Volunteers")
        fake.set_member(VOLUNTEERS, VOLUNTEER, "member")
        fake.add_group(FAMILY, is_forum=False, title="Family")
        settings = Settings(
            token=TOKEN,
            base_url=fake.base_url,
            base_file_url=fake.base_file_url,
            database_path=Path(tmp) / "bot.sqlite3",
            knowledge_dir=ROOT / "knowledge",
            model_cache_dir=ROOT / "data" / "models",
            volunteer_chat_id=VOLUNTEERS,
            log_salt="transcript",
            health_port=0,
        )
        # Telegram's per-group limit (20 a minute) would only make the script wait: no limits here
        unlimited = RetryingRateLimiter(overall_max_rate=0, group_max_rate=0)
        app = build_application(settings, Services.load(settings), rate_limiter=unlimited)
        t = Transcript(fake, clock, app)
        t.say(*HEADER.split("\n"))
        t.say("## The volunteers' group, when the bot starts", "")
        await app.initialize()
        await app.post_init(app)
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        await app.start()
        try:
            await t.settle([lambda c: c.method == "pinChatMessage"])
            for lang in SCRIPT:
                await converse(t, lang)
        finally:
            await app.updater.stop()
            await app.stop()
            await app.post_stop(app)  # the outbox's workers
            await app.shutdown()
            await app.post_shutdown(app)
        assert not fake.errors, fake.errors
    text = "\n".join(t.lines)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip() + "\n"


HEADER = f"""# What people and volunteers see

A real conversation with the bot, not a mock-up: `{COMMAND}` runs the bot's own code
on the knowledge base in `knowledge/` against a stand-in for Telegram (`tests/fakebotapi.py`) and
writes down every message as Telegram shows it, buttons in `[brackets]`. It covers the main
conversations in Spanish, Haitian Creole and English: starting and choosing the language, a
question answered, a question the bot is not sure about, no reliable answer and a volunteer, an
urgent message, a voice note, and answers shared into another chat. The volunteers' group is a
Telegram group with topics; the bot writes to it in English (`VOLUNTEER_LANG`). The clock is
the script's: "waiting 3 min" is three minutes it let pass.

Do not edit this file by hand: `tests/test_transcript.py` fails when it is out of date, and
`{COMMAND}` (or `make transcript`) writes it again, for example after a change to
the knowledge base or to a text.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/conversation.md is out of date")
    args = parser.parse_args(argv)
    text = asyncio.run(build())
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
