"""Exact refusals of ff_gunzip_bounded and ff_sync_filesystem (mutation review, issue #20):
message, ``field`` and ``value`` of each gzip refusal, a stream with trailing bytes, and the
filesystem barrier's success, translated errors (missing folder, a file, a failing syncfs) and
its ``os.sync`` fallback."""

from __future__ import annotations

import errno
import gzip
import os
from pathlib import Path

import pytest

from ff_utils import ff_fs_sync
from ff_utils.ff_errors import FFNotFoundError, FFStorageError, FFValidationError
from ff_utils.ff_fs_sync import ff_sync_filesystem
from ff_utils.ff_gzip import FFInflatedTooLargeError, ff_gunzip_bounded


def test_too_large_is_refused_exactly() -> None:
    with pytest.raises(FFInflatedTooLargeError) as caught:
        ff_gunzip_bounded(gzip.compress(b"x" * 1000), 999)
    assert (caught.value.message, caught.value.field, caught.value.value) == (
        "the inflated payload exceeds 999 bytes",
        "content-encoding",
        999,
    )


def test_garbage_is_refused_exactly() -> None:
    with pytest.raises(FFValidationError) as caught:
        ff_gunzip_bounded(b"not gzip at all", 1 << 20)
    assert type(caught.value) is FFValidationError
    assert caught.value.message.startswith("the payload is not valid gzip: ")
    assert caught.value.field == "content-encoding"


def test_a_truncated_stream_is_refused_exactly() -> None:
    with pytest.raises(FFValidationError) as caught:
        ff_gunzip_bounded(gzip.compress(b"hello world" * 100)[:-12], 1 << 20)
    assert type(caught.value) is FFValidationError
    assert (caught.value.message, caught.value.field) == ("the gzip payload is truncated", "content-encoding")


def test_an_empty_payload_at_a_zero_bound_inflates() -> None:
    assert ff_gunzip_bounded(gzip.compress(b""), 0) == b""


def test_the_bound_counts_inflated_bytes_exactly() -> None:
    data = bytes(range(256)) * 40
    assert ff_gunzip_bounded(gzip.compress(data), len(data)) == data


def test_sync_filesystem_of_a_folder_returns(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    assert ff_sync_filesystem(tmp_path) is None


def test_sync_filesystem_of_a_missing_folder_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(FFNotFoundError) as caught:
        ff_sync_filesystem(tmp_path / "missing")
    assert (caught.value.message, caught.value.path) == ("cannot sync filesystem: no such file", tmp_path / "missing")


def test_sync_filesystem_of_a_file_is_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(FFStorageError) as caught:
        ff_sync_filesystem(tmp_path / "f")
    assert (caught.value.message, caught.value.path) == ("cannot sync filesystem: Not a directory [ENOTDIR]", tmp_path / "f")


def test_a_failing_syncfs_is_a_storage_error_with_its_errno(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(fd: int) -> int:
        assert os.path.samestat(os.fstat(fd), os.stat(tmp_path))
        ff_fs_sync.ctypes.set_errno(errno.EIO)
        return -1

    monkeypatch.setattr(ff_fs_sync, "_syncfs", lambda: failing)
    before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(FFStorageError) as caught:
        ff_sync_filesystem(tmp_path)
    assert (caught.value.message, caught.value.path) == ("cannot sync filesystem: Input/output error [EIO]", tmp_path)
    assert caught.value.context["errno"] == errno.EIO
    assert len(os.listdir("/proc/self/fd")) == before


def test_without_syncfs_the_fallback_is_os_sync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(ff_fs_sync, "_syncfs", lambda: None)
    monkeypatch.setattr(os, "sync", lambda: calls.append("sync"))
    ff_sync_filesystem(tmp_path)
    assert calls == ["sync"]


def test_syncfs_is_found_on_linux() -> None:
    if os.uname().sysname != "Linux":
        pytest.skip("syncfs is Linux-only")
    assert ff_fs_sync._syncfs() is not None
