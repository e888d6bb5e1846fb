"""The question classifier: a linear model trained on the knowledge base's own phrasings.

The matcher (``bot.core.matching``) scores the words a question shares with each entry; this
model learns which words, word pairs and letter sequences tell the topics apart, from every
phrasing, keyword and answer paragraph of the knowledge base, with the off-topic examples
(``out-of-scope``) as a class of their own. Both see the question through the same concept
normalisation (folding, abbreviations, typo correction, synonyms to concepts), so "permiso
humanitario", "paròl" and "parole" are one feature.

- features: TF-IDF of letter n-grams (2-5, inside words) of the folded question, plus TF-IDF of
  its concept terms, their pairs, its words and word pairs (scikit-learn ``TfidfVectorizer``);
- model: a linear support vector machine (``LinearSVC``, one-vs-rest), one model for the three
  languages. On this knowledge base it ranked the right topic first as often as a logistic
  regression did, with fewer confident mistakes, and trains in about 2 s instead of 20 s
  (cross-validation trains it five times).

``bot.core.ranking`` adds the matcher's scores to its decision values, and grouped
cross-validation over the same phrasings (``bot.core.calibration``) chooses the thresholds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import sklearn
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from bot.core.knowledge import OUT_OF_SCOPE, KnowledgeBase
from bot.core.normalize import expand, fold

#: Weight of one training example, by kind: a phrasing counts fully; keywords and answer
#: paragraphs teach vocabulary, at a lower weight.
WEIGHTS = {"question": 1.0, "oos": 1.0, "keyword": 0.5, "answer": 0.5}
#: Inverse regularisation of the linear SVM (larger: fits the phrasings more closely); chosen
#: by grouped cross-validation (0.3, 0.5 and 1.0 tried: 0.5 best).
C = 0.5


@dataclass(frozen=True)
class Example:
    """One text the model learns from (and cross-validation may hold out)."""

    text: str
    lang: str
    label: str  # entry id, or OUT_OF_SCOPE
    kind: str  # "question", "keyword", "answer" or "oos"
    #: examples of one group go to the same cross-validation fold: a phrasing and its
    #: translations (the entry's own questions at the same position in each language)
    group: str
    #: where a phrasing stands: (entry id or OUT_OF_SCOPE, language, position), None for
    #: keywords and answers (cross-validation holds phrasings out by it)
    key: tuple[str, str, int] | None = None


def examples(kb: KnowledgeBase) -> list[Example]:
    """Every example of the knowledge base: phrasings, keywords, answer paragraphs, off-topic."""
    out: list[Example] = []
    for entry in kb:
        for lang, text in entry.texts.items():
            own = sum(1 for f in text.question_files if not f) if text.question_files else len(text.questions)
            for index, question in enumerate(text.questions):
                # the entry file's questions are parallel across languages (translations of each
                # other): one group per position; phrasing files are written natively, one group each
                group = f"{entry.id}#{index}" if index < own else f"{entry.id}#{lang}#{index}"
                out.append(Example(question, lang, entry.id, "question", group, (entry.id, lang, index)))
            for keyword in text.keywords:
                out.append(Example(keyword, lang, entry.id, "keyword", f"{entry.id}#kw"))
            for paragraph in text.all_text.split("\n\n"):
                if paragraph.strip():
                    out.append(Example(paragraph, lang, entry.id, "answer", f"{entry.id}#answer"))
    for lang, questions in kb.out_of_scope.items():
        for index, question in enumerate(questions):
            out.append(
                Example(
                    question, lang, OUT_OF_SCOPE, "oos", f"{OUT_OF_SCOPE}#{lang}#{index}", (OUT_OF_SCOPE, lang, index)
                )
            )
    return out


def char_text(text: str, lang: str) -> str:
    """What the letter n-grams read: the folded question with abbreviations expanded."""
    return " ".join(expand(fold(text).split(), lang))


class QuestionClassifier:
    """Fit on ``examples``; ``decision`` scores every class for new questions.

    ``terms(text, lang)`` is the matcher's concept normalisation (``Matcher.terms``)."""

    def __init__(self, terms: Callable[[str, str], Sequence[str]]) -> None:
        self.terms = terms
        self.chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, dtype=np.float32
        )
        # the word features come already split into tokens (see _word_tokens)
        self.words = TfidfVectorizer(analyzer=str.split, sublinear_tf=True, dtype=np.float32)
        self.model = LinearSVC(C=C)
        self.classes: list[str] = []

    def __getstate__(self) -> dict[str, object]:
        """Pickled without ``terms`` (the matcher's method): ``bot.core.model`` attaches the
        matcher of the loaded knowledge base again."""
        state = dict(self.__dict__)
        state["terms"] = None
        return state

    def _word_tokens(self, text: str, lang: str, chars: str) -> str:
        """Concept terms and their pairs, then the plain words and their pairs ("w:" ...)."""
        terms = list(self.terms(text, lang))
        words = chars.split()
        return " ".join(
            [
                *terms,
                *(f"{a}+{b}" for a, b in pairwise(terms)),
                *(f"w:{w}" for w in words),
                *(f"w:{a}_{b}" for a, b in pairwise(words)),
            ]
        )

    def _features(self, texts: Sequence[str], langs: Sequence[str], fit: bool = False):
        chars = [char_text(t, lang) for t, lang in zip(texts, langs)]
        words = [self._word_tokens(t, lang, c) for t, lang, c in zip(texts, langs, chars)]
        if fit:
            return hstack([self.chars.fit_transform(chars), self.words.fit_transform(words)]).tocsr()
        return hstack([self.chars.transform(chars), self.words.transform(words)]).tocsr()

    def fit(self, items: Sequence[Example]) -> QuestionClassifier:
        features = self._features([e.text for e in items], [e.lang for e in items], fit=True)
        weights = np.array([WEIGHTS[e.kind] for e in items], dtype=np.float64)
        self.model.fit(features, [e.label for e in items], sample_weight=weights)
        self.classes = [str(c) for c in self.model.classes_]
        return self

    def decision(self, texts: Sequence[str], langs: Sequence[str]) -> np.ndarray:
        """Decision values, one row per text, one column per class (``self.classes``): about +1
        for a class the model recognises, about -1 for one it rules out."""
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            features = self._features(texts, langs)
        # the linear model's decision function, without scikit-learn's per-call input checks
        # (a third of the time of one question): our features are always a finite sparse matrix
        return np.asarray(features @ self.model.coef_.T + self.model.intercept_)
