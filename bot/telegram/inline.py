"""Inline mode: ``@bot se acabó el parole?`` typed in any chat shows answer cards.

A thin python-telegram-bot callback: ``Services.inline`` ranks (the same ``Engine.respond`` as
a question in the private chat), ``bot.ui.render`` builds the cards (``Renderer.inline_card``:
the answer, its reviewed date, its sources and a link that opens the bot on the same answer),
``bot.telegram.keyboards`` their buttons. "Share this answer" under an answer opens Telegram's
chat picker with the answer's title typed after the bot's name, and that title finds its own
answer first. The query's text is never logged nor stored.

Inline mode must be turned on in @BotFather (``/setinline``, README "Sharing answers").
"""

from __future__ import annotations

from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.telegram import keyboards
from bot.telegram.services import services
from bot.ui.i18n import _
from bot.ui.render import Card

Context = ContextTypes.DEFAULT_TYPE

#: Seconds Telegram may keep the cards of a query and show them to anyone who types the same
#: query. Answers change rarely (a maintainer's edit and /reload), and every card carries its
#: reviewed date: a corrected answer reaches inline results within 15 minutes, while a popular
#: query is answered from Telegram's cache meanwhile.
CACHE_SECONDS = 900
#: The same for cards whose language came from the person (``is_personal``): kept for that
#: person only, and shorter, so a language they just chose in the bot shows soon.
PERSONAL_CACHE_SECONDS = 300
#: The ``/start`` parameter of the "Ask the bot in private" button above the cards: not an
#: entry id, so the bot greets the person (``handlers.start``).
START_PARAMETER = "inline"

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def article(card: Card) -> InlineQueryResultArticle:
    """A card as Telegram's inline result: the title and description in the list, the card's
    screen (HTML, no link preview, its buttons) as the message it posts."""
    return InlineQueryResultArticle(
        id=card.id,
        title=card.title,
        description=card.description,
        input_message_content=InputTextMessageContent(
            card.screen.html, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW
        ),
        reply_markup=keyboards.markup(card.screen.buttons),
    )


async def answer(update: Update, context: Context) -> None:
    """Answer an inline query with cards; above them, unless the first card is a confident
    answer, a button that opens the bot in private."""
    query = update.inline_query
    assert query is not None  # InlineQueryHandler only passes updates that have an inline_query
    svc = services(context)
    user = query.from_user
    found = await svc.inline(user.id, user.language_code, query.query)
    button = (
        None
        if found.answered
        else InlineQueryResultsButton(_(found.lang, "Ask the bot in private"), start_parameter=START_PARAMETER)
    )
    await query.answer(
        [article(card) for card in found.cards],
        cache_time=PERSONAL_CACHE_SECONDS if found.personal else CACHE_SECONDS,
        is_personal=found.personal,
        button=button,
    )
