"""Every interface string exists in es, ht and en, and the template matches the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.core.langs import LANGS
from bot.ui import i18n

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"


def catalog(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def code_msgids(tmp_path: Path) -> set[str]:
    out = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "--no-default-keywords",
            "-k",
            "_:2",
            "--omit-header",
            "-o",
            str(out),
            str(ROOT / "bot"),
        ],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return {m.id for m in catalog(out) if m.id}


def test_template_matches_the_code(tmp_path: Path):
    committed = {m.id for m in catalog(LOCALES / "messages.pot") if m.id}
    assert code_msgids(tmp_path) == committed, "run the pybabel extract/update commands from README.md"


@pytest.mark.parametrize("lang", LANGS)
def test_every_string_is_translated(lang: str):
    template = {m.id for m in catalog(LOCALES / "messages.pot") if m.id}
    translated = {m.id: m.string for m in catalog(LOCALES / lang / "LC_MESSAGES" / "bot.po") if m.id}
    missing = sorted(template - translated.keys())
    assert missing == [], f"{lang}: not in the catalog: {missing}"
    if lang != "en":  # English catalog may leave msgstr empty: the msgid is the English text
        empty = sorted(msgid for msgid in template if not translated[msgid])
        assert empty == [], f"{lang}: not translated: {empty}"
        fuzzy = sorted(m.id for m in catalog(LOCALES / lang / "LC_MESSAGES" / "bot.po") if m.id and m.fuzzy)
        assert fuzzy == [], f"{lang}: translations marked fuzzy (check and unmark them): {fuzzy}"


@pytest.mark.parametrize("lang", ("es", "ht"))
def test_placeholders_survive_translation(lang: str):
    import re

    for message in catalog(LOCALES / lang / "LC_MESSAGES" / "bot.po"):
        if message.id and message.string:
            assert set(re.findall(r"\{\w+\}", message.id)) == set(re.findall(r"\{\w+\}", message.string)), message.id


def test_catalogs_compile_and_translate():
    i18n.translations.cache_clear()
    i18n.load_all()
    assert i18n._("en", "Talk to a person") == "Talk to a person"
    for lang in ("es", "ht"):
        assert i18n._(lang, "Talk to a person") != "Talk to a person"
