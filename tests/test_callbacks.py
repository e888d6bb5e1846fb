"""bot.ui.callbacks: button payloads round-trip; anything tampered, oversized or stale is None."""

from __future__ import annotations

import pytest

from bot.ui.callbacks import ACTIONS, MAX_BYTES, VERSION, Callback, decode, encode

VALID = [
    ("a", "chnv-ended"),
    ("a", "i134a-form-2"),
    ("c", "closure"),
    ("c", "scams"),
    ("c", "alternatives"),
    ("c", "bot"),
    ("m", ""),
    ("l", "es"),
    ("l", "ht"),
    ("l", "en"),
    ("y", "work-permit"),
    ("n", "work-permit"),
    ("h", ""),
    ("h", "find-lawyer"),
    ("k", "yes"),
    ("p", "no"),
    ("r", "yes"),
    ("i", ""),
    ("w", "chnv-ended"),
    ("o", "chnv-ended"),
    ("u", "know-your-rights"),
    ("f", "yes"),
    ("x", ""),
    ("g", "work-permit"),
    ("v", "12.work-permit"),
    ("v", "12.-"),
    ("v", "12.+"),
    ("e", "a7"),
    ("e", "R123"),
    ("e", "s1"),
]


@pytest.mark.parametrize(("action", "arg"), VALID)
def test_round_trip(action: str, arg: str) -> None:
    data = encode(action, arg)
    assert data == f"{VERSION}|{action}|{arg}"
    assert len(data.encode()) <= MAX_BYTES
    assert decode(data) == Callback(action, arg)


def test_every_action_is_covered() -> None:
    assert {action for action, _ in VALID} == set(ACTIONS)


def test_longest_id_that_fits() -> None:
    arg = "a" * (MAX_BYTES - len(f"{VERSION}|a|"))
    assert decode(encode("a", arg)) == Callback("a", arg)
    with pytest.raises(ValueError):
        encode("a", arg + "b")


@pytest.mark.parametrize(
    ("action", "arg"),
    [
        ("z", "x"),
        ("a", ""),
        ("a", "Chnv-Ended"),
        ("a", "chnv ended"),
        ("a", "-chnv"),
        ("c", "other"),
        ("l", "fr"),
        ("m", "x"),
        ("k", "maybe"),
        ("a", "chnv-ended\n"),
        ("a", "a|b"),
        ("v", "work-permit"),  # the ticket number is required
        ("v", "12.Work"),
        ("v", "12."),
        ("e", "x1"),
        ("e", "a"),
        ("e", "a-1"),
    ],
)
def test_encode_refuses_invalid_payloads(action: str, arg: str) -> None:
    with pytest.raises(ValueError):
        encode(action, arg)


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "garbage",
        "1|a",  # missing part
        "1|a|chnv-ended|extra",  # one part too many
        "0|a|chnv-ended",  # old version
        "2|a|chnv-ended",  # future version
        "|a|chnv-ended",
        "1|z|chnv-ended",  # unknown action
        "1||chnv-ended",
        "1|a|",  # entry id required
        "1|a|CHNV-ENDED",
        "1|a|chnv_ended",
        "1|a|../../etc/passwd",
        "1|a|chnv-ended\n",  # trailing newline used to slip through `$`
        "1|l|es\n",
        "1|l|fr",
        "1|c|secret",
        "1|m|x",
        "1|k|yes please",
        "1|a|" + "a" * 61,  # 65 bytes: over Telegram's limit
        "1|a|" + "é" * 31,  # 66 bytes in UTF-8
        "1|h|<script>",
        "1|a|chnv-ended\x00",
        "1|a|\ud800",  # lone surrogate
        " 1|a|chnv-ended",
        "1|a|chnv-ended ",
    ],
)
def test_tampered_oversized_or_old_data_decodes_to_none(data: str | None) -> None:
    assert decode(data) is None


def test_exactly_max_bytes_is_accepted() -> None:
    data = "1|a|" + "a" * (MAX_BYTES - 4)
    assert len(data.encode()) == MAX_BYTES
    assert decode(data) == Callback("a", "a" * (MAX_BYTES - 4))
