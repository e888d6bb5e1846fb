"""bot.core.escalation: the pure decisions of human escalation, and the ticket tables in storage."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import TEST_KB

from bot.core import domain, escalation, knowledge
from bot.core.conversation import Engine
from bot.core.domain import Ticket, UrgentWords, parse_urgent_words
from bot.core.escalation import (
    Desk,
    RecentQuestions,
    RelayPlan,
    format_wait,
    is_internal,
    plan_user_message,
    queue_order,
    retry_delay,
    topic_link,
    topic_name,
    window_stats,
)
from bot.store.storage import Storage
from bot.telegram.services import open_ticket

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def engine() -> Engine:
    result = knowledge.load(TEST_KB)
    assert result.kb is not None
    return Engine(result.kb)


def ticket(number: int, *, urgent: bool = False, minutes_ago: int = 0, **fields: object) -> Ticket:
    return Ticket(number, 1000 + number, "es", urgent, "open", NOW - dt.timedelta(minutes=minutes_ago), **fields)  # type: ignore[arg-type]


# -- names, links, times ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "number, lang, urgent, name",
    [
        (1, "es", False, "#1 · ES"),
        (12, "ht", True, "#12 · HT · ⚠️ URGENT"),
        (305, "en", False, "#305 · EN"),
    ],
)
def test_topic_name_has_number_language_and_urgency_only(number: int, lang: str, urgent: bool, name: str) -> None:
    assert topic_name(number, lang, urgent) == name
    assert escalation.icon_color(urgent) == (16478047 if urgent else 7322096)


def test_topic_link_only_for_supergroups() -> None:
    assert topic_link(-1001234567890, 41) == "https://t.me/c/1234567890/41"
    assert topic_link(-1234, 41) is None
    assert topic_link(-1001234567890, None) is None
    assert topic_link(None, 41) is None


@pytest.mark.parametrize(
    "seconds, text",
    [
        (-5, "0 s"),
        (45, "45 s"),
        (60, "1 min"),
        (719, "11 min"),
        (3600, "1 h 00 min"),
        (7505, "2 h 05 min"),
        (86400 * 3 + 3600 * 4 + 59, "3 d 4 h"),
    ],
)
def test_format_wait(seconds: float, text: str) -> None:
    assert format_wait(seconds) == text


def test_retry_delay_doubles_up_to_the_cap() -> None:
    assert [retry_delay(n, 5, 3600) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert retry_delay(30, 5, 3600) == 3600
    assert retry_delay(0, 5, 3600) == 5


# -- urgent words ----------------------------------------------------------------------------


def test_urgent_words_match_whole_folded_phrases_in_any_language() -> None:
    words, problems = parse_urgent_words(
        "es:\n  - ICE está en mi casa\n  - detenido\nht:\n  - yo arete m\nen:\n  - deportation order\n"
    )
    assert problems == []
    assert words.match("¡¡ICE ESTA en mi casa!!") == "ice esta en mi casa"
    assert words.match("My brother got a DEPORTATION order") == "deportation order"
    assert words.match("yo arete m maten an") == "yo arete m"
    assert words.match("lo tienen detenido") == "detenido"
    assert words.match("detenidos") is None  # whole words only
    assert words.match("se acabó el parole?") is None
    assert words.match("") is None and UrgentWords().match("detenido") is None


@pytest.mark.parametrize(
    "text, message, level",
    [
        ("es: detenido\n", 'the "es" part must be a list', "error"),
        ("fr:\n  - arrete\n", 'unknown language "fr"', "error"),
        ("es:\n  - detenido\n  - Detenido\nht:\n  - arete m\nen:\n  - jail\n", "listed twice", "warning"),
        ("es:\n  - detenido\n", 'no "ht:" list', "warning"),
        ("es:\n  - '!!!'\nht: [a]\nen: [b]\n", "every item must be a word", "error"),
        ("- detenido\n", "must have es:, ht: and en:", "error"),
        ("", "the file is empty", "error"),
    ],
)
def test_urgent_words_problems(text: str, message: str, level: str) -> None:
    words, problems = parse_urgent_words(text, "urgent-words.yaml")
    assert any(message in p.message and p.level == level for p in problems), problems
    if level == "error":
        assert len(words) == 0


def test_the_real_urgent_words_are_valid_and_the_knowledge_loader_checks_them(tmp_path: Path) -> None:
    words, problems = domain.load_urgent_words(ROOT / "knowledge")
    assert problems == [] and len(words) > 50
    assert set(words.phrases) == {"es", "ht", "en"}
    assert words.match("eske paròl la arete?") is None  # "arete" alone also means "stopped"
    # knowledge.load skips the file as an entry and reports its problems
    import shutil

    copy = tmp_path / "kb"
    shutil.copytree(TEST_KB, copy)
    assert knowledge.load(copy).kb is not None
    (copy / "urgent-words.yaml").write_text("es: detenido\n", encoding="utf-8")
    result = knowledge.load(copy)
    assert result.kb is None
    assert [str(p) for p in result.errors] == [
        f'{copy / "urgent-words.yaml"}:1: the "es" part must be a list of words or phrases (- ...)'
    ]


def test_a_missing_urgent_words_file_is_no_problem(tmp_path: Path) -> None:
    words, problems = domain.load_urgent_words(tmp_path)
    assert len(words) == 0 and problems == []


def test_urgent_requests(engine: Engine) -> None:
    words = UrgentWords({"es": ("orden de deportacion",)})
    assert escalation.is_urgent_request(engine, words, [], "es", "ice-detention")  # an urgent entry
    assert escalation.is_urgent_request(engine, words, ["me llegó una orden de deportación"], "es")  # a word
    assert escalation.is_urgent_request(engine, words, ["ice detuvo a mi esposo"], "es")  # answered by an urgent entry
    assert not escalation.is_urgent_request(engine, words, ["se acabó el parole humanitario?"], "es", "chnv-ended")
    assert not escalation.is_urgent_request(engine, words, [], "es")


def test_best_guesses_put_the_entry_first(engine: Engine) -> None:
    guesses = escalation.best_guesses(engine, ["trabajo abogado"], "es")
    assert 1 <= len(guesses) <= escalation.GUESSES
    assert {g.entry_id for g in guesses} <= {e.id for e in engine.kb}
    assert escalation.best_guesses(engine, ["trabajo abogado"], "es", "chnv-ended")[0].entry_id == "chnv-ended"
    assert escalation.best_guesses(engine, [], "es") == []
    assert escalation.best_guesses(engine, [], "es", "no-such-entry") == []


# -- what is relayed, and how -----------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, plan",
    [
        ({"text": "hola", "caption": None, "document_like": False, "share": False}, RelayPlan("text", "hola")),
        (
            {"text": "mi A# 123456789", "caption": None, "document_like": False, "share": False},
            RelayPlan("text", "mi [A-number]", masked=("a_number",)),
        ),
        ({"text": "mi A# 123456789", "caption": None, "document_like": False, "share": True}, RelayPlan("copy")),
        ({"text": None, "caption": "mi carta", "document_like": True, "share": False}, RelayPlan("warn")),
        (
            {"text": None, "caption": "mi carta", "document_like": True, "share": False, "confirmed": True},
            RelayPlan("copy"),
        ),
        (
            {
                "text": None,
                "caption": "llamen al 305-555-0199",
                "document_like": True,
                "share": False,
                "confirmed": True,
            },
            RelayPlan("copy", caption="llamen al [phone]", masked=("phone",)),
        ),
        ({"text": None, "caption": "llamen al 305-555-0199", "document_like": False, "share": True}, RelayPlan("copy")),
        (
            {"text": None, "caption": None, "document_like": False, "share": False},
            RelayPlan("copy"),
        ),  # voice, sticker ...
    ],
)
def test_plan_user_message(kwargs: dict, plan: RelayPlan) -> None:
    assert plan_user_message(**kwargs) == plan


@pytest.mark.parametrize(
    "text, internal",
    [
        ("!nota", True),
        ("  ! ojo", True),
        ("/note llamar mañana", True),
        ("/note@parole_help_bot x", True),
        ("/NOTE", True),
        ("hola", False),
        ("/notes", False),
        ("¡hola!", False),
        ("", False),
        (None, False),
        ("email me at a!b", False),
    ],
)
def test_internal_volunteer_messages(text: str | None, internal: bool) -> None:
    assert is_internal(text) is internal


def test_recent_questions_are_redacted_bounded_and_expire() -> None:
    recent = RecentQuestions(max_users=2)
    for n in range(5):
        recent.add(1, f"pregunta {n} A-123-456-789", NOW + dt.timedelta(minutes=n))
    taken = recent.take(1, NOW + dt.timedelta(minutes=5))
    assert [text for _at, text in taken] == [f"pregunta {n} [A-number]" for n in (2, 3, 4)]
    assert recent.take(1, NOW) == []  # taken once
    recent.add(1, "vieja", NOW)
    assert recent.take(1, NOW + escalation.RECENT_FOR + dt.timedelta(seconds=1)) == []  # too old
    for user in (1, 2, 3):
        recent.add(user, "x" * 2000, NOW)
    assert len(recent) == 2 and recent.take(1, NOW) == []  # least recent user forgotten
    assert len(recent.take(3, NOW)[0][1]) == escalation.QUESTION_CHARS
    recent.forget(2)
    assert len(recent) == 0


def test_queue_order_urgent_first_then_oldest() -> None:
    tickets = [
        ticket(1, minutes_ago=50),
        ticket(2, urgent=True, minutes_ago=5),
        ticket(3, minutes_ago=90),
        ticket(4, urgent=True, minutes_ago=10),
    ]
    assert [t.id for t in queue_order(tickets)] == [4, 2, 3, 1]


def test_window_stats_count_and_median() -> None:
    hour = dt.timedelta(hours=1)
    day = dt.timedelta(days=1)
    rows = [
        (NOW - 2 * day, NOW - 2 * day + hour, NOW - day, True),  # answered in 1 h, closed, helped
        (NOW - 3 * day, NOW - 3 * day + 3 * hour, None, None),  # answered in 3 h, open
        (NOW - 1 * day, None, None, None),  # waiting
        (NOW - 20 * day, NOW - 20 * day + 10 * hour, NOW - 10 * day, False),  # older than a week
    ]
    week = window_stats(rows, NOW, 7)
    assert (week.opened, week.closed, week.median_first_reply, week.helped, week.not_helped) == (3, 1, 2 * 3600, 1, 0)
    month = window_stats(rows, NOW, 30)
    assert (month.opened, month.closed, month.median_first_reply, month.helped, month.not_helped) == (
        4,
        2,
        3 * 3600,
        1,
        1,
    )
    assert window_stats([], NOW, 7).median_first_reply is None


async def test_desk_member_cache() -> None:
    desk = Desk()
    assert not desk.available
    desk.mode, desk.chat_id = "forum", -100
    assert desk.available
    assert desk.known_member(5, 0.0) is None
    desk.remember_member(5, True, 0.0)
    assert desk.known_member(5, 1.0) is True and desk.known_member(5, desk.member_ttl + 1) is None


# -- tickets in storage ----------------------------------------------------------------------


@pytest.fixture
async def store(tmp_path: Path):
    async with Storage(tmp_path / "bot.sqlite3") as storage:
        yield storage


async def test_one_open_ticket_per_user_and_its_first_deliveries(store: Storage, engine: Engine) -> None:
    desk = Desk(urgent_words=UrgentWords({"es": ("orden de deportacion",)}))
    desk.recent.add(7, "me llegó una orden de deportación, mi A# 123456789", NOW - dt.timedelta(minutes=30))
    opened, new = await open_ticket(store, engine, desk, 7, "es", "", NOW)
    assert new and opened.is_open and opened.urgent and opened.id == 1
    again, new = await open_ticket(store, engine, desk, 7, "es", "", NOW)
    assert not new and again == opened
    assert await store.create_ticket(7, "es", False, NOW, []) is None
    [header, mention] = await store.outbox(("group", opened.id))
    assert header.payload["kind"] == "open" and mention.payload == {"kind": "mention"}
    assert header.payload["questions"] == ["me llegó una orden de deportación, mi [A-number]"]
    assert header.payload["since"] == (NOW - dt.timedelta(minutes=30)).isoformat(timespec="seconds")
    assert await store.outbox_due() == [(("group", 1), NOW)]


async def test_close_is_idempotent_and_queues_its_notes(store: Storage) -> None:
    opened = await store.create_ticket(7, "es", False, NOW, [])
    assert await store.close_ticket(
        opened.id, NOW, [("group", {"kind": "note", "html": "x"}), ("user", {"kind": "screen"})]
    )
    assert not await store.close_ticket(opened.id, NOW, [("group", {"kind": "note", "html": "y"})])
    assert [i.payload["html"] for i in await store.outbox(("group", opened.id))] == ["x"]
    closed = await store.ticket(opened.id)
    assert closed.status == "closed" and closed.closed_at == NOW
    assert await store.open_ticket_of(7) is None and await store.last_ticket_of(7) == closed
    second = await store.create_ticket(7, "ht", False, NOW, [])  # a new ticket once the old one is closed
    assert second.id == 2


async def test_outbox_delivery_records_relayed_ids_and_first_reply(store: Storage) -> None:
    opened = await store.create_ticket(7, "es", False, NOW, [])
    first = await store.enqueue(opened.id, "user", {"kind": "copy", "message_id": 10}, NOW)
    second = await store.enqueue(opened.id, "user", {"kind": "copy", "message_id": 11}, NOW)
    assert [i.id for i in await store.outbox(("user", opened.id))] == [first, second]
    await store.postpone(first, 1, NOW + dt.timedelta(seconds=5))
    [item, _] = await store.outbox(("user", opened.id))
    assert (item.attempts, item.next_attempt_at) == (1, NOW + dt.timedelta(seconds=5))
    later = NOW + dt.timedelta(minutes=3)
    await store.delivered(first, later, (opened.id, "to_user", 99, 10), first_reply=True)
    await store.delivered(second, later + dt.timedelta(minutes=1), (opened.id, "to_user", 100, 11), first_reply=True)
    assert await store.relayed(opened.id) == [("to_user", 99, 10), ("to_user", 100, 11)]
    assert (await store.ticket(opened.id)).first_reply_at == later
    assert await store.ticket_by_group_message(11) == await store.ticket(opened.id)
    assert await store.outbox(("user", opened.id)) == []


async def test_ticket_lookups_and_updates(store: Storage) -> None:
    opened = await store.create_ticket(7, "es", False, NOW, [])
    await store.update_ticket(opened.id, topic_id=41, header_message_id=42, lang="ht", urgent=True)
    assert await store.ticket_by_topic(41) == await store.ticket_by_group_message(42) == await store.ticket(opened.id)
    assert (await store.ticket(opened.id)).lang == "ht"
    assert await store.offer_identifiers_once(opened.id) and not await store.offer_identifiers_once(opened.id)
    with pytest.raises(ValueError):
        await store.update_ticket(opened.id, user_id=8)
    assert [t.id for t in await store.open_tickets()] == [opened.id]
    assert await store.ticket_rows(NOW - dt.timedelta(days=1)) == [(NOW, None, None, None)]


def test_volunteer_settings() -> None:
    from bot.config import ConfigError, Settings

    default = Settings.from_env({})
    assert (default.volunteer_chat_id, default.volunteer_lang, default.reply_hours) == (None, "en", 24)
    chosen = Settings.from_env({"VOLUNTEER_CHAT_ID": "-1001234", "VOLUNTEER_LANG": "ES", "VOLUNTEER_REPLY_HOURS": "48"})
    assert (chosen.volunteer_chat_id, chosen.volunteer_lang, chosen.reply_hours) == (-1001234, "es", 48)
    with pytest.raises(ConfigError, match="VOLUNTEER_LANG"):
        Settings.from_env({"VOLUNTEER_LANG": "fr"})
    with pytest.raises(ConfigError, match="VOLUNTEER_REPLY_HOURS"):
        Settings.from_env({"VOLUNTEER_REPLY_HOURS": "0"})


@pytest.mark.parametrize(
    "hours, text",
    [
        (1, "usually within an hour"),
        (6, "usually within 6 hours"),
        (24, "usually within a day"),
        (36, "usually within 2 days"),
    ],
)
def test_reply_estimate(engine: Engine, hours: int, text: str) -> None:
    from bot.ui.render import Renderer

    assert Renderer(engine.kb).reply_estimate("en", hours) == text


def test_header_escapes_what_the_person_wrote_and_shows_guesses(engine: Engine) -> None:
    from bot.ui.render import Renderer

    header = Renderer(engine.kb).ticket_header(
        "en",
        name="#3 · ES",
        user_lang="es",
        waited="12 min",
        questions=["<b>hola</b> & [A-number]"],
        guesses=[("find-lawyer", 61.5), ("no-such-entry", 50.0)],
        entry_id="ice-detention",
    )
    assert "&lt;b&gt;hola&lt;/b&gt; &amp; [A-number]" in header.html and "<b>hola</b>" not in header.html
    assert header.html.startswith("<b>#3 · ES</b>") and "waiting 12 min" in header.html
    assert "find-lawyer" in header.html and "no-such-entry" not in header.html and "ice-detention" in header.html
    assert "<b>hola</b> & [A-number]" in header.plain and "</i>" not in header.plain
