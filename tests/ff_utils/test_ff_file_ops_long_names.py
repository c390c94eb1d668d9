"""Every file name the path check accepts can be written atomically, up to the 255 bytes of a name.

Found by the ff_utils census (issue 20): the temp file beside the target is named
``.<name>.<12 hex>.tmp``, 18 bytes longer than the name, so a name of 238 to 255 bytes, which
``ff_safe_path`` accepts, failed with ENAMETOOLONG. The temp name now cuts the name to fit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_file_ops import ff_atomic_file, ff_atomic_write, ff_read_bytes, ff_safe_path

_NAMES = {
    "237_ascii": "a" * 237,
    "238_ascii": "b" * 238,
    "255_ascii": "c" * 255,
    "255_two_byte": "é" * 127 + "d",  # a cut in the middle of a character would not decode
    "254_three_byte": "€" * 84 + "ef",
}


@pytest.mark.parametrize("name", _NAMES.values(), ids=_NAMES.keys())
def test_a_name_up_to_255_bytes_is_written_atomically_and_leaves_no_temp_file(tmp_path: Path, name: str) -> None:
    target = ff_safe_path(tmp_path, name)
    ff_atomic_write(target, b"payload", root=tmp_path)
    ff_atomic_write(target, b"replaced", root=tmp_path)
    assert ff_read_bytes(target, root=tmp_path) == b"replaced"
    assert [p.name for p in tmp_path.iterdir()] == [name]


@pytest.mark.parametrize("name", _NAMES.values(), ids=_NAMES.keys())
def test_a_name_up_to_255_bytes_is_filled_through_a_temp_file(tmp_path: Path, name: str) -> None:
    destination = tmp_path / name
    with ff_atomic_file(destination, suffix=".part") as temp:
        assert len(temp.name.encode()) <= 255 and temp.name.startswith(".") and temp.name.endswith(".part")
        temp.write_bytes(b"chunked")
    assert destination.read_bytes() == b"chunked"
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_a_name_of_256_bytes_is_still_refused(tmp_path: Path) -> None:
    with pytest.raises(FFValidationError):
        ff_safe_path(tmp_path, "x" * 256)
