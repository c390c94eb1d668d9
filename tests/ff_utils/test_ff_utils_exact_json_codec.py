"""Exact behaviour of the JSON codec (mutation review, issue #20): what ff_dumps accepts beside
plain JSON (pydantic models in JSON mode, paths, sets sorted, enums), the exact refusal of
what it cannot hold (the hint for bytes reaches the caller), and ff_loads' corruption error."""

from __future__ import annotations

import datetime as dt
import enum
from pathlib import Path

import orjson
import pydantic
import pytest

from ff_utils.ff_errors import FFCorruptionError, FFValidationError
from ff_utils.ff_json_utils import ff_dumps, ff_loads


class _Colour(enum.Enum):
    RED = "red"


class _Stamp(pydantic.BaseModel):
    at: dt.datetime
    where: Path


def test_dumps_writes_a_model_in_json_mode_a_path_a_sorted_set_and_an_enum_value() -> None:
    record = {
        "model": _Stamp(at=dt.datetime(2026, 12, 5, 18, 0, tzinfo=dt.UTC), where=Path("/a/b")),
        "path": Path("/x/y"),
        "set": {3, 1, 2},
        "frozen": frozenset({"b", "a"}),
        "colour": _Colour.RED,
    }
    assert orjson.loads(ff_dumps(record)) == {
        "model": {"at": "2026-12-05T18:00:00Z", "where": "/a/b"},
        "path": "/x/y",
        "set": [1, 2, 3],
        "frozen": ["a", "b"],
        "colour": "red",
    }


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"raw", "bytes are not JSON; encode them (base64) first"),
        (object(), "object is not JSON serialisable"),
        (1j, "complex is not JSON serialisable"),
        (2**70, "Integer exceeds 64-bit range"),
    ],
)
def test_dumps_refuses_what_json_cannot_hold_exactly(value: object, reason: str) -> None:
    with pytest.raises(FFValidationError) as caught:
        ff_dumps({"v": value})
    assert (caught.value.message, caught.value.field) == (f"value cannot be stored as JSON: {reason}", "record")


def test_loads_names_the_action_and_the_file_of_bytes_that_do_not_parse(tmp_path: Path) -> None:
    with pytest.raises(FFCorruptionError) as caught:
        ff_loads(b"{", path=tmp_path / "doc.json")
    assert caught.value.message.startswith("cannot parse JSON: invalid JSON: ")
    assert caught.value.path == tmp_path / "doc.json"
