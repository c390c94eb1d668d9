"""ff_hashing: file digests and directory manifests."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from ff_utils.ff_errors import FFCorruptionError, FFError, FFNotFoundError, FFValidationError
from ff_utils.ff_hashing import (
    FF_MANIFEST_NAME,
    FFManifest,
    ff_build_manifest,
    ff_diff_manifests,
    ff_sha256_bytes,
    ff_sha256_file,
    ff_verify_manifest,
    ff_write_manifest,
)


@pytest.mark.parametrize("size", [0, 1, 1024 * 1024 - 1, 1024 * 1024, 3 * 1024 * 1024 + 17])
def test_sha256_matches_hashlib(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    target = tmp_path / "blob"
    target.write_bytes(data)
    assert ff_sha256_file(target) == hashlib.sha256(data).hexdigest() == ff_sha256_bytes(data)


def test_sha256_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FFNotFoundError):
        ff_sha256_file(tmp_path / "none")


def _make_tree(root: Path, names: list[str]) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"content of {name}")


def test_manifest_is_sorted_and_deterministic(tmp_path: Path) -> None:
    names = ["b/z.txt", "a.txt", "b/a.txt", "c/d/e.json", "B.txt"]
    first, second = tmp_path / "one", tmp_path / "two"
    _make_tree(first, names)
    _make_tree(second, list(reversed(names)))  # created in another order
    m1, m2 = ff_build_manifest(first, workers=1), ff_build_manifest(second, workers=4)
    paths = [e.path for e in m1.entries]
    assert paths == sorted(paths) == sorted(names)
    assert m1.entries == m2.entries and m1.same_content(m2)
    assert m1.model_dump(mode="json")["entries"] == m2.model_dump(mode="json")["entries"]
    assert m1.file_count == 5 and m1.total_bytes == sum(len(f"content of {n}") for n in names)


def test_manifest_skips_locks_temp_files_manifest_and_symlinks(tmp_path: Path) -> None:
    _make_tree(tmp_path, ["keep.json", ".keep.json.lock", ".keep.json.abc.tmp", FF_MANIFEST_NAME, ".visible"])
    (tmp_path / "link").symlink_to(tmp_path / "keep.json")
    assert [e.path for e in ff_build_manifest(tmp_path).entries] == [".visible", "keep.json"]


def test_verify_lists_added_removed_changed(tmp_path: Path) -> None:
    _make_tree(tmp_path, ["same.txt", "change.txt", "remove.txt", "sub/change_size.txt"])
    ff_write_manifest(tmp_path, ff_build_manifest(tmp_path))
    assert ff_verify_manifest(tmp_path).identical
    (tmp_path / "change.txt").write_text("content of chXnge.txt")  # same size, other bytes
    (tmp_path / "sub" / "change_size.txt").write_text("longer content now")
    (tmp_path / "remove.txt").unlink()
    _make_tree(tmp_path, ["added.txt", "sub/new/deep.txt"])
    diff = ff_verify_manifest(tmp_path)
    assert diff.added == ["added.txt", "sub/new/deep.txt"]
    assert diff.removed == ["remove.txt"]
    assert diff.changed == ["change.txt", "sub/change_size.txt"]
    assert not diff.identical


def test_verify_against_in_memory_and_other_path(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _make_tree(data, ["a"])
    manifest = ff_build_manifest(data)
    stored = ff_write_manifest(data, manifest, tmp_path / "elsewhere.json")
    assert ff_verify_manifest(data, manifest).identical
    assert ff_verify_manifest(data, stored).identical
    diff = ff_diff_manifests(manifest, FFManifest(entries=[]))
    assert diff.removed == ["a"] and not diff.added


def test_verify_bad_manifest_files(tmp_path: Path) -> None:
    with pytest.raises(FFNotFoundError):
        ff_verify_manifest(tmp_path)
    (tmp_path / FF_MANIFEST_NAME).write_text("{broken")
    with pytest.raises(FFCorruptionError):
        ff_verify_manifest(tmp_path)
    (tmp_path / FF_MANIFEST_NAME).write_text('{"entries": [{"path": "a", "size": -1, "sha256": "x"}]}')
    with pytest.raises(FFValidationError):
        ff_verify_manifest(tmp_path)


def test_build_manifest_of_missing_root(tmp_path: Path) -> None:
    with pytest.raises(FFValidationError):
        ff_build_manifest(tmp_path / "missing")


def test_manifest_of_many_small_files_in_nested_folders(tmp_path: Path) -> None:
    """Sizes are the bytes hashed; every file of every folder is there, each digest right."""
    expected = {}
    for i in range(150):
        relative = f"d{i % 3}/sub{i % 2}/f{i:03d}.bin"
        data = bytes([i % 256]) * (i * 37)
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(data)
        expected[relative] = (len(data), hashlib.sha256(data).hexdigest())
    manifest = ff_build_manifest(tmp_path, workers=3)
    assert {e.path: (e.size, e.sha256) for e in manifest.entries} == expected
    assert [e.path for e in manifest.entries] == sorted(expected)


def test_manifest_refuses_a_folder_it_cannot_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "a.txt").write_text("a")
    (tmp_path / "hidden_from_us").mkdir()
    (tmp_path / "hidden_from_us" / "b.txt").write_text("b")
    real_scandir = os.scandir

    def scandir(path: object) -> object:
        if str(path).endswith("hidden_from_us"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(FFError):
        ff_build_manifest(tmp_path)


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_a_file_swapped_for_a_symlink_after_the_walk_is_refused_by_any_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """Every worker opens with O_NOFOLLOW; an error in a worker thread reaches the caller typed."""
    import ff_utils.ff_hashing as hashing

    for i in range(40):
        (tmp_path / f"f{i:02d}.bin").write_bytes(b"x" * (i * 1000))
    (tmp_path / "secret").write_bytes(b"not in the tree")
    real_walk = hashing._walk

    def walk_then_swap(root: Path, exclude: object) -> object:
        listed = list(real_walk(root, exclude))  # type: ignore[arg-type]
        (tmp_path / "f33.bin").unlink()
        (tmp_path / "f33.bin").symlink_to(tmp_path / "secret")
        return iter(listed)

    monkeypatch.setattr(hashing, "_walk", walk_then_swap)
    with pytest.raises(FFError) as caught:
        ff_build_manifest(tmp_path, workers=workers)
    assert "f33.bin" in str(caught.value)


def test_workers_below_one_are_refused_and_any_count_gives_the_same_manifest(tmp_path: Path) -> None:
    for i in range(30):
        (tmp_path / f"d{i % 4}").mkdir(exist_ok=True)
        (tmp_path / f"d{i % 4}" / f"f{i}.bin").write_bytes(os.urandom(i * 3001))
    with pytest.raises(FFValidationError):
        ff_build_manifest(tmp_path, workers=0)
    manifests = [ff_build_manifest(tmp_path, workers=w).entries for w in (1, 2, 3, 64)]
    assert all(m == manifests[0] for m in manifests) and len(manifests[0]) == 30
