"""bot.core.learning and its storage: candidate phrasings are kept masked and without user ids,
reviewed against the knowledge base (near-duplicates folded away, conflicts held back) and
written into the files maintainers edit, as text (comments, order and layout kept), each line
marked with the day it was learned; /forget and the retention job remove them."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import write_small_kb, write_text
from test_masking_corpus import _corpus, _leaks

from bot.core import knowledge, learning
from bot.core.knowledge import OUT_OF_SCOPE
from bot.core.learning import CandidatePhrasing, Rephrasings
from bot.store.storage import Storage
from bot.telegram import privacy
from bot.telegram.logs import hash_user

DAY = dt.date(2026, 12, 6)
USER, OTHER = 4242, 5151

PHRASINGS_ES = """\
# work-permit (es): more ways people ask about this topic. One phrasing per line.
questions:
  # a comment between the questions stays where it is
  - en el trabajo me piden otro papel
  - "el permiso: sigue valiendo?"  # quoted, with its own comment

# a comment after the list
"""
OUT_OF_SCOPE_YAML = """\
# Questions the bot must NOT answer.
es:
  - como hago para mandar remesas a venezuela
  - donde consigo trabajo rapido
ht:
  - kote m ka jwenn travay
# English, last
en:
  - where can i find a job
"""


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    root = write_small_kb(tmp_path / "knowledge")
    write_text(root, "phrasings/es/work-permit.yaml", PHRASINGS_ES)
    write_text(root, "out-of-scope.yaml", OUT_OF_SCOPE_YAML)
    assert knowledge.load(root).kb is not None
    return root


def load(root: Path) -> knowledge.KnowledgeBase:
    result = knowledge.load(root)
    assert result.kb is not None, result.errors
    return result.kb


def cand(number: int, topic: str, text: str, lang: str = "es", source: str = learning.SUGGESTION) -> CandidatePhrasing:
    return CandidatePhrasing(number, DAY.isoformat(), lang, topic, text, source)


# -- review -----------------------------------------------------------------------------------


def test_review_groups_folds_away_and_holds_back_conflicts(kb_dir: Path) -> None:
    kb = load(kb_dir)
    review = learning.review(
        kb,
        [
            cand(1, "work-permit", "la fabrica me pide otro papel pa seguir trabajando"),
            cand(2, "work-permit", "La fábrica me pide otro papel pa seguir trabajando!!"),  # the same, folded
            cand(3, "work-permit", "la fabrica me pide otro papel para seguir trabajando", source=learning.VOLUNTEER),
            cand(4, "work-permit", "En el trabajo me piden OTRO papel"),  # an existing phrasing, folded
            cand(5, "work-permit", "me van a quitar mi permiso de trabajo"),  # a near-duplicate of one
            cand(6, "find-lawyer", "donde consigo un abogado gratis"),  # a question of another entry
            cand(7, "chnv-ended", "donde consigo trabajo rapido"),  # an off-topic example
            cand(8, OUT_OF_SCOPE, "como saco la licencia de manejar en florida"),
            cand(9, "no-such-entry", "una pregunta de un tema borrado"),
            cand(10, "work-permit", "kisa k pase ak pèmi travay mwen an", lang="ht"),
        ],
    )
    by_id = {g.id: g for g in review.groups}
    assert sorted(by_id) == [1, 4, 5, 6, 7, 8, 9, 10]
    assert by_id[1].ids == [1, 2, 3] and by_id[1].count == 3 and by_id[1].status == "new"
    assert by_id[1].text == "la fabrica me pide otro papel pa seguir trabajando"  # the first one said
    assert dict(by_id[1].sources) == {learning.SUGGESTION: 2, learning.VOLUNTEER: 1}
    assert (by_id[4].status, by_id[4].match_topic) == ("known", "work-permit")
    assert by_id[5].status == "known" and by_id[5].match == "me van a quitar el permiso de trabajo"
    assert (by_id[6].status, by_id[6].match_topic) == ("known", "find-lawyer")  # one of its own questions
    assert (by_id[7].status, by_id[7].match_topic) == ("conflict", OUT_OF_SCOPE)
    assert by_id[8].status == "new" and by_id[8].topic == OUT_OF_SCOPE
    assert by_id[9].status == "gone"
    assert by_id[10].status == "new" and by_id[10].lang == "ht"
    assert review.group(2) is by_id[1] and review.group(99) is None
    assert [g.id for g in learning.select(review, [3, 8])] == [1, 8]
    assert [g.id for g in learning.select(review, topic="work-permit", lang="es")] == [1, 4, 5]
    assert {g.id for g in learning.select(review, topic="all")} == set(by_id)
    assert review.waiting()[0] == ("work-permit", "es", 1, 5)


def test_a_question_of_another_entry_is_a_conflict(kb_dir: Path) -> None:
    kb = load(kb_dir)
    [group] = learning.review(kb, [cand(1, "chnv-ended", "donde consigo un abogado gratis")]).groups
    assert (group.status, group.match_topic) == ("conflict", "find-lawyer")


# -- writing ----------------------------------------------------------------------------------


def test_write_appends_as_text_keeping_comments_order_and_layout(kb_dir: Path) -> None:
    before = (kb_dir / "phrasings/es/work-permit.yaml").read_text(encoding="utf-8")
    oos_before = (kb_dir / "out-of-scope.yaml").read_text(encoding="utf-8")
    review = learning.review(
        load(kb_dir),
        [
            cand(1, "work-permit", "la fabrica me pide otro papel pa seguir trabajando"),
            cand(2, "work-permit", "no"),  # YAML would read it as false: quoted
            cand(3, "work-permit", "q pasa con mi permiso #c11: me lo quitan?"),  # a comment sign and a colon
            cand(4, "find-lawyer", "kote m ka jwenn yon avoka ki pale kreyòl", lang="ht"),  # no file yet
            cand(5, OUT_OF_SCOPE, "donde saco la licencia de manejar en florida"),
            cand(6, OUT_OF_SCOPE, "kote m ka renouvle paspò ayisyen m", lang="ht"),
            cand(7, "work-permit", "En el trabajo me piden OTRO papel"),  # known: skipped
        ],
    )
    written = learning.write(kb_dir, review.groups, today=DAY)

    after = (kb_dir / "phrasings/es/work-permit.yaml").read_text(encoding="utf-8")
    head, tail = before.split("\n\n# a comment after the list")
    assert after.startswith(head + "\n")  # every line before is unchanged, byte for byte
    added = after[len(head) + 1 :].split("\n\n# a comment after the list")[0].splitlines()
    assert added == [
        "  - la fabrica me pide otro papel pa seguir trabajando  # learned 2026-12-06",
        '  - "no"  # learned 2026-12-06',
        '  - "q pasa con mi permiso #c11: me lo quitan?"  # learned 2026-12-06',
    ]
    assert after.endswith("\n\n# a comment after the list" + tail)
    assert yaml.safe_load(after)["questions"][-3:] == [
        "la fabrica me pide otro papel pa seguir trabajando",
        "no",
        "q pasa con mi permiso #c11: me lo quitan?",
    ]
    created = (kb_dir / "phrasings/ht/find-lawyer.yaml").read_text(encoding="utf-8")
    assert created.startswith("# find-lawyer (ht): ")
    assert yaml.safe_load(created) == {"questions": ["kote m ka jwenn yon avoka ki pale kreyòl"]}
    oos = (kb_dir / "out-of-scope.yaml").read_text(encoding="utf-8")
    assert oos == oos_before.replace(
        "  - donde consigo trabajo rapido\n",
        "  - donde consigo trabajo rapido\n  - donde saco la licencia de manejar en florida  # learned 2026-12-06\n",
    ).replace(
        "  - kote m ka jwenn travay\n",
        "  - kote m ka jwenn travay\n  - kote m ka renouvle paspò ayisyen m  # learned 2026-12-06\n",
    )

    assert written.files == {
        "phrasings/es/work-permit.yaml": 3,
        "phrasings/ht/find-lawyer.yaml": 1,
        "out-of-scope.yaml": 2,
    }
    assert [(g.id, why) for g, why in written.skipped] == [(7, "known")]
    assert learning.settled(written) == [1, 2, 3, 4, 5, 6, 7]
    assert written.new_warnings == []
    kb = load(kb_dir)  # check passes, and the bot learns them
    assert "la fabrica me pide otro papel pa seguir trabajando" in kb.get("work-permit").text("es").questions
    assert "kote m ka jwenn yon avoka ki pale kreyòl" in kb.get("find-lawyer").text("ht").questions
    assert "kote m ka renouvle paspò ayisyen m" in kb.out_of_scope["ht"]
    # a second review finds them known: nothing is written twice
    again = learning.review(kb, [cand(8, "work-permit", "la fabrica me pide otro papel pa seguir trabajando")])
    assert [g.status for g in again.groups] == ["known"]


def test_the_version_changes_so_the_model_is_rebuilt(kb_dir: Path) -> None:
    version = load(kb_dir).version
    review = learning.review(load(kb_dir), [cand(1, "work-permit", "la fabrica me pide otro papel pa trabajar")])
    learning.write(kb_dir, review.groups, today=DAY)
    assert load(kb_dir).version != version


def test_two_groups_saying_the_same_are_written_once(kb_dir: Path) -> None:
    review = learning.review(
        load(kb_dir),
        [
            cand(1, "work-permit", "me botaron del trabajo por lo del parole y no se que hacer"),
            cand(2, "chnv-ended", "me botaron del trabajo por lo del parole y no se que hacer"),
        ],
    )
    written = learning.write(kb_dir, review.groups, today=DAY)
    assert [g.id for g in written.accepted] == [1]
    assert [(g.id, why) for g, why in written.skipped] == [(2, "conflict")]
    assert learning.settled(written) == [1]  # the conflict stays for a person to look at


def test_an_error_puts_every_file_back(kb_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = sorted(kb_dir.rglob("*.yaml"))
    contents = {p: p.read_bytes() for p in files}
    review = learning.review(
        load(kb_dir),
        [cand(1, "work-permit", "la fabrica me pide otro papel"), cand(2, "find-lawyer", "avoka gratis", lang="ht")],
    )
    real = knowledge.load
    calls: list[int] = []

    def failing_after_write(directory, *args, **kwargs):
        calls.append(1)
        result = real(directory, *args, **kwargs)
        if len(calls) > 1:  # the check after writing
            return knowledge.LoadResult(None, [learning.Problem("x.yaml", 1, "broken")])
        return result

    monkeypatch.setattr(learning.knowledge, "load", failing_after_write)
    with pytest.raises(learning.LearnError) as failed:
        learning.write(kb_dir, review.groups, today=DAY)
    assert [str(p) for p in failed.value.problems] == ["x.yaml:1: broken"]
    assert sorted(kb_dir.rglob("*.yaml")) == files  # the new file is gone again
    assert {p: p.read_bytes() for p in files} == contents
    assert not list(kb_dir.rglob("*.tmp"))


def test_a_list_written_in_brackets_is_refused_untouched(kb_dir: Path) -> None:
    path = write_text(kb_dir, "phrasings/es/find-lawyer.yaml", "questions: [abogado gratis en miami]\n")
    review = learning.review(load(kb_dir), [cand(1, "find-lawyer", "necesito un abogado que hable español")])
    with pytest.raises(learning.LearnError, match="as a list of"):
        learning.write(kb_dir, review.groups, today=DAY)
    assert path.read_text(encoding="utf-8") == "questions: [abogado gratis en miami]\n"


@pytest.mark.parametrize(
    "text",
    [
        "no",
        "yes",
        "null",
        "123",
        "2026-12-06",
        "- dash first",
        "[A-number] es mi numero",
        "{llaves}",
        "q pasa #2",
        "clave: valor",
        "comillas \"dobles\" y 'simples'",
        "@alguien",
        "!importante",
        "%porciento",
        "&ancla",
        "*alias",
        "`tilde`",
        "a\\b",
        "tab\there",
        "  espacios  ",
        "kreyòl: m pè!",
        "emoji 🙏",
    ],
)
def test_yaml_item_reads_back_unchanged(text: str) -> None:
    item = learning.yaml_item(text)
    assert "\n" not in item
    assert yaml.safe_load(f"questions:\n  - {item}  # learned 2026-12-06\n") == {"questions": [learning.one_line(text)]}


# -- rephrasings ------------------------------------------------------------------------------


def test_a_helpful_answer_to_a_rephrasing_returns_the_missed_question() -> None:
    memory = Rephrasings(keep_for=60)
    memory.missed(USER, "es", "pregunta que el bot no entendio", now=0)
    memory.answered(USER, "work-permit", now=10)
    assert memory.helpful(USER, "chnv-ended", now=20) is None  # another answer: the story ends
    memory.missed(USER, "es", "pregunta que el bot no entendio", now=30)
    memory.answered(USER, "work-permit", now=40)
    assert memory.helpful(USER, "work-permit", now=50) == ("es", "pregunta que el bot no entendio")
    assert memory.helpful(USER, "work-permit", now=51) is None  # once
    # too late, or a second answered question in between
    memory.missed(USER, "es", "otra", now=100)
    memory.answered(USER, "work-permit", now=200)
    assert memory.helpful(USER, "work-permit", now=201) is None
    memory.missed(USER, "es", "otra", now=300)
    memory.answered(USER, "work-permit", now=301)
    memory.answered(USER, "find-lawyer", now=302)
    assert memory.helpful(USER, "find-lawyer", now=303) is None
    memory.missed(USER, "es", "otra", now=400)
    memory.forget(USER)
    assert len(memory) == 0


# -- storage: masked, no user id, /forget, retention ------------------------------------------


class Clock:
    def __init__(self, day: dt.date) -> None:
        self.day = day

    def __call__(self) -> dt.date:
        return self.day


@pytest.fixture
async def store(tmp_path: Path):
    async with Storage(tmp_path / "bot.sqlite3", today=Clock(DAY)) as opened:
        yield opened


async def test_candidates_are_masked_and_carry_no_user_id(store: Storage, tmp_path: Path) -> None:
    corpus = [(lang, row) for lang in ("es", "ht", "en") for row in _corpus(lang)["masked"]]
    for number, (lang, row) in enumerate(corpus):
        assert await store.add_candidate(USER + number, lang, "work-permit", row["text"], learning.SUGGESTION)
    stored = await store.candidates()
    assert len(stored) == len(corpus)
    leaks = [
        (c.text, row["identifiers"]) for c, (_lang, row) in zip(stored, corpus) if _leaks(c.text, row["identifiers"])
    ]
    assert leaks == []
    assert all(c.text == learning.one_line(c.text) for c in stored)
    # the table has no user id, and what stands for the person is neither the id nor the logs' pseudonym
    columns = await privacy.columns(store.db, "candidates")
    assert "user_id" not in columns
    owner = store.pseudonym(USER)
    assert str(USER) not in owner and len(owner) == 32
    assert not owner.startswith((hash_user(USER, "")[1:], hash_user(USER, "test-salt")[1:]))
    await store.close()
    with sqlite3.connect(tmp_path / "bot.sqlite3") as db:
        rows = db.execute("SELECT * FROM candidates").fetchall()
    db.close()
    assert all(str(USER + n) not in " ".join(map(str, row)) for n, row in enumerate(rows))


async def test_the_pseudonym_is_stable_and_keyed_per_database(tmp_path: Path) -> None:
    async with Storage(tmp_path / "a.sqlite3") as a:
        first = a.pseudonym(USER)
    async with Storage(tmp_path / "a.sqlite3") as a:
        assert a.pseudonym(USER) == first
        assert a.pseudonym(OTHER) != first
    async with Storage(tmp_path / "b.sqlite3") as b:
        assert b.pseudonym(USER) != first  # another database, another key


async def test_one_row_per_person_and_question_and_not_helpful_takes_it_back(store: Storage) -> None:
    await store.add_candidate(USER, "es", "work-permit", "mi jefe me pide papeles", learning.SUGGESTION)
    await store.add_candidate(USER, "es", "chnv-ended", "mi jefe me pide papeles", learning.SUGGESTION)  # changed mind
    await store.add_candidate(OTHER, "es", "chnv-ended", "mi jefe me pide papeles", learning.SUGGESTION)
    assert [(c.topic, c.text) for c in await store.candidates()] == [
        ("chnv-ended", "mi jefe me pide papeles"),
        ("chnv-ended", "mi jefe me pide papeles"),
    ]
    assert await store.candidate_counts() == [("chnv-ended", "es", 2)]
    assert await store.drop_candidate(USER, "work-permit", "mi jefe me pide papeles") == 0  # not that topic
    assert await store.drop_candidate(USER, "chnv-ended", "mi jefe me pide papeles") == 1
    assert len(await store.candidates()) == 1  # the other person's stays
    assert not await store.add_candidate(USER, "es", "work-permit", "   ", learning.SUGGESTION)


async def test_forget_removes_a_persons_candidates_only(store: Storage) -> None:
    await store.seen(USER)
    await store.add_candidate(USER, "es", "work-permit", "mi jefe me pide papeles", learning.SUGGESTION)
    await store.add_candidate(USER, "ht", OUT_OF_SCOPE, "kote m ka jwenn travay", learning.VOLUNTEER)
    await store.add_candidate(OTHER, "es", "work-permit", "mi jefe me pide papeles", learning.SUGGESTION)
    deleted = await privacy.forget_user(store, USER)
    assert deleted == 3  # the user row and two candidates
    [left] = await store.candidates()
    assert left.text == "mi jefe me pide papeles"
    assert await privacy.forget_user(store, OTHER) == 1
    assert await store.candidates() == []


async def test_retention_deletes_candidates_with_the_unanswered_questions(store: Storage) -> None:
    clock: Clock = store._today  # type: ignore[assignment]
    clock.day = DAY - dt.timedelta(days=31)
    await store.add_candidate(USER, "es", "work-permit", "pregunta vieja sobre el permiso", learning.SUGGESTION)
    clock.day = DAY - dt.timedelta(days=29)
    await store.add_candidate(USER, "es", "work-permit", "pregunta reciente sobre el permiso", learning.SUGGESTION)
    clock.day = DAY
    purged = await privacy.apply_retention(store, 30)
    assert purged.candidates == 1
    assert [c.text for c in await store.candidates()] == ["pregunta reciente sobre el permiso"]


async def test_ticket_questions_go_with_their_ticket(store: Storage) -> None:
    now = dt.datetime(2026, 12, 6, 10, tzinfo=dt.UTC)
    ticket = await store.create_ticket(USER, "es", False, now, [])
    assert ticket is not None
    await store.keep_ticket_questions(ticket.id, ["mi A-number es A-123-456-789, me deportan?", "hola"])
    assert await store.ticket_questions(ticket.id) == ["mi A-number es [A-number], me deportan?", "hola"]
    await privacy.forget_user(store, USER)
    assert await store.ticket_questions(ticket.id) == []
    ticket = await store.create_ticket(USER, "es", False, now, [])
    assert ticket is not None
    await store.keep_ticket_questions(ticket.id, ["una pregunta"])
    assert await store.take_ticket_questions(ticket.id) == ["una pregunta"]
    assert await store.take_ticket_questions(ticket.id) == []  # labelled once


def test_real_knowledge_base_copy_takes_learned_lines(tmp_path: Path) -> None:
    """The writer on a copy of the real knowledge base: check stays free of errors and warnings."""
    root = tmp_path / "knowledge"
    shutil.copytree(Path(__file__).resolve().parent.parent / "knowledge", root)
    kb = load(root)
    review = learning.review(
        kb,
        [
            cand(1, "work-permit", "en la fabrica me dijeron q traiga otro papel de trabajo"),
            cand(2, OUT_OF_SCOPE, "cuanto cuesta sacar la licencia de pesca en florida"),
            cand(3, "asylum", "m pa ka tounen lakay mwen, y ap touye m si m ale", lang="ht"),
        ],
    )
    written = learning.write(root, review.groups, today=DAY)
    assert written.count == 3 and written.new_warnings == []
    assert knowledge.load(root).problems == []


# -- the command line -------------------------------------------------------------------------


def learn_cli(kb_dir: Path, db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    env["DATABASE_PATH"] = str(db)
    return subprocess.run(
        [sys.executable, "-m", "bot", "learn", "--knowledge", str(kb_dir), *args],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def _seed_candidates(db: Path) -> None:
    async with Storage(db) as storage:
        await storage.add_candidate(
            USER, "es", "work-permit", "la fabrica me pide otro papel pa trabajar", "suggestion"
        )
        await storage.add_candidate(
            OTHER, "es", "work-permit", "La fábrica me pide otro papel pa trabajar", "volunteer"
        )
        await storage.add_candidate(USER, "es", "work-permit", "En el trabajo me piden OTRO papel", "suggestion")
        await storage.add_candidate(
            USER, "ht", "work-permit", "kat travay mwen an pa bon ankò apre paròl la", "rephrase"
        )
        await storage.add_candidate(USER, "es", "chnv-ended", "donde consigo un abogado gratis", "volunteer")
        await storage.add_candidate(OTHER, "es", OUT_OF_SCOPE, "receta de arroz congri con frijoles", "volunteer")


async def _left(db: Path) -> list[tuple[str, str, str]]:
    async with Storage(db) as storage:
        return [(c.lang, c.topic, c.text) for c in await storage.candidates()]


def test_cli_learn_lists_accepts_and_rejects(kb_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    asyncio.run(_seed_candidates(db))
    listed = learn_cli(kb_dir, db)
    assert listed.returncode == 0, listed.stderr
    out = listed.stdout
    assert out.startswith("Candidate phrasings: 6 question(s) in 5 group(s): 1 conflict, 1 known, 3 new.")
    assert "## work-permit (es) · El permiso de trabajo: 1 new, 3 question(s)" in out
    assert "  #1     x2   [suggestion 1, volunteer 1]  la fabrica me pide otro papel pa trabajar" in out
    assert "(folded away #3: already known as: en el trabajo me piden otro papel)" in out
    assert "(conflict #5: find-lawyer has: donde consigo un abogado gratis)" in out
    assert "## out-of-scope (es) · off-topic examples: 1 new, 1 question(s)" in out

    # unknown topics and numbers are refused
    assert learn_cli(kb_dir, db, "--accept-all", "no-such-topic").returncode == 2
    wrong = learn_cli(kb_dir, db, "--accept", "99")
    assert wrong.returncode == 2 and "no candidate with the number(s) 99" in wrong.stderr

    done = learn_cli(kb_dir, db, "--accept-all", "work-permit", "--lang", "es")
    assert done.returncode == 0, done.stderr
    assert "Wrote 1 phrasing(s) to phrasings/es/work-permit.yaml" in done.stdout
    assert "Skipped #3 (work-permit, es): already in the knowledge base (folded away)" in done.stdout
    assert "check: OK." in done.stdout
    text = (kb_dir / "phrasings/es/work-permit.yaml").read_text(encoding="utf-8")
    today = dt.date.today().isoformat()
    assert text == PHRASINGS_ES.replace(
        "  # quoted, with its own comment\n",
        f"  # quoted, with its own comment\n  - la fabrica me pide otro papel pa trabajar  # learned {today}\n",
    )
    assert asyncio.run(_left(db)) == [
        ("ht", "work-permit", "kat travay mwen an pa bon ankò apre paròl la"),
        ("es", "chnv-ended", "donde consigo un abogado gratis"),
        ("es", OUT_OF_SCOPE, "receta de arroz congri con frijoles"),
    ]

    rejected = learn_cli(kb_dir, db, "--reject", "5", OUT_OF_SCOPE)
    assert rejected.returncode == 0, rejected.stderr
    assert "Rejected 2 candidate(s)." in rejected.stdout
    assert asyncio.run(_left(db)) == [("ht", "work-permit", "kat travay mwen an pa bon ankò apre paròl la")]
    both = learn_cli(kb_dir, db, "--reject", "4", "--accept-all", "all")  # rejected first: not written
    assert both.returncode == 0 and "Nothing new to write." in both.stdout
    assert not (kb_dir / "phrasings/ht/work-permit.yaml").exists()
    assert asyncio.run(_left(db)) == []

    async def one_more() -> int:
        async with Storage(db) as storage:
            await storage.add_candidate(USER, "ht", "work-permit", "kat travay mwen an pa bon ankò", "rephrase")
            [only] = await storage.candidates()
            return only.id

    number = asyncio.run(one_more())
    accepted = learn_cli(kb_dir, db, "--accept", str(number))
    assert accepted.returncode == 0 and "Wrote 1 phrasing(s) to phrasings/ht/work-permit.yaml" in accepted.stdout
    assert asyncio.run(_left(db)) == []
    assert "No candidate phrasings are waiting." in learn_cli(kb_dir, db).stdout
    assert knowledge.load(kb_dir).problems == []


def test_cli_learn_without_a_database_says_so(kb_dir: Path, tmp_path: Path) -> None:
    done = learn_cli(kb_dir, tmp_path / "none.sqlite3")
    assert done.returncode == 1 and "No database at" in done.stderr
    assert not (tmp_path / "none.sqlite3").exists()
