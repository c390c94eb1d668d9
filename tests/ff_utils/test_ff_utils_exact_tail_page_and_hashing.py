"""``ff_tail_jsonl_page``'s and the manifest helpers' edges, exactly: the shape check of a line
(a leading or trailing byte around the object), a file that starts with a blank line, a symlinked
folder on the way below ``root``, and the wording of the errors (a folder read as a log or hashed
as a file; a manifest that is not one); ``ff_write_manifest`` to a path of its own.

Written for mutation testing (docs/MUTATION.md, ``ff_utils``): each test pins what a surviving
mutant of ``_jsonl_read.ff_tail_jsonl_page`` or ``ff_hashing`` changed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ff_utils.ff_errors import FFStorageError, FFValidationError
from ff_utils.ff_hashing import ff_build_manifest, ff_sha256_file, ff_verify_manifest, ff_write_manifest
from ff_utils.ff_json_utils import ff_read_json, ff_tail_jsonl_page


@pytest.mark.parametrize("last", [b' {"a":1}', b'{"a":1} ', b"[1]", b""])
def test_a_last_line_that_is_not_exactly_one_object_is_not_vouched_for(tmp_path: Path, last: bytes) -> None:
    log = tmp_path / "log.jsonl"
    log.write_bytes(b'{"z":0}\n' + last + b"\n")
    assert ff_tail_jsonl_page(log, 1) is None
    assert ff_tail_jsonl_page(log, 2) is None


def test_a_file_that_starts_with_a_blank_line(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_bytes(b'\n{"a":1}\n')
    assert ff_tail_jsonl_page(log, 1) == (b'{"a":1}', 1)
    assert ff_tail_jsonl_page(log, 2) is None  # the blank first line is the general reader's to report


def test_a_page_that_starts_at_the_newline_before_the_line_vouches_for_it(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_bytes(b'{"a":1}\n{"b":2}\n')
    assert ff_tail_jsonl_page(log, 1, page_bytes=9) == (b'{"b":2}', 1)
    assert ff_tail_jsonl_page(log, 2, page_bytes=9) is None
    assert ff_tail_jsonl_page(log, 1, page_bytes=8) is None  # "{" may not be where the line begins


def test_a_symlinked_folder_below_the_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "log.jsonl").write_bytes(b'{"a":1}\n')
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "via")
    with pytest.raises(FFValidationError):
        ff_tail_jsonl_page(root / "via" / "log.jsonl", 1, root=root)


def test_a_folder_is_not_a_log_nor_a_file_to_hash(tmp_path: Path) -> None:
    with pytest.raises(FFStorageError) as read:
        ff_tail_jsonl_page(tmp_path, 1)
    assert (read.value.message, read.value.path) == ("cannot read file: Is a directory [EISDIR]", tmp_path)
    with pytest.raises(FFStorageError) as hashed:
        ff_sha256_file(tmp_path)
    assert (hashed.value.message, hashed.value.path) == ("cannot hash file: Is a directory [EISDIR]", tmp_path)


def test_a_manifest_that_is_not_one_names_the_action_and_the_file(tmp_path: Path) -> None:
    source = tmp_path / "m.json"
    source.write_text('{"entries": 3}')
    with pytest.raises(FFValidationError) as caught:
        ff_verify_manifest(tmp_path, source)
    assert caught.value.message == "cannot read manifest: entries: Input should be a valid list (got 3)"
    assert caught.value.path == source


def test_write_manifest_to_a_path_of_its_own(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_text("a")
    manifest = ff_build_manifest(tmp_path / "data")
    elsewhere = tmp_path / "kept" / "copy.json"
    assert ff_write_manifest(tmp_path / "data", manifest, elsewhere) == elsewhere
    assert not (tmp_path / "data" / "ff_manifest.json").exists()
    stored = ff_read_json(elsewhere)
    assert stored == manifest.model_dump(mode="json")
    assert ff_verify_manifest(tmp_path / "data", elsewhere).identical
