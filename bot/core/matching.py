"""Rank knowledge-base entries for a question. Pure: no Telegram, no I/O.

Whole-string similarity fails on these questions (see the project notes), so the matcher scores
*words*:

1. the question is folded and its informal abbreviations expanded (``bot.core.normalize``);
2. words the knowledge base has never seen are corrected to the closest known word with
   rapidfuzz (``process.cdist`` over the vocabulary, typo tolerance by word length);
3. phrases from ``knowledge/synonyms.yaml`` become shared concepts ("permiso humanitario",
   "parol", "paròl" -> ``@parole``), so the three languages' questions help each other;
4. stopwords go, the remaining words are cut to a short stem (``STEM``) so that "cancelaron",
   "cancelado" and "cancelled" meet;
5. each entry gets a *coverage* score: the share of the question's informative weight (IDF)
   that the entry's questions, keywords and (a little) answer know. It drops when the question
   brings informative words the entry does not cover, which is how out-of-scope questions give
   themselves away; the off-topic examples of ``knowledge/out-of-scope.yaml`` compete as one
   more pseudo-entry;
6. the best few entries are re-scored with rapidfuzz (``process.cdist``, token_set and
   token_sort ratios) against their curated questions, stopwords removed, which rewards a
   question worded like one the entry already has.

Final score = W_COVERAGE x coverage + W_FUZZY x re-score, 0-100. The weights and the policy
thresholds were tuned together on the development set and on the team's own probe set
(tests/data/probe_eval.jsonl).

The result is a list of ``Candidate(entry_id, score)`` with score 0-100; ``bot.core.policy`` decides
what to do with it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import chain, pairwise

import numpy as np
from rapidfuzz import fuzz, process

from bot.core.knowledge import OUT_OF_SCOPE, KnowledgeBase
from bot.core.langs import LANGS
from bot.core.lexicon import ADDRESS, FOLLOW_UPS, GOODBYES, GREETINGS, HUMAN_PEOPLE, HUMAN_VERBS, STOPWORDS, THANKS
from bot.core.normalize import expand, fold, fold_texts

#: Words are cut to this many characters after synonyms are applied (a light stemmer).
STEM = 5
#: Keywords count as this many question occurrences of their words.
KEYWORD_WEIGHT = 2
#: Words of the answer itself count as this many occurrences (answers use words questions miss).
ANSWER_WEIGHT = 0.3
#: Coverage saturation: an entry that has a word once gets 1/(1+K) of its weight... and more
#: occurrences approach 1.
SATURATION = 0.5
#: Weight of a query word unknown to the whole knowledge base, as a share of the highest IDF.
UNKNOWN_WEIGHT = 0.6
#: Mix of the two scores (coverage, rapidfuzz re-score); they sum to 1.
W_COVERAGE, W_FUZZY = 0.40, 0.60
#: Weights of the two rapidfuzz scores (averaged) comparing the folded question with each
#: curated question: token_set_ratio forgives extra words, token_sort_ratio keeps a short
#: curated question that happens to be contained in a long message from scoring 100.
#: (token_sort_ratio is computed as ``ratio`` of the word-sorted texts, the curated side sorted
#: once at build: the same score, a third of the time.)
W_TOKEN_SET, W_TOKEN_SORT = 2.0, 1.0
#: Weight of a curated question in another language than the user's in the re-score.
OTHER_LANG_FACTOR = 0.9
#: How many entries the rapidfuzz re-score looks at.
RERANK = 6
#: Minimum rapidfuzz ``ratio`` for correcting a typo, by word length.
_TYPO_CUTOFF = ((8, 80.0), (6, 83.0), (5, 85.0))
_LANG_CODES: dict[str, int] = {lang: code for code, lang in enumerate(LANGS)}


@dataclass(frozen=True)
class Candidate:
    entry_id: str
    score: float
    #: the parts of the score (0-1 each), for reports and tuning
    coverage: float = 0.0
    fuzzy: float = 0.0


@dataclass(frozen=True)
class Analysis:
    """What the matcher understood of a question (useful for debugging and reports)."""

    terms: tuple[str, ...]
    smalltalk: str | None  # "greeting" | "thanks" | "goodbye" | None
    #: the message asks to talk to a person ("quiero hablar con alguien", "m vle pale ak yon moun")
    person: bool = False


def _typo_cutoff(word: str) -> float | None:
    for length, cutoff in _TYPO_CUTOFF:
        if len(word) >= length:
            return cutoff
    return None


class Matcher:
    """Index of one knowledge base. Build once (at load or reload), then call ``rank``."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._phrases: dict[tuple[str, ...], str] = {}
        for concept, words in kb.synonyms.items():
            for phrase in words:
                key = tuple(fold(phrase).split())
                if key:
                    self._phrases[key] = "@" + concept
        self._max_phrase = max((len(k) for k in self._phrases), default=1)
        # one-word synonyms by word; longer phrases are only tried at a word that starts one
        self._single = {key[0]: concept for key, concept in self._phrases.items() if len(key) == 1}
        self._phrase_starts = frozenset(key[0] for key in self._phrases if len(key) > 1)
        # per language: folded word -> its terms, -> its content words, and the words that may
        # start a synonym phrase (see ``_index_terms``)
        self._word_plans: dict[str, tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]], set[str]]] = {}

        # Entries' documents (all languages pooled) and single questions. The off-topic examples
        # of out-of-scope.yaml take part as one more pseudo-entry, so that an everyday question
        # that merely shares a word with an entry finds its real match. Texts come folded once
        # (``LangText.folded_*``, shared with validation and language detection).
        entries: list[tuple[str, dict[str, tuple[tuple[str, ...], tuple[str, ...], str]]]] = [
            (e.id, {lang: (t.folded_questions, t.folded_keywords, t.folded_answer) for lang, t in e.texts.items()})
            for e in kb
        ]
        if kb.out_of_scope:
            entries.append((OUT_OF_SCOPE, {lang: (fold_texts(qs), (), "") for lang, qs in kb.out_of_scope.items()}))
        self.entry_ids = [entry_id for entry_id, _ in entries]

        vocab: set[str] = set()
        for key in self._phrases:
            vocab.update(key)
        for _, texts in entries:
            for questions, keywords, _answer in texts.values():
                for item in (*questions, *keywords):
                    vocab.update(item.split())
        self._vocab = sorted(w for w in vocab if not w.isdigit())
        self._vocab_set = frozenset(self._vocab)

        doc_terms: list[Counter[str]] = []
        # rapidfuzz re-score input, per entry: its questions in every language (stopwords
        # removed), the same with their words sorted, and each one's language
        self._choices: list[list[str]] = []
        self._sorted_choices: list[list[str]] = []
        self._choice_langs: list[np.ndarray] = []
        answer_terms: list[set[str]] = []
        for _, texts in entries:
            counts: Counter[str] = Counter()
            in_answers: set[str] = set()
            mine: list[str] = []
            langs: list[int] = []
            for lang, (questions, keywords, answer) in texts.items():
                for question in questions:
                    terms, content = self._index_terms(question, lang)
                    counts.update(set(terms))
                    mine.append(" ".join(content))
                langs += [_LANG_CODES.get(lang, -1)] * len(questions)
                for keyword in keywords:
                    for term in set(self._index_terms(keyword, lang)[0]):
                        counts[term] += KEYWORD_WEIGHT
                in_answers.update(self._index_terms(answer, lang)[0])
            doc_terms.append(counts)
            answer_terms.append(in_answers)
            self._choices.append(mine)
            self._sorted_choices.append([" ".join(sorted(q.split())) for q in mine])
            self._choice_langs.append(np.array(langs, dtype=np.int8))

        n = len(doc_terms)
        df: Counter[str] = Counter()
        for counts in doc_terms:
            df.update(counts.keys())
        self._idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self._unknown = UNKNOWN_WEIGHT * max(self._idf.values(), default=1.0)
        # Answer words help coverage a little, but do not change how informative a word is.
        weighted: list[dict[str, float]] = []
        for counts, in_answers in zip(doc_terms, answer_terms):
            frequencies = {term: float(tf) for term, tf in counts.items()}
            for term in in_answers:
                if term in self._idf:
                    frequencies[term] = frequencies.get(term, 0.0) + ANSWER_WEIGHT
            weighted.append(frequencies)

        # Postings: term -> (entry indices, saturated frequency) and (question indices).
        entry_post: dict[str, tuple[list[int], list[float]]] = {}
        for index, frequencies in enumerate(weighted):
            for term, tf in frequencies.items():
                ids, sats = entry_post.setdefault(term, ([], []))
                ids.append(index)
                sats.append(tf / (tf + SATURATION))
        self._entry_post = {t: (np.array(i, dtype=np.int32), np.array(s)) for t, (i, s) in entry_post.items()}

    # -- analysis ---------------------------------------------------------------------------

    def _correct(self, words: list[str], lang: str) -> list[str]:
        """Replace unknown words by the closest known word when rapidfuzz is sure enough."""
        stop = _ignored(lang)
        todo = [
            i
            for i, w in enumerate(words)
            if w not in self._vocab_set and w not in stop and not w.isdigit() and _typo_cutoff(w)
        ]
        if not todo or not self._vocab:
            return words
        queries = [words[i] for i in todo]
        scores = process.cdist(
            queries, self._vocab, scorer=fuzz.ratio, score_cutoff=min(c for _, c in _TYPO_CUTOFF), workers=1
        )
        fixed = list(words)
        for row, i in enumerate(todo):
            best = int(scores[row].argmax())
            if scores[row, best] >= (_typo_cutoff(words[i]) or 101):
                fixed[i] = self._vocab[best]
        return fixed

    def _terms(self, text: str, lang: str, correct: bool = True) -> list[str]:
        words = expand(fold(text).split(), lang)
        if correct:
            words = self._correct(words, lang)
        return self._phrase_terms(words, _ignored(lang))

    def _index_terms(self, folded: str, lang: str) -> tuple[list[str], list[str]]:
        """Terms and content words (``fuzzy_text``'s) of a folded knowledge-base text: the same
        as ``_terms(text, lang, correct=False)`` and ``fuzzy_text``, worked out once per distinct
        word (building the index of 10,000 entries looks at millions of words)."""
        terms_of, content_of, phrase_words = self._word_plans.get(lang) or self._word_plans.setdefault(
            lang, ({}, {}, set())
        )
        words = folded.split()
        for word in set(words).difference(terms_of):
            expanded = expand([word], lang)
            stop = _ignored(lang)
            terms_of[word] = tuple(self._phrase_terms(expanded, stop))
            content_of[word] = tuple(w for w in expanded if w not in stop)
            if not self._phrase_starts.isdisjoint(expanded):
                phrase_words.add(word)
        if not phrase_words.isdisjoint(words):  # a synonym phrase may start here: word by word
            expanded = expand(words, lang)
            stop = _ignored(lang)
            return self._phrase_terms(expanded, stop), [w for w in expanded if w not in stop]
        return list(chain.from_iterable(map(terms_of.__getitem__, words))), list(
            chain.from_iterable(map(content_of.__getitem__, words))
        )

    def _phrase_terms(self, words: list[str], stop: frozenset[str]) -> list[str]:
        """Synonym phrases become their concept, stopwords go, other words are stemmed."""
        out: list[str] = []
        starts, phrases, single = self._phrase_starts, self._phrases, self._single
        i, count = 0, len(words)
        while i < count:
            word = words[i]
            if word in starts:
                for size in range(min(self._max_phrase, count - i), 1, -1):
                    concept = phrases.get(tuple(words[i : i + size]))
                    if concept:
                        out.append(concept)
                        i += size
                        break
                else:
                    concept = None
                if concept:
                    continue
            concept = single.get(word)
            if concept:
                out.append(concept)
            elif word not in stop and len(word) > 1:
                out.append(word[:STEM])
            i += 1
        return out

    def terms(self, text: str, lang: str) -> list[str]:
        """The question as the matcher reads it: concepts and stemmed content words (also the
        classifier's word features, ``bot.core.classifier``)."""
        return self._terms(text, lang)

    def fuzzy_text(self, text: str, lang: str) -> str:
        """What the rapidfuzz re-score compares: folded words without the language's stopwords
        (so that shared frames such as "kijan pou m" or "how do i" do not make questions alike)."""
        stop = _ignored(lang)
        return " ".join(w for w in expand(fold(text).split(), lang) if w not in stop)

    def analyze(self, text: str, lang: str) -> Analysis:
        """Conversation intents before any topic: greetings, thanks, goodbyes and blessings (in
        any of the three languages: people mix them), and a request to talk to a person."""
        terms = tuple(self._terms(text, lang))
        sequence = expand(fold(text).split(), lang)
        words = set(sequence)
        smalltalk = None
        content = words - _EVERY["stop"] - _EVERY["address"]
        if content and content <= _EVERY["greet"] | _EVERY["thanks"] | _EVERY["bye"]:
            if content & _EVERY["bye"] - _EVERY["greet"] - _EVERY["thanks"]:
                smalltalk = "goodbye"  # "adios", "orevwa", "bye" (blessings alone count as thanks)
            elif content & _EVERY["thanks"] - _EVERY["greet"]:
                smalltalk = "thanks"
            else:
                smalltalk = "greeting"
        return Analysis(terms, smalltalk, _asks_for_person(sequence, content))

    # -- ranking ----------------------------------------------------------------------------

    def rank(self, text: str, lang: str, limit: int = 5) -> list[Candidate]:
        """Entries best matching ``text`` (written in ``lang``), best first, score 0-100."""
        return self.rank_terms(self._terms(text, lang), self.fuzzy_text(text, lang), lang, limit)

    def rank_terms(self, terms: Sequence[str], folded: str, lang: str, limit: int = 5) -> list[Candidate]:
        """Rank from an analysis already made: ``terms`` (``analyze``) and ``folded``
        (``fuzzy_text``) of a question written in ``lang``."""
        n = len(self.entry_ids)
        if not terms or n == 0:
            return []
        weights = {t: self._idf.get(t, self._unknown) for t in dict.fromkeys(terms)}
        total = sum(weights.values())
        coverage = np.zeros(n)
        for term, weight in weights.items():
            post = self._entry_post.get(term)
            if post is not None:
                coverage[post[0]] += weight * post[1]
        if not coverage.any():
            return []
        coverage /= total
        lexical = coverage
        top = _top(lexical, RERANK)
        top = [i for i in top if lexical[i] > 0]
        fuzzy = self._fuzzy(folded, top, lang)
        scored = [
            Candidate(
                self.entry_ids[i],
                round(min(100.0 * (W_COVERAGE * coverage[i] + W_FUZZY * fuzzy[k]), 100.0), 1),
                float(coverage[i]),
                fuzzy[k],
            )
            for k, i in enumerate(top)
        ]
        scored.sort(key=lambda c: (-c.score, c.entry_id))
        return scored[:limit]

    def _fuzzy(self, folded: str, entries: Sequence[int], lang: str) -> list[float]:
        """For each entry, rapidfuzz similarity (0-1) of the question to its closest question
        (questions in other languages count too, at OTHER_LANG_FACTOR: shared words such as
        "work permit" or "TPS" cross languages)."""
        if not folded or not entries:
            return [0.0] * len(entries)
        bounds = [0]
        choices: list[str] = []
        sorted_choices: list[str] = []
        for index in entries:
            choices += self._choices[index]
            sorted_choices += self._sorted_choices[index]
            bounds.append(len(choices))
        if not choices:
            return [0.0] * len(entries)
        langs = np.concatenate([self._choice_langs[index] for index in entries])
        factors = np.where(langs == _LANG_CODES.get(lang, -2), 1.0, OTHER_LANG_FACTOR)
        token_set = process.cdist([folded], choices, scorer=fuzz.token_set_ratio, workers=1)[0]
        token_sort = process.cdist([" ".join(sorted(folded.split()))], sorted_choices, scorer=fuzz.ratio, workers=1)[0]
        scores = (W_TOKEN_SET * token_set + W_TOKEN_SORT * token_sort) / (W_TOKEN_SET + W_TOKEN_SORT) * factors
        return [float(scores[a:b].max()) / 100.0 if b > a else 0.0 for a, b in pairwise(bounds)]


def _every(table: dict[str, frozenset[str]]) -> frozenset[str]:
    return frozenset().union(*table.values())


_EVERY = {
    "stop": _every(STOPWORDS),
    "address": _every(ADDRESS),
    "greet": _every(GREETINGS),
    "thanks": _every(THANKS),
    "bye": _every(GOODBYES),
    "verbs": _every(HUMAN_VERBS),
    "people": _every(HUMAN_PEOPLE),
    "follow": _every(FOLLOW_UPS),
}
#: Words that name a person on their own ("un humano", "volunteer pls").
_STRONG_PEOPLE = frozenset(
    {"humano", "humana", "human", "agente", "agent", "voluntario", "volunteer", "volonte", "operador", "operator"}
)
#: How many words may stand between "talk" and "person" ("hablar con un voluntario de verdad").
_PERSON_WINDOW = 5


#: A follow-up is short: at most this many words.
FOLLOW_UP_WORDS = 8
_STARTERS = frozenset({"y", "e", "epi", "and", "but", "pero", "so", "entonces", "alors"})


def is_follow_up(text: str, lang: str) -> bool:
    """A short message that leans on the previous answer: "y cuanto cuesta eso?", "e konbyen sa
    koute?", "how long does it take?"."""
    words = expand(fold(text).split(), lang)
    if not words or len(words) > FOLLOW_UP_WORDS:
        return False
    return words[0] in _STARTERS or any(w in _EVERY["follow"] for w in words)


def _asks_for_person(words: Sequence[str], content: set[str]) -> bool:
    """ "talk / speak / pale ..." followed closely by "person / someone / moun ...", or a short
    message that names a human on its own ("un humano por favor", "volunteer pls")."""
    verbs, people = _EVERY["verbs"], _EVERY["people"]
    for i, word in enumerate(words):
        if word in verbs and any(w in people for w in words[i + 1 : i + 1 + _PERSON_WINDOW]):
            return True
    return 0 < len(content - _EVERY["greet"] - _EVERY["thanks"]) <= 3 and bool(content & _STRONG_PEOPLE)


@cache
def _ignored(lang: str) -> frozenset[str]:
    """Words that say nothing about the topic: stopwords, greetings and thanks ("buenas, ...")."""
    return STOPWORDS.get(lang, frozenset()) | GREETINGS.get(lang, frozenset()) | THANKS.get(lang, frozenset())


def _top(values: np.ndarray, k: int) -> list[int]:
    if len(values) <= k:
        return [int(i) for i in np.argsort(-values)]
    part = np.argpartition(-values, k)[:k]
    return [int(i) for i in part[np.argsort(-values[part])]]


__all__ = ["Analysis", "Candidate", "Matcher"]
