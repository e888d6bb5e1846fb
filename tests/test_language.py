"""bot.core.language: short informal messages, hints only as tie-breakers.

The messages below were written for these tests (not taken from any evaluation set). Each is
checked twice: with the bare detector (marker word lists only) and with a detector trained on a
small knowledge base, as ``Engine`` builds it.
"""

from __future__ import annotations

import pytest
from helpers import TODAY, write_small_kb

from bot.core import knowledge
from bot.core.conversation import Engine
from bot.core.langs import LANGS
from bot.core.language import LanguageDetector

ES = [
    "oigan alguien sabe si ya cerraron lo del parole??",
    "mi hermano llego con el parole y ahora q hace",
    "buenas, tengo una pregunta sobre mi permiso de trabajo",
    "xq me llego un correo diciendo q me tengo q ir",
    "me quieren cobrar 800 dolares pa arreglarme los papeles",
    "donde consigo un abogado q no cobre tanto",
    "mi esposa es venezolana y tiene miedo de salir a la calle",
    "es verdad q van a deportar a todos los cubanos?",
    "ayuda porfa no se q hacer con mi caso",
    "tengo el asilo pendiente, me pueden sacar?",
    "el patrocinador de mi mamá ya no quiere ayudarla",
    "hola buenas noches, me pueden orientar",
    "q pasa si me quedo despues de la fecha",
    "dicen en tiktok q el parole vuelve, es cierto?",
    "necesito saber si todavía puedo trabajar",
]
HT = [
    "bonjou, m gen yon kesyon sou paròl mwen",
    "eske yo pral depote tout ayisyen yo?",
    "m pa konn sa pou m fè ak papye m yo",
    "madanm mwen resevwa yon imel ki di l fòk li kite peyi a",
    "kote m ka jwenn yon avoka ki pa chè",
    "yon nèg mande m 500 dola pou l ranje dosye m",
    "mwen se ayisyen, m antre ak parol biden an",
    "m tande yo pral relouvri pwogram nan, se vre?",
    "pitit mwen an toujou ka al lekòl?",
    "kisa k ap pase ak moun ki gen tps yo",
    "m bezwen ed souple m pè anpil",
    "eske m ka kontinye travay kounye a",
    "sipòtè m nan pa vle ede m ankò",
    "mesi anpil pou enfòmasyon an",
    "kilè dat limit la ye pou m kite peyi a",
]
EN = [
    "hey does anyone know if parole is really over",
    "my sister got an email saying she has to leave",
    "can i still work with my ead",
    "someone wants 500 bucks to fix my papers, legit?",
    "where do i find a free immigration lawyer",
    "im scared they will deport my husband",
    "what happens if i stay after the deadline",
    "i heard on tiktok they are reopening the program",
    "is my asylum case still pending or what",
    "my sponsor doesnt want to help me anymore",
    "thank you so much for the help",
    "can my kids still go to school",
    "what should i do if ice comes to my door",
    "got a letter from uscis what does it mean",
    "how long do i have before i need to leave",
]
MESSAGES = [(text, "es") for text in ES] + [(text, "ht") for text in HT] + [(text, "en") for text in EN]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> LanguageDetector:
    result = knowledge.load(write_small_kb(tmp_path_factory.mktemp("kb")), today=TODAY)
    assert result.kb is not None, result.problems
    return Engine(result.kb).detector


@pytest.fixture(scope="module")
def bare() -> LanguageDetector:
    return LanguageDetector()


@pytest.fixture(params=["bare", "trained"])
def detector(request: pytest.FixtureRequest) -> LanguageDetector:
    return request.getfixturevalue(request.param)


def test_at_least_fifteen_messages_per_language() -> None:
    for lang in LANGS:
        assert sum(1 for _, gold in MESSAGES if gold == lang) >= 15


@pytest.mark.parametrize(("text", "lang"), MESSAGES)
def test_informal_message_is_detected_confidently(detector: LanguageDetector, text: str, lang: str) -> None:
    found = detector.detect(text)
    assert (found.lang, found.confident) == (lang, True)


@pytest.mark.parametrize(("text", "lang"), MESSAGES)
def test_clear_text_ignores_other_hints(detector: LanguageDetector, text: str, lang: str) -> None:
    for hint in LANGS:
        found = detector.detect(text, (hint, hint))
        assert found.lang == lang, (hint, found)
        assert found.confident


@pytest.mark.parametrize("hint", LANGS)
@pytest.mark.parametrize("text", ["CHNV?", "chnv", "I-134A??", "1234"])
def test_unclear_text_follows_the_hint(detector: LanguageDetector, text: str, hint: str) -> None:
    found = detector.detect(text, (hint,))
    assert found == found.__class__(hint, False)


def test_first_usable_hint_wins(detector: LanguageDetector) -> None:
    # the stored choice comes first, then Telegram's language_code; unknown codes are skipped
    assert detector.detect("CHNV?", ("ht", "en")).lang == "ht"
    assert detector.detect("CHNV?", (None, "en")).lang == "en"
    assert detector.detect("CHNV?", ("fr", "pt-BR", "en")).lang == "en"


def test_spanish_question_ignores_an_english_hint(detector: LanguageDetector) -> None:
    found = detector.detect("¿Se acabó el parole? q hago ahora", ("en",))
    assert (found.lang, found.confident) == ("es", True)


@pytest.mark.parametrize("text", ["", "   ", "😭🙏", "🇺🇸🇭🇹", "???", "...!!!", "Привет", "你好"])
def test_no_evidence_returns_the_hint_or_none(detector: LanguageDetector, text: str) -> None:
    assert detector.detect(text).lang is None
    assert detector.detect(text).confident is False
    assert detector.detect(text, ()).lang is None
    assert detector.detect(text, (None,)).lang is None
    assert detector.detect(text, ("ht",)).lang == "ht"
    assert detector.detect(text, ("xx", "en")).lang == "en"


def test_accent_cues_count_as_evidence(detector: LanguageDetector) -> None:
    # "¿" alone says Spanish even with no known word
    assert detector.detect("¿¿??", ("en",)).lang == "es"


@pytest.mark.parametrize(
    "text",
    ["a" * 10_000, "parole " * 2000, "привет parole 你好 مرحبا se acabó", "<b>&amp;</b>", "\x00\ufffd\U0010ffff"],
)
def test_odd_inputs_never_raise(detector: LanguageDetector, text: str) -> None:
    found = detector.detect(text, ("ht",))
    assert found.lang in LANGS
    assert set(detector.scores(text)) == set(LANGS)
