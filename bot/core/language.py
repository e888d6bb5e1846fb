"""Pure language detection for es / ht / en, made for short informal messages.

A small naive-Bayes model over folded words: the counts come from the knowledge base's own
texts (questions, keywords and answers of each language) plus hand-made marker lists of
function words and informal abbreviations. The user's stored choice and Telegram
``language_code`` are only tie-breakers, used when the text itself is not clear.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import cast

from bot.core.knowledge import KnowledgeBase
from bot.core.langs import LANGS, Lang
from bot.core.lexicon import ABBREVIATIONS, MARKERS, STOPWORDS
from bot.core.normalize import fold, fold_text, fold_texts

#: A marker or stopword counts as if seen this many times in the language's texts.
MARKER_WEIGHT = 8
#: Below this margin (in log-probability) between the two best languages the text is unclear
#: and a hint (stored choice, then Telegram language_code) decides if it is one of them.
CLEAR_MARGIN = 1.5
_SMOOTHING = 0.5
# Abbreviations that mean something in more than one language are no evidence.
_AMBIGUOUS = {"k", "y", "x", "w", "n", "l", "d", "r", "eu", "usa", "msg", "info", "bn", "ee", "uu"}
_CHAR_CUES: dict[str, tuple[str, ...]] = {"es": ("ñ", "¿", "¡", "á", "í", "ó", "ú"), "ht": ("ò", "è")}


@dataclass(frozen=True)
class Detection:
    lang: Lang | None
    #: True when the text alone decided; False when a hint (or nothing) did.
    confident: bool


class LanguageDetector:
    def __init__(self, corpus: Mapping[str, Iterable[str]] | None = None, *, folded: bool = False) -> None:
        """``corpus``: texts of each language; ``folded=True`` when they are already folded
        (``bot.core.normalize.fold_text``), which saves folding them again."""
        self._counts: dict[str, Counter[str]] = {}
        for lang in LANGS:
            texts = (corpus or {}).get(lang, ())
            counts: Counter[str] = Counter(
                chain.from_iterable(map(str.split, texts if folded else map(fold_text, texts)))
            )
            for word in MARKERS[lang] | STOPWORDS[lang]:
                counts[word] += MARKER_WEIGHT
            for word in ABBREVIATIONS[lang]:
                if word not in _AMBIGUOUS:
                    counts[word] += MARKER_WEIGHT
            self._counts[lang] = counts
        vocab = set().union(*self._counts.values())
        self._known = frozenset(vocab)
        self._denominator = {lang: sum(c.values()) + _SMOOTHING * len(vocab) for lang, c in self._counts.items()}

    def scores(self, text: str) -> dict[str, float]:
        """Log-probability of ``text`` in each language (only words some language knows count)."""
        words = [w for w in fold(text).split() if w in self._known]
        result: dict[str, float] = {}
        for lang in LANGS:
            counts, denom = self._counts[lang], self._denominator[lang]
            score = sum(math.log((counts.get(w, 0) + _SMOOTHING) / denom) for w in words)
            score += sum(2.0 for cue in _CHAR_CUES.get(lang, ()) if cue in text[:2000])
            result[lang] = score
        return result

    def detect(self, text: str, hints: Sequence[str | None] = ()) -> Detection:
        """Language of ``text``; ``hints`` (stored choice first, then language_code) break ties."""
        hint_langs = [cast(Lang, h) for h in hints if h in LANGS]
        scores = self.scores(text)
        has_evidence = any(w in self._known for w in fold(text).split()) or any(
            cue in text[:2000] for cues in _CHAR_CUES.values() for cue in cues
        )
        if not has_evidence:
            return Detection(hint_langs[0] if hint_langs else None, False)
        ranked = sorted(LANGS, key=lambda lang: scores[lang], reverse=True)
        best, second = ranked[0], ranked[1]
        if scores[best] - scores[second] >= CLEAR_MARGIN:
            return Detection(best, True)
        for hint in hint_langs:
            if scores[best] - scores[hint] < CLEAR_MARGIN:
                return Detection(hint, False)
        return Detection(best, False)


def detector_for(kb: KnowledgeBase) -> LanguageDetector:
    """The detector of a knowledge base: every question, keyword and answer, per language
    (including the off-topic examples, which are written the way people ask)."""
    corpus: dict[str, list[str]] = {lang: [] for lang in LANGS}
    for entry in kb:
        for lang, text in entry.texts.items():
            corpus[lang].extend((*text.folded_questions, *text.folded_keywords, text.folded_answer))
    for lang, questions in kb.out_of_scope.items():
        if lang in corpus:
            corpus[lang].extend(fold_texts(questions))
    return LanguageDetector(corpus, folded=True)
