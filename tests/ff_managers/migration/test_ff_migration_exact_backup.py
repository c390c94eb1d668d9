"""The backup's building blocks, exactly: ``copy_tree`` (bytes, links as links, metadata, refusal),
``copy_file_atomic`` (chunked, whole-or-nothing) and ``describe_diff`` (its lines and cap).

Written for the mutation run's survivors in ``backup`` (docs/MUTATION.md, ``_migration``): these
were reached only through an in-place migration, which no test of the package's list ran.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ff_managers._migration.backup import copy_file_atomic, copy_tree, describe_diff
from ff_utils.ff_errors import FFNotFoundError, FFStorageError
from ff_utils.ff_hashing import FFManifest, FFManifestEntry, ff_build_manifest


def _tree(root: Path) -> Path:
    (root / "a" / "b").mkdir(parents=True)
    (root / "top.txt").write_bytes(b"0123456789")
    (root / "a" / "mid.bin").write_bytes(bytes(range(256)) * 3)
    (root / "a" / "b" / "deep.txt").write_text("deep", encoding="utf-8")
    (root / "a" / "b" / "empty").write_bytes(b"")
    (root / "empty_dir").mkdir()
    os.chmod(root / "top.txt", 0o640)
    os.utime(root / "a" / "mid.bin", (1_600_000_000, 1_600_000_000))
    return root


def test_copy_tree_copies_every_byte_and_returns_their_count(tmp_path: Path) -> None:
    source = _tree(tmp_path / "src")
    copied = copy_tree(source, tmp_path / "dst")
    assert copied == 10 + 768 + 4 + 0
    assert ff_build_manifest(tmp_path / "dst").same_content(ff_build_manifest(source))
    assert (tmp_path / "dst" / "empty_dir").is_dir() and (tmp_path / "dst" / "a" / "b" / "empty").read_bytes() == b""
    # copystat: mode and times come along (a rollback restores files as they were)
    assert (tmp_path / "dst" / "top.txt").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "dst" / "a" / "mid.bin").stat().st_mtime == 1_600_000_000


def test_copy_tree_copies_links_as_links_without_reading_through_them(tmp_path: Path) -> None:
    source = _tree(tmp_path / "src")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not part of the tree")
    os.symlink(outside / "secret.txt", source / "file_link")
    os.symlink(outside, source / "a" / "dir_link")
    os.symlink("missing-target", source / "dangling")
    copied = copy_tree(source, tmp_path / "dst")
    assert copied == 10 + 768 + 4  # the links' targets are not counted, nor copied
    dst = tmp_path / "dst"
    for name, target in (("file_link", str(outside / "secret.txt")), ("a/dir_link", str(outside)), ("dangling", "missing-target")):
        assert (dst / name).is_symlink() and os.readlink(dst / name) == target
    assert not (dst / "a" / "dir_link" / "secret.txt").resolve().is_relative_to(dst.resolve())


def test_copy_tree_refuses_an_existing_destination_and_a_missing_source(tmp_path: Path) -> None:
    source = _tree(tmp_path / "src")
    existing = tmp_path / "dst"
    existing.mkdir()
    (existing / "keep.txt").write_text("keep")
    with pytest.raises(FFStorageError) as caught:
        copy_tree(source, existing)
    assert caught.value.message.startswith("cannot copy tree: ") and caught.value.path == source
    assert sorted(p.name for p in existing.iterdir()) == ["keep.txt"]


@pytest.mark.parametrize("chunk", [1, 3, 10, 11, 1024 * 1024])
def test_copy_file_atomic_copies_in_chunks_and_counts_every_byte(tmp_path: Path, chunk: int) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(b"0123456789")
    destination = tmp_path / "out" / "dest.bin"
    destination.parent.mkdir()
    assert copy_file_atomic(source, destination, chunk=chunk) == 10
    assert destination.read_bytes() == b"0123456789"
    assert sorted(p.name for p in destination.parent.iterdir()) == ["dest.bin"]  # no temp file left


def test_copy_file_atomic_of_a_missing_source_leaves_nothing(tmp_path: Path) -> None:
    destination = tmp_path / "dest.bin"
    destination.write_bytes(b"old")
    with pytest.raises(FFNotFoundError) as caught:
        copy_file_atomic(tmp_path / "missing.bin", destination)
    assert caught.value.message == "cannot copy file: no such file"
    assert caught.value.key == str(tmp_path / "missing.bin")
    assert destination.read_bytes() == b"old"  # the old file stays whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest.bin"]


def _manifest(**files: str) -> FFManifest:
    return FFManifest(entries=[FFManifestEntry(path=p, size=len(d), sha256=(d * 64)[:64]) for p, d in files.items()])


def test_describe_diff_lists_added_removed_changed_in_that_order_up_to_the_limit() -> None:
    expected = _manifest(a="1", b="2", c="3")
    actual = _manifest(b="2", c="4", d="5", e="6")
    lines = ["added: d", "added: e", "removed: a", "changed: c"]
    assert describe_diff(expected, actual) == lines
    assert describe_diff(expected, actual, 4) == lines
    assert describe_diff(expected, actual, 3) == lines[:3] + ["... and 1 more"]
    assert describe_diff(expected, actual, 1) == lines[:1] + ["... and 3 more"]
    assert describe_diff(expected, expected) == []
