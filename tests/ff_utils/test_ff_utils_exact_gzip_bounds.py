"""``ff_gunzip_bounded``, exactly: only gzip is accepted (a raw zlib stream is not), and a bomb is
refused having allocated about the bound, not what it would inflate to.

Written for mutation testing (docs/MUTATION.md, ``ff_utils``): the wbits and ``max_length`` mutants.
"""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import pytest

from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_gzip import FFInflatedTooLargeError, ff_gunzip_bounded


def test_a_zlib_stream_is_not_gzip() -> None:
    with pytest.raises(FFValidationError) as refused:
        ff_gunzip_bounded(zlib.compress(b"hello"), 100)
    assert refused.value.message.startswith("the payload is not valid gzip: ")
    assert ff_gunzip_bounded(gzip.compress(b"hello"), 100) == b"hello"


def test_a_bomb_is_refused_allocating_about_the_bound() -> None:
    bomb = gzip.compress(b"\0" * 40_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(FFInflatedTooLargeError):
            ff_gunzip_bounded(bomb, 1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, f"{peak} bytes allocated to refuse a 40 MB bomb at a 1 MiB bound"
