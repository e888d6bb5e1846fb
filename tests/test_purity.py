"""The core (every module of ``bot.core``) imports neither Telegram nor the database: it can be
tested and run in a terminal alone."""

from __future__ import annotations

import json
import subprocess

import pytest
from helpers import PYTHON, ROOT, subprocess_env

CORE = sorted(f"bot.core.{p.stem}" for p in (ROOT / "bot" / "core").glob("*.py") if p.stem != "__init__")
# Also pure by design: the screens (shared with the terminal), the terminal chat and the command line.
ALSO_PURE = ["bot.ui.render", "bot.ui.callbacks", "bot.ui.i18n", "bot.cli", "bot.cli.chat", "bot.config"]

PROBE = """
import json, sys
for name in sys.argv[1:]:
    __import__(name)
bad = sorted(m for m in sys.modules if m == "telegram" or m.startswith(("telegram.", "telegram_")) or m == "aiosqlite" or m.startswith("aiosqlite."))
print(json.dumps(bad))
"""


@pytest.mark.parametrize("modules", [CORE, ALSO_PURE], ids=["core", "also-pure"])
def test_core_does_not_import_telegram_or_storage(modules: list[str]) -> None:
    done = subprocess.run(
        [PYTHON, "-c", PROBE, *modules], cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_the_probe_would_notice_telegram() -> None:
    """Negative control: importing python-telegram-bot is detected by the same probe."""
    import importlib.util

    if importlib.util.find_spec("telegram") is None:
        pytest.skip("python-telegram-bot is not installed")
    done = subprocess.run(
        [PYTHON, "-c", PROBE, "telegram"], cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "telegram" in json.loads(done.stdout)


def test_the_core_list_is_not_empty() -> None:
    assert len(CORE) >= 10 and "bot.core.knowledge" in CORE
