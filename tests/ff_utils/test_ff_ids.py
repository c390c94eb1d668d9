"""ff_ids: the id rule that keeps user-chosen names safe as path components."""

from __future__ import annotations

import pytest

from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_ids import ff_is_valid_id, ff_new_id, ff_validate_id


@pytest.mark.parametrize("value", ["a", "A1", "user_42", "s-1.2", "0", "x" * 128, "a.b-c_d"])
def test_valid_ids_returned_unchanged(value: str) -> None:
    assert ff_validate_id(value) == value
    assert ff_is_valid_id(value)


@pytest.mark.parametrize(
    "value",
    ["", ".", "..", ".hidden", "-x", "_x", "a..b", "a/b", "a\\b", "a b", "x" * 129, "ä", "a\n", "a\x00", None, 3, b"a"],
)
def test_invalid_ids_refused(value: object) -> None:
    assert not ff_is_valid_id(value)
    with pytest.raises(FFValidationError) as info:
        ff_validate_id(value, "user_id")
    assert info.value.field == "user_id" and info.value.value == value
    assert "user_id" in str(info.value)


def test_long_value_is_shortened_in_message() -> None:
    with pytest.raises(FFValidationError) as info:
        ff_validate_id("/" * 10_000)
    assert len(str(info.value)) < 300


def test_new_ids_are_valid_and_distinct() -> None:
    ids = {ff_new_id("s_") for _ in range(1_000)}
    assert len(ids) == 1_000
    assert all(i.startswith("s_") and ff_is_valid_id(i) for i in ids)
