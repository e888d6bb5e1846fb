"""Safe knowledge reload: /reload (admins only) and SIGHUP keep the old knowledge base when the
new one has errors, and tell the admin the file:line problems."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from pathlib import Path

import pytest
from conftest import TEST_KB, make_settings, start_bot, stop_bot
from fakebotapi import FakeBotAPI
from test_bot_e2e import USER, eventually, sent_after

from bot.telegram import reload
from bot.ui.render import MESSAGE_LIMIT

ADMIN = 777001
QUESTION = "se acabó el parole humanitario?"


@pytest.fixture(name="kb_dir")  # named so that tests taking kb_dir do not shadow a module name
def fixture_kb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(TEST_KB, target)
    return target


def entry_file(kb_dir: Path) -> Path:
    return kb_dir / "closure" / "chnv-ended.yaml"


def break_it(kb_dir: Path) -> Path:
    path = entry_file(kb_dir)
    path.write_text(
        path.read_text(encoding="utf-8").replace("related:\n- work-permit", "related:\n- no-such-entry"),
        encoding="utf-8",
    )
    return path


def change_answer(kb_dir: Path, new: str) -> None:
    path = entry_file(kb_dir)
    text = path.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.startswith("  answer:"))  # the es answer comes first
    path.write_text(text.replace(old, f"  answer: '{new}'", 1), encoding="utf-8")


@pytest.fixture(name="admin_bot")  # as kb_dir
async def fixture_admin_bot(fake_api: FakeBotAPI, tmp_path: Path, kb_dir: Path):
    from bot.telegram.app import build_application
    from bot.telegram.services import Services

    settings = make_settings(fake_api, tmp_path, knowledge_dir=kb_dir, admin_user_ids=frozenset({ADMIN}))
    services = Services.load(settings)
    app = build_application(settings, services)
    await start_bot(app)
    try:
        yield app, services
    finally:
        await stop_bot(app)


async def test_reload_with_a_broken_file_keeps_the_old_kb_and_lists_the_errors(
    admin_bot, fake_api: FakeBotAPI, kb_dir: Path
) -> None:
    _app, services = admin_bot
    old_engine, old_version = services.engine, services.engine.kb.version
    path = break_it(kb_dir)

    [reply] = await sent_after(fake_api, lambda: fake_api.command(ADMIN, "/reload", language_code="en"), chat_id=ADMIN)

    assert "NOT reloaded" in reply.text
    assert f"{path}:" in reply.text and "no-such-entry" in reply.text
    assert services.engine is old_engine and services.engine.kb.version == old_version
    [answer] = await sent_after(fake_api, lambda: fake_api.message(USER, QUESTION, language_code="es"))
    assert "CHNV terminó" in answer.text  # still answered from the old knowledge base


async def test_reload_with_a_valid_change_replaces_engine_and_renderer(
    admin_bot, fake_api: FakeBotAPI, kb_dir: Path
) -> None:
    _app, services = admin_bot
    old_version = services.engine.kb.version
    change_answer(kb_dir, "Respuesta nueva tras la recarga.")

    [reply] = await sent_after(fake_api, lambda: fake_api.command(ADMIN, "/reload", language_code="en"), chat_id=ADMIN)

    assert "reloaded" in reply.text and "NOT" not in reply.text
    assert services.engine.kb.version != old_version and services.engine.kb.version in reply.text
    assert services.renderer.kb is services.engine.kb
    assert services.renderer.bot_username == "parole_help_bot"
    assert services.renderer.inline_mode  # "Share this answer" survives a reload
    [answer] = await sent_after(fake_api, lambda: fake_api.message(USER, QUESTION, language_code="es"))
    assert "Respuesta nueva tras la recarga." in answer.text


async def test_reload_is_for_admins_only(admin_bot, fake_api: FakeBotAPI, kb_dir: Path) -> None:
    _app, services = admin_bot
    old_engine = services.engine
    change_answer(kb_dir, "No debería cargarse.")
    [reply] = await sent_after(fake_api, lambda: fake_api.command(USER, "/reload", language_code="en"))
    assert reply.text == services.renderer.help("en").html  # an unknown command for everyone else
    assert services.engine is old_engine


async def test_sighup_reloads_and_tells_the_admin_about_errors(admin_bot, fake_api: FakeBotAPI, kb_dir: Path) -> None:
    _app, services = admin_bot
    old_engine = services.engine
    path = break_it(kb_dir)
    mark = fake_api.mark()
    os.kill(os.getpid(), signal.SIGHUP)
    [message] = await fake_api.wait_for("sendMessage", {"chat_id": ADMIN}, since=mark, timeout=10)
    assert f"{path}:" in message.text
    assert services.engine is old_engine

    shutil.rmtree(kb_dir)
    shutil.copytree(TEST_KB, kb_dir)
    change_answer(kb_dir, "Recargada por SIGHUP.")
    os.kill(os.getpid(), signal.SIGHUP)
    await eventually(lambda: services.engine is not old_engine, timeout=10)
    [answer] = await sent_after(fake_api, lambda: fake_api.message(USER, QUESTION, language_code="es"))
    assert "Recargada por SIGHUP." in answer.text
    assert len(fake_api.sent_messages(ADMIN)) == 1  # a successful reload is only logged


async def test_sighup_handler_is_removed_at_shutdown(fake_api: FakeBotAPI, tmp_path: Path) -> None:
    from bot.telegram.app import build_application
    from bot.telegram.services import Services

    settings = make_settings(fake_api, tmp_path)
    app = build_application(settings, Services.load(settings))
    await start_bot(app)
    loop = asyncio.get_running_loop()
    assert signal.SIGHUP in getattr(loop, "_signal_handlers", {})
    await stop_bot(app)
    assert signal.SIGHUP not in getattr(loop, "_signal_handlers", {})


def test_error_report_fits_one_message() -> None:
    errors = tuple(
        f'knowledge/closure/entry-{n}.yaml:{n}: the related entry "x-{n}" does not exist' for n in range(500)
    )
    text = reload.report(reload.ReloadResult(False, 27, "abc", errors), "en")
    assert len(text) <= MESSAGE_LIMIT - 300
    assert errors[0] in text and errors[-1] not in text
    assert "more" in text.splitlines()[-1]
    ok = reload.report(reload.ReloadResult(True, 27, "abc123"), "en")
    assert "27" in ok and "abc123" in ok
