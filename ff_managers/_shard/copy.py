"""Mirror one user's tree from one data root to another, and prove the copy with manifests.

``ff_mirror`` makes ``destination`` hold exactly the files of ``source``: a file is copied when
it is missing or its size or modification time differ (``copy2`` keeps the time, so an unchanged
file is skipped the second time: the pass after the freeze copies only what was written since the
first pass), and a file the source no longer has is deleted. Lock files and the temp files of
atomic writes are skipped, as the migration tooling's manifests skip them. Each file is written to
a temp name and renamed, so a crash never leaves a half-written file under a real name.

``ff_same_tree`` is the verification: the SHA-256 manifests (``ff_build_manifest``) of both trees,
equal path for path and digest for digest, else FFCorruptionError naming what differs.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ff_utils.ff_errors import FFCorruptionError, ff_translate_errors
from ff_utils.ff_hashing import FFManifest, ff_build_manifest, ff_default_manifest_exclude, ff_diff_manifests

__all__ = ["FFCopyStats", "ff_manifest_digest", "ff_mirror", "ff_same_tree"]


@dataclass(slots=True)
class FFCopyStats:
    files_copied: int = 0
    bytes_copied: int = 0
    files_deleted: int = 0
    files_seen: int = 0


def _files(root: Path) -> dict[str, os.stat_result]:
    found: dict[str, os.stat_result] = {}
    if not root.is_dir():
        return found
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs.sort()
        for name in names:
            full = Path(folder, name)
            relative = full.relative_to(root).as_posix()
            if ff_default_manifest_exclude(relative):
                continue
            info = full.lstat()
            if full.is_symlink() or not full.is_file():
                continue
            found[relative] = info
    return found


def ff_mirror(source: Path, destination: Path) -> FFCopyStats:
    """Make ``destination`` a copy of ``source`` (see the module doc); what it did."""
    stats = FFCopyStats()
    with ff_translate_errors("mirror user tree", source):
        have = _files(destination)
        want = _files(source)
        stats.files_seen = len(want)
        for relative, info in want.items():
            old = have.get(relative)
            if old is not None and old.st_size == info.st_size and old.st_mtime_ns == info.st_mtime_ns:
                continue
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(f".{target.name}.shard.tmp")
            shutil.copy2(source / relative, temp)
            os.replace(temp, target)
            stats.files_copied += 1
            stats.bytes_copied += info.st_size
        for relative in sorted(have.keys() - want.keys()):
            (destination / relative).unlink(missing_ok=True)
            stats.files_deleted += 1
    return stats


def ff_manifest_digest(manifest: FFManifest) -> str:
    """One SHA-256 over a manifest's entries (what the journal records of a verified copy)."""
    digest = hashlib.sha256()
    for entry in manifest.entries:
        digest.update(f"{entry.path}\0{entry.size}\0{entry.sha256}\n".encode())
    return digest.hexdigest()


def ff_same_tree(source: Path, destination: Path) -> FFManifest:
    """The source's manifest when both trees hold the same bytes; FFCorruptionError otherwise."""
    expected = ff_build_manifest(source)
    actual = ff_build_manifest(destination) if destination.is_dir() else FFManifest(entries=[])
    diff = ff_diff_manifests(expected, actual)
    if not diff.identical:
        raise FFCorruptionError(
            f"the copy of {source.name} differs from its source: {len(diff.added)} added, {len(diff.removed)} missing, "
            f"{len(diff.changed)} changed (first: {(diff.removed + diff.changed + diff.added)[:3]})",
            path=destination,
        )
    return expected
