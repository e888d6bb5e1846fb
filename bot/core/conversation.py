"""One ``respond()`` for every surface: the Telegram handlers, ``ask``, ``ask --jsonl``, ``chat``
and ``eval`` all call it, so they can never disagree. Pure: no Telegram, no storage, no
environment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core import policy
from bot.core.knowledge import KnowledgeBase, bulk_work
from bot.core.langs import DEFAULT_LANG, LANGS, Lang
from bot.core.language import LanguageDetector
from bot.core.matching import Candidate, Matcher


@dataclass(frozen=True)
class Reply:
    text: str
    lang: Lang
    action: policy.Action
    topic: str | None
    score: float
    suggestions: tuple[str, ...]
    answer: str | None
    #: "greeting" / "thanks" when the message was only that (then action is "answer" with no topic)
    smalltalk: str | None = None
    #: the answered entry asks for a person at once (detention, removal ...)
    urgent: bool = False
    #: the language came from the text itself (not from a hint or a default)
    lang_confident: bool = True
    #: name of the scam-radar rule the message matched ("paid-reopening"), or None
    scam: str | None = None
    candidates: tuple[Candidate, ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, object]:
        """The fields of the command-line contract, in its order."""
        return {
            "text": self.text,
            "lang": self.lang,
            "action": self.action,
            "topic": self.topic,
            "score": self.score,
            "suggestions": list(self.suggestions),
            "answer": self.answer,
        }


class Engine:
    """A loaded knowledge base with its matcher and language detector."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        with bulk_work():
            self.matcher = Matcher(kb)
            corpus: dict[str, list[str]] = {lang: [] for lang in LANGS}
            for entry in kb:
                for lang, text in entry.texts.items():
                    corpus[lang].extend((*text.folded_questions, *text.folded_keywords, text.folded_answer))
            self.detector = LanguageDetector(corpus, folded=True)

    def detect(self, text: str, hints: Sequence[str | None] = ()) -> tuple[Lang, bool]:
        found = self.detector.detect(text, hints)
        return (found.lang or DEFAULT_LANG), found.confident

    def respond(self, text: str, lang: str | None = None, hints: Sequence[str | None] = ()) -> Reply:
        """Answer ``text``. ``lang`` forces the language; otherwise it is detected, with
        ``hints`` (the stored choice, then Telegram's language_code) breaking ties."""
        text = text or ""
        if lang in LANGS:
            reply_lang, confident = lang, True
        else:
            reply_lang, confident = self.detect(text, hints)
        analysis = self.matcher.analyze(text, reply_lang)
        if analysis.smalltalk:
            return Reply(
                text, reply_lang, "answer", None, 100.0, (), None, analysis.smalltalk, lang_confident=confident
            )
        candidates = self.matcher.rank_terms(analysis.terms, self.matcher.fuzzy_text(text, reply_lang), reply_lang)
        decision = policy.decide(candidates)
        hit = self.kb.scam_patterns.check(text, reply_lang) if self.kb.scam_patterns else None
        if hit is not None and hit.entry and (entry := self.kb.get(hit.entry)) is not None:
            if not (decision.action == "answer" and decision.score >= policy.SURE_SCORE):
                # A scam pattern wins over an uncertain match: the scam warning is the answer.
                return Reply(
                    text,
                    reply_lang,
                    "answer",
                    entry.id,
                    100.0,
                    (),
                    entry.text(reply_lang).answer,
                    urgent=entry.urgent,
                    lang_confident=confident,
                    scam=hit.rule,
                )
        answer = None
        urgent = False
        if decision.action == "answer" and decision.topic:
            entry = self.kb.get(decision.topic)
            answer = entry.text(reply_lang).answer if entry else None
            urgent = bool(entry and entry.urgent)
        return Reply(
            scam=hit.rule if hit is not None else None,
            text=text,
            lang=reply_lang,
            action=decision.action,
            topic=decision.topic,
            score=decision.score,
            suggestions=decision.suggestions,
            answer=answer,
            urgent=urgent,
            lang_confident=confident,
            candidates=tuple(candidates),
        )
