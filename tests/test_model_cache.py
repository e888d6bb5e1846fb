"""bot.core.model: the trained model is cached by knowledge-base version; a damaged or foreign
cache file is ignored (and replaced); ``prepare_apart`` trains in a worker process."""

from __future__ import annotations

from pathlib import Path

from conftest import TEST_KB

from bot.core import knowledge
from bot.core import model as models
from bot.core.conversation import Engine


def load():
    result = knowledge.load(TEST_KB, near_duplicates=False)
    assert result.kb is not None
    return result.kb


def test_the_model_is_cached_by_version_and_reused(tmp_path: Path) -> None:
    kb = load()
    models._memory.clear()
    first = Engine(kb, tmp_path).respond("se acabo el parole humanitario?")
    files = sorted(tmp_path.glob("model-*.joblib"))
    assert len(files) == 1 and kb.version in files[0].name
    models._memory.clear()  # as after a restart
    again = Engine(kb, tmp_path)
    assert again.respond("se acabo el parole humanitario?") == first
    assert again.model.scam is not None and again.model.scam.patterns is kb.scam_patterns  # rules never cached


def test_a_damaged_cache_file_is_rebuilt(tmp_path: Path) -> None:
    kb = load()
    models._memory.clear()
    Engine(kb, tmp_path)
    [path] = tmp_path.glob("model-*.joblib")
    path.write_bytes(b"not a model")
    models._memory.clear()
    engine = Engine(kb, tmp_path)
    assert engine.respond("se acabo el parole humanitario?").topic == "chnv-ended"
    assert path.stat().st_size > 1000  # written again


def test_prepare_apart_trains_in_a_worker_process(tmp_path: Path) -> None:
    kb = load()
    models.prepare_apart(TEST_KB, tmp_path)
    assert [p.name for p in tmp_path.glob("model-*.joblib")] == [f"model-{models._key(kb)}.joblib"]
