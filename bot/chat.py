"""``python -m bot chat``: the bot's conversation in a terminal, for trying the knowledge base.

It goes through the same ``Engine.respond`` and the same ``Renderer`` as Telegram; buttons are
shown numbered and pressed by typing their number.
"""

from __future__ import annotations

from typing import TextIO

from bot import callbacks
from bot.conversation import Engine, Reply
from bot.i18n import _
from bot.langs import LANGS
from bot.render import Renderer, Screen


def screen_for(engine: Engine, renderer: Renderer, reply: Reply, *, volunteers: bool = True) -> Screen:
    """The screen the bot shows for a reply (shared by Telegram and the terminal).

    ``volunteers``: whether a person can take over an escalated question right now."""
    if reply.smalltalk:
        return renderer.smalltalk(reply.answer or "", reply.lang)
    if reply.action == "answer" and reply.topic:
        entry = engine.kb.get(reply.topic)
        if entry is not None:
            return renderer.answer(entry, reply.lang, scam_warning=reply.scam is not None)
    if reply.action == "suggest":
        return renderer.suggest(reply.suggestions, reply.lang)
    return renderer.escalate(reply.lang, volunteers=volunteers)


def run_chat(engine: Engine, lang: str | None, stdin: TextIO, stdout: TextIO) -> int:
    renderer = Renderer(engine.kb)
    current = lang or "es"
    buttons: list[str] = []

    def show(screen: Screen) -> None:
        nonlocal buttons
        stdout.write("\n" + screen.plain + "\n")
        buttons = []
        for row in screen.buttons:
            for button in row:
                buttons.append(button.data)
                stdout.write(f"  [{len(buttons)}] {button.label}\n")
        stdout.write("\n")
        stdout.flush()

    show(renderer.welcome(current))
    stdout.write("(type a question, a button number, /language, /topics, or /quit)\n")
    for line in stdin:
        text = line.strip()
        if not text:
            continue
        if text in ("/quit", "/exit"):
            break
        if text == "/topics":
            show(renderer.menu(current))
            continue
        if text == "/language":
            show(renderer.language_picker(current))
            continue
        if text.isdigit() and 1 <= int(text) <= len(buttons):
            pressed = callbacks.decode(buttons[int(text) - 1])
            if pressed is None:
                continue
            if pressed.action == "a" and (entry := engine.kb.get(pressed.arg)):
                show(renderer.answer(entry, current))
            elif pressed.action == "c":
                show(renderer.category(pressed.arg, current))
            elif pressed.action == "m":
                show(renderer.menu(current))
            elif pressed.action == "l":
                current = pressed.arg
                show(renderer.welcome(current))
            elif pressed.action == "y":
                show(renderer.notice(_(current, "Thank you for your feedback!")))
            elif pressed.action in ("n", "h"):
                show(renderer.notice(_(current, "In Telegram this opens a chat with a volunteer.")))
            continue
        reply = engine.respond(text, lang if lang in LANGS else None, hints=(current,))
        if lang is None:
            current = reply.lang
        stdout.write(f"  ({reply.lang} · {reply.action} · score {reply.score}" + (f" · {reply.topic}" if reply.topic else "") + ")\n")
        show(screen_for(engine, renderer, reply))
    return 0
