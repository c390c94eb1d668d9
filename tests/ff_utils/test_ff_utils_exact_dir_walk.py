"""Exact behaviour of the no-follow walk below a root (ff_utils._dir_fd; mutation review, issue
#20): folders it creates are 0755 whatever the umask, a symlinked folder on the way is refused
naming the link and the whole path, a missing root or a file on the way is translated naming
the action and the path, and ff_lstat_under reports a link as a link."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ff_utils._dir_fd import ff_lstat_under, ff_walk_parent
from ff_utils.ff_errors import FFNotFoundError, FFStorageError, FFValidationError
from ff_utils.ff_file_ops import ff_atomic_write


def test_folders_created_on_the_way_are_0755_whatever_the_umask(tmp_path: Path) -> None:
    old_umask = os.umask(0)
    try:
        ff_atomic_write(tmp_path / "a" / "b" / "f", b"x", root=tmp_path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o755
    assert (tmp_path / "a" / "b" / "f").read_bytes() == b"x"


@pytest.mark.parametrize("create", [False, True])
def test_a_symlinked_folder_on_the_way_is_refused_naming_the_link_and_the_path(tmp_path: Path, create: bool) -> None:
    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    path = tmp_path / "link" / "sub" / "f"
    with pytest.raises(FFValidationError) as caught:
        ff_walk_parent(path, tmp_path, create=create)
    assert (caught.value.message, caught.value.field, caught.value.value) == (
        "unsafe path: symlink 'link' below the data root",
        "path",
        str(path),
    )


def test_a_missing_root_is_not_found_naming_the_root(tmp_path: Path) -> None:
    root = tmp_path / "missing"
    with pytest.raises(FFNotFoundError) as caught:
        ff_walk_parent(root / "a" / "f", root)
    assert (caught.value.message, caught.value.path) == ("cannot open directory: no such file", root)


def test_a_missing_folder_without_create_is_not_found_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "a" / "f"
    with pytest.raises(FFNotFoundError) as caught:
        ff_walk_parent(path, tmp_path)
    assert (caught.value.message, caught.value.path) == ("cannot open directory: no such file", path)


def test_a_file_on_the_way_is_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x")
    path = tmp_path / "a" / "f"
    with pytest.raises(FFStorageError) as caught:
        ff_walk_parent(path, tmp_path, create=True)
    assert (caught.value.message, caught.value.path) == ("cannot open directory: Not a directory [ENOTDIR]", path)


def test_lstat_under_reports_a_link_as_a_link_and_a_missing_name_exactly(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "link").symlink_to(tmp_path)
    assert stat.S_ISLNK(ff_lstat_under(tmp_path / "d" / "link", tmp_path).st_mode)
    with pytest.raises(FFNotFoundError) as caught:
        ff_lstat_under(tmp_path / "d" / "missing", tmp_path)
    assert (caught.value.message, caught.value.path) == ("cannot stat: no such file", tmp_path / "d" / "missing")
