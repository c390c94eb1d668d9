"""Census of ``ff_file_ops`` (issue 20, helper utils-b): survivors of a full pass over every
mutant of the module, killed by exact assertions. Equivalent and harmless ones are listed in
docs/mutation/equivalent/ff_utils/utils-b.toml.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_file_ops import ff_atomic_write


def test_a_symlink_at_the_written_name_is_refused_naming_it(tmp_path: Path) -> None:
    # _refuse_existing_link 10, 12: the refusal names the link (its name, not the full path).
    target = tmp_path / "doc.json"
    (tmp_path / "elsewhere").write_bytes(b"old")
    target.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FFValidationError) as caught:
        ff_atomic_write(target, b"new", root=tmp_path)
    assert caught.value.message == "unsafe path: symlink 'doc.json' below the data root"
    assert caught.value.field == "path"
    assert caught.value.value == str(target)
    assert (tmp_path / "elsewhere").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.json", "elsewhere"]


def test_atomic_write_takes_bytes_bytearray_and_memoryview(tmp_path: Path) -> None:
    # ff_atomic_write 5: the type check refuses only what is not bytes-like.
    for i, data in enumerate((b"one", bytearray(b"two"), memoryview(b"three"))):
        ff_atomic_write(tmp_path / f"f{i}", data)
    assert [(tmp_path / f"f{i}").read_bytes() for i in range(3)] == [b"one", b"two", b"three"]


def test_a_237_byte_name_is_written_atomically(tmp_path: Path) -> None:
    # ff_atomic_write 37, 38: the temp name is ".<name>.<12 hex>.tmp", 18 bytes longer than the
    # name, so a 237-byte name is the longest whose temp name fits the 255-byte limit.
    target = tmp_path / ("n" * 237)
    ff_atomic_write(target, b"data", root=tmp_path)
    assert target.read_bytes() == b"data"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
