"""ff_file_ops: safe path joining, atomic replace, directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ff_utils import ff_file_ops
from ff_utils.ff_errors import FFStorageError, FFValidationError
from ff_utils.ff_file_ops import ff_atomic_write, ff_ensure_directory, ff_remove_tree, ff_safe_path


def test_safe_path_joins_inside_root(tmp_path: Path) -> None:
    assert ff_safe_path(tmp_path, "users", "alice/profile.json") == tmp_path.resolve() / "users" / "alice" / "profile.json"
    assert ff_safe_path(tmp_path) == tmp_path.resolve()


def test_safe_path_result_is_already_canonical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No second resolve() is needed: the result equals a full resolve, for existing and new parts,
    plain ids (fast path) and unusual but legal names (full checks) alike."""
    (tmp_path / "users" / "alice").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    for parts in (("users", "alice", "new.json"), ("users/alice",), (".hidden", "x"), ("a" * 255,), ("caf\u00e9",)):
        got = ff_safe_path(".", *parts)  # a relative root resolves like any other
        assert got == Path(tmp_path, *parts).resolve(), parts
        assert got.is_absolute()
    with pytest.raises(FFValidationError):
        ff_safe_path(tmp_path, "a" * 256)
    with pytest.raises(FFValidationError):
        ff_safe_path(tmp_path, "users", "tab\there")


def test_safe_path_allows_root_that_is_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    assert ff_safe_path(tmp_path / "link", "a") == real.resolve() / "a"


def test_safe_path_refuses_lone_surrogate_with_ff_error(tmp_path: Path) -> None:
    # Used to escape as UnicodeEncodeError from os.fsencode instead of FFValidationError.
    with pytest.raises(FFValidationError):
        ff_safe_path(tmp_path, "\ud800")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.text(max_size=40), min_size=1, max_size=4))
def test_safe_path_never_escapes_root(tmp_path: Path, parts: list[str]) -> None:
    root = (tmp_path / "root").resolve()
    try:
        result = ff_safe_path(root, *parts)
    except FFValidationError:
        return
    assert result == root or root in result.parents


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.sampled_from(["..", ".", "a", "/", "b/..", "../..", "x/../y", "//", "\\.."]).map(str), min_size=1, max_size=5).map(lambda xs: ["".join(xs)]))
def test_safe_path_never_escapes_root_with_dot_heavy_text(tmp_path: Path, parts: list[str]) -> None:
    root = (tmp_path / "root").resolve()
    try:
        result = ff_safe_path(root, *parts)
    except FFValidationError:
        return
    assert result == root or root in result.parents


def test_atomic_write_creates_parents_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file.bin"
    ff_atomic_write(target, b"one")
    ff_atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["file.bin"]  # no temp files left


def test_atomic_write_refuses_text(tmp_path: Path) -> None:
    with pytest.raises(FFValidationError):
        ff_atomic_write(tmp_path / "x", "text")  # type: ignore[arg-type]
    assert not (tmp_path / "x").exists()


def test_atomic_write_failure_keeps_old_content_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "doc.json"
    ff_atomic_write(target, b"old")

    def broken_replace(src: str, dst: object, **dir_fds: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ff_file_ops.os, "replace", broken_replace)
    with pytest.raises(FFStorageError) as info:
        ff_atomic_write(target, b"new")
    assert "ENOSPC" in str(info.value)
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.json"]


def test_atomic_write_without_fsync_still_replaces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = os.fsync
    monkeypatch.setattr(ff_file_ops.os, "fsync", lambda fd: (calls.append(fd), real(fd)))
    ff_atomic_write(tmp_path / "f", b"x", fsync=False)
    assert calls == []
    ff_atomic_write(tmp_path / "f", b"y")
    assert len(calls) == 2  # the file and its directory
    assert (tmp_path / "f").read_bytes() == b"y"


def test_ensure_directory(tmp_path: Path) -> None:
    target = tmp_path / "x" / "y"
    assert ff_ensure_directory(target) == target and target.is_dir()
    assert ff_ensure_directory(target) == target  # idempotent
    (tmp_path / "file").write_text("f")
    with pytest.raises(FFStorageError):
        ff_ensure_directory(tmp_path / "file" / "sub")


def test_remove_tree(tmp_path: Path) -> None:
    tree = tmp_path / "t"
    (tree / "a").mkdir(parents=True)
    (tree / "a" / "f").write_text("x")
    ff_remove_tree(tree)
    assert not tree.exists()
    ff_remove_tree(tree)  # missing is fine
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("x")
    (tmp_path / "link").symlink_to(outside)
    with pytest.raises(FFStorageError):
        ff_remove_tree(tmp_path / "link")
    assert (outside / "keep").exists()
