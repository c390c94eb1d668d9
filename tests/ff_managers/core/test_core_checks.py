"""The shared input checks: one rule per kind of field, each refusal naming its field."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ff_managers._core import checks
from ff_utils.ff_errors import FFValidationError

# --------------------------------------------------------------------------- text


@pytest.mark.parametrize("value", ["hello", "line one\nline two", "a\tb", "crlf\r\n", "é 中文 🙂", "\x85 C1 is text"])
def test_text_accepts_chat_content(value):
    assert checks.check_text(value, field="content", max_chars=100) == value


@pytest.mark.parametrize("char", [chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]])
def test_text_refuses_every_c0_control_but_tab_lf_cr_and_del(char):
    with pytest.raises(FFValidationError, match=f"U\\+{ord(char):04X} at position 2") as caught:
        checks.check_text("ab" + char + "cd", field="content", max_chars=100)
    assert caught.value.field == "content"


@pytest.mark.parametrize("char", ["\t", "\n", "\r", "\x00", "\x7f"])
def test_single_line_text_refuses_tab_lf_cr_too(char):
    with pytest.raises(FFValidationError) as caught:
        checks.check_text(f"x{char}y", field="actor", max_chars=10, single_line=True)
    assert caught.value.field == "actor"


@pytest.mark.parametrize(
    "value, message",
    [(3, "content must be text, not int"), (None, "must be text"), ("", "content is empty"), ("  \n", "is empty"),
     ("x" * 11, "has 11 characters; the limit is 10")],
)
def test_text_refusals(value, message):
    with pytest.raises(FFValidationError, match=message) as caught:
        checks.check_text(value, field="content", max_chars=10)
    assert caught.value.field == "content"
    assert "\n" not in str(caught.value)


def test_text_allow_empty_accepts_blank_but_keeps_the_other_rules():
    assert checks.check_text("", field="content", max_chars=5, allow_empty=True) == ""
    with pytest.raises(FFValidationError):
        checks.check_text("\x00", field="content", max_chars=5, allow_empty=True)


@pytest.mark.parametrize("char", ["\x1b", "\x07", "\x08", "\x7f", "\t", "\n", "\r"])
def test_content_keeps_every_control_but_nul(char):
    """What people and tools say may carry ESC sequences, BEL, BS (a tool's coloured output)."""
    assert checks.check_content(f"a{char}b", field="content", max_chars=10) == f"a{char}b"


def test_content_refuses_nul_and_the_other_text_refusals():
    with pytest.raises(FFValidationError, match="U\\+0000 at position 1") as caught:
        checks.check_content("a\x00b", field="content", max_chars=10)
    assert caught.value.field == "content"
    for bad, message in ((3, "must be text"), ("  ", "is empty"), ("x" * 11, "limit is 10")):
        with pytest.raises(FFValidationError, match=message):
            checks.check_content(bad, field="content", max_chars=10)
    assert checks.check_content("", field="content", max_chars=5, allow_empty=True) == ""


@given(st.text(max_size=50))
def test_content_rule_is_exactly_no_nul(value):
    try:
        checks.check_content(value, field="f", max_chars=50, allow_empty=True)
    except FFValidationError:
        assert "\x00" in value
    else:
        assert "\x00" not in value


@given(st.text(max_size=50))
def test_text_rule_is_exactly_c0_and_del_minus_tab_lf_cr(value):
    bad = [c for c in value if (ord(c) < 0x20 and c not in "\t\n\r") or c == "\x7f"]
    try:
        checks.check_text(value, field="f", max_chars=50, allow_empty=True)
    except FFValidationError:
        assert bad
    else:
        assert not bad


# --------------------------------------------------------------------------- JSON objects


def test_json_object_returns_a_fresh_plain_copy():
    original = {"a": [1, 2.5, "x", None, True], "b": {"c": (1, 2)}}
    copy = checks.check_json_object(original, field="metadata", max_bytes=1000)
    assert copy == {"a": [1, 2.5, "x", None, True], "b": {"c": [1, 2]}}
    original["a"].append(9)
    assert copy["a"] == [1, 2.5, "x", None, True]


def test_json_object_none_is_empty():
    assert checks.check_json_object(None, field="metadata", max_bytes=10) == {}


@pytest.mark.parametrize(
    "value, message",
    [
        ([1], "must be a mapping, not list"),
        ({1: "x"}, "has a key of type int"),
        ({"a": {2: "x"}}, r"metadata\.a has a key of type int"),
        ({"a": datetime(2024, 1, 1)}, r"metadata\.a holds a datetime; only plain JSON"),
        ({"a": [Path("/x")]}, r"metadata\.a\[0\] holds a PosixPath|metadata\.a\[0\] holds a"),
        ({"a": {1, 2}}, "holds a set"),
        ({"a": b"x"}, "holds a bytes"),
        ({"a": 2**64}, "beyond 64 bits"),
        ({"a": "x" * 50}, "bytes as JSON; the limit is 20"),
    ],
)
def test_json_object_refusals(value, message):
    with pytest.raises(FFValidationError, match=message) as caught:
        checks.check_json_object(value, field="metadata", max_bytes=20)
    assert caught.value.field == "metadata"


def test_json_object_refuses_deep_nesting():
    deep: dict = {}
    node = deep
    for _ in range(checks.MAX_JSON_DEPTH + 1):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(FFValidationError, match="nested deeper"):
        checks.check_json_object(deep, field="payload", max_bytes=10**6)


_leaves = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=5)
_json = st.recursive(_leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=12)
_non_finite = st.sampled_from([math.nan, math.inf, -math.inf])


def _plant(tree, bad, path):
    """``tree`` with ``bad`` placed where ``path`` (a list of choices) leads."""
    if isinstance(tree, dict) and tree and path:
        key = sorted(tree)[path[0] % len(tree)]
        return {**tree, key: _plant(tree[key], bad, path[1:])}
    if isinstance(tree, list) and tree and path:
        index = path[0] % len(tree)
        return [*tree[:index], _plant(tree[index], bad, path[1:]), *tree[index + 1:]]
    if isinstance(tree, dict):
        return {**tree, "planted": bad}
    if isinstance(tree, list):
        return [*tree, bad]
    return [tree, bad]


@given(st.dictionaries(st.text(max_size=3), _json, max_size=3), _non_finite, st.lists(st.integers(0, 10), max_size=6))
def test_nan_and_infinity_are_refused_at_any_depth(tree, bad, path):
    with pytest.raises(FFValidationError, match="NaN or infinity") as caught:
        checks.check_json_object(_plant(tree, bad, path), field="metadata", max_bytes=10**6)
    assert caught.value.field == "metadata"


@given(st.dictionaries(st.text(max_size=3), _json, max_size=3))
def test_plain_json_round_trips_unchanged(tree):
    assert checks.check_json_object(tree, field="metadata", max_bytes=10**6) == tree


# --------------------------------------------------------------------------- limits and numbers


@pytest.mark.parametrize("value", [0, -1, 101, True, False, 1.0, "5", None])
def test_limit_refusals(value):
    with pytest.raises(FFValidationError, match=r"top_k must be an integer in \[1, 100\]") as caught:
        checks.check_limit(value, field="top_k", maximum=100)
    assert caught.value.field == "top_k"


def test_limit_accepts_the_bounds_and_a_lower_minimum():
    assert checks.check_limit(1, maximum=5) == 1 and checks.check_limit(5, maximum=5) == 5
    assert checks.check_limit(0, field="offset", minimum=0, maximum=5) == 0


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, True, "1", None, 2**53 + 1])
def test_number_refusals(value):
    with pytest.raises(FFValidationError) as caught:
        checks.check_number(value, field="value")
    assert caught.value.field == "value"


def test_number_bounds_and_types_are_kept():
    assert checks.check_number(1, field="importance", minimum=0, maximum=1) == 1
    assert type(checks.check_number(1, field="v")) is int
    with pytest.raises(FFValidationError, match=r"importance 1.01 is outside \[0, 1\]"):
        checks.check_number(1.01, field="importance", minimum=0, maximum=1)
    with pytest.raises(FFValidationError, match=r"outside \[0, inf\]"):
        checks.check_number(-1, field="by", minimum=0)


# --------------------------------------------------------------------------- timestamps


def test_timestamp_policies():
    naive = datetime(2024, 5, 1, 12, 0)
    aware = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert checks.check_timestamp(naive, field="t") is naive
    assert checks.check_timestamp(naive, field="t", naive="utc") == naive.replace(tzinfo=UTC)
    assert checks.check_timestamp(aware, field="t", naive="utc") is aware
    with pytest.raises(FFValidationError, match="has no time zone") as caught:
        checks.check_timestamp(naive, field="since", naive="refuse")
    assert caught.value.field == "since"


def test_timestamp_text_only_when_asked():
    assert checks.check_timestamp("2024-05-01T12:00:00Z", field="t", parse_text=True) == datetime(2024, 5, 1, 12, tzinfo=UTC)
    with pytest.raises(FFValidationError, match="must be a datetime, not '2024"):
        checks.check_timestamp("2024-05-01T12:00:00Z", field="t")
    assert checks.check_timestamp(1_700_000_000, field="t", parse_text=True) == datetime.fromtimestamp(1_700_000_000, UTC)
    for bad in ("yesterday", True, float("nan"), None):
        with pytest.raises(FFValidationError):
            checks.check_timestamp(bad, field="t", parse_text=True)


# --------------------------------------------------------------------------- bound checks


def test_a_bound_timestamp_check_passes_the_field_and_policy_through():
    assert checks.timestamp(naive="utc")(datetime(2024, 1, 1), "t").tzinfo is UTC
    with pytest.raises(FFValidationError) as caught:
        checks.timestamp(parse_text=True)("yesterday", "created_at")
    assert caught.value.field == "created_at"
