"""Property tests (hypothesis) of what stands between arbitrary input and the bot: button
payloads, message splitting, the policy on any candidate list, identifier masking and the flood
guard. None of them may raise, and each keeps its contract on any input."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core import policy
from bot.core.knowledge import OUT_OF_SCOPE
from bot.core.matching import Candidate
from bot.core.redact import redact
from bot.telegram.flood import FloodGuard
from bot.ui import callbacks
from bot.ui.render import MESSAGE_LIMIT, split_message

PROPERTY = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

#: Payload-like strings: real actions and ids mixed with arbitrary Unicode and separators.
payloads = st.one_of(
    st.text(max_size=80),
    st.lists(
        st.one_of(
            st.sampled_from(["1", "0", "2", "|", *callbacks.ACTIONS, "chnv-ended", "es", "yes", "../", "-"]),
            st.text(max_size=5),
        ),
        max_size=8,
    ).map("".join),
)


@PROPERTY
@given(payloads)
def test_any_callback_data_decodes_to_none_or_a_valid_payload(data: str) -> None:
    decoded = callbacks.decode(data)
    if decoded is not None:
        assert decoded.action in callbacks.ACTIONS
        assert callbacks.encode(decoded.action, decoded.arg) == data  # only canonical payloads pass
        assert len(data.encode()) <= callbacks.MAX_BYTES


@PROPERTY
@given(st.text(max_size=12000))
def test_any_text_splits_into_messages_telegram_accepts(text: str) -> None:
    chunks = split_message(text)
    assert all(len(chunk) <= MESSAGE_LIMIT for chunk in chunks)
    assert (
        "".join(chunks).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")
        or not text.strip()
    )


candidates = st.lists(
    st.builds(
        Candidate,
        st.sampled_from(["chnv-ended", "work-permit", "find-lawyer", "scam-payment", OUT_OF_SCOPE]),
        st.floats(min_value=0, max_value=100, allow_nan=False),
    ),
    max_size=6,
).map(lambda cs: sorted(cs, key=lambda c: -c.score))


@PROPERTY
@given(candidates)
def test_policy_always_returns_a_valid_decision(ranked: list[Candidate]) -> None:
    thresholds = policy.Thresholds(answer=40.0, margin=5.0, suggest=20.0)
    decision = policy.decide(ranked, thresholds)
    assert decision.action in ("answer", "suggest", "escalate")
    assert OUT_OF_SCOPE not in decision.suggestions and decision.topic != OUT_OF_SCOPE
    assert len(decision.suggestions) <= policy.MAX_SUGGESTIONS
    if decision.action == "answer":
        assert decision.topic is not None and decision.score >= thresholds.answer
    else:
        assert decision.topic is None
    if decision.action != "suggest":
        assert decision.suggestions == ()


@PROPERTY
@given(st.text(max_size=400))
def test_masking_never_raises_and_is_stable(text: str) -> None:
    once = redact(text).text
    assert redact(once).text == once


@PROPERTY
@given(
    st.integers(min_value=1, max_value=5),
    st.lists(st.tuples(st.integers(0, 3), st.floats(0, 30, allow_nan=False)), max_size=120),
)
def test_flood_guard_never_lets_more_than_the_limit_through_in_a_window(
    limit: int, events: list[tuple[int, float]]
) -> None:
    now = [0.0]
    guard = FloodGuard(limit, window=60, clock=lambda: now[0])
    passed: dict[int, list[float]] = {}
    notices: dict[int, int] = {}
    for user, step in events:
        now[0] += step
        verdict = guard.check(user)
        if verdict == "pass":
            times = passed.setdefault(user, [])
            times.append(now[0])
            assert len([t for t in times if t > now[0] - 60]) <= limit
            notices[user] = 0
        elif verdict == "notice":
            notices[user] = notices.get(user, 0) + 1
            assert notices[user] == 1  # one notice per pause
        else:
            assert notices.get(user) == 1  # dropped only after the notice
