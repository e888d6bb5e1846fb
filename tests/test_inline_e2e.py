"""Inline mode end to end: ``@bot question`` typed in any chat, and "Share this answer".

The real ``Application`` over real HTTP against the fake Bot API (``conftest.py``), which
validates ``answerInlineQuery`` as Telegram does (at most 50 results, ids of 1-64 bytes, message
texts of at most 4,096 characters, start parameters). Every test asserts on the cards the bot
really answered: their order (the bot's own ranking), language, reviewed date, sources and the
deep link that opens the same answer in the bot.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from conftest import RunningBot, make_settings, start_bot, stop_bot
from fakebotapi import Call, FakeBotAPI

from bot.telegram import inline
from bot.telegram.app import ALLOWED_UPDATES, build_application
from bot.telegram.services import Services
from bot.ui import callbacks
from bot.ui.i18n import _
from bot.ui.render import format_day

USER = 4242
GROUP = -1005550001
LINK = "https://t.me/parole_help_bot?start="


def cb(action: str, arg: str = "") -> str:
    return callbacks.encode(action, arg)


async def ask_inline(fake: FakeBotAPI, query: str, user: int = USER, **kwargs: Any) -> tuple[str, dict]:
    """Type ``@bot <query>``; return the query id and the bot's answerInlineQuery parameters."""
    update = fake.inline_query(user, query, **kwargs)
    return await answered(fake, update)


async def answered(fake: FakeBotAPI, update: dict) -> tuple[str, dict]:
    query_id = update["inline_query"]["id"]
    [call] = await fake.wait_for("answerInlineQuery", {"inline_query_id": query_id})
    assert call.ok, call.error
    return query_id, call.params


def ids(answer: dict) -> list[str]:
    return [result["id"] for result in answer["results"]]


async def sent(fake: FakeBotAPI, inject: Any, method: str = "sendMessage", chat_id: int = USER) -> Call:
    mark = fake.mark()
    inject()
    [call] = await fake.wait_for(method, lambda c: c.ok and c.chat_id == chat_id, since=mark)
    return call


# -- @bot question -----------------------------------------------------------------------------


async def test_a_question_gets_its_answer_card_first_with_date_sources_and_deep_link(bot: RunningBot) -> None:
    fake, kb = bot.fake, bot.services.engine.kb
    query = "se acabó el parole humanitario?"
    _qid, answer = await ask_inline(fake, query, language_code="en")  # the query's language wins

    expected = bot.services.engine.respond(query, "es")
    assert expected.action == "answer" and expected.topic == "chnv-ended"
    assert ids(answer) == [f"{entry_id}.es" for entry_id in bot.services.engine.ranked(expected, 4)]
    first = answer["results"][0]
    entry = kb.get("chnv-ended")
    assert first["id"] == "chnv-ended.es"
    assert first["title"] == "El programa CHNV terminó"
    assert first["description"].startswith("Revisado: 1 de octubre de 2025 · El programa de parole humanitario")
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert content["link_preview_options"] == {"is_disabled": True}
    assert content["message_text"] == bot.renderer.share_card(entry, "es").html
    text = content["message_text"]
    assert entry.text("es").answer in text
    assert format_day(entry.reviewed, "es") == "1 de octubre de 2025" and "1 de octubre de 2025" in text
    assert all(source.url in text for source in entry.sources)
    assert LINK + "chnv-ended" in text
    # the card's button opens the same answer in the bot
    assert first["reply_markup"] == {
        "inline_keyboard": [[{"text": "💬 " + _("es", "Open this answer in the bot"), "url": LINK + "chnv-ended"}]]
    }
    # the same answer for anyone typing it: cached by Telegram, not personal, no "open the bot" button
    assert answer["cache_time"] == inline.CACHE_SECONDS == 900
    assert not answer.get("is_personal")
    assert "button" not in answer
    # an inline query is not a conversation: nothing is stored about it or the person
    assert await bot.storage.user(USER) is None
    assert await bot.storage.daily_counts() == {}
    assert await bot.storage.unanswered() == []


@pytest.mark.parametrize(
    "query, lang, title",
    [
        ("paròl la fini?", "ht", "Pwogram CHNV a fini"),
        ("is the parole program over", "en", "The CHNV program ended"),
    ],
)
async def test_cards_are_in_the_language_of_the_query(bot: RunningBot, query: str, lang: str, title: str) -> None:
    _qid, answer = await ask_inline(bot.fake, query, language_code="es")
    first = answer["results"][0]
    assert (first["id"], first["title"]) == (f"chnv-ended.{lang}", title)
    entry = bot.services.engine.kb.get("chnv-ended")
    assert first["input_message_content"]["message_text"] == bot.renderer.share_card(entry, lang).html
    assert format_day(entry.reviewed, lang) in first["input_message_content"]["message_text"]
    assert not answer.get("is_personal")


async def test_an_unclear_query_uses_the_persons_language_and_is_personal(bot: RunningBot) -> None:
    fake = bot.fake
    assert not bot.services.engine.detect("parole")[1]  # one word: the text alone does not say
    # Telegram's language_code first ...
    _qid, answer = await ask_inline(fake, "parole", language_code="en")
    assert ids(answer)[0] == "chnv-ended.en"
    assert answer["is_personal"] is True and answer["cache_time"] == inline.PERSONAL_CACHE_SECONDS == 300
    # ... the language chosen in the bot wins over it
    await sent(fake, lambda: fake.callback_query(USER, cb("l", "ht"), language_code="en"))
    _qid, answer = await ask_inline(fake, "parole", language_code="en")
    assert ids(answer)[0] == "chnv-ended.ht"
    assert answer["is_personal"] is True


async def test_an_unsure_query_gets_the_suggestions_and_a_button_to_the_bot(bot: RunningBot) -> None:
    text = "trabajo abogado"
    expected = bot.services.engine.respond(text, "es")
    assert expected.action == "suggest" and len(expected.suggestions) >= 2
    _qid, answer = await ask_inline(bot.fake, text)
    assert ids(answer)[: len(expected.suggestions)] == [f"{s}.es" for s in expected.suggestions]
    assert answer["button"] == {"text": _("es", "Ask the bot in private"), "start_parameter": "inline"}


async def test_nothing_reliable_gets_a_card_that_opens_the_bot(bot: RunningBot) -> None:
    fake = bot.fake
    _qid, answer = await ask_inline(fake, "cuál es la capital de Mongolia")
    assert ids(answer) == ["ask.es"]
    [card] = answer["results"]
    assert card["title"] == _("es", "Ask the bot in private")
    assert "https://t.me/parole_help_bot" in card["input_message_content"]["message_text"]
    assert card["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://t.me/parole_help_bot"
    assert answer["button"]["start_parameter"] == "inline"
    # the button above the cards opens the bot: /start inline greets the person
    [welcome] = [await sent(fake, lambda: fake.command(USER, "/start", args=["inline"], language_code="es"))]
    assert welcome.text == bot.renderer.welcome("es").html


async def test_an_empty_query_lists_the_most_answered_topics_first(bot: RunningBot) -> None:
    fake, kb = bot.fake, bot.services.engine.kb
    for _round in range(2):
        await sent(fake, lambda: fake.message(USER, "mi permiso de trabajo c11 sigue valido?", language_code="es"))
    _qid, answer = await ask_inline(fake, "", language_code="en")
    # the most answered topic first, then the knowledge base's order; in the person's language
    assert ids(answer)[0] == "work-permit.es"  # the language the person wrote in, stored by the bot
    assert sorted(ids(answer)) == sorted(f"{e.id}.es" for e in kb)
    assert answer["is_personal"] is True
    assert answer["button"]["start_parameter"] == "inline"
    # a greeting is no question either
    _qid, answer = await ask_inline(fake, "hola")
    assert ids(answer)[0] == "work-permit.es" and len(ids(answer)) == len(kb)


# -- "Share this answer" -----------------------------------------------------------------------


@pytest.mark.parametrize("lang, title", [("es", "El programa CHNV terminó"), ("ht", "Pwogram CHNV a fini")])
async def test_share_opens_the_chat_picker_and_the_prefilled_query_finds_that_answer(
    bot: RunningBot, lang: str, title: str
) -> None:
    fake = bot.fake
    question = {"es": "se acabó el parole humanitario?", "ht": "paròl la fini?"}[lang]
    answer_msg = await sent(fake, lambda: fake.message(USER, question, language_code=lang))
    more = await sent(fake, lambda: fake.callback_query(USER, cb("o", "chnv-ended")), "editMessageReplyMarkup")
    share = more.params["reply_markup"]["inline_keyboard"][-1][-1]
    assert share == {"text": "📤 " + _(lang, "Share this answer"), "switch_inline_query": title}

    # Telegram's chat picker: the person picks a group; "@bot <title>" is typed there
    query_id, answer = await answered(
        fake, fake.press_switch_inline(USER, answer_msg.result["message_id"], chat_type="group", language_code=lang)
    )
    assert ids(answer)[0] == f"chnv-ended.{lang}"
    assert not answer.get("is_personal") and "button" not in answer

    # the card posted in the group: the answer, its date, its sources and the link to the bot
    fake.add_group(GROUP, is_forum=False, title="Familia")
    posted = fake.choose_inline_result(query_id, f"chnv-ended.{lang}", GROUP)
    entry = bot.services.engine.kb.get("chnv-ended")
    assert posted["via_bot"]["username"] == "parole_help_bot"
    assert posted["text"] == bot.renderer.share_card(entry, lang).plain
    assert format_day(entry.reviewed, lang) in posted["text"] and LINK + "chnv-ended" in posted["text"]

    # whoever taps the link opens the same answer in the bot, in their own language
    other = 6161
    opened = await sent(
        fake, lambda: fake.command(other, "/start", args=["chnv-ended"], language_code="en"), chat_id=other
    )
    assert opened.text == bot.renderer.answer(entry, "en").html
    assert cb("o", "chnv-ended") in str(opened.params["reply_markup"])


async def test_every_title_finds_its_own_entry(bot: RunningBot) -> None:
    """What "Share this answer" types, for every entry and language, shows that entry first."""
    for entry in bot.services.engine.kb:
        for lang in entry.texts:
            title = bot.renderer.title(entry, lang)
            _qid, answer = await ask_inline(bot.fake, title, language_code="es")
            assert ids(answer)[0] == f"{entry.id}.{lang}", title


async def test_an_unknown_deep_link_greets_the_person(bot: RunningBot) -> None:
    fake = bot.fake
    welcome = await sent(fake, lambda: fake.command(USER, "/start", args=["no-such-entry"], language_code="ht"))
    assert welcome.text == bot.renderer.welcome("ht").html


async def test_without_inline_mode_there_is_no_share_button(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """BotFather's inline mode is off: a warning at start-up, and "More" offers only "follow"."""
    caplog.set_level(logging.WARNING, logger="bot")
    with FakeBotAPI(max_poll_wait=0.2, timeout_delay=2.0, inline_mode=False) as fake:
        settings = make_settings(fake, tmp_path)
        app = build_application(settings, Services.load(settings))
        await start_bot(app)
        try:
            await sent(fake, lambda: fake.message(USER, "se acabó el parole humanitario?", language_code="es"))
            more = await sent(fake, lambda: fake.callback_query(USER, cb("o", "chnv-ended")), "editMessageReplyMarkup")
            assert more.params["reply_markup"]["inline_keyboard"][-1] == [
                {"text": "🔔 " + _("es", "Tell me if this changes"), "callback_data": cb("w", "chnv-ended")}
            ]
        finally:
            await stop_bot(app)
    assert "inline mode is off" in caplog.text and "/setinline" in caplog.text


async def test_inline_queries_are_asked_for_and_their_text_is_never_logged(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    assert "inline_query" in ALLOWED_UPDATES
    caplog.set_level(logging.DEBUG)
    await ask_inline(bot.fake, "zx-marcador-secreto parole", first_name="Zoraida", username="zoraida77")
    for secret in ("zx-marcador-secreto", "Zoraida", "zoraida77", str(USER)):
        assert secret not in caplog.text
