"""``python -m bot chat``: the bot's conversation in a terminal, for trying the knowledge base.

It goes through the same ``Engine.respond`` and the same ``Renderer`` as Telegram; buttons are
shown numbered and pressed by typing their number.
"""

from __future__ import annotations

from typing import TextIO

from bot.core.conversation import Engine
from bot.core.langs import LANGS
from bot.ui import callbacks
from bot.ui.i18n import _
from bot.ui.render import Renderer, Screen


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
        stdout.write(
            f"  ({reply.lang} · {reply.action} · score {reply.score}"
            + (f" · {reply.topic}" if reply.topic else "")
            + ")\n"
        )
        show(renderer.reply(reply))
    return 0
