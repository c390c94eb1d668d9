"""Exact refusals and edges of ff_file_ops and _dir_fd (mutation review, issue #20).

Each refusal is read back whole (error type, message, ``field``/``value`` or ``path``), the
modes ff_atomic_write promises are checked on disk (0600 while the temp file is filled, the
asked mode after), and the ``root`` variants are shown to refuse a symlinked directory on the
way that a plain ``lstat`` would have followed.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from ff_utils._dir_fd import ff_relative_parts
from ff_utils.ff_errors import FFNotFoundError, FFStorageError, FFValidationError
from ff_utils.ff_file_ops import ff_atomic_write, ff_fsync_directory, ff_remove_tree


# --- ff_relative_parts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("root", "path", "parts"),
    [("/data", "/data/a/b", ["a", "b"]), ("/data/", "/data/a", ["a"]), ("/dataX", "/dataX/a", ["a"])],
)
def test_relative_parts_of_a_path_under_the_root(root: str, path: str, parts: list[str]) -> None:
    assert ff_relative_parts(root, path) == parts


@pytest.mark.parametrize(("root", "path"), [("/data", "/database/a"), ("/data", "/other/a"), ("", "/a")])
def test_a_path_outside_the_root_is_refused_exactly(root: str, path: str) -> None:
    with pytest.raises(FFValidationError) as caught:
        ff_relative_parts(root, path)
    assert (caught.value.message, caught.value.field, caught.value.value) == (
        "unsafe path: path escapes the data root",
        "path",
        path,
    )


@pytest.mark.parametrize("path", ["/data/a//b", "/data/a/./b", "/data/a/../b", "/data/a/", "/data/.", "/data/.."])
def test_an_empty_dot_or_dotdot_segment_is_refused_exactly(path: str) -> None:
    with pytest.raises(FFValidationError) as caught:
        ff_relative_parts("/data", path)
    assert (caught.value.message, caught.value.field, caught.value.value) == (
        f"unsafe path: segment in {path!r}",
        "path",
        path,
    )


def test_the_refused_segment_message_quotes_at_most_80_characters() -> None:
    path = "/data/" + "a" * 100 + "/../b"
    with pytest.raises(FFValidationError) as caught:
        ff_relative_parts("/data", path)
    assert caught.value.message == f"unsafe path: segment in {path[:80]!r}"
    assert caught.value.value == path


# --- ff_atomic_write ----------------------------------------------------------------------------


def test_atomic_write_refuses_text_exactly_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(FFValidationError) as caught:
        ff_atomic_write(tmp_path / "f", "text")  # type: ignore[arg-type]
    assert (caught.value.message, caught.value.field, caught.value.value) == ("ff_atomic_write takes bytes", "data", "str")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_fills_a_0600_temp_file_and_leaves_the_default_mode_0644(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    real_fchmod = os.fchmod

    def recording_fchmod(fd: int, mode: int) -> None:
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        real_fchmod(fd, mode)

    monkeypatch.setattr(os, "fchmod", recording_fchmod)
    old_umask = os.umask(0)
    try:
        ff_atomic_write(tmp_path / "f", b"data")
    finally:
        os.umask(old_umask)
    assert seen == [0o600]
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o644


def test_atomic_write_refuses_a_symlink_at_the_name_naming_the_whole_path(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_bytes(b"keep")
    (tmp_path / "f").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FFValidationError) as caught:
        ff_atomic_write(tmp_path / "f", b"new")
    assert (caught.value.field, caught.value.value) == ("path", str(tmp_path / "f"))
    assert (tmp_path / "elsewhere").read_bytes() == b"keep"


def test_atomic_write_disk_error_names_the_action_and_the_file_and_removes_the_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "f").write_bytes(b"old")

    def failing_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(FFStorageError) as caught:
        ff_atomic_write(tmp_path / "f", b"new")
    assert caught.value.message == "cannot write file: Input/output error [EIO]"
    assert caught.value.path == tmp_path / "f"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]
    assert (tmp_path / "f").read_bytes() == b"old"


# --- ff_fsync_directory -------------------------------------------------------------------------


def test_fsync_directory_of_a_directory_returns(tmp_path: Path) -> None:
    assert ff_fsync_directory(tmp_path) is None


def test_fsync_directory_of_a_missing_directory_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(FFNotFoundError) as caught:
        ff_fsync_directory(tmp_path / "missing")
    assert caught.value.message == "cannot fsync directory: no such file"
    assert caught.value.path == tmp_path / "missing"


def test_fsync_directory_of_a_file_is_refused_as_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(FFStorageError) as caught:
        ff_fsync_directory(tmp_path / "f")
    assert caught.value.message == "cannot fsync directory: Not a directory [ENOTDIR]"
    assert caught.value.path == tmp_path / "f"


# --- ff_remove_tree -----------------------------------------------------------------------------


def test_remove_tree_refuses_a_symlink_at_the_path_exactly(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "keep").write_bytes(b"x")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(FFStorageError) as caught:
        ff_remove_tree(tmp_path / "link")
    assert (caught.value.message, caught.value.path) == ("refusing to delete through a symlink", tmp_path / "link")
    assert (tmp_path / "real" / "keep").read_bytes() == b"x"


def test_remove_tree_with_root_refuses_a_symlinked_directory_on_the_way(tmp_path: Path) -> None:
    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "real" / "sub" / "keep").write_bytes(b"x")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(FFValidationError) as caught:
        ff_remove_tree(tmp_path / "link" / "sub", root=tmp_path)
    assert caught.value.field == "path"
    assert (tmp_path / "real" / "sub" / "keep").read_bytes() == b"x"


def test_remove_tree_with_root_removes_a_tree_under_it(tmp_path: Path) -> None:
    (tmp_path / "kb" / "sub").mkdir(parents=True)
    (tmp_path / "kb" / "sub" / "f").write_bytes(b"x")
    ff_remove_tree(tmp_path / "kb", root=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_remove_tree_of_a_file_is_a_storage_error_naming_the_action(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(FFStorageError) as caught:
        ff_remove_tree(tmp_path / "f")
    assert caught.value.message == "cannot remove directory: Not a directory [ENOTDIR]"
    assert caught.value.path == tmp_path / "f"
    assert (tmp_path / "f").read_bytes() == b"x"
