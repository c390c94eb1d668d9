"""Exact behaviour of ff_list_dir (mutation review, issue #20): every field of each entry read
back for a file, a folder and symlinks to both (typed as links, never as their targets), and the
exact refusals: a missing root or folder, a file, a symlinked folder, a failing directory read."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from ff_utils._store_listing import FFDirEntry, ff_list_dir
from ff_utils.ff_errors import FFNotFoundError, FFStorageError, FFValidationError


def _tree(root: Path) -> None:
    (root / "d").mkdir()
    (root / "f").write_bytes(b"x")
    (root / "link-d").symlink_to(root / "d")
    (root / "link-f").symlink_to(root / "f")


def test_listing_the_root_types_every_entry_without_following_links(tmp_path: Path) -> None:
    _tree(tmp_path)
    root = str(tmp_path)
    assert ff_list_dir(root, root) == [
        FFDirEntry("d", tmp_path / "d", True, False, False),
        FFDirEntry("f", tmp_path / "f", False, True, False),
        FFDirEntry("link-d", tmp_path / "link-d", False, False, True),
        FFDirEntry("link-f", tmp_path / "link-f", False, False, True),
    ]


def test_listing_a_folder_below_the_root_gives_full_paths(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.json").write_bytes(b"{}")
    assert ff_list_dir(tmp_path / "a" / "b", str(tmp_path)) == [
        FFDirEntry("x.json", tmp_path / "a" / "b" / "x.json", False, True, False)
    ]


def test_a_missing_root_is_not_found_naming_it(tmp_path: Path) -> None:
    root = str(tmp_path / "missing")
    with pytest.raises(FFNotFoundError) as caught:
        ff_list_dir(root, root)
    assert (caught.value.message, caught.value.path) == ("cannot list directory: no such file", Path(root))


def test_a_missing_folder_is_not_found_naming_it(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    with pytest.raises(FFNotFoundError) as caught:
        ff_list_dir(tmp_path / "a" / "missing", str(tmp_path))
    assert (caught.value.message, caught.value.path) == ("cannot list directory: no such file", tmp_path / "a" / "missing")


def test_a_file_is_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(FFStorageError) as caught:
        ff_list_dir(tmp_path / "f", str(tmp_path))
    assert (caught.value.message, caught.value.path) == ("cannot list directory: Not a directory [ENOTDIR]", tmp_path / "f")


def test_a_symlinked_folder_is_refused_naming_the_link_and_the_path(tmp_path: Path) -> None:
    _tree(tmp_path)
    with pytest.raises(FFValidationError) as caught:
        ff_list_dir(tmp_path / "link-d", str(tmp_path))
    assert (caught.value.message, caught.value.field, caught.value.value) == (
        "unsafe path: symlink 'link-d' below the data root",
        "path",
        str(tmp_path / "link-d"),
    )


def test_a_failing_directory_read_names_the_action_and_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_scandir(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "scandir", failing_scandir)
    with pytest.raises(FFStorageError) as caught:
        ff_list_dir(str(tmp_path), str(tmp_path))
    assert (caught.value.message, caught.value.path) == ("cannot list directory: Input/output error [EIO]", tmp_path)
