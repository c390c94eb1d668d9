"""Tests of ff_managers._memory.validation: every bad input is one FFValidationError naming its field.

The rules memory shares with every manager (text, JSON objects, numbers, limits, timestamps) are
ff_managers._core.checks, tested in tests/ff_managers/core; how the memory manager applies them
is tested through its public methods in test_ff_memory_layer_manager.py.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime

import pytest

from ff_managers._memory.validation import check_layers, check_tags, message_from_import, prepare_attachments
from ff_utils.ff_errors import FFValidationError

IDS = (f"id{i}" for i in itertools.count())


def new_id() -> str:
    return next(IDS)


def test_layers_and_tags() -> None:
    assert check_layers(None)[0] == "immediate"
    assert check_layers("permanent") == ("permanent",)
    assert check_layers(["long_term", "long_term", "immediate"]) == ("long_term", "immediate")
    for bad in ([], ["forever"]):
        with pytest.raises(FFValidationError):
            check_layers(bad)
    assert check_tags(["a", "b", "a"]) == ["a", "b"]
    for bad in ("a", [""], ["x" * 65], [1], ["t"] * 33, ["two\nlines"], ["nul\x00"]):
        with pytest.raises(FFValidationError):
            check_tags(bad)


def test_attachments_get_ids_digests_and_keep_extra_keys() -> None:
    [with_data, metadata_only] = prepare_attachments(
        [{"name": "a.pdf", "mime_type": "application/pdf", "data": b"%PDF", "pages": 3}, {"name": "b.wav"}],
        max_count=4,
        max_bytes=10,
        metadata_bytes=1000,
        new_id=new_id,
    )
    assert with_data.record.sha256 == hashlib.sha256(b"%PDF").hexdigest() and with_data.record.size_bytes == 4
    assert with_data.data == b"%PDF" and with_data.record.model_extra == {"pages": 3}
    assert metadata_only.data is None and not metadata_only.record.stored
    for bad in (
        [{"data": "not bytes"}],
        [{"data": b"x" * 11}],
        [{"attachment_id": "../x"}],
        [{"attachment_id": "same"}, {"attachment_id": "same"}],
        [{}] * 5,
        {"name": "a dict, not a list"},
        [{"data": b"abc", "size_bytes": 2}],
        [{"name": "a", "metadata": {"score": float("nan")}}],
        [{"name": "a", "pages": float("inf")}],
    ):
        with pytest.raises(FFValidationError):
            prepare_attachments(bad, max_count=4, max_bytes=10, metadata_bytes=1000, new_id=new_id)


def test_import_maps_known_keys_and_keeps_unknown_ones_in_extra() -> None:
    message = message_from_import(
        {"role": "user", "content": "hi", "message_id": "m1", "timestamp": "2025-08-05T21:57:18.838931",
         "attachments": [{"type": "image"}], "metadata": {"persona": "x"}, "reaction": "+1"},
        index=0, session_id="s1", allowed_roles=("user", "assistant"), max_chars=100, metadata_bytes=1000,
        new_id=new_id, now=lambda: datetime(2025, 1, 1, tzinfo=UTC),
    )
    dumped = message.model_dump(mode="json")
    assert dumped["timestamp"] == "2025-08-05T21:57:18.838931"
    assert dumped["extra"] == {"reaction": "+1"} and dumped["metadata"] == {"persona": "x"}
    assert dumped["attachments"][0]["type"] == "image"
    with pytest.raises(FFValidationError) as info:
        message_from_import({"role": "robot", "content": "x"}, index=7, session_id="s1", allowed_roles=("user",),
                            max_chars=100, metadata_bytes=1000, new_id=new_id, now=lambda: datetime.now(UTC))
    assert info.value.field == "messages[7].role"  # the docstring: ``field`` names the index
    for bad_field in ({"content": "NUL \x00"}, {"metadata": {"x": float("nan")}}, {"timestamp": "yesterday"}):
        with pytest.raises(FFValidationError):
            message_from_import({"role": "user", "content": "x", **bad_field}, index=0, session_id="s1",
                                allowed_roles=("user",), max_chars=100, metadata_bytes=1000, new_id=new_id,
                                now=lambda: datetime.now(UTC))
