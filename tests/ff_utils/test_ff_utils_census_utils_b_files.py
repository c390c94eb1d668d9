"""Census of ``ff_file_ops`` (issue 20, helper utils-b): survivors of a full pass over every
mutant of the module, killed by exact assertions. Equivalent and harmless ones are listed in
docs/mutation/equivalent/ff_utils/utils-b.toml.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ff_utils.ff_errors import FFStorageError, FFValidationError
from ff_utils.ff_file_ops import ff_atomic_write, ff_ensure_directory, ff_safe_path


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


def test_a_folder_that_cannot_be_created_is_cannot_create_directory(tmp_path: Path) -> None:
    # ff_ensure_directory 17: the action in the error, the folder asked for as its path.
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(FFStorageError) as caught:
        ff_ensure_directory(tmp_path / "f" / "sub")
    assert caught.value.message == "cannot create directory: Not a directory [ENOTDIR]"
    assert caught.value.path == tmp_path / "f" / "sub"


# ------------------------------------------------------------------ ff_safe_path


def _refusal(root: Path, *parts: object) -> FFValidationError:
    with pytest.raises(FFValidationError) as caught:
        ff_safe_path(root, *parts)  # type: ignore[arg-type]
    assert caught.value.field == "path"
    return caught.value


def test_long_parts_are_quoted_to_their_first_60_characters(tmp_path: Path) -> None:
    # _check_segment 18, 39: the quoted part is cut at 60 characters.
    part = "d/" + "x" * 70 + "\udc80"
    refused = _refusal(tmp_path, part)
    assert refused.message == f"unsafe path: not valid Unicode in {part[:60]!r}"
    assert refused.value == part
    part = "d/" + "y" * 70 + "\x07"
    refused = _refusal(tmp_path, part)
    assert refused.message == f"unsafe path: control character in {part[:60]!r}"
    assert refused.value == part


def test_a_segment_of_exactly_255_bytes_is_a_valid_name(tmp_path: Path) -> None:
    # _check_segment 19: the limit is over 255 bytes, not 255 itself.
    segment = "é" * 127 + "a"  # 255 bytes in UTF-8, not a plain ASCII segment
    assert ff_safe_path(tmp_path, "d", segment) == tmp_path.resolve() / "d" / segment


def test_a_part_that_is_not_a_string_is_refused_naming_its_type(tmp_path: Path) -> None:
    # ff_safe_path 5, 6: the reason names the type; the value is the part itself.
    refused = _refusal(tmp_path, "ok", 42)
    assert refused.message == "unsafe path: path part must be a string, not int"
    assert refused.value == 42


@pytest.mark.parametrize(
    ("part", "reason"),
    [
        ("", "empty path part"),
        ("a\x00b", "NUL byte in path part"),
        ("a\\b", "backslash in path part"),
        ("/etc/" + "p" * 70, "absolute path part " + repr(("/etc/" + "p" * 70)[:60])),
        ("C:data", "absolute path part 'C:data'"),
    ],
)
def test_each_refused_part_says_why_and_carries_the_part(tmp_path: Path, part: str, reason: str) -> None:
    # ff_safe_path 11-17 and the refusals after it: exact reason, the part as the value.
    refused = _refusal(tmp_path, "ok", part)
    assert refused.message == f"unsafe path: {reason}"
    assert refused.value == part
    assert type(refused.value) is str


def test_a_symlink_and_a_file_on_the_way_are_refused_naming_the_segment(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    refused = _refusal(tmp_path, "link/doc.json")
    assert refused.message == "unsafe path: symlink 'link' below the data root"
    assert refused.value == "link"
    (tmp_path / "file").write_bytes(b"")
    refused = _refusal(tmp_path, "file/doc.json")
    assert refused.message == "unsafe path: cannot inspect 'doc.json': Not a directory"
    assert refused.value == "doc.json"
    assert ff_safe_path(tmp_path, "ab:c") == tmp_path.resolve() / "ab:c"  # a colon further on is a name


def test_roots_ending_in_x_and_the_filesystem_root_hold_their_paths(tmp_path: Path) -> None:
    # ff_safe_path 93, 95: the inside check strips only the root's trailing "/".
    root = tmp_path / "dataX"
    root.mkdir()
    assert ff_safe_path(root, "a/b") == root.resolve() / "a" / "b"
    assert ff_safe_path("/", "tmp") == Path("/tmp")
