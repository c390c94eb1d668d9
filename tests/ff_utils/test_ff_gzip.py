"""Bounded gzip inflate: exact bound, bombs, truncation, garbage."""

from __future__ import annotations

import gzip

import pytest

from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_gzip import FFInflatedTooLargeError, ff_gunzip_bounded


def test_data_up_to_the_bound_inflates_and_one_byte_more_is_refused() -> None:
    data = b"x" * 1000
    assert ff_gunzip_bounded(gzip.compress(data), 1000) == data
    with pytest.raises(FFInflatedTooLargeError):
        ff_gunzip_bounded(gzip.compress(data), 999)


def test_a_bomb_is_refused_without_inflating_it_whole() -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)
    with pytest.raises(FFInflatedTooLargeError):
        ff_gunzip_bounded(bomb, 1024)


# mtime=0 and named ids: a gzip header holds the time it was made, so the default id (the bytes)
# changed from one collection to the next, and a run that names the test by id could not find it.
@pytest.mark.parametrize("data", [b"not gzip at all", gzip.compress(b"hello world" * 100, mtime=0)[:-12]], ids=["garbage", "truncated"])
def test_garbage_and_truncated_streams_are_validation_errors(data: bytes) -> None:
    with pytest.raises(FFValidationError) as refused:
        ff_gunzip_bounded(data, 1 << 20)
    assert not isinstance(refused.value, FFInflatedTooLargeError)
