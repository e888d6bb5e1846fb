"""docs/conversation.md is what the bot really shows today: regenerated and compared.

``tests/transcript.py`` drives the real application on the real knowledge base against the fake
Bot API (Spanish, Haitian Creole and English: /start, an answer, a suggestion, a volunteer, an
urgent message, a voice note, inline answers and sharing). A change to a text, a keyboard or the
knowledge base changes the transcript: this test then fails and says how to write it again.
"""

from __future__ import annotations

import difflib

import transcript


async def test_the_committed_transcript_is_up_to_date() -> None:
    fresh = await transcript.build()
    committed = transcript.OUTPUT.read_text(encoding="utf-8") if transcript.OUTPUT.exists() else ""
    if fresh != committed:
        diff = difflib.unified_diff(
            committed.splitlines(),
            fresh.splitlines(),
            "docs/conversation.md",
            "what the bot shows now",
            lineterm="",
            n=1,
        )
        shown = "\n".join(list(diff)[:60])
        raise AssertionError(f"docs/conversation.md is out of date: run `{transcript.COMMAND}` and commit it.\n{shown}")


def test_the_transcript_covers_every_conversation_in_three_languages() -> None:
    text = transcript.OUTPUT.read_text(encoding="utf-8")
    for title in ("## Spanish", "## Haitian Creole", "## English"):
        section = text.split(title, 1)[1].split("\n## ", 1)[0]
        for heading in (
            "### /start and the language",
            "### A question the bot can answer",
            "### A question the bot is not sure about",
            "### No reliable answer: a volunteer",
            "### An urgent message: one tap to a volunteer",
            "### A voice note",
            "### Answers that travel",
        ):
            assert heading in section, (title, heading)
        assert "opens the topic" in section and "copies it, without the sender's name" in section
        assert "⚠️ URGENT" in section and "via @parole_help_bot" in section
    # nothing that changes from one run to the next
    assert "waiting 3 min" in text
    for unstable in ("tmp", "/work/", "pytest"):
        assert unstable not in text
