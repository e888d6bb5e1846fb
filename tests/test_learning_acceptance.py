"""Acceptance of issue 21 on a copy of the real knowledge base: 20 questions the bot only
suggests topics for; the person taps the right topic each time; after ``python -m bot learn
--accept-all TOPIC`` and ``/reload``, the same questions and close rewordings of them are
answered directly.

The real ``Application`` runs over real HTTP against the fake Bot API, on a temporary copy of
``knowledge/`` (never the repository's own files). Training a model takes tens of seconds, so
models are cached where ``python -m bot`` keeps them in a checkout (``data/models``, by
knowledge-base version): the copy has the real knowledge base's version and shares its model;
the one after learning is trained once, by ``/reload`` (and found there on a second run the
same day).

The questions were written for this test (not taken from ``shared/eval`` or the probe set):
each with the topic that answers it and a close rewording. The first 20 that the bot only
suggests for today are used; the others are spares for the day a change to the knowledge base
makes one of the first ones answered already.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import RunningBot, make_settings, start_bot, stop_bot
from fakebotapi import Call, FakeBotAPI

from bot.cli import main as cli
from bot.core import knowledge, learning
from bot.telegram.app import build_application
from bot.telegram.services import Services
from bot.ui import callbacks

ROOT = Path(__file__).resolve().parent.parent
ADMIN = 9001
WANTED = 20

#: (topic, language, question, a close rewording of it)
POOL = [
    (
        "work-permit",
        "es",
        "en el trabajo me pidieron papeles nuevos despues de lo del parole",
        "en mi trabajo me pidieron papeles nuevos despues de lo del parole",
    ),
    (
        "social-security",
        "es",
        "el numero del seguro sigue sirviendo si se acabo el parol",
        "el numero del seguro social sigue sirviendo si se acabo el parol",
    ),
    (
        "asylum",
        "es",
        "tengo miedo de regresar, hay alguna proteccion pa eso",
        "tengo mucho miedo de regresar, hay alguna proteccion pa eso?",
    ),
    (
        "leave-deadline",
        "es",
        "me llego una carta diciendo que me tengo que ir en 30 dias",
        "me llego una carta que dice que me tengo que ir en 30 dias",
    ),
    (
        "pending-application",
        "es",
        "mi patrocinador mando los papeles y nunca me contestaron",
        "mi patrocinador mando los papeles y nunca nos contestaron",
    ),
    (
        "scam-signs",
        "es",
        "como me doy cuenta si alguien me quiere tumbar",
        "como me doy cuenta si alguien me quiere tumbar la plata",
    ),
    (
        "work-permit",
        "es",
        "en la fabrica me dijeron q traiga otro papel",
        "en la fabrica me dijeron que traiga otro papel",
    ),
    (
        "work-permit",
        "ht",
        "papye pou m travay la ap ekspire, kisa m ka fè",
        "papye pou m travay la ap ekspire, kisa pou m fè",
    ),
    (
        "work-permit",
        "ht",
        "patwon an di kat mwen pa bon ankò apre paròl la fini",
        "patwon an di kat mwen an pa bon ankò apre paròl la fini",
    ),
    ("asylum", "ht", "m pa ka tounen lakay, y ap touye m", "m pa ka tounen lakay mwen, y ap touye m"),
    ("find-lawyer", "ht", "m bezwen yon moun ki konn zafè papye", "m bezwen yon moun ki konn zafè papye byen"),
    (
        "scam-signs",
        "ht",
        "kijan pou m konnen si se nan twonpe y ap twonpe m",
        "kijan m ka konnen si se nan twonpe y ap twonpe m",
    ),
    ("report-scam", "ht", "yo vòlè m, ki moun pou m avèti", "yo vòlè m, ki moun mwen dwe avèti"),
    (
        "work-permit",
        "en",
        "my boss wants new papers since the parole thing ended",
        "my boss wants new papers now that the parole thing ended",
    ),
    (
        "tps-venezuela-haiti",
        "en",
        "do haitians still have tps or did they take it too",
        "do haitians still have tps or did they take that too",
    ),
    (
        "asylum",
        "en",
        "im scared to go back home because of politics what can i ask for here",
        "im scared to go back home because of politics, what can i ask for here?",
    ),
    (
        "pending-application",
        "en",
        "my sponsor sent the papers and never heard back",
        "my sponsor sent the papers and we never heard back",
    ),
    ("work-permit", "en", "the factory asked me for another paper", "the factory asked me for another paper to work"),
    ("asylum", "en", "is there something for persecuted people", "is there anything for persecuted people"),
    (
        "scam-signs",
        "en",
        "someone offers me something too good to be true",
        "someone is offering me something too good to be true",
    ),
    (
        "tps-venezuela-haiti",
        "es",
        "y lo del estatus temporal pa los venezolanos?",
        "y lo del estatus temporal para los venezolanos",
    ),
    ("asylum", "es", "hay algo pa la gente perseguida?", "hay algo para la gente perseguida?"),
    ("report-scam", "es", "me robaron, a quien le aviso", "me robaron, a quien le aviso?"),
    ("current-parolees", "es", "y los que ya entramos?", "y los que ya entramos con el parole?"),
    (
        "family-petition",
        "es",
        "mi esposo tiene residencia, me ayuda eso?",
        "mi esposo tiene la residencia, me ayuda eso?",
    ),
    (
        "non-confirm-email",
        "es",
        "el correo ese q mandaron a todos, lo tengo q responder?",
        "el correo ese que mandaron a todos, lo tengo que responder?",
    ),
    ("official-sources", "ht", "yon nimewo dwòl ekri m di se uscis", "yon nimewo dwòl ekri m pou di se uscis"),
    ("report-scam", "en", "they robbed me who do i tell", "they robbed me, who should i tell"),
    ("current-parolees", "en", "what about those of us already here", "what about those of us who are already here"),
    (
        "family-petition",
        "en",
        "my husband has a green card does that help me",
        "my husband has a green card, does that help me?",
    ),
    (
        "tps-venezuela-haiti",
        "en",
        "what about temporary status for venezuelans",
        "what about the temporary status for venezuelans",
    ),
    ("chnv-ended", "es", "ya no hay mas parole de ese verdad?", "ya no hay mas parole de ese, verdad"),
    ("chnv-ended", "ht", "paròl biden nan pa la ankò?", "paròl biden an pa la ankò?"),
]


def cb(action: str, arg: str = "") -> str:
    return callbacks.encode(action, arg)


def flat(call: Call) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    return [b.get("callback_data", b.get("url")) for row in markup.get("inline_keyboard", []) for b in row]


async def ask(fake: FakeBotAPI, user: int, text: str, lang: str) -> Call:
    mark = fake.mark()
    fake.message(user, text, language_code=lang)
    [call] = await fake.wait_for("sendMessage", lambda c: c.ok and c.chat_id == user, since=mark, timeout=10)
    return call


@pytest.fixture
async def bot(fake_api: FakeBotAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RunningBot]:
    copy = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", copy)
    settings = make_settings(
        fake_api,
        tmp_path,
        knowledge_dir=copy,
        admin_user_ids=frozenset({ADMIN}),
        model_cache_dir=ROOT / "data" / "models",
    )
    # what ``python -m bot learn`` reads from the environment
    monkeypatch.setenv("DATABASE_PATH", str(settings.database_path))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    services = Services.load(settings)
    app = build_application(settings, services)
    await start_bot(app)
    try:
        yield RunningBot(app, fake_api, services)
    finally:
        await stop_bot(app)


async def test_picked_suggestions_are_answered_directly_after_learning(bot: RunningBot) -> None:
    fake, engine = bot.fake, bot.services.engine
    chosen = []
    for topic, lang, question, rewording in POOL:
        reply = engine.respond(question, hints=(None, lang))
        if reply.action == "suggest" and topic in reply.suggestions and reply.lang == lang:
            chosen.append((topic, lang, question, rewording))
    assert len(chosen) >= WANTED, f"only {len(chosen)} questions of the pool get suggestions: write more"
    chosen = chosen[:WANTED]

    # each person asks, gets suggestions, taps the right topic and reads its answer
    for number, (topic, lang, question, _rewording) in enumerate(chosen):
        user = 10_000 + number
        suggestions = await ask(fake, user, question, lang)
        assert cb("g", topic) in flat(suggestions) and cb("y", topic) not in flat(suggestions), question
        mark = fake.mark()
        fake.callback_query(user, cb("g", topic), message_id=suggestions.result["message_id"], language_code=lang)
        [answer] = await fake.wait_for("sendMessage", lambda c, u=user: c.ok and c.chat_id == u, since=mark)
        assert cb("y", topic) in flat(answer)
    stored = sorted((c.topic, c.lang, c.text, c.source) for c in await bot.storage.candidates())
    assert stored == sorted((t, lang, q, learning.SUGGESTION) for t, lang, q, _r in chosen)

    # a maintainer accepts them, topic by topic, with the command line
    knowledge_dir = bot.services.settings.knowledge_dir
    for topic in sorted({t for t, *_ in chosen}):
        code = await asyncio.to_thread(cli, ["learn", "--knowledge", str(knowledge_dir), "--accept-all", topic])
        assert code == 0, topic
    assert await bot.storage.candidates() == []
    result = knowledge.load(knowledge_dir)
    assert result.kb is not None and result.problems == []
    for topic, lang, question, _rewording in chosen:
        assert question in result.kb.get(topic).text(lang).questions
        text = (knowledge_dir / "phrasings" / lang / f"{topic}.yaml").read_text(encoding="utf-8")
        assert f"{learning.yaml_item(question)}  # learned " in text

    # /reload trains the new model (in a worker process) and puts it in service
    mark = fake.mark()
    fake.command(ADMIN, "/reload", language_code="en")
    [reloaded] = await fake.wait_for("sendMessage", lambda c: c.ok and c.chat_id == ADMIN, since=mark, timeout=600)
    assert "Knowledge base reloaded" in reloaded.text and result.kb.version in reloaded.text

    # the same questions are answered directly now (new people: no context), and close
    # rewordings too, but for at most one of them (the confidence model still judges those)
    missed: dict[str, list[str]] = {"questions": [], "rewordings": []}
    for number, (topic, lang, question, rewording) in enumerate(chosen):
        for offset, text, kind in ((20_000, question, "questions"), (30_000, rewording, "rewordings")):
            answer = await ask(fake, offset + number, text, lang)
            if cb("y", topic) not in flat(answer):
                missed[kind].append(text)
    print(
        f"\nafter learning: {WANTED - len(missed['questions'])}/{WANTED} questions and "
        f"{WANTED - len(missed['rewordings'])}/{WANTED} rewordings answered directly; missed {missed}"
    )
    assert missed["questions"] == []
    assert len(missed["rewordings"]) <= 1, missed
