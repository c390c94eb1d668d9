"""_metrics/checks.py: what metric names, tags and values are accepted; and the shared
_core checks with the options metrics uses for payloads, audit text and limits."""

from __future__ import annotations

import math

import pytest

from ff_managers._core.checks import check_json_object, check_limit, check_text
from ff_managers._metrics.checks import validate_event_type, validate_kind, validate_metric_name, validate_tags, validate_value
from ff_utils.ff_errors import FFValidationError


@pytest.mark.parametrize("name", ["latency_ms", "events.tool.executed", "tool.duration_ms", "a", "A-b_c.d9", "x" * 200])
def test_good_metric_names(name: str) -> None:
    assert validate_metric_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", ".x", "x.", "a..b", "../etc", "a/b", "9lives", "_x", "with space", "tab\tname", "é", "x" * 201, None, 3, b"x"],
)
def test_bad_metric_names(name: object) -> None:
    with pytest.raises(FFValidationError) as info:
        validate_metric_name(name)
    assert info.value.field == "name"


def test_event_type_uses_the_same_rule() -> None:
    assert validate_event_type("memory.session_created") == "memory.session_created"
    with pytest.raises(FFValidationError):
        validate_event_type("memory..x")


def test_kinds() -> None:
    assert [validate_kind(k) for k in ("timing", "counter", "gauge")] == ["timing", "counter", "gauge"]
    with pytest.raises(FFValidationError):
        validate_kind("histogram")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "1", None, True, 2**60])
def test_bad_values(value: object) -> None:
    with pytest.raises(FFValidationError):
        validate_value(value, "gauge")


def test_negative_values_only_for_gauges() -> None:
    assert validate_value(-3.5, "gauge") == -3.5
    for kind in ("timing", "counter"):
        with pytest.raises(FFValidationError):
            validate_value(-1, kind)  # type: ignore[arg-type]
    assert validate_value(0, "timing") == 0


def test_tags_are_normalised_and_sorted() -> None:
    assert list(validate_tags({"z": "1", "a": 2, "m": True}, max_tags=4, max_value_chars=10).items()) == [
        ("a", "2"),
        ("m", "true"),
        ("z", "1"),
    ]
    assert validate_tags(None, max_tags=4, max_value_chars=10) == {}
    assert validate_tags({"a": ""}, max_tags=4, max_value_chars=10) == {"a": ""}  # present, without a value


@pytest.mark.parametrize(
    "tags",
    [
        ["a"],
        {"": "x"},
        {"9a": "x"},
        {"a b": "x"},
        {1: "x"},
        {"a": 1.5},
        {"a": None},
        {"a": "x" * 11},
        {"a": "line\nbreak"},
        {"a": "tab\there"},
        {"a": "nul\x00"},
        {f"k{i}": "v" for i in range(5)},
    ],
)
def test_bad_tags(tags: object) -> None:
    with pytest.raises(FFValidationError):
        validate_tags(tags, max_tags=4, max_value_chars=10)


def test_payload_is_copied_and_limited() -> None:
    original = {"a": [1, 2], "b": {"c": "d"}}
    copy = check_json_object(original, field="data", max_bytes=100)
    original["a"].append(3)
    assert copy == {"a": [1, 2], "b": {"c": "d"}}
    assert check_json_object(None, field="data", max_bytes=100) == {}
    for bad in ({"x": "y" * 200}, {"x": math.nan}, {"x": [1, math.inf]}, {1: "int key"}, ["not", "a", "dict"], {"x": object()}):
        with pytest.raises(FFValidationError):
            check_json_object(bad, field="data", max_bytes=100)


def test_audit_text_is_single_line_text() -> None:
    assert check_text("alice", field="actor", max_chars=10, single_line=True) == "alice"
    for bad in ("", "   ", "a\nb", "a\tb", "x" * 11, None):
        with pytest.raises(FFValidationError):
            check_text(bad, field="actor", max_chars=10, single_line=True)


@pytest.mark.parametrize("limit", [1, 10, 10_000])
def test_good_limits(limit: int) -> None:
    assert check_limit(limit, maximum=10_000) == limit


@pytest.mark.parametrize("limit", [0, -1, 10_001, True, 2.0, "5", None])
def test_bad_limits(limit: object) -> None:
    with pytest.raises(FFValidationError) as info:
        check_limit(limit, maximum=10_000)
    assert info.value.field == "limit" and "[1, 10000]" in info.value.message
