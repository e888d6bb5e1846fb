"""Property tests (hypothesis): the pure core never raises and keeps its contracts on any text."""

from __future__ import annotations

import math
import re

import pytest
import yaml
from helpers import SMALL_KB, SMALL_SYNONYMS, TODAY, write_small_kb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from bot.core import knowledge, normalize, validate, yamlload
from bot.core.conversation import Engine
from bot.core.langs import LANGS
from bot.core.language import LanguageDetector
from bot.core.normalize import fold, fold_texts, tokens

PROPERTY = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
FOLDED = re.compile(r"(?:[0-9a-z]+(?: [0-9a-z]+)*)?")

CURATED = [
    (q, lang, entry_id) for entry_id, spec in SMALL_KB.items() for lang in LANGS for q in spec[lang]["questions"]
]
# Words that exist in the knowledge base, to build texts that reach the ranking code.
KB_WORDS = sorted(
    {w for q, _, _ in CURATED for w in q.split()} | {p for group in SMALL_SYNONYMS.values() for p in group}
)

any_text = st.text(max_size=300)
# Knowledge-base words mixed with arbitrary Unicode fragments, emoji and HTML characters.
kb_like_text = st.lists(
    st.one_of(
        st.sampled_from(KB_WORDS),
        st.text(max_size=8),
        st.sampled_from(["😭", "🙏", "<b>", "&amp;", "¿", "?!", "I-134A", "привет", "你好"]),
    ),
    max_size=25,
).map(" ".join)
texts = st.one_of(any_text, kb_like_text)
hints = st.lists(st.one_of(st.none(), st.sampled_from([*LANGS, "fr", "pt-BR", "", "xx"])), max_size=3)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    result = knowledge.load(write_small_kb(tmp_path_factory.mktemp("kb")), today=TODAY)
    assert result.kb is not None, result.problems
    return Engine(result.kb)


@PROPERTY
@given(any_text)
def test_fold_is_idempotent_and_only_lowercase_ascii_words(text: str) -> None:
    once = fold(text)
    assert FOLDED.fullmatch(once), once
    assert fold(once) == once


@PROPERTY
@given(st.lists(st.one_of(texts, st.sampled_from(["i", "134", "$", "300", "\n", "I-", "h", "1b", "aaa"])), max_size=12))
def test_folding_many_texts_at_once_is_folding_each(items: list[str]) -> None:
    """The knowledge base folds an entry's questions in one pass (``fold_texts``): the same as
    folding each, whatever sits at the end of one text and the start of the next."""
    assert fold_texts(items) == tuple(fold(t) for t in items)


pieces = st.lists(
    st.sampled_from(["a", "b", "zz", "z", "aaa", "é", "ééé", "  ", "\n", "111", "A", "AAA"]), max_size=12
).map("".join)


@PROPERTY
@given(
    st.builds(
        lambda head, filler, tail: head + filler + tail,
        pieces,
        st.sampled_from(["", "ab " * 300]),  # long texts take the numpy path
        pieces,
    )
)
def test_repeat_test_agrees_with_the_regex(text: str) -> None:
    """Long texts look for a letter written three times with numpy, short ones with the regex:
    both give the regex's answer."""
    assert normalize._has_repeat(text) == (normalize._REPEAT.search(text) is not None)


# Questions that differ by a letter or a word, so that many pairs are near-duplicates.
near_questions = st.lists(
    st.lists(
        st.sampled_from(["parole", "parol", "termino", "se", "acabo", "el", "la", "chnv", "pwogram", "fini", "a", "x"]),
        max_size=9,
    ).map(" ".join),
    max_size=40,
)


@PROPERTY
@given(near_questions)
def test_near_duplicate_search_skips_only_pairs_that_cannot_match(questions: list[str]) -> None:
    """The near-duplicate warning compares each question with its NEAR_WINDOW neighbours in
    sorted order, skipping pairs whose lengths alone rule out the threshold: the pairs found
    are exactly those of scoring every neighbour pair."""
    keys = [" ".join(sorted(q.split())) for q in questions]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    expected = [
        (order[k], order[k + step])
        for step in range(1, min(validate.NEAR_WINDOW, len(order) - 1) + 1)
        for k in range(len(order) - step)
        if fuzz.ratio(keys[order[k]], keys[order[k + step]]) >= validate.NEAR_DUPLICATE
    ]
    assert validate._near_pairs(questions) == expected
    assert validate._near_pairs(questions, keys) == expected


@PROPERTY
@given(texts, st.sampled_from(LANGS))
def test_tokens_are_folded_words(text: str, lang: str) -> None:
    for word in tokens(text, lang):
        assert re.fullmatch(r"[0-9a-z]+", word), word


@PROPERTY
@given(texts, hints)
def test_detection_never_raises(text: str, hint_list: list[str | None]) -> None:
    for detector in (LanguageDetector(), _trained()):
        found = detector.detect(text, hint_list)
        assert found.lang in (*LANGS, None)
        if any(h in LANGS for h in hint_list):
            assert found.lang in LANGS  # a usable hint always gives a language
        if found.confident:
            assert found.lang in LANGS


_TRAINED: list[LanguageDetector] = []


def _trained() -> LanguageDetector:
    if not _TRAINED:
        corpus = {lang: [q for q, lg, _ in CURATED if lg == lang] for lang in LANGS}
        _TRAINED.append(LanguageDetector(corpus))
    return _TRAINED[0]


@PROPERTY
@given(texts, st.sampled_from([None, *LANGS]), hints)
def test_respond_never_raises_and_keeps_its_contract(
    engine: Engine, text: str, lang: str | None, hint_list: list[str | None]
) -> None:
    reply = engine.respond(text, lang, hint_list)
    ids = {e.id for e in engine.kb}
    assert reply.lang in LANGS
    assert reply.action in {"answer", "suggest", "escalate"}
    assert math.isfinite(reply.score)
    assert set(reply.suggestions) <= ids
    assert len(set(reply.suggestions)) == len(reply.suggestions)
    if reply.action != "answer":
        assert reply.topic is None
    if reply.topic is not None:
        assert reply.topic in ids and reply.answer
    if reply.action == "suggest":
        assert reply.suggestions
    else:
        assert reply.suggestions == ()
    assert reply.text == text


@pytest.mark.parametrize(
    ("question", "lang", "entry_id"), CURATED, ids=[f"{e}-{lg}-{i}" for i, (_, lg, e) in enumerate(CURATED)]
)
def test_every_curated_question_ranks_its_own_entry_first(
    engine: Engine, question: str, lang: str, entry_id: str
) -> None:
    reply = engine.respond(question, lang)
    assert reply.candidates, question
    assert reply.candidates[0].entry_id == entry_id, reply.candidates
    assert reply.action == "answer" or entry_id in reply.suggestions, reply


def test_most_curated_questions_are_answered_outright(engine: Engine) -> None:
    answered = sum(engine.respond(q, lang).topic == entry_id for q, lang, entry_id in CURATED)
    assert answered / len(CURATED) >= 0.95, f"{answered}/{len(CURATED)}"


@PROPERTY
@given(st.sampled_from(CURATED), st.sampled_from(["upper", "title", "punct", "emoji", "spaces"]))
def test_curated_question_survives_cosmetic_changes(engine: Engine, item: tuple[str, str, str], change: str) -> None:
    question, lang, entry_id = item
    changed = {
        "upper": question.upper(),
        "title": question.title(),
        "punct": "¿" + question + "???!!",
        "emoji": "🙏 " + question + " 😭😭",
        "spaces": "   " + question.replace(" ", "   ") + "\n",
    }[change]
    reply = engine.respond(changed, lang)
    assert reply.candidates and reply.candidates[0].entry_id == entry_id


# Plain (unquoted) values that YAML reads as something other than text, and look-alikes.
plain_values = st.sampled_from(
    [
        "yes",
        "No",
        "ON",
        "off",
        "y",
        "n",
        "true",
        "False",
        "~",
        "null",
        "Null",
        "NULL",
        "nul",
        "1",
        "-1",
        "+7",
        "0x1F",
        "0o17",
        "017",
        "1_000",
        "1.5",
        "-.5e3",
        ".inf",
        "-.Inf",
        ".NaN",
        "2026-11-23",
        "2026-11-23 10:00:00",
        "2026-11-23T10:00:00Z",
        "2026-1-2",
        "1:20",
        "190:20:30",
        "=",
        "tps",
        "otro",
        "Tal vez",
        "nou",
        "fini",
        "3 meses",
        "'quoted'",
        '"no"',
        "é",
        "-",
        ".",
        "0",
        "1e3",
        "12345678901234567890",
    ]
)


@PROPERTY
@given(st.lists(st.tuples(plain_values, plain_values), min_size=1, max_size=8))
def test_values_are_read_as_pyyaml_safe_load_reads_them(pairs: list[tuple[str, str]]) -> None:
    """The loader resolves tags itself (faster than PyYAML's generic resolver): every plain,
    quoted, listed or key value reads as ``yaml.safe_load`` reads it, or both refuse it."""
    document = "\n".join(f"- {value}" for value, _ in pairs) + "\n"
    mapping = (
        "\n".join(f"k{i}: {value}" for i, (_, value) in enumerate(pairs))
        + "\n"
        + "\n".join(f"{key}: 1" for key, _ in pairs[:1])
        + "\n"
    )
    for text in (document, mapping, "[" + ", ".join(v for _, v in pairs) + "]\n"):
        try:
            expected = repr(yaml.safe_load(text))
        except yaml.YAMLError:
            expected = "error"
        result = yamlload.load_yaml(text)
        assert (repr(result.data) if not result.problems or result.data is not None else "error") == expected, text


def test_pyyaml_safe_loader_has_no_path_or_wildcard_resolvers() -> None:
    """What ``yamlload``'s own resolver leaves out: it must stay absent from PyYAML's safe loader."""
    assert not yaml.SafeLoader.yaml_path_resolvers
    assert None not in yaml.SafeLoader.yaml_implicit_resolvers


def test_merge_keys_and_anchors_read_as_pyyaml_safe_load_reads_them() -> None:
    text = (
        "base: &b {title: x, url: 'https://a.org'}\nother:\n  <<: *b\n  title: y\nlist: &l [a, b]\nagain: *l\n= : v\n"
    )
    result = yamlload.load_yaml(text)
    assert not result.problems
    assert repr(result.data) == repr(yaml.safe_load(text))
    assert result.data["other"] == {"title": "y", "url": "https://a.org"}
