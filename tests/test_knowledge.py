"""bot.core.knowledge / bot.validate: every broken file gives one exact ``file:line: message``.

The entries are written by ``helpers.entry_yaml``, whose layout is fixed (checked by
``test_entry_layout``):

    1 id:            7 es:            19 ht:                  32 en:
    2 category:      8   answer:      20   answer:            33   answer:
    3 reviewed:      9   questions:   21   questions:         34   questions:
    4 sources:   10-17   - 8 questions  22-29 - ...           35-42 - ...
    5 - title:      18   title:       30   title:             43   title:
    6   url:                          31   translated_from:   44   translated_from:
                                                              45 first extra field (related ...)

(``translated_from`` is the fingerprint of the es answer, so translations give no warning.)

Loading runs with the working directory at ``tmp_path`` and the folder given as ``kb``, so
the messages read exactly as a maintainer sees them: ``kb/closure/chnv-ended.yaml:3: ...``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import (
    PYTHON,
    ROOT,
    entry_yaml,
    generic_lang,
    subprocess_env,
    write_entry,
    write_synonyms,
    write_text,
)

from bot.core import knowledge
from bot.core.validate import MIN_QUESTIONS, NEAR_DUPLICATE, STALE_DAYS, TELEGRAM_LIMIT, Problem

#: A fixed day for the date rules; every entry in this file is reviewed relative to it.
DAY = dt.date(2026, 11, 23)
RECENT = dt.date(2026, 11, 1)
KB = Path("kb")


def with_questions(entry_id: str, lang: str, *extra: str) -> dict:
    block = generic_lang(entry_id, lang)
    block["questions"] = block["questions"] + list(extra)
    return block


def valid(d: Path) -> None:
    write_entry(d, "chnv-ended", reviewed=RECENT)
    write_entry(d, "find-lawyer", "alternatives", reviewed=RECENT, related=["chnv-ended"])


def malformed_flow(d: Path) -> None:
    write_text(
        d,
        "closure/chnv-ended.yaml",
        entry_yaml("chnv-ended", reviewed=RECENT).replace("category: closure", "category: [closure"),
    )


def malformed_indent(d: Path) -> None:
    write_text(
        d, "closure/chnv-ended.yaml", entry_yaml("chnv-ended", reviewed=RECENT).replace("  answer:", " answer:", 1)
    )


def unknown_field(d: Path) -> None:
    write_entry(d, "chnv-ended", reviewed=RECENT, urgnet=True)


def unknown_field_in_language(d: Path) -> None:
    write_entry(d, "chnv-ended", reviewed=RECENT, es={**generic_lang("chnv-ended", "es"), "keyword": ["chnv"]})


def missing_field(d: Path) -> None:
    write_entry(d, "chnv-ended", reviewed=RECENT, sources=None)


def missing_language(d: Path) -> None:
    write_entry(d, "chnv-ended", reviewed=RECENT, ht=None)


def duplicate_key(d: Path) -> None:
    text = entry_yaml("chnv-ended", reviewed=RECENT).replace(
        "category: closure\n", "category: closure\ncategory: scams\n"
    )
    write_text(d, "closure/chnv-ended.yaml", text)


def duplicate_id(d: Path) -> None:
    write_entry(d, "chnv-ended", reviewed=RECENT)
    write_entry(d, "chnv-ended", "scams", reviewed=RECENT)


def missing_answer(d: Path) -> None:
    write_entry(d, "chnv-ended", reviewed=RECENT, ht={"questions": generic_lang("chnv-ended", "ht")["questions"]})


def missing_questions(d: Path) -> None:
    write_entry(d, "chnv-ended", reviewed=RECENT, en={"answer": "The CHNV program ended."})


def unknown_related(d: Path) -> None:
    write_entry(d, "chnv-ended", reviewed=RECENT, related=["find-lawyer", "talk-to-human"])
    write_entry(d, "find-lawyer", "alternatives", reviewed=RECENT)


def answer_too_long(d: Path) -> None:
    write_entry(d, "chnv-ended", reviewed=RECENT, es={**generic_lang("chnv-ended", "es"), "answer": "palabra " * 600})


def source_without_web_address(d: Path) -> None:
    write_entry(d, "chnv-ended", reviewed=RECENT, sources=[{"title": "USCIS", "url": "www.uscis.gov/CHNV"}])


def source_with_other_scheme(d: Path) -> None:
    write_entry(d, "chnv-ended", reviewed=RECENT, sources=[{"title": "USCIS", "url": "ftp://uscis.gov/CHNV"}])


def reviewed_in_future(d: Path) -> None:
    write_entry(d, "chnv-ended", reviewed=DAY + dt.timedelta(days=1))


def same_question_two_entries(d: Path) -> None:
    write_entry(d, "chnv-ended", reviewed=RECENT, es=with_questions("chnv-ended", "es", "¿Se acabó el parole?"))
    write_entry(
        d, "reopening-rumors", reviewed=RECENT, es=with_questions("reopening-rumors", "es", "se acabo el parole")
    )


def answer_no_is_boolean(d: Path) -> None:
    text = entry_yaml(
        "chnv-ended",
        reviewed=RECENT,
        en={"answer": "PLACEHOLDER", "questions": generic_lang("chnv-ended", "en")["questions"]},
    )
    write_text(d, "closure/chnv-ended.yaml", text.replace("answer: PLACEHOLDER", "answer: no"))


def file_name_not_id(d: Path) -> None:
    write_entry(d, "chnv-ended", reviewed=RECENT, filename="chnv-end.yaml")


def wrong_folder(d: Path) -> None:
    write_entry(d, "chnv-ended", "closure", reviewed=RECENT, filename="../scams/chnv-ended.yaml")


def stale_review(d: Path) -> None:
    write_entry(d, "chnv-ended", reviewed=DAY - dt.timedelta(days=STALE_DAYS + 1))


def near_duplicate_questions(d: Path) -> None:
    write_entry(
        d, "chnv-ended", reviewed=RECENT, en=with_questions("chnv-ended", "en", "is the parole program over now")
    )
    write_entry(
        d,
        "reopening-rumors",
        reviewed=RECENT,
        en=with_questions("reopening-rumors", "en", "is the parole program now over"),
    )


def few_questions(d: Path) -> None:
    write_entry(
        d,
        "chnv-ended",
        reviewed=RECENT,
        ht={"answer": "Pwogram nan fini.", "questions": ["paròl la fini?", "eske pwogram chnv a fini"]},
    )


ERRORS: list[tuple[Callable[[Path], None], list[str]]] = [
    (
        malformed_flow,
        [
            "kb/closure/chnv-ended.yaml:3: the file is not valid YAML (expected ',' or ']', but got ':'); check indentation, quotes and colons on this line or the one before"
        ],
    ),
    (
        malformed_indent,
        [
            "kb/closure/chnv-ended.yaml:9: the file is not valid YAML (mapping values are not allowed here); check indentation, quotes and colons on this line or the one before"
        ],
    ),
    (
        unknown_field,
        [
            'kb/closure/chnv-ended.yaml:45: unknown field "urgnet" (allowed: category, en, es, ht, id, related, reviewed, source_lang, sources, urgent); check the spelling and the indentation'
        ],
    ),
    (
        unknown_field_in_language,
        [
            'kb/closure/chnv-ended.yaml:18: unknown field "keyword" in the "es" part (allowed: title, answer, questions, keywords)'
        ],
    ),
    (missing_field, ['kb/closure/chnv-ended.yaml:1: the field "sources:" is missing']),
    (missing_language, ['kb/closure/chnv-ended.yaml:1: the field "ht:" is missing']),
    (
        duplicate_key,
        ['kb/closure/chnv-ended.yaml:3: "category" appears twice in the same block (first on line 2); remove one'],
    ),
    (
        duplicate_id,
        [
            'kb/scams/chnv-ended.yaml:1: the id "chnv-ended" is already used in kb/closure/chnv-ended.yaml:1; every entry needs its own id'
        ],
    ),
    (missing_answer, ['kb/closure/chnv-ended.yaml:19: the "ht" part has no answer']),
    (missing_questions, ['kb/closure/chnv-ended.yaml:32: the "en" part has no questions']),
    (unknown_related, ['kb/closure/chnv-ended.yaml:45: related names "talk-to-human", but no entry has that id']),
    (
        answer_too_long,
        [
            'kb/closure/chnv-ended.yaml:8: the "es" answer has 4799 characters; Telegram allows at most 4096. Shorten it or split it into a related entry'
        ],
    ),
    (
        source_without_web_address,
        [
            'kb/closure/chnv-ended.yaml:6: this source has no valid web address (it must start with http:// or https://): "www.uscis.gov/CHNV"'
        ],
    ),
    (
        source_with_other_scheme,
        [
            'kb/closure/chnv-ended.yaml:6: this source has no valid web address (it must start with http:// or https://): "ftp://uscis.gov/CHNV"'
        ],
    ),
    (
        reviewed_in_future,
        ["kb/closure/chnv-ended.yaml:3: the reviewed date 2026-11-24 is in the future (today is 2026-11-23)"],
    ),
    (
        same_question_two_entries,
        [
            'kb/closure/reopening-rumors.yaml:18: the question "se acabo el parole" is also in kb/closure/chnv-ended.yaml:18 (chnv-ended); the bot cannot tell the two entries apart, keep it in one'
        ],
    ),
    (
        answer_no_is_boolean,
        ['kb/closure/chnv-ended.yaml:33: the "en" answer was read as true/false; put the text in quotes'],
    ),
    (
        file_name_not_id,
        [
            'kb/closure/chnv-end.yaml:1: the id "chnv-ended" does not match the file name; rename the file to chnv-ended.yaml'
        ],
    ),
    (
        wrong_folder,
        [
            'kb/scams/chnv-ended.yaml:2: the entry is in the folder "scams" but its category is "closure"; move the file or fix the category'
        ],
    ),
]

WARNINGS: list[tuple[Callable[[Path], None], list[str]]] = [
    (
        stale_review,
        [
            "kb/closure/chnv-ended.yaml:3: warning: reviewed 2026-05-26, more than 180 days ago: check the answer against its sources and update the date"
        ],
    ),
    (
        near_duplicate_questions,
        [
            'kb/closure/reopening-rumors.yaml:43: warning: this "en" question is almost the same as one in kb/closure/chnv-ended.yaml:43 (chnv-ended); the bot may hesitate between the two entries, make them clearly different'
        ],
    ),
    (
        few_questions,
        [
            'kb/closure/chnv-ended.yaml:19: warning: the "ht" part has only 2 questions; write at least 8 so people find this answer'
        ],
    ),
]


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in tmp_path, with a valid synonyms file in kb/."""
    monkeypatch.chdir(tmp_path)
    write_synonyms(KB)
    return KB


def problems(directory: Path = KB) -> tuple[knowledge.LoadResult, list[str]]:
    result = knowledge.load(directory, today=DAY)
    return result, [str(p) for p in result.problems]


def test_entry_layout(in_tmp: Path) -> None:
    path = write_entry(in_tmp, "chnv-ended", reviewed=RECENT, related=["x"])
    lines = path.read_text(encoding="utf-8").splitlines()
    expected = {
        1: "id:",
        2: "category:",
        3: "reviewed:",
        4: "sources:",
        5: "- title:",
        6: "  url:",
        7: "es:",
        8: "  answer:",
        9: "  questions:",
        10: "  - ",
        17: "  - ",
        18: "  title:",
        19: "ht:",
        20: "  answer:",
        21: "  questions:",
        30: "  title:",
        31: "  translated_from:",
        32: "en:",
        33: "  answer:",
        34: "  questions:",
        42: "  - ",
        43: "  title:",
        44: "  translated_from:",
        45: "related:",
    }
    for number, start in expected.items():
        assert lines[number - 1].startswith(start), (number, lines[number - 1])


def test_valid_knowledge_base_loads_with_no_problem(in_tmp: Path) -> None:
    valid(in_tmp)
    result, found = problems()
    assert found == []
    assert result.kb is not None
    assert [e.id for e in result.kb] == ["find-lawyer", "chnv-ended"]  # sorted by path
    entry = result.kb.get("find-lawyer")
    assert entry is not None and entry.related == ("chnv-ended",) and entry.category == "alternatives"
    assert entry.reviewed == RECENT
    assert entry.sources[0].url == "https://www.uscis.gov/CHNV"
    assert entry.text("es").questions[0] == "que pasa con find lawyer"
    assert entry.text("es").answer_line == 8
    assert entry.text("es").question_lines[:2] == (10, 11)
    assert "chnv-ended" in result.kb and "nope" not in result.kb and len(result.kb) == 2
    assert result.kb.synonyms == {"parole": ("parole", "parol", "paròl", "permiso humanitario", "humanitarian parole")}
    assert len(result.kb.version) == 12


@pytest.mark.parametrize(("build", "expected"), ERRORS, ids=[b.__name__ for b, _ in ERRORS])
def test_each_error_has_its_exact_message(in_tmp: Path, build: Callable[[Path], None], expected: list[str]) -> None:
    build(in_tmp)
    result, found = problems()
    assert found == expected
    assert result.kb is None
    assert all(p.level == "error" for p in result.problems)


@pytest.mark.parametrize(("build", "expected"), WARNINGS, ids=[b.__name__ for b, _ in WARNINGS])
def test_each_warning_has_its_exact_message_and_still_loads(
    in_tmp: Path, build: Callable[[Path], None], expected: list[str]
) -> None:
    build(in_tmp)
    result, found = problems()
    assert found == expected
    assert result.kb is not None
    assert result.errors == [] and all(p.level == "warning" for p in result.warnings)


def test_reviewed_exactly_stale_days_ago_is_fine(in_tmp: Path) -> None:
    write_entry(in_tmp, "chnv-ended", reviewed=DAY - dt.timedelta(days=STALE_DAYS))
    write_entry(in_tmp, "find-lawyer", "alternatives", reviewed=DAY)  # today itself is not the future
    assert problems()[1] == []


def test_answer_of_exactly_the_telegram_limit_is_only_a_warning(in_tmp: Path) -> None:
    write_entry(
        in_tmp, "chnv-ended", reviewed=RECENT, es={**generic_lang("chnv-ended", "es"), "answer": "a" * TELEGRAM_LIMIT}
    )
    result, found = problems()
    assert result.kb is not None
    assert found == [
        'kb/closure/chnv-ended.yaml:8: warning: the "es" answer has 4096 characters; more than 800 is hard to read on a phone'
    ]


def test_minimum_question_count_has_no_warning(in_tmp: Path) -> None:
    questions = generic_lang("chnv-ended", "en")["questions"][:MIN_QUESTIONS]
    write_entry(in_tmp, "chnv-ended", reviewed=RECENT, en={"answer": "x", "questions": questions})
    assert problems()[1] == []


def test_near_duplicate_threshold_is_a_rapidfuzz_score() -> None:
    assert 0 < NEAR_DUPLICATE <= 100


def test_a_question_read_as_true_false_or_empty_is_an_error(in_tmp: Path) -> None:
    en = with_questions("chnv-ended", "en", "QUESTION-ONE", "QUESTION-TWO")
    text = entry_yaml("chnv-ended", reviewed=RECENT, en=en)
    text = text.replace("QUESTION-ONE", "no", 1).replace('"QUESTION-TWO"', '""', 1).replace("QUESTION-TWO", '""', 1)
    write_text(in_tmp, "closure/chnv-ended.yaml", text)
    one = next(n for n, line in enumerate(text.splitlines(), 1) if line.strip() == "- no")
    result, found = problems()
    assert found == [
        f'kb/closure/chnv-ended.yaml:{one}: this "en" question was read as true/false; put it in quotes',
        f'kb/closure/chnv-ended.yaml:{one + 1}: this "en" question is empty or is not text; put it in quotes',
    ]
    assert result.kb is None


def test_quoted_no_is_a_valid_answer(in_tmp: Path) -> None:
    text = entry_yaml(
        "chnv-ended",
        reviewed=RECENT,
        en={"answer": "PLACEHOLDER", "questions": generic_lang("chnv-ended", "en")["questions"]},
    )
    write_text(in_tmp, "closure/chnv-ended.yaml", text.replace("answer: PLACEHOLDER", 'answer: "no"'))
    result, found = problems()
    assert found == []
    assert result.kb is not None and result.kb.get("chnv-ended").text("en").answer == "no"


def test_every_problem_is_reported_at_once(in_tmp: Path) -> None:
    """Several broken files: all their problems come out together, sorted by file and line."""
    missing_answer(in_tmp)
    write_entry(in_tmp, "find-lawyer", "alternatives", reviewed=RECENT, related=["report-scam"], urgent="yes")
    write_entry(in_tmp, "scam-signs", "scams", reviewed=DAY - dt.timedelta(days=400))
    result, found = problems()
    assert found == [
        "kb/alternatives/find-lawyer.yaml:47: urgent must be true or false",
        'kb/closure/chnv-ended.yaml:19: the "ht" part has no answer',
        "kb/scams/scam-signs.yaml:3: warning: reviewed 2025-10-19, more than 180 days ago: check the answer against its sources and update the date",
    ]
    assert result.kb is None


def test_near_duplicates_are_found_next_to_an_exact_duplicate(in_tmp: Path) -> None:
    """A question written twice (here once in the same entry, which is allowed) takes the
    slower path of the duplicate check: near-duplicates are still reported at their lines, once
    per pair of entries."""
    write_entry(
        in_tmp,
        "chnv-ended",
        reviewed=RECENT,
        en=with_questions("chnv-ended", "en", "is the parole program over now", "Is the parole program over now?"),
    )
    write_entry(
        in_tmp,
        "reopening-rumors",
        reviewed=RECENT,
        en=with_questions("reopening-rumors", "en", "is the parole program now over"),
    )
    result, found = problems()
    assert found == [
        'kb/closure/reopening-rumors.yaml:43: warning: this "en" question is almost the same as one in kb/closure/chnv-ended.yaml:44 (chnv-ended); the bot may hesitate between the two entries, make them clearly different'
    ]
    assert result.kb is not None


def test_an_entry_folded_at_once_is_folded_like_each_text(in_tmp: Path) -> None:
    """Reading folds all the texts of an entry in one pass: the same as each text's own
    ``folded_*`` property."""
    es = with_questions("chnv-ended", "es", "Y el I-134A? $300!!! holaaaa")
    es["keywords"] = ["Parolé", "CHNV"]
    write_entry(in_tmp, "chnv-ended", reviewed=RECENT, es=es)
    entry = knowledge._read_file(in_tmp / "closure" / "chnv-ended.yaml", in_tmp, DAY).entry
    assert entry is not None
    for text in entry.texts.values():
        fresh = dataclasses.replace(text)  # a copy with nothing cached yet
        assert "folded_questions" not in fresh.__dict__
        assert text.folded_questions == fresh.folded_questions
        assert text.folded_keywords == fresh.folded_keywords
        assert text.folded_answer == fresh.folded_answer
        assert text.sorted_questions == fresh.sorted_questions
    assert "i134a" in entry.texts["es"].folded_questions[-1]


def test_parallel_reading_gives_the_same_result(in_tmp: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Large knowledge bases are parsed in a process pool: same entries, same problems, same
    version as reading the files one by one (broken files included)."""
    missing_answer(in_tmp)
    write_entry(in_tmp, "find-lawyer", "alternatives", reviewed=RECENT, related=["report-scam"], urgent="yes")
    write_entry(in_tmp, "scam-signs", "scams", reviewed=DAY - dt.timedelta(days=400))
    write_text(in_tmp, "closure/broken.yaml", "id: broken\ncategory: [closure\n")
    one, two = knowledge.load(KB, today=DAY, workers=1), knowledge.load(KB, today=DAY, workers=2)
    assert two.problems == one.problems and len(one.problems) >= 4
    valid(in_tmp)
    (in_tmp / "closure" / "broken.yaml").unlink()
    one, two = knowledge.load(KB, today=DAY, workers=1), knowledge.load(KB, today=DAY, workers=2)
    assert one.kb is not None and two.kb is not None
    assert two.kb.entries == one.kb.entries and two.kb.version == one.kb.version
    assert [t.folded_questions for e in two.kb for t in e.texts.values()] == [
        t.folded_questions for e in one.kb for t in e.texts.values()
    ]
    assert "parallel reading failed" not in caplog.text  # the pool really ran


def test_the_bot_loads_without_the_near_duplicate_search_only(in_tmp: Path) -> None:
    """The bot loads with ``near_duplicates=False``: the same entries, version and problems,
    without the near-duplicate warnings only (those are for ``check``)."""
    near_duplicate_questions(in_tmp)
    stale_review_entry = write_entry(
        in_tmp, "find-lawyer", "alternatives", reviewed=DAY - dt.timedelta(days=STALE_DAYS + 1)
    )
    full, serving = knowledge.load(KB, today=DAY), knowledge.load(KB, today=DAY, near_duplicates=False)
    assert full.kb is not None and serving.kb is not None
    assert serving.kb.entries == full.kb.entries and serving.kb.version == full.kb.version
    near = [p for p in full.problems if "almost the same" in p.message]
    assert len(near) == 1
    assert serving.problems == [p for p in full.problems if p not in near]
    assert [p.file for p in serving.problems] == [str(stale_review_entry)]
    # a question written under two entries stays an error that stops the bot
    same_question_two_entries(in_tmp)
    serving = knowledge.load(KB, today=DAY, near_duplicates=False)
    assert serving.kb is None and any("is also in" in p.message for p in serving.errors)


def test_translation_without_or_with_an_old_fingerprint_is_a_warning(in_tmp: Path) -> None:
    write_entry(
        in_tmp,
        "chnv-ended",
        reviewed=RECENT,
        stamp=False,
        en={**generic_lang("chnv-ended", "en"), "translated_from": "0123abcd"},
    )
    result, found = problems()
    assert result.kb is not None
    assert found == [
        'kb/closure/chnv-ended.yaml:19: warning: the "ht" answer of chnv-ended has no translated_from fingerprint: check it matches the "es" answer, then run: python -m bot translations --stamp chnv-ended ht',
        'kb/closure/chnv-ended.yaml:42: warning: the "es" answer of chnv-ended changed since the "en" answer was translated: review the "en" answer, then run: python -m bot translations --stamp chnv-ended en',
    ]


def _dated(lang: str, switch: dt.date, start_again: dt.date | None = None) -> dict:
    return {
        "answer": [
            {"text": f"Before ({lang})", "effective_until": switch},
            {"text": f"After ({lang})", "effective_from": start_again or switch},
        ],
        "questions": generic_lang("chnv-ended", lang)["questions"],
        **({"translated_from": knowledge.fingerprint("Before (es)\n\nAfter (es)")} if lang != "es" else {}),
    }


def test_dated_answer_variants(in_tmp: Path) -> None:
    switch = DAY + dt.timedelta(days=30)
    write_entry(
        in_tmp,
        "chnv-ended",
        reviewed=RECENT,
        stamp=False,
        **{lang: _dated(lang, switch) for lang in ("es", "ht", "en")},
    )
    result, found = problems()
    assert found == []
    text = result.kb.get("chnv-ended").text("es")
    assert text.answer_on(switch - dt.timedelta(days=1)) == "Before (es)"
    assert text.answer_on(switch) == "After (es)"


def test_gap_between_dated_answer_variants(in_tmp: Path) -> None:
    switch = DAY + dt.timedelta(days=30)
    langs = {
        "es": _dated("es", switch, switch + dt.timedelta(days=4)),
        "ht": _dated("ht", switch),
        "en": _dated("en", switch),
    }
    write_entry(in_tmp, "chnv-ended", reviewed=RECENT, stamp=False, **langs)
    result, found = problems()
    assert result.kb is None
    assert found == [
        'kb/closure/chnv-ended.yaml:11: gap in the "es" answer variants: nothing is in force from 2026-12-23 to 2026-12-27; the next variant must start on the day the previous one ends',
        'kb/closure/chnv-ended.yaml:25: the "ht" answer variants do not have the same dates as the "es" ones; every language must change on the same days',
        'kb/closure/chnv-ended.yaml:42: the "en" answer variants do not have the same dates as the "es" ones; every language must change on the same days',
    ]


def test_missing_folder_and_empty_folder(tmp_path: Path) -> None:
    assert [str(p) for p in knowledge.load(tmp_path / "nope").problems] == [
        f"{tmp_path / 'nope'}:0: the folder {tmp_path / 'nope'} does not exist"
    ]
    assert [str(p) for p in knowledge.load(tmp_path).problems] == [f"{tmp_path}:0: no .yaml files found in this folder"]


def test_empty_file_and_a_list_instead_of_an_entry(in_tmp: Path) -> None:
    write_text(in_tmp, "closure/chnv-ended.yaml", "# nothing yet\n")
    write_text(in_tmp, "closure/find-lawyer.yaml", "- id: find-lawyer\n")
    assert problems()[1] == [
        "kb/closure/chnv-ended.yaml:1: the file is empty",
        "kb/closure/find-lawyer.yaml:1: an entry must be a set of fields (id:, category:, reviewed: ...), not a list or a single text",
    ]


def test_broken_synonyms_file(in_tmp: Path) -> None:
    valid(in_tmp)
    write_text(
        in_tmp, "synonyms.yaml", "parole: [parole, parol]\nwork permit: [ead]\nlawyer: abogado\nempty: [parole, '!!']\n"
    )
    assert problems()[1] == [
        'kb/synonyms.yaml:2: the group name "work permit" must be lowercase letters, digits and "-" or "_"',
        'kb/synonyms.yaml:3: the group "lawyer" must be a list of words or phrases in [ ] (quote words like "no")',
        'kb/synonyms.yaml:4: "!!" in group "empty" has no letters or digits',
        'kb/synonyms.yaml:4: "parole" is in two groups ("parole" and "empty"); keep it in one',
    ]


def test_problem_text_format() -> None:
    assert str(Problem("kb/a.yaml", 3, "broken")) == "kb/a.yaml:3: broken"
    assert str(Problem("kb/a.yaml", 3, "old", "warning")) == "kb/a.yaml:3: warning: old"


# --- python -m bot check ---------------------------------------------------------------------


def run_check(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "bot", "check", str(directory)],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_command_prints_every_error_and_exits_1(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    write_synonyms(kb)
    recent = dt.date.today() - dt.timedelta(days=3)
    write_text(
        kb,
        "closure/chnv-ended.yaml",
        entry_yaml("chnv-ended", reviewed=recent).replace(
            "category: closure\n", "category: closure\ncategory: scams\n"
        ),
    )
    write_entry(kb, "find-lawyer", "alternatives", reviewed=recent, related=["talk-to-human"])
    write_entry(kb, "scam-signs", "scams", reviewed=recent, sources=[{"title": "FTC", "url": "reportfraud.ftc.gov"}])
    write_text(kb, "scams/report-scam.yaml", "id: report-scam\ncategory: scams\n  reviewed: 2026-01-01\n")
    done = run_check(kb)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        f'{kb}/alternatives/find-lawyer.yaml:45: related names "talk-to-human", but no entry has that id',
        f'{kb}/closure/chnv-ended.yaml:3: "category" appears twice in the same block (first on line 2); remove one',
        f"{kb}/scams/report-scam.yaml:3: the file is not valid YAML (mapping values are not allowed here); check indentation, quotes and colons on this line or the one before",
        f'{kb}/scams/scam-signs.yaml:6: this source has no valid web address (it must start with http:// or https://): "reportfraud.ftc.gov"',
        "4 error(s), 0 warning(s): the bot would refuse this knowledge base.",
    ]


def test_check_command_ok_for_a_valid_folder(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    write_synonyms(kb)
    recent = dt.date.today() - dt.timedelta(days=3)
    write_entry(kb, "chnv-ended", reviewed=recent)
    write_entry(kb, "find-lawyer", "alternatives", reviewed=recent, related=["chnv-ended"])
    done = run_check(kb)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "OK: 2 entries."


def test_check_command_ok_with_warnings(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    write_synonyms(kb)
    write_entry(kb, "chnv-ended", reviewed=dt.date.today() - dt.timedelta(days=STALE_DAYS + 30))
    done = run_check(kb)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{kb}/closure/chnv-ended.yaml:3: warning: reviewed ")
    assert lines[1] == "OK: 1 entries, 1 warning(s)."


# --- the real knowledge base (turns on when it is complete) ----------------------------------

_REAL = knowledge.load(ROOT / "knowledge")
_REAL_SKIP = pytest.mark.skipif(
    bool(_REAL.errors),
    reason=f"knowledge/ does not pass the check yet ({len(_REAL.errors)} error(s), first: {_REAL.errors[0] if _REAL.errors else ''})",
)


@_REAL_SKIP
def test_real_knowledge_base_entries_are_complete() -> None:
    assert _REAL.kb is not None
    for entry in _REAL.kb:
        assert set(entry.texts) == {"es", "ht", "en"}, entry.id
        assert entry.sources, entry.id
        for lang, text in entry.texts.items():
            assert len(text.questions) >= MIN_QUESTIONS, (entry.id, lang)
            assert len(text.answer) <= TELEGRAM_LIMIT, (entry.id, lang)
        assert Path(entry.file).stem == entry.id
