"""ff_build_manifest's workers hash while the walk goes on, read each file in as few reads as it
takes, and leave no thread behind whatever fails."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

import ff_utils.ff_hashing as hashing
from ff_utils.ff_errors import FFError
from ff_utils.ff_hashing import ff_build_manifest

MIB = 1024 * 1024


def _manifest_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("ff-manifest-")]


@pytest.mark.parametrize("workers", [1, 2])
def test_files_around_the_buffer_size_hash_right(tmp_path: Path, workers: int) -> None:
    expected = {}
    for size in (0, 1, MIB - 1, MIB, MIB + 1, 2 * MIB, 3 * MIB + 17):
        data = os.urandom(size)
        (tmp_path / f"f{size}.bin").write_bytes(data)
        expected[f"f{size}.bin"] = (size, hashlib.sha256(data).hexdigest())
    manifest = ff_build_manifest(tmp_path, workers=workers)
    assert {e.path: (e.size, e.sha256) for e in manifest.entries} == expected


def test_workers_hash_while_the_walk_is_still_going(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(40):
        (tmp_path / f"f{i:02d}.bin").write_bytes(bytes([i]) * 5000)
    opened = threading.Event()
    real_open, real_walk = os.open, hashing._walk
    seen_during_walk: list[bool] = []

    def watching_open(path: object, *args: object, **kwargs: object) -> int:
        if str(path).startswith(str(tmp_path)) and str(path).endswith(".bin"):
            opened.set()
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    def slow_walk(root: Path, exclude: object) -> object:
        found = list(real_walk(root, exclude))  # type: ignore[arg-type]
        yield from found[:20]
        seen_during_walk.append(opened.wait(10))  # a walk that must finish first never sees this
        yield from found[20:]

    monkeypatch.setattr(os, "open", watching_open)
    monkeypatch.setattr(hashing, "_walk", slow_walk)
    manifest = ff_build_manifest(tmp_path, workers=2)
    assert seen_during_walk == [True]
    assert manifest.file_count == 40


def test_a_failed_walk_stops_every_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(40):
        (tmp_path / f"f{i:02d}.bin").write_bytes(b"x" * 3000)
    real_walk = hashing._walk

    def failing_walk(root: Path, exclude: object) -> object:
        found = list(real_walk(root, exclude))  # type: ignore[arg-type]
        yield from found[:25]
        raise PermissionError(13, "Permission denied", str(root / "later"))

    monkeypatch.setattr(hashing, "_walk", failing_walk)
    with pytest.raises(PermissionError):
        ff_build_manifest(tmp_path, workers=3)
    assert _manifest_threads() == []


def test_a_failed_worker_stops_the_walk_and_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(60):
        (tmp_path / f"f{i:02d}.bin").write_bytes(b"x" * 3000)
    (tmp_path / "secret").write_bytes(b"outside the manifest's reach")
    (tmp_path / "link.bin").symlink_to(tmp_path / "secret")
    real_walk = hashing._walk

    def walk_listing_a_symlink_first(root: Path, exclude: object) -> object:
        yield "link.bin", str(tmp_path / "link.bin")  # as if swapped in after the walk saw a file
        yield from real_walk(root, exclude)  # type: ignore[arg-type]

    monkeypatch.setattr(hashing, "_walk", walk_listing_a_symlink_first)
    with pytest.raises(FFError) as caught:
        ff_build_manifest(tmp_path, workers=2)
    assert "link.bin" in str(caught.value)
    assert _manifest_threads() == []
