"""bot.core.normalize: fold (language-independent) and expand/tokens (per language)."""

from __future__ import annotations

import re

import pytest

from bot.core.lexicon import ABBREVIATIONS
from bot.core.normalize import MAX_TEXT, expand, fold, fold_texts, tokens

FOLDED = re.compile(r"[0-9a-z ]*")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # accents and case
        ("¿Se acabó el PAROLE?", "se acabo el parole"),
        ("Paròl la fini", "parol la fini"),
        ("Pèmi travay mwen", "pemi travay mwen"),
        ("NIÑO Ñandú", "nino nandu"),
        ("Straße", "strasse"),
        ("Él está aquí, ¿sí?", "el esta aqui si"),
        # punctuation and emoji become spaces, spaces collapse
        ("hola!!! q tal???", "hola q tal"),
        ("parole...se acabo,,,ya?", "parole se acabo ya"),
        ("😭😭 me van a deportar 🙏", "me van a deportar"),
        ("ayuda👉por favor", "ayuda por favor"),
        ("  tabs\tand\nnew   lines  ", "tabs and new lines"),
        ("«comillas» “curvas” 'simples'", "comillas curvas simples"),
        # repeated letters are cut to two
        ("holaaaaa", "holaa"),
        ("pleeeease", "pleease"),
        ("graciasss", "graciass"),
        ("mesiiii anpil", "mesii anpil"),
        # forms and A-numbers
        ("I-134A", "i134a"),
        ("i 134 a", "i134a"),
        ("I134-A", "i134a"),
        ("i134a", "i134a"),
        ("I.134A", "i134a"),
        ("formulario I-134 A de mi primo", "formulario i134a de mi primo"),
        ("el I-94", "el i94"),
        ("I-220B", "i220b"),
        ("I 589", "i589"),
        ("visa H-1B", "visa h1b"),
        # only forms (and visa letters) are joined: other letters next to numbers stay apart
        ("y 20 personas", "y 20 personas"),
        ("a 30 dias", "a 30 dias"),
        # money amounts
        ("me cobran $300", "me cobran 300 usd"),
        ("300$ pa la cita", "300 usd pa la cita"),
    ],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the form number must not swallow the next word (it used to give "i134de", "i134y")
        ("el I-134 de mi primo", "el i134 de mi primo"),
        ("mi I-134 y mi I-94", "mi i134 y mi i94"),
        ("el i94 o el pasaporte", "el i94 o el pasaporte"),
        ("fom I-134A m nan", "fom i134a m nan"),
        # a form glued to a non-Latin word or to punctuation is still a form
        ("你好i 134", "i134"),
        ("fòm i,134", "fom i134"),
    ],
)
def test_fold_form_numbers_keep_neighbouring_words(text: str, expected: str) -> None:
    assert fold(text) == expected
    assert fold(expected) == expected


def test_fold_special_inputs() -> None:
    assert fold("") == ""
    assert fold("   ") == ""
    assert fold("😀🙏🇺🇸❤️") == ""
    assert fold("?!¿¡...") == ""
    # HTML characters are punctuation like any other
    assert fold("<b>&amp;</b> parole") == "b amp b parole"
    assert fold("<script>alert(1)</script>") == "script alert 1 script"
    # other scripts than Latin are dropped, the Latin words survive
    assert fold("привет parole 你好 مرحبا se acabó") == "parole se acabo"
    assert fold("Привет") == ""


def test_fold_long_text_is_cut() -> None:
    text = "parole " * 1500  # 10,500 characters
    folded = fold(text)
    assert len(folded) <= MAX_TEXT
    assert set(folded.split()[:-1]) == {"parole"}  # the last word may be cut
    assert fold("x" * 10_000) == "xx"


@pytest.mark.parametrize(
    "text",
    [
        "¿Se acabó el PAROLE?",
        "I-134A del patrocinador",
        "holaaaa 😭 I 134 a",
        "el I-134 de mi primo y el I-94",
        "ła 12",
        "<b>&amp;</b>",
        "a-1-2-3 b.44 c 555 d i-94-a i,134",
        "$1,500.00 y 300$",
        "",
    ],
)
def test_fold_is_idempotent(text: str) -> None:
    once = fold(text)
    assert fold(once) == once
    assert FOLDED.fullmatch(once)


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("q paso con el parole", "es", ["que", "paso", "con", "el", "parole"]),
        ("xq me lo quitaron", "es", ["porque", "me", "lo", "quitaron"]),
        ("pa q sirve", "es", ["para", "que", "sirve"]),
        ("toy en usa", "es", ["estoy", "en", "estados", "unidos"]),
        ("en EE.UU.", "es", ["en"]),  # "ee" and "uu" vanish
        ("tqm", "es", []),
        ("m pa konnen", "ht", ["mwen", "pa", "konnen"]),
        ("sak pase", "ht", ["sa", "ki", "pase"]),
        ("map tann", "ht", ["mwen", "ap", "tann"]),
        ("w ka ede m", "ht", ["ou", "ka", "ede", "mwen"]),
        ("u r right", "en", ["you", "are", "right"]),
        ("idk what 2 do", "en", ["i", "do", "not", "know", "what", "2", "do"]),
        ("thx!!", "en", ["thanks"]),
        ("im scared", "en", ["i", "am", "scared"]),
    ],
)
def test_tokens_expand_per_language(text: str, lang: str, expected: list[str]) -> None:
    assert tokens(text, lang) == expected


def test_expand_is_language_specific() -> None:
    # "m" is "mwen" only in Creole; "u" is "you" only in English; "q" is "que" only in Spanish
    assert expand(["m"], "ht") == ["mwen"]
    assert expand(["m"], "es") == ["m"]
    assert expand(["u"], "en") == ["you"]
    assert expand(["u"], "ht") == ["u"]
    assert expand(["q"], "es") == ["que"]
    assert expand(["q"], "en") == ["q"]
    assert expand(["q", "m"], "xx") == ["q", "m"]  # unknown language: nothing expanded
    assert expand([], "es") == []


@pytest.mark.parametrize("lang", sorted(ABBREVIATIONS))
def test_expansions_are_folded_words(lang: str) -> None:
    """Every abbreviation and replacement is already folded, otherwise it could never match."""
    for short, long in ABBREVIATIONS[lang].items():
        assert fold(short) == short, short
        assert fold(long) == long, long


@pytest.mark.parametrize("lang", ["es", "ht", "en"])
def test_expansion_is_idempotent(lang: str) -> None:
    """Expanding twice changes nothing: no replacement is itself an abbreviation of another."""
    for short in ABBREVIATIONS[lang]:
        once = expand([short], lang)
        assert expand(once, lang) == once, (lang, short, once)


@pytest.mark.parametrize(
    "text, folded",
    [
        ("I--134A", "i134a"),
        ("i 134 - a", "i134a"),
        ("H-1B!", "h1b"),
        ("pago $ 300", "pago 300 usd"),
        ("I-134 y el I-94", "i134 y el i94"),
    ],
)
def test_runs_of_punctuation_count_as_one_space_for_forms(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_texts_keeps_each_text_apart() -> None:
    assert fold_texts(["mi I", "134 a", "pague 300", "$ ayer", "linea\npartida", ""]) == (
        "mi i",
        "134 a",
        "pague 300",
        "ayer",
        "linea partida",
        "",
    )
    assert fold_texts([]) == ()
