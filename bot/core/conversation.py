"""One ``respond()`` for every surface: the Telegram handlers, ``ask``, ``ask --jsonl``, ``chat``
and ``eval`` all call it, so they can never disagree. Pure: no Telegram, no storage, no
environment.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from bot.core import policy
from bot.core.knowledge import KnowledgeBase, bulk_work
from bot.core.langs import DEFAULT_LANG, LANGS, Lang
from bot.core.language import detector_for
from bot.core.matching import Candidate, is_follow_up
from bot.core.model import Model, model_for
from bot.core.redact import redact
from bot.core.scam_model import MODEL_LABEL


@dataclass(frozen=True)
class Reply:
    text: str
    lang: Lang
    action: policy.Action
    topic: str | None
    score: float
    suggestions: tuple[str, ...]
    answer: str | None
    #: "greeting" / "thanks" / "goodbye" when the message was only that (then action is "answer"
    #: with no topic)
    smalltalk: str | None = None
    #: the message asks to talk to a person (action "escalate"): go straight to the consent screen
    person: bool = False
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
            "scam": self.scam,
            "redacted": redact(self.text).text,
        }


class Engine:
    """A loaded knowledge base with its trained model (ranker and thresholds) and language detector.

    ``cache_dir``: where trained models are kept between runs (``bot.core.model``); without it
    they are only kept in memory."""

    def __init__(self, kb: KnowledgeBase, cache_dir: Path | None = None, model: Model | None = None) -> None:
        self.kb = kb
        with bulk_work():
            self.model = model or model_for(kb, cache_dir)
            self.matcher = self.model.ranker.matcher
            self.detector = detector_for(kb)

    def detect(self, text: str, hints: Sequence[str | None] = ()) -> tuple[Lang, bool]:
        found = self.detector.detect(text, hints)
        return (found.lang or DEFAULT_LANG), found.confident

    def ranked(self, reply: Reply, limit: int = policy.MAX_SUGGESTIONS + 1) -> tuple[str, ...]:
        """Entry ids for ``reply``, best first, at most ``limit``: the answered topic, then the
        suggestions, then the other entries the ranking does not rule out (the same candidates
        and thresholds as the decision). Empty for small talk and a request for a person."""
        ids: list[str] = [reply.topic] if reply.action == "answer" and reply.topic else []
        for entry_id in (*reply.suggestions, *policy.plausible(reply.candidates, self.model.thresholds)):
            if entry_id not in ids and entry_id in self.kb:
                ids.append(entry_id)
        return tuple(ids[:limit])

    def respond(
        self, text: str, lang: str | None = None, hints: Sequence[str | None] = (), context: str | None = None
    ) -> Reply:
        """Answer ``text``. ``lang`` forces the language; otherwise it is detected, with
        ``hints`` (the stored choice, then Telegram's language_code) breaking ties.

        ``context``: the topic this chat was answered a few minutes ago. A short follow-up ("y
        cuanto cuesta eso?") leans towards it by one answer margin: answered when that makes it
        clearly first, otherwise the usual suggestions."""
        text = text or ""
        reply_lang: Lang
        if lang in LANGS:
            reply_lang, confident = cast(Lang, lang), True
        else:
            reply_lang, confident = self.detect(text, hints)
        analysis = self.matcher.analyze(text, reply_lang)
        if analysis.smalltalk:
            return Reply(
                text, reply_lang, "answer", None, 100.0, (), None, analysis.smalltalk, lang_confident=confident
            )
        if analysis.person:
            return Reply(text, reply_lang, "escalate", None, 0.0, (), None, person=True, lang_confident=confident)
        lean = None
        if context and context in self.kb and is_follow_up(text, reply_lang):
            lean = (context, self.model.thresholds.margin)
        ranking = self.model.ranker.judge(text, reply_lang, lean)
        candidates = ranking.candidates
        decision = policy.decide(candidates, self.model.thresholds, ranking.confidence, reply_lang)
        hit = self.model.scam.check(text, reply_lang) if self.model.scam is not None else None
        scam_entry = self.kb.get(hit.entry) if hit is not None and hit.entry else None
        if hit is not None and scam_entry is not None and decision.action != "answer" and hit.rule != MODEL_LABEL:
            # A scam rule wins over an uncertain match: the scam warning is the answer (over a
            # confident answer, the warning is shown above it). When only the classifier thinks
            # it is a scam, the decision stands and the warning is shown above it.
            return Reply(
                text,
                reply_lang,
                "answer",
                scam_entry.id,
                decision.score,
                (),
                scam_entry.text(reply_lang).answer,
                urgent=scam_entry.urgent,
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


class TopicMemory:
    """The topic each chat was last answered with, for a few minutes, in memory only: a short
    follow-up ("y cuanto cuesta eso?") is matched with it as context (``Engine.respond``).
    Bounded to ``max_users`` (least recent forgotten); nothing is written to disk."""

    def __init__(self, keep_for: float = 600.0, max_users: int = 5000) -> None:
        self.keep_for = keep_for
        self.max_users = max_users
        self._by_user: OrderedDict[int, tuple[float, str]] = OrderedDict()

    def remember(self, user_id: int, topic: str, now: float) -> None:
        self._by_user.pop(user_id, None)
        self._by_user[user_id] = (now, topic)
        while len(self._by_user) > self.max_users:
            self._by_user.popitem(last=False)

    def recall(self, user_id: int, now: float) -> str | None:
        found = self._by_user.get(user_id)
        if found is None or now - found[0] > self.keep_for:
            return None
        return found[1]

    def forget(self, user_id: int) -> None:
        self._by_user.pop(user_id, None)

    def __len__(self) -> int:
        return len(self._by_user)
