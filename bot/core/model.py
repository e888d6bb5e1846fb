"""The trained model of a knowledge base: ranker (matcher + classifier + confidence model) and
thresholds, cached.

Building it means cross-validating the knowledge base (``bot.core.calibration``: five fits of
the classifier) and fitting the classifier once more on everything: 10-30 s on two cores for the
real knowledge base. So the result is kept

- in memory, by knowledge-base version (the last few), and
- on disk, in ``cache_dir`` (``MODEL_CACHE_DIR``, by default ``models/`` next to the database),
  one file per knowledge-base version: a restart, ``/reload`` of an unchanged knowledge base,
  ``ask`` and ``chat`` load it in well under a second.

A cache file is only ever written by the bot itself into its own data folder; a file that does
not load (another scikit-learn version, a different ``FORMAT``, damage) is ignored and rebuilt.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path

import joblib
import sklearn

from bot.core import scam_model
from bot.core.calibration import CrossValidation, build_ranker, can_cross_validate, cross_validate, uses_classifier
from bot.core.classifier import QuestionClassifier
from bot.core.knowledge import KnowledgeBase
from bot.core.matching import Matcher
from bot.core.policy import DEFAULT, MATCHER_ONLY, Thresholds
from bot.core.ranking import Confidence, Ranker
from bot.core.scam_model import ScamRadar

log = logging.getLogger(__name__)

#: Changes whenever what a cache file holds, or how the model is built, changes.
FORMAT = 4
#: Models kept in memory (a reload briefly needs the old and the new one).
MEMORY = 3


@dataclass
class Model:
    version: str
    ranker: Ranker
    thresholds: Thresholds
    #: per-language cross-validation figures (``Tally.rates()``), empty for DEFAULT thresholds
    cv: dict[str, dict[str, float]] = field(default_factory=dict)
    #: scam radar: rules + classifier (``bot.core.scam_model``)
    scam: ScamRadar | None = None


_memory: OrderedDict[str, Model] = OrderedDict()
_lock = threading.Lock()


def build(kb: KnowledgeBase) -> tuple[Model, CrossValidation | None]:
    """Cross-validate (when the knowledge base is large enough) and fit on everything."""
    result = cross_validate(kb) if can_cross_validate(kb) else None
    if result is not None:
        thresholds = result.thresholds
    else:
        thresholds = DEFAULT if uses_classifier(kb) else MATCHER_ONLY
    cv = {lang: t.rates() for lang, t in result.tallies.items()} if result is not None else {}
    ranker = build_ranker(kb)
    ranker.confidence = result.confidence if result is not None else None
    return Model(kb.version, ranker, thresholds, cv, scam_model.build(kb)), result


def _key(kb: KnowledgeBase) -> str:
    return f"{kb.version}-f{FORMAT}-sk{sklearn.__version__}"


def _path(cache_dir: Path, kb: KnowledgeBase) -> Path:
    return cache_dir / f"model-{_key(kb)}.joblib"


def _load(path: Path, kb: KnowledgeBase) -> Model | None:
    try:
        stored = joblib.load(path)
        if not (isinstance(stored, dict) and stored.get("key") == path.stem.removeprefix("model-")):
            return None
        classifier = stored["classifier"]
        matcher = Matcher(kb)
        if classifier is not None:
            if not isinstance(classifier, QuestionClassifier):
                return None
            classifier.terms = matcher.terms
        confidence = stored.get("confidence")
        if confidence is not None and not isinstance(confidence, Confidence):
            return None
        radar = stored.get("scam")
        if not isinstance(radar, ScamRadar):
            return None
        radar.patterns = kb.scam_patterns  # the rules are read from the knowledge base, never cached
        return Model(kb.version, Ranker(matcher, classifier, confidence), stored["thresholds"], stored["cv"], radar)
    except Exception as exc:  # an unreadable cache is no error: the model is rebuilt
        log.warning("model cache %s not used (%s)", path.name, exc.__class__.__name__)
        return None


def _save(path: Path, model: Model) -> None:
    """Write atomically (a temporary file renamed), so a crash never leaves half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        stored = {
            "key": path.stem.removeprefix("model-"),
            "classifier": model.ranker.classifier,
            "confidence": model.ranker.confidence,
            "thresholds": model.thresholds,
            "cv": model.cv,
            "scam": replace(model.scam, patterns=None) if model.scam is not None else None,
        }
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".model-", suffix=".tmp")
        os.close(fd)
        joblib.dump(stored, tmp)
        os.replace(tmp, path)
        kept = sorted(path.parent.glob("model-*.joblib"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[MEMORY:]:  # keep the newest few versions
            old.unlink(missing_ok=True)
    except OSError as exc:  # a read-only folder: the bot works, it just rebuilds next time
        log.warning("model cache not written (%s)", exc.__class__.__name__)


def model_for(kb: KnowledgeBase, cache_dir: Path | None = None) -> Model:
    """The model of ``kb``: from memory, else from ``cache_dir``, else built (and cached)."""
    key = _key(kb)
    with _lock:
        found = _memory.get(key)
        if found is not None:
            _memory.move_to_end(key)
            return found
    model = _load(_path(cache_dir, kb), kb) if cache_dir is not None and _path(cache_dir, kb).exists() else None
    if model is None:
        model, _ = build(kb)
        if cache_dir is not None:
            _save(_path(cache_dir, kb), model)
    with _lock:
        _memory[key] = model
        while len(_memory) > MEMORY:
            _memory.popitem(last=False)
    return model


def prepare(directory: Path, cache_dir: Path) -> str | None:
    """Load the knowledge base in ``directory`` and make sure its model is in ``cache_dir``;
    return its version (None when it has errors). Runs in a worker process (``prepare_apart``)."""
    from bot.core import knowledge

    result = knowledge.load(directory, near_duplicates=False)
    if result.kb is None:
        return None
    if not _path(cache_dir, result.kb).exists():
        model, _ = build(result.kb)
        _save(_path(cache_dir, result.kb), model)
    return result.kb.version


def prepare_apart(directory: Path, cache_dir: Path) -> None:
    """``prepare`` in a separate process, so that the training (CPU-bound, tens of seconds)
    never holds this process's event loop or its GIL; the caller then loads the cached model in
    a moment. Any failure only means the caller builds the model itself."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    try:
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            pool.submit(prepare, directory, cache_dir).result()
    except Exception as exc:  # no worker process here: the model is built in this process
        log.warning("model not prepared in a worker process (%s)", exc.__class__.__name__)
