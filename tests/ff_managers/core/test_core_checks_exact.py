"""Every refusal of the shared checks, exactly: its message, the field it names and the value it
carries, and every bound at its edge (issue 20: these pin what mutation testing found loose).

A caller that shows an error to a user, or a service that maps it to a 422 body, relies on
``field`` and ``value``; a bound that moves by one lets a record through or refuses a good one.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from ff_managers._core import checks
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_json_utils import ff_dumps


def _refusal(call, *args, **kwargs) -> FFValidationError:
    with pytest.raises(FFValidationError) as caught:
        call(*args, **kwargs)
    return caught.value


# --------------------------------------------------------------------------- _shown


@pytest.mark.parametrize("length", [1, 58, 59, 60])
def test_a_value_of_up_to_60_characters_of_repr_is_shown_whole(length):
    value = "v" * (length - 2)  # repr adds the two quotes
    assert checks._shown(value) == repr(value)


@pytest.mark.parametrize("length", [61, 62, 200])
def test_a_longer_repr_is_cut_to_57_characters_and_an_ellipsis(length):
    value = "w" * (length - 2)
    shown = checks._shown(value)
    assert shown == repr(value)[:57] + "..." and len(shown) == 60


# --------------------------------------------------------------------------- text


def test_text_at_the_limit_is_accepted_and_one_more_character_is_refused_with_the_counts():
    assert checks.check_content("é" * 10, field="content", max_chars=10) == "é" * 10
    error = _refusal(checks.check_content, "é" * 11, field="content", max_chars=10)
    assert (str(error), error.field, error.value) == ("content has 11 characters; the limit is 10", "content", None)
    big = _refusal(checks.check_text, "x" * 1_234_567, field="title", max_chars=1_000_000)
    assert str(big) == "title has 1,234,567 characters; the limit is 1,000,000"


def test_a_control_character_refusal_carries_the_first_60_characters_of_the_value():
    value = "a" * 70 + "\x00"
    error = _refusal(checks.check_content, value, field="content", max_chars=100)
    assert (str(error), error.field, error.value) == ("content holds the control character U+0000 at position 70", "content", "a" * 60)
    short = _refusal(checks.check_text, "ab\x01", field="name", max_chars=10)
    assert short.value == "ab\x01"


def test_text_type_and_blank_refusals_name_the_field_and_carry_no_value():
    for value, message in ((5, "name must be text, not int"), ("   ", "name is empty")):
        error = _refusal(checks.check_text, value, field="name", max_chars=10)
        assert (str(error), error.field, error.value) == (message, "name", None)


# --------------------------------------------------------------------------- JSON objects


def _object_of_bytes(size: int) -> dict[str, str]:
    pad = size - len(ff_dumps({"p": ""}))
    value = {"p": "x" * pad}
    assert len(ff_dumps(value)) == size
    return value


def test_a_json_object_of_exactly_max_bytes_is_accepted_and_one_byte_more_is_refused():
    assert checks.check_json_object(_object_of_bytes(300), field="metadata", max_bytes=300) == _object_of_bytes(300)
    error = _refusal(checks.check_json_object, _object_of_bytes(301), field="metadata", max_bytes=300)
    assert (str(error), error.field) == ("metadata is 301 bytes as JSON; the limit is 300", "metadata")


def _nested(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels):
        value = {"k": value}
    return value


def _nested_list(levels: int) -> list:
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


def test_json_nesting_is_allowed_to_exactly_max_depth_levels_in_dicts_and_lists():
    depth = checks.MAX_JSON_DEPTH
    assert checks.check_json_object(_nested(depth), field="m", max_bytes=10_000) == _nested(depth)
    assert checks.check_json_object({"l": _nested_list(depth - 1)}, field="m", max_bytes=10_000) == {"l": _nested_list(depth - 1)}
    for too_deep in (_nested(depth + 1), {"l": _nested_list(depth)}):
        error = _refusal(checks.check_json_object, too_deep, field="m", max_bytes=10_000)
        assert (str(error), error.field) == (f"m is nested deeper than {depth} levels", "m")


@pytest.mark.parametrize(
    "value, message, carried",
    [
        ({"a": {"b": 2**64}}, "meta.a.b holds the integer 18446744073709551616, beyond 64 bits", 2**64),
        ({"a": [1, math.nan]}, "meta.a[1] is nan; JSON cannot hold NaN or infinity", "nan"),
        ({"a": {3: "x"}}, "meta.a has a key of type int; keys must be text", 3),
        ({"a": {1.5}}, "meta.a holds a set; only plain JSON (dict, list, str, number, bool, None) is stored", None),
    ],
)
def test_json_refusals_name_where_the_value_is_and_carry_it(value, message, carried):
    error = _refusal(checks.check_json_object, value, field="meta", max_bytes=10_000)
    assert (str(error), error.field) == (message, "meta")
    assert (str(error.value) if isinstance(error.value, float) else error.value) == carried


def test_json_object_type_refusal():
    error = _refusal(checks.check_json_object, [1], field="meta", max_bytes=10)
    assert (str(error), error.field, error.value) == ("meta must be a mapping, not list", "meta", None)


# --------------------------------------------------------------------------- limits and numbers


def test_limit_refusals_carry_field_value_and_bounds():
    error = _refusal(checks.check_limit, 0, maximum=5)
    assert (str(error), error.field, error.value) == ("limit must be an integer in [1, 5], not 0", "limit", 0)
    long = "n" * 100
    error = _refusal(checks.check_limit, long, field="top_k", maximum=5, minimum=2)
    assert (str(error), error.field, error.value) == (f"top_k must be an integer in [2, 5], not {repr(long)[:57]}...", "top_k", long)
    assert checks.check_limit(5, maximum=5) == 5 and checks.check_limit(2, field="top_k", maximum=5, minimum=2) == 2


@pytest.mark.parametrize(
    "value, kwargs, message",
    [
        ("7", {}, "n must be a number, not str"),
        (True, {}, "n must be a number, not bool"),
        (math.inf, {}, "n must be finite, not inf"),
        (2**53 + 1, {}, "n 9007199254740993 is beyond 2**53"),
        (-0.5, {"minimum": 0}, "n -0.5 is outside [0, inf]"),
        (11, {"maximum": 10}, "n 11 is outside [-inf, 10]"),
        (2.5, {"minimum": 3, "maximum": 4.5}, "n 2.5 is outside [3, 4.5]"),
    ],
)
def test_number_refusals_are_exact(value, kwargs, message):
    error = _refusal(checks.check_number, value, field="n", **kwargs)
    assert (str(error), error.field, error.value) == (message, "n", value)


def test_number_bounds_are_inclusive_and_2_to_the_53_is_exact():
    assert checks.check_number(2**53, field="n") == 2**53 and checks.check_number(-(2**53), field="n") == -(2**53)
    assert checks.check_number(0, field="n", minimum=0, maximum=0) == 0
    assert checks.check_number(0.25, field="n", minimum=0.25, maximum=0.5) == 0.25


# --------------------------------------------------------------------------- timestamps


def test_timestamp_refusals_are_exact():
    error = _refusal(checks.check_timestamp, "2026-13-45", field="at", parse_text=True)
    assert (str(error), error.field, error.value) == ("at is not a timestamp: '2026-13-45'", "at", "2026-13-45")
    error = _refusal(checks.check_timestamp, "2026-01-01", field="at")
    assert (str(error), error.field, error.value) == ("at must be a datetime, not '2026-01-01'", "at", "2026-01-01")
    error = _refusal(checks.check_timestamp, [1], field="at", parse_text=True)
    assert str(error) == "at must be a datetime, an ISO 8601 string or epoch seconds, not [1]"
    naive = datetime(2026, 1, 2, 3, 4)
    error = _refusal(checks.check_timestamp, naive, field="at", naive="refuse")
    assert (str(error), error.field, error.value) == ("at has no time zone: 2026-01-02T03:04:00", "at", naive)


def test_naive_timestamps_are_kept_by_default_and_the_bound_check_keeps_its_policy():
    naive = datetime(2026, 1, 2, 3, 4)
    assert checks.check_timestamp(naive, field="at").tzinfo is None
    keep = checks.timestamp()
    assert keep(naive, "at").tzinfo is None
    with pytest.raises(FFValidationError, match="must be a datetime, not"):
        keep("2026-01-02T03:04:00Z", "at")  # parse_text is off by default
    parse = checks.timestamp(parse_text=True)
    assert parse("2026-01-02T03:04:00Z", "at") == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    assert checks.timestamp(naive="utc")(naive, "at") == naive.replace(tzinfo=UTC)
