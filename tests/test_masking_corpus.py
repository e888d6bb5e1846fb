"""The masking corpus (tests/data/masking/<lang>.yaml): realistic es/ht/en messages.

- ``masked``: every listed identifier disappears from ``redact(text)``, and so do its digits,
  even regrouped ("123456789" for "A-123-456-789") and each of its 4+ digit groups ("1990" of
  "2 de marzo de 1990"); so a message should not repeat such a group outside its identifiers.
- ``clean``: look-alikes (form numbers, amounts, years, ordinary dates, zip codes, counts) come
  back unchanged.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.core.redact import redact

CORPUS_DIR = Path(__file__).resolve().parent / "data" / "masking"
LANGS = ("es", "ht", "en")
MIN_MASKED = 40
MIN_CLEAN = 20

#: what people put between digit groups; removed before looking for an identifier's digits
_SEPARATORS = re.compile(r"[\s\-./()+]")
_GROUP = re.compile(r"\d{4,}")


def _corpus(lang: str) -> dict:
    with (CORPUS_DIR / f"{lang}.yaml").open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def _leaks(text: str, identifiers: list[str]) -> list[str]:
    """The identifiers of ``text`` (or their digits) still readable after masking."""
    out = redact(text).text
    flat = _SEPARATORS.sub("", out)
    leaked = []
    for ident in identifiers:
        digits = re.sub(r"\D", "", ident)
        groups = _GROUP.findall(ident)
        if (
            ident.casefold() in out.casefold()
            or (len(digits) >= 6 and digits in flat)
            or any(re.search(rf"(?<!\d){group}(?!\d)", out) for group in groups)
        ):
            leaked.append(ident)
    return leaked


@pytest.mark.parametrize("lang", LANGS)
def test_corpus_is_well_formed_and_large_enough(lang: str) -> None:
    corpus = _corpus(lang)
    assert set(corpus) == {"masked", "clean"}
    masked, clean = corpus["masked"], corpus["clean"]
    assert len(masked) >= MIN_MASKED
    assert len(clean) >= MIN_CLEAN
    for row in masked:
        assert set(row) == {"text", "identifiers"}
        assert row["identifiers"], row["text"]
        for ident in row["identifiers"]:
            assert isinstance(ident, str) and ident in row["text"], (row["text"], ident)
    assert all(isinstance(text, str) and text for text in clean)
    texts = [row["text"] for row in masked] + clean
    assert len(texts) == len(set(texts)), "duplicate messages"


@pytest.mark.parametrize("lang", LANGS)
def test_no_identifier_survives_masking(lang: str) -> None:
    failures = []
    for row in _corpus(lang)["masked"]:
        leaked = _leaks(row["text"], row["identifiers"])
        if leaked:
            failures.append((row["text"], redact(row["text"]).text, leaked))
    assert failures == []


@pytest.mark.parametrize("lang", LANGS)
def test_masked_messages_report_what_was_masked_and_mask_once(lang: str) -> None:
    for row in _corpus(lang)["masked"]:
        once = redact(row["text"])
        assert once.found, row["text"]
        assert redact(once.text).text == once.text


@pytest.mark.parametrize("lang", LANGS)
def test_clean_messages_come_back_unchanged(lang: str) -> None:
    changed = [(text, redact(text).text) for text in _corpus(lang)["clean"] if redact(text).text != text]
    assert changed == []


def test_the_leak_check_notices_a_leak() -> None:
    """Negative control: a message whose identifier is left alone is reported."""
    assert _leaks("mi cita es el 2 de marzo de 2026", ["2 de marzo de 2026"]) == ["2 de marzo de 2026"]
    assert _leaks("A-number A-123-456-789", ["A-123-456-789"]) == []
