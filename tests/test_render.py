"""bot.ui.render: HTML escaping of everything from YAML, message splitting, dates per language."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import TODAY, generic_lang, write_entry, write_small_kb, write_synonyms

from bot.core import knowledge
from bot.core.knowledge import CATEGORIES, Entry, KnowledgeBase, LangText, Source, Variant
from bot.core.langs import LANGS
from bot.ui import callbacks
from bot.ui.render import MESSAGE_LIMIT, Renderer, Screen, format_day, split_message

ENTITY = re.compile(r"&(?:[a-zA-Z]+|#[0-9]+|#x[0-9a-fA-F]+);")
ALLOWED_TAGS = {"a", "b", "i"}


class _TagChecker(HTMLParser):
    """Collects tags; fails on unbalanced ones."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs) -> None:
        self.tags.add(tag)
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}>"
        self.stack.pop()


def check_html(chunk: str) -> set[str]:
    """Assert ``chunk`` is valid Telegram HTML: whole tags, balanced, whole entities."""
    assert len(chunk) <= MESSAGE_LIMIT
    without_tags = re.sub(r"<[^<>]*>", "", chunk)
    assert "<" not in without_tags and ">" not in without_tags, "a tag was cut"
    assert "&" not in ENTITY.sub("", without_tags), "an entity was cut"
    parser = _TagChecker()
    parser.feed(chunk)
    parser.close()
    assert parser.stack == [], f"unclosed {parser.stack}"
    return parser.tags


def squash(text: str) -> str:
    return "".join(text.split())


def make_entry(
    answer: str,
    *,
    title: str = "AT&T <b>news</b>",
    url: str = 'https://example.org/?a=1&b="2"',
    urgent: bool = False,
    related: tuple[str, ...] = (),
) -> Entry:
    texts = {lang: LangText(variants=(Variant(answer),), questions=("q?",), title="Título <x> & co") for lang in LANGS}
    return Entry(
        id="evil-entry",
        category="scams",
        reviewed=dt.date(2026, 11, 23),
        sources=(Source(title, url),),
        texts=texts,
        related=related,
        urgent=urgent,
    )


# --- escaping ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_answer_escapes_html_from_yaml(lang: str) -> None:
    entry = make_entry('<script>alert("x")</script> Tom & Jerry <b>bold?</b> &amp;')
    screen = Renderer(KnowledgeBase((entry,))).answer(entry, lang)
    assert "<script>" not in screen.html
    assert '&lt;script&gt;alert("x")&lt;/script&gt; Tom &amp; Jerry &lt;b&gt;bold?&lt;/b&gt; &amp;amp;' in screen.html
    assert 'href="https://example.org/?a=1&amp;b=&quot;2&quot;"' in screen.html
    assert ">AT&amp;T &lt;b&gt;news&lt;/b&gt;</a>" in screen.html
    assert check_html(screen.html) <= ALLOWED_TAGS
    # the plain version (terminal chat) shows the text exactly as written
    assert screen.plain.startswith('<script>alert("x")</script> Tom & Jerry <b>bold?</b> &amp;')
    assert '- AT&T <b>news</b>: https://example.org/?a=1&b="2"' in screen.plain


def test_urgent_answer_is_escaped_and_offers_a_person_first() -> None:
    entry = make_entry("ICE & <police>", urgent=True)
    screen = Renderer(KnowledgeBase((entry,))).answer(entry, "en")
    assert check_html(screen.html) <= ALLOWED_TAGS
    assert "ICE &amp; &lt;police&gt;" in screen.html
    assert callbacks.decode(screen.buttons[0][0].data) == callbacks.Callback("h", "evil-entry")


def test_answer_from_a_loaded_knowledge_base(tmp_path) -> None:
    """Characters the check allows in answers (< > & " without a tag) reach Telegram escaped."""
    write_synonyms(tmp_path)
    answer = 'If 5 < 6 & 7 > 3, call "Legal Aid" at 1-800 & ask.'
    write_entry(
        tmp_path,
        "scam-signs",
        "scams",
        en={**generic_lang("scam-signs", "en"), "answer": answer},
        sources=[{"title": "FTC & friends", "url": "https://reportfraud.ftc.gov/?x=1&y=2"}],
    )
    result = knowledge.load(tmp_path, today=TODAY)
    assert result.kb is not None, [str(p) for p in result.problems]
    screen = Renderer(result.kb).answer(result.kb.get("scam-signs"), "en")
    assert screen.html.startswith('If 5 &lt; 6 &amp; 7 &gt; 3, call "Legal Aid" at 1-800 &amp; ask.')
    assert '<a href="https://reportfraud.ftc.gov/?x=1&amp;y=2">FTC &amp; friends</a>' in screen.html
    assert check_html(screen.html) <= ALLOWED_TAGS


def test_every_screen_is_valid_html_with_valid_buttons(tmp_path) -> None:
    kb = knowledge.load(write_small_kb(tmp_path), today=TODAY).kb
    assert kb is not None
    renderer = Renderer(kb)
    for lang in LANGS:
        screens: list[Screen] = [
            renderer.welcome(lang),
            renderer.help(lang),
            renderer.menu(lang),
            renderer.language_picker(lang),
            renderer.escalate(lang),
            renderer.escalate(lang, volunteers=False),
            renderer.smalltalk("hola <3 & adios", lang),
            renderer.suggest(["chnv-ended", "unknown-id", "find-lawyer"], lang),
            renderer.notice("a < b"),
            *(renderer.category(c, lang) for c in CATEGORIES),
            *(renderer.answer(e, lang) for e in kb),
            # learning from real questions: the volunteers' label, /learn
            renderer.label_prompt(lang, 7, ["<b>mi caso</b> & yo", "2 < 3"], ["work-permit", "unknown-id"]),
            renderer.label_prompt(lang, 7, ["x"], [], every_topic=True),
            renderer.label_done(lang, "work-permit", 2),
            renderer.label_done(lang, None, 1),
            renderer.label_done(lang, None, 0),
            renderer.label_done(lang, None, 0, already=True),
            renderer.learn_card(lang, learning_group("work-permit"), waiting=3, candidates=5, same_topic=2),
            renderer.learn_card(lang, learning_group("out-of-scope"), waiting=1, candidates=1, notice="a < b"),
            renderer.learn_card(lang, None, waiting=0, candidates=0, notice="Rejected & gone"),
        ]
        for screen in screens:
            assert check_html(screen.html) <= ALLOWED_TAGS, screen.html
            for row in screen.buttons:
                for button in row:
                    assert button.label
                    assert button.url or callbacks.decode(button.data) is not None, button
    suggest = renderer.suggest(["chnv-ended", "unknown-id", "find-lawyer"], "es")
    assert [row[0].label for row in suggest.buttons[:-1]] == ["El programa CHNV terminó", "Encontrar un abogado"]
    label = renderer.label_prompt("en", 7, ["<b>mi caso</b>"], ["work-permit"])
    assert "• &lt;b&gt;mi caso&lt;/b&gt;" in label.html
    assert [b.data for row in label.buttons for b in row] == ["1|v|7.work-permit", "1|v|7.+", "1|v|7.-"]
    every = renderer.label_prompt("en", 7, ["x"], [], every_topic=True)
    assert sorted(b.data for row in every.buttons[:-1] for b in row) == sorted(f"1|v|7.{e.id}" for e in kb)
    assert all(len(row) <= 2 for row in every.buttons)


def learning_group(topic: str):
    from collections import Counter

    from bot.core.learning import Group

    return Group(topic, "es", "<i>q</i> & “comillas”", [4, 9], Counter({"suggestion": 1, "volunteer": 1}))


# --- splitting -----------------------------------------------------------------------------


def test_short_text_is_one_chunk() -> None:
    assert split_message("hola &amp; <b>adios</b>") == ["hola &amp; <b>adios</b>"]
    assert split_message("x" * MESSAGE_LIMIT) == ["x" * MESSAGE_LIMIT]


def _paragraphs() -> str:
    para = "Tom &amp; Jerry &lt;3 <b>importante</b> lee esto con calma y <i>guarda copias</i> de todo."
    return "\n\n".join(f"{i}. {para}" for i in range(110))


def _one_long_paragraph() -> str:
    return " ".join(
        f'palabra &amp; <a href="https://example.org/{i}?a=1&amp;b=2">enlace {i}</a> &lt;{i}&gt;' for i in range(170)
    )


def _one_enormous_word() -> str:
    return "&amp;&lt;x&gt;" * 700 + "<b>fin</b>" + "é&quot;" * 1000


@pytest.mark.parametrize("make", [_paragraphs, _one_long_paragraph, _one_enormous_word])
def test_long_text_splits_without_breaking_tags_or_entities(make) -> None:
    text = make()
    assert len(text) >= 10_000
    chunks = split_message(text)
    assert len(chunks) >= 3
    for chunk in chunks:
        assert chunk.strip()
        check_html(chunk)
    assert squash("".join(chunks)) == squash(text)


def test_split_prefers_paragraph_breaks() -> None:
    chunks = split_message(_paragraphs())
    for chunk in chunks:
        assert re.match(r"\d+\. Tom", chunk)
        assert chunk.endswith("de todo.")


def test_long_answer_screen_splits_into_valid_messages() -> None:
    answer = "\n\n".join(["Paga solo en uscis.gov & nunca por WhatsApp <ni Zelle>. " * 12] * 6)
    assert len(answer) <= 4096 < len(answer.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")) + 200
    entry = make_entry(answer, urgent=True)
    chunks = Renderer(KnowledgeBase((entry,))).answer(entry, "es").chunks()
    assert len(chunks) >= 2
    for chunk in chunks:
        check_html(chunk)


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("es", "23 de noviembre de 2026"), ("ht", "23 novanm 2026"), ("en", "November 23, 2026")],
)
def test_format_day(lang: str, expected: str) -> None:
    assert format_day(dt.date(2026, 11, 23), lang) == expected


CREOLE_MONTHS = [
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
]


@pytest.mark.parametrize("month", range(1, 13))
def test_creole_month_names(month: int) -> None:
    assert format_day(dt.date(2026, month, 5), "ht") == f"5 {CREOLE_MONTHS[month - 1]} 2026"


def test_an_answer_keeps_to_five_rows_of_buttons() -> None:
    """Two related topics, helpful yes/no, a person, "More" (follow and share): the answer stays
    on a small phone's screen."""
    from bot.core import knowledge

    result = knowledge.load(Path(__file__).resolve().parent.parent / "knowledge", near_duplicates=False)
    assert result.kb is not None
    renderer = Renderer(result.kb)
    for entry in result.kb:
        for lang in ("es", "ht", "en"):
            rows = renderer.answer(entry, lang).buttons
            assert len(rows) <= 5 and sum(len(r) for r in rows) <= 6, (entry.id, lang)
            assert rows[-1][0].data.startswith("1|o|")


# --- sharing: the inline cards ---------------------------------------------------------------


def test_share_is_offered_only_when_inline_mode_is_on() -> None:
    entry = make_entry("Answer.")
    renderer = Renderer(KnowledgeBase((entry,)), bot_username="parole_help_bot")
    assert [b.data for b in renderer.more_buttons(entry.id, "es")] == [callbacks.encode("w", entry.id)]
    renderer.inline_mode = True
    _follow, share = renderer.more_buttons(entry.id, "es")
    assert (share.data, share.url, share.inline_query) == ("", "", "Título <x> & co")
    assert renderer.titled(share.inline_query) == (entry, "es")


def test_a_title_is_found_whatever_the_case_accents_and_punctuation() -> None:
    result = knowledge.load(Path(__file__).resolve().parent / "data" / "knowledge", near_duplicates=False)
    assert result.kb is not None
    renderer = Renderer(result.kb)
    assert renderer.titled("el programa chnv termino") == (result.kb.get("chnv-ended"), "es")
    assert renderer.titled("  PWOGRAM CHNV A FINI!  ") == (result.kb.get("chnv-ended"), "ht")
    assert renderer.titled("el programa chnv") is None and renderer.titled("") is None


def test_every_title_of_the_real_knowledge_base_is_its_own() -> None:
    """What "Share this answer" types (a title) must find its own entry, in every language."""
    result = knowledge.load(Path(__file__).resolve().parent.parent / "knowledge", near_duplicates=False)
    assert result.kb is not None
    renderer = Renderer(result.kb)
    for entry in result.kb:
        for lang in LANGS:
            assert renderer.titled(renderer.title(entry, lang)) == (entry, lang), (entry.id, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_share_card_fits_one_message_and_links_to_the_bot(lang: str) -> None:
    entry = make_entry("Palabra & <b>otra</b>. " * 400)  # about 9,000 characters
    renderer = Renderer(KnowledgeBase((entry,)), bot_username="parole_help_bot")
    card = renderer.share_card(entry, lang)
    assert len(card.plain) <= MESSAGE_LIMIT  # Telegram counts the text after the HTML is parsed
    parser = _TagChecker()
    parser.feed(card.html)
    assert parser.stack == [] and parser.tags <= ALLOWED_TAGS
    assert card.plain.split("\n\n")[1].endswith("…")  # the answer was cut, the rest is kept
    assert format_day(entry.reviewed, lang) in card.plain
    assert "https://t.me/parole_help_bot?start=evil-entry" in card.plain
    assert '- AT&T <b>news</b>: https://example.org/?a=1&b="2"' in card.plain
    [[button]] = card.buttons
    assert button.url == "https://t.me/parole_help_bot?start=evil-entry"
    inline = renderer.inline_card(entry, lang)
    assert (inline.id, inline.screen) == (f"evil-entry.{lang}", card)
    assert len(inline.description) < 200 and inline.description.endswith("…")
