"""Thresholds from grouped cross-validation over the knowledge base's own phrasings.

Nobody tunes the answer / suggest / escalate thresholds by hand, and nobody tunes them on an
evaluation set: they are computed here, from the knowledge base alone, every time it changes.

1. The phrasings (entry questions, ``phrasings/`` files, off-topic examples) are split into
   ``FOLDS`` folds. A phrasing and its translations (an entry's own questions at the same
   position in each language) stay in the same fold, or a translation would give the answer
   away and the estimate would read about 5 points too high.
2. For each fold, the matcher and the classifier are built from the knowledge base *without*
   that fold's phrasings, and every held-out phrasing is ranked (``bot.core.ranking``).
3. The thresholds are the ones that answer the most questions while, in every language, at most
   ``AIM_WRONG`` of the in-scope phrasings get a wrong answer and at most ``AIM_OOS`` of the
   off-topic ones get any answer; the suggestion threshold is the highest that still finds the
   right topic (answered or suggested) for ``AIM_FOUND`` of them.

``python -m bot eval --cv`` prints the same figures per language; ``tests/test_cv.py`` fails
when the safety targets (wrong, off-topic answered, found, language) are missed or accuracy
falls below its floors, and turns red the day ``TARGETS`` are all met (then promote it).
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

import joblib
import numpy as np

from bot.core.classifier import Example, QuestionClassifier, examples
from bot.core.knowledge import OUT_OF_SCOPE, KnowledgeBase
from bot.core.langs import LANGS
from bot.core.language import detector_for
from bot.core.matching import Candidate, Matcher
from bot.core.policy import DEFAULT, Thresholds, decide
from bot.core.ranking import NO_MATCH, Confidence, Ranker, Scores
from bot.core.targets import MATCHING, Tally, failures, table

log = logging.getLogger(__name__)

FOLDS = 5
#: Above this many topics the classifier is not trained: its weights grow with topics x features
#: (about 1.6 GB at 1,000 topics) and cross-validating it at every change takes minutes. The
#: matcher then ranks alone with fixed thresholds (``policy.MATCHER_ONLY``); see README
#: "Capacity and scaling".
MAX_CLASSIFIER_TOPICS = 200
#: What the thresholds aim for in cross-validation, in every language.
AIM_WRONG = 0.01
#: Below the 3 % target on purpose: the knowledge base's off-topic examples (about 145 per
#: language) are fewer and less varied than what people really ask (independent sets showed up
#: to 12.5 % answered when CV said less), and each one here weighs 0.7 %. At 3 % the confidence
#: model spends the whole budget (2.1-2.7 % in CV); at 1 % it answers a third fewer questions.
AIM_OOS = 0.02
AIM_FOUND = 0.97
#: Acceptance targets of ``eval --cv`` (per language).
TARGETS = MATCHING
#: Below this many phrasings per class on average (8 per class and fold) the knowledge base is too small to
#: cross-validate (a test knowledge base of a few entries): DEFAULT thresholds apply.
MIN_PER_CLASS = 40


@dataclass(frozen=True)
class Held:
    """One held-out phrasing and how it was ranked."""

    text: str
    lang: str
    gold: str  # entry id or OUT_OF_SCOPE
    detected: str
    scores: np.ndarray  # one per class of ``CrossValidation.classes``
    classifier: np.ndarray  # the classifier's decision values, same columns
    matcher: np.ndarray  # the matcher's 0-1 scores, same columns
    no_match: bool  # shares no word with the knowledge base
    fold: int
    #: probability that the first topic is right, from a confidence model fitted without this
    #: phrasing's fold (None until ``cross_validate`` fits it)
    confidence: float | None = None


@dataclass
class CrossValidation:
    classes: list[str]
    held: list[Held]
    thresholds: Thresholds
    #: the confidence model fitted on every held-out phrasing (what the bot uses), or None
    confidence: Confidence | None = None
    tallies: dict[str, Tally] = field(default_factory=dict)
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)

    def failures(self) -> list[str]:
        """Targets not met, as readable lines (empty when every language meets every target)."""
        return failures(self.tallies, TARGETS)

    def table(self) -> str:
        lines = table(self.tallies)
        t = self.thresholds
        lines += [
            "",
            f"thresholds ({t.source}): "
            + (
                "answer when confident >= " + ", ".join(f"{lang} {v:.3f}" for lang, v in t.confidence.items())
                if t.confidence
                else f"answer >= {t.answer:.3f} and ahead by >= {t.margin:.3f}"
            )
            + f"; suggest >= {t.suggest:.3f}",
            "top-1: right topic ranked first (answered or first suggestion); right/wrong: answered with the",
            "right/a wrong topic; found: right topic answered or suggested; answered: off-topic questions",
            "answered with a topic; language: detected correctly. Each phrasing was ranked by a model built",
            f"without it ({FOLDS} folds, a phrasing and its translations in the same fold).",
        ]
        return "\n".join(lines)


# -- folds ------------------------------------------------------------------------------------


def _items(kb: KnowledgeBase) -> list[Example]:
    """The phrasings cross-validation holds out: entry questions and off-topic examples."""
    return [e for e in examples(kb) if e.key is not None]


def _fold_of(groups: Sequence[str], folds: int) -> list[int]:
    """Deterministic fold of each group: groups sorted by size, largest first, each to the
    currently smallest fold (what scikit-learn's GroupKFold does)."""
    sizes = Counter(groups)
    load = [0] * folds
    assigned: dict[str, int] = {}
    for group, size in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])):
        fold = min(range(folds), key=lambda f: (load[f], f))
        assigned[group] = fold
        load[fold] += size
    return [assigned[g] for g in groups]


def without(kb: KnowledgeBase, held: set[tuple[str, str, int]]) -> KnowledgeBase:
    """A copy of ``kb`` without the held-out phrasings (answers, keywords, synonyms stay)."""
    entries = []
    for entry in kb:
        texts = {}
        for lang, text in entry.texts.items():
            keep = [i for i in range(len(text.questions)) if (entry.id, lang, i) not in held]
            texts[lang] = replace(
                text,
                questions=tuple(text.questions[i] for i in keep),
                question_lines=tuple(text.question_lines[i] for i in keep) if text.question_lines else (),
                question_files=tuple(text.question_files[i] for i in keep) if text.question_files else (),
            )
        entries.append(replace(entry, texts=texts))
    out_of_scope = {
        lang: tuple(q for i, q in enumerate(qs) if (OUT_OF_SCOPE, lang, i) not in held)
        for lang, qs in kb.out_of_scope.items()
    }
    return replace(kb, entries=tuple(entries), out_of_scope=out_of_scope)


def uses_classifier(kb: KnowledgeBase) -> bool:
    """Up to MAX_CLASSIFIER_TOPICS topics; above, the matcher ranks alone (see MATCHER_ONLY)."""
    return len(kb) <= MAX_CLASSIFIER_TOPICS


def build_ranker(kb: KnowledgeBase) -> Ranker:
    """The matcher and the classifier of ``kb`` (the classifier only when there are two classes
    and at most MAX_CLASSIFIER_TOPICS topics)."""
    matcher = Matcher(kb)
    if not uses_classifier(kb):
        return Ranker(matcher, None)
    train = examples(kb)
    classifier = QuestionClassifier(matcher.terms).fit(train) if len({e.label for e in train}) >= 2 else None
    return Ranker(matcher, classifier)


def can_cross_validate(kb: KnowledgeBase) -> bool:
    classes = len(kb) + (1 if kb.out_of_scope else 0)
    return uses_classifier(kb) and classes >= 2 and len(_items(kb)) >= MIN_PER_CLASS * classes


def cross_validate(kb: KnowledgeBase, folds: int = FOLDS) -> CrossValidation:
    """Rank every phrasing with a model built without it; choose the thresholds; tally."""
    items = _items(kb)
    fold_of = _fold_of([item.group for item in items], folds)
    classes = [e.id for e in kb] + ([OUT_OF_SCOPE] if kb.out_of_scope else [])
    work = [[item for item, f in zip(items, fold_of) if f == fold] for fold in range(folds)]
    work = [test for test in work if test]
    held: list[Held] = []
    for part in _map(partial(_rank_fold, kb, classes), list(enumerate(work))):
        held.extend(part)
    base = choose_thresholds(classes, held)
    held, confidence, thresholds = _confidence(classes, held, base)
    result = CrossValidation(classes, held, thresholds, confidence)
    tally(result)
    return result


def _rank_fold(kb: KnowledgeBase, classes: list[str], job: tuple[int, list[Example]]) -> list[Held]:
    """Build the model without ``test`` and rank each of its phrasings (one fold)."""
    fold, test = job
    sub = without(kb, {item.key for item in test if item.key is not None})
    ranker = build_ranker(sub)
    detector = detector_for(sub)
    raw = ranker.scores([t.text for t in test], [t.lang for t in test])
    where = {c: i for i, c in enumerate(classes)}
    columns = [where[c] for c in ranker.classes]
    out = []
    for i, item in enumerate(test):
        scores = np.full(len(classes), NO_MATCH)
        scores[columns] = raw.fused[i]
        clf = np.full(len(classes), -1.0)  # a class the fold's classifier never saw: ruled out
        clf[columns] = raw.classifier[i]
        match = np.zeros(len(classes))
        match[columns] = raw.matcher[i]
        detected = detector.detect(item.text).lang or ""
        out.append(Held(item.text, item.lang, item.label, detected, scores, clf, match, bool(raw.no_match[i]), fold))
    return out


def _map(function, jobs: list) -> list:
    """``map`` over the folds, in worker processes when there are several cores (the folds are
    independent: two cores halve the time); in this process when that is not possible."""
    workers = min(len(jobs), os.cpu_count() or 1, 4)
    if workers > 1:
        try:
            return list(joblib.Parallel(n_jobs=workers, backend="loky")(joblib.delayed(function)(job) for job in jobs))
        except (OSError, RuntimeError) as exc:  # no processes here (a sandbox): one by one
            log.warning("cross-validation in one process (%s)", exc.__class__.__name__)
    return [function(job) for job in jobs]


# -- confidence ---------------------------------------------------------------------------------


def _scores(held: Sequence[Held]) -> Scores:
    return Scores(
        np.array([h.scores for h in held]),
        np.array([h.classifier for h in held]),
        np.array([h.matcher for h in held]),
        np.array([h.no_match for h in held]),
        np.array([len(h.text.split()) for h in held], dtype=float),
        tuple(h.lang for h in held),
    )


def _confidence(
    classes: Sequence[str], held: list[Held], base: Thresholds
) -> tuple[list[Held], Confidence | None, Thresholds]:
    """Fit the confidence model of "the first topic is right" and choose its thresholds.

    Honest by nesting: each phrasing's probability comes from a model fitted on the other
    folds' held-out phrasings only, and the thresholds are chosen on those probabilities. The
    model the bot uses is then fitted on every held-out phrasing. Falls back to ``base`` (score
    and margin) when there is nothing to learn from (a single fold, all right or all wrong)."""
    oos = classes.index(OUT_OF_SCOPE) if OUT_OF_SCOPE in classes else -1
    scores = _scores(held)
    top = np.argsort(-scores.fused, axis=1, kind="stable")[:, 0]
    names = np.array(classes, dtype=object)
    right = names[top] == np.array([h.gold for h in held], dtype=object)
    folds = np.array([h.fold for h in held])
    if len(set(folds.tolist())) < 2 or right.all() or not right.any():
        return held, None, base
    probability = np.zeros(len(held))
    for fold in sorted(set(folds.tolist())):
        train, test = folds != fold, folds == fold
        if len(set(right[train].tolist())) < 2:
            return held, None, base
        model = Confidence(oos).fit(_subset(scores, train), right[train])
        probability[test] = model.predict(_subset(scores, test))
    held = [replace(h, confidence=float(p)) for h, p in zip(held, probability)]
    chosen = choose_confidence(classes, held)
    partial = replace(base, confidence=chosen, suggest=0.0)
    suggest = _suggest_threshold(classes, held, partial)
    return held, Confidence(oos).fit(scores, right), replace(partial, suggest=round(suggest, 4))


def _subset(scores: Scores, mask: np.ndarray) -> Scores:
    langs = tuple(lang for lang, keep in zip(scores.langs, mask) if keep)
    return Scores(
        scores.fused[mask],
        scores.classifier[mask],
        scores.matcher[mask],
        scores.no_match[mask],
        scores.lengths[mask],
        langs,
    )


def choose_confidence(classes: Sequence[str], held: Sequence[Held]) -> dict[str, float]:
    """Per language, the lowest confidence threshold (so the most answers) at which at most
    AIM_WRONG of the in-scope phrasings get a wrong answer and at most AIM_OOS of the off-topic
    ones get any answer. Answering is monotonic in the threshold, so the lowest that meets both
    is the one that answers the most."""
    oos = classes.index(OUT_OF_SCOPE) if OUT_OF_SCOPE in classes else -1
    chosen: dict[str, float] = {}
    for lang in LANGS:
        mine = [h for h in held if h.lang == lang]
        if not mine:
            continue
        probability = np.array([h.confidence for h in mine], dtype=float)
        top = np.array([int(np.argmax(h.scores)) for h in mine])
        is_oos = np.array([h.gold == OUT_OF_SCOPE for h in mine])
        right = np.array([classes[t] == h.gold for t, h in zip(top, mine)])
        entry_top = top != oos
        n_in, n_out = max(int((~is_oos).sum()), 1), int(is_oos.sum())
        # the highest probability of a phrasing answered wrongly that must stay unanswered
        threshold = 1.0 + 1e-6
        for value in np.unique(probability)[::-1]:
            answered = entry_top & (probability >= value)
            wrong = (answered & ~is_oos & ~right).sum() / n_in
            off = (answered & is_oos).sum() / n_out if n_out else 0.0
            if wrong > AIM_WRONG or off > AIM_OOS:
                break
            threshold = float(value)
        chosen[lang] = threshold
    return chosen


# -- thresholds ---------------------------------------------------------------------------------


def _arrays(classes: Sequence[str], held: Sequence[Held]):
    scores = np.array([h.scores for h in held])
    oos = classes.index(OUT_OF_SCOPE) if OUT_OF_SCOPE in classes else -1
    order = np.argsort(-scores, axis=1, kind="stable")
    best = scores[np.arange(len(held)), order[:, 0]]
    second = scores[np.arange(len(held)), order[:, 1]] if scores.shape[1] > 1 else np.full(len(held), -10.0)
    return scores, order, best, best - second, oos


def choose_thresholds(classes: Sequence[str], held: Sequence[Held]) -> Thresholds:
    """The thresholds that answer most while meeting AIM_WRONG and AIM_OOS in every language."""
    if not held:
        return DEFAULT
    _, order, best, margin, oos = _arrays(classes, held)
    top = order[:, 0]
    names = np.array(classes, dtype=object)
    gold = np.array([h.gold for h in held], dtype=object)
    langs = np.array([h.lang for h in held], dtype=object)
    is_oos = gold == OUT_OF_SCOPE
    right_top = names[top] == gold
    entry_top = top != oos
    masks = [(langs == lang) for lang in LANGS if (langs == lang).any()]
    chosen: tuple[float, float, float] | None = None
    for answer in np.unique(np.quantile(best, np.linspace(0.0, 0.98, 50))):
        for need in np.unique(np.quantile(margin, np.linspace(0.0, 0.98, 50))):
            answered = entry_top & (best >= answer) & (margin >= need)
            worst = 1.0
            ok = True
            for mask in masks:
                inside = mask & ~is_oos
                n_in, n_out = inside.sum(), (mask & is_oos).sum()
                wrong = (answered & inside & ~right_top).sum() / max(n_in, 1)
                off = (answered & mask & is_oos).sum() / max(n_out, 1) if n_out else 0.0
                if wrong > AIM_WRONG or off > AIM_OOS:
                    ok = False
                    break
                worst = min(worst, (answered & inside & right_top).sum() / max(n_in, 1))
            if ok and (chosen is None or worst > chosen[0]):
                chosen = (worst, float(answer), float(need))
    if chosen is None:  # nothing meets the aim: answer nothing on its own, suggest
        chosen = (0.0, float(best.max()) + 1.0, 0.0)
    _, answer, need = chosen
    suggest = _suggest_threshold(classes, held, Thresholds(answer, need, 0.0))
    return Thresholds(round(answer, 4), round(need, 4), round(suggest, 4))


def _suggest_threshold(classes: Sequence[str], held: Sequence[Held], partial: Thresholds) -> float:
    """The highest suggestion threshold that still finds AIM_FOUND of the in-scope phrasings in
    every language (the lowest tried when none does)."""
    values = np.unique(np.quantile(np.concatenate([h.scores for h in held]), np.linspace(0.5, 0.995, 60)))
    best = float(values[0])
    for value in values:
        trial = replace(partial, suggest=float(value))
        tallies = _tally(classes, held, trial)
        if all(t.rates()["found"] >= AIM_FOUND for lang, t in tallies.items() if lang != "all" and t.in_scope):
            best = float(value)
        else:
            break
    return best


def _tally(classes: Sequence[str], held: Iterable[Held], thresholds: Thresholds) -> dict[str, Tally]:
    tallies: dict[str, Tally] = {}
    for h in held:
        order = np.argsort(-h.scores, kind="stable")
        candidates = [Candidate(classes[i], float(h.scores[i])) for i in order]
        decision = decide(candidates, thresholds, h.confidence, h.lang)
        action, topic, suggestions = decision.action, decision.topic, decision.suggestions
        first = topic or (suggestions[0] if suggestions else None)
        ranked_first = next(classes[i] for i in order if classes[i] != OUT_OF_SCOPE)
        for key in (h.lang, "all"):
            t = tallies.setdefault(key, Tally())
            t.total += 1
            t.lang_ok += h.detected == h.lang
            if h.gold == OUT_OF_SCOPE:
                t.out_of_scope += 1
                t.oos_answered += action == "answer"
            else:
                t.in_scope += 1
                t.top1 += (first or ranked_first) == h.gold
                t.right += action == "answer" and topic == h.gold
                t.wrong += action == "answer" and topic != h.gold
                t.found += (action == "answer" and topic == h.gold) or h.gold in suggestions
    return tallies


def tally(result: CrossValidation) -> None:
    result.tallies = _tally(result.classes, result.held, result.thresholds)
    result.confusions = Counter()
    for h in result.held:
        order = np.argsort(-h.scores, kind="stable")
        first = result.classes[order[0]]
        if first != h.gold:
            result.confusions[(h.gold, first)] += 1
