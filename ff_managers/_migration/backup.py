"""Backup, staging, swap and rollback of a migration target, with a journal that survives SIGKILL.

Everything for target ``T`` lives in a sibling work directory ``.T.ff_migration/`` (same file
system, so the swap is two ``rename`` calls)::

    .T.ff_migration/state.json          the journal of the last run (phase, backup, manifests)
    .T.ff_migration/staging/            the migration writes here, never into T
    .T.ff_migration/<run_id>/backup/    independent copy of T as it was (when T existed)
    .T.ff_migration/<run_id>/manifest_before.json
    .T.ff_migration/<run_id>/quarantine/  corrupt inputs copied aside (quarantine policy)

Phases: ``prepared`` -> ``staged`` -> ``swapping`` -> ``done`` (-> ``rolled_back``). A process
killed before ``swapping`` left T untouched: the next run discards the staging copy. Killed while
``swapping``: :func:`recover` finishes the swap from the verified staging copy. Files are copied
with ``shutil.copyfile`` (kernel copy, constant memory) and hashed in 1 MiB reads. The journal and
the manifests are documents of the work directory's own :class:`FFStore`, so a damaged one is
FFCorruptionError naming the file.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ff_class_configs.ff_migration_dtos import FFMigrationStateDTO
from ff_managers._migration.backup_remote import fetch_backup
from ff_utils.ff_errors import FFConflictError, FFNotFoundError, FFStorageError, ff_translate_errors
from ff_utils.ff_file_ops import ff_atomic_file, ff_ensure_directory, ff_fsync_directory, ff_remove_tree
from ff_utils.ff_hashing import FFManifest, ff_build_manifest, ff_diff_manifests, ff_sha256_bytes
from ff_utils.ff_json_utils import ff_dumps
from ff_utils.ff_store import FFStore

__all__ = [
    "work_dir_for",
    "work_store",
    "read_manifest",
    "read_state",
    "write_state",
    "copy_tree",
    "copy_file_atomic",
    "manifest_digest",
    "recover",
    "swap_in",
    "rollback",
    "describe_diff",
]

STATE_NAME = "state.json"


def work_dir_for(target: Path | str) -> Path:
    """The sibling work directory of a target (hidden, same file system)."""
    path = Path(target).resolve()
    return path.parent / f".{path.name}.ff_migration"


def work_store(target: Path | str) -> FFStore:
    """The store of a target's work directory (journal, manifests; durable writes)."""
    return FFStore(work_dir_for(target))


def read_state(target: Path | str) -> FFMigrationStateDTO | None:
    """The journal of the target's last run; None when it was never migrated."""
    store = work_store(target)
    path = store.path(STATE_NAME)
    data = store.read_json(path, None)
    return store.load(FFMigrationStateDTO, data, path) if data is not None else None


def write_state(state: FFMigrationStateDTO) -> None:
    state.updated_at = datetime.now(UTC)
    store = work_store(state.target)
    store.write_json(store.path(STATE_NAME), state.model_dump(mode="json"))


def read_manifest(store: FFStore, path: Path) -> FFManifest:
    """A manifest the run wrote into its work directory."""
    return store.load(FFManifest, store.read_json(path), path)


def manifest_digest(manifest: FFManifest) -> str:
    """SHA-256 of a manifest's entries (not its timestamp): equal digests mean identical trees."""
    return ff_sha256_bytes(ff_dumps([e.model_dump() for e in manifest.entries]))


def describe_diff(expected: FFManifest, actual: FFManifest, limit: int = 50) -> list[str]:
    """Human-readable lines for every difference between two manifests (capped at ``limit``)."""
    diff = ff_diff_manifests(expected, actual)
    lines = [f"added: {p}" for p in diff.added] + [f"removed: {p}" for p in diff.removed] + [f"changed: {p}" for p in diff.changed]
    return lines[:limit] + ([f"... and {len(lines) - limit} more"] if len(lines) > limit else [])


def copy_tree(source: Path, destination: Path) -> int:
    """Copy a tree file by file (kernel copy, constant memory), fsync each file; return bytes.

    A symlink is copied as a link, never followed: a legacy root migrated in place may hold links
    (the migration lists them as skipped), and its backup must restore them as they were without
    reading through them. Raises FFStorageError.
    """
    total = 0
    with ff_translate_errors("copy tree", source):
        destination.mkdir(parents=True, exist_ok=False)
        for directory, dirnames, filenames in os.walk(source, followlinks=False):
            dirnames.sort()
            base = Path(directory)
            out_dir = destination / base.relative_to(source)
            out_dir.mkdir(parents=True, exist_ok=True)
            for name in sorted(dirnames):
                if (base / name).is_symlink():
                    os.symlink(os.readlink(base / name), out_dir / name)
            for name in sorted(filenames):
                src = base / name
                dst = out_dir / name
                if src.is_symlink():
                    os.symlink(os.readlink(src), dst)
                    continue
                shutil.copyfile(src, dst, follow_symlinks=False)
                shutil.copystat(src, dst, follow_symlinks=False)
                fd = os.open(dst, os.O_RDONLY | os.O_NOFOLLOW)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
                total += dst.stat().st_size
            ff_fsync_directory(out_dir)
    return total


def copy_file_atomic(source: Path, destination: Path, *, chunk: int = 1024 * 1024) -> int:
    """Copy one file in ``chunk``-sized reads to a temp sibling, fsync, rename into place; return bytes.

    A reader (or a crash) sees no file or the whole file, never a prefix. Raises FFStorageError.
    """
    copied = 0
    with ff_translate_errors("copy file", source), ff_atomic_file(destination) as part:
        with source.open("rb") as src, part.open("wb") as dst:
            while block := src.read(chunk):
                dst.write(block)
                copied += len(block)
    return copied


def _rename(src: Path, dst: Path) -> None:
    with ff_translate_errors("rename", src):
        os.rename(src, dst)
    ff_fsync_directory(dst.parent)


def recover(target: Path | str) -> FFMigrationStateDTO | None:
    """Bring a target out of an interrupted run; return the (updated) journal, if any.

    * killed before the swap: the target was never touched; the staging copy is discarded.
    * killed during the swap: the staging copy was verified before the swap began, so the swap
      is completed (the target is either still the old tree, or missing, or already the new one).
    """
    state = read_state(target)
    if state is None:
        return None
    work = work_dir_for(target)
    staging = work / "staging"
    target_path = Path(state.target)
    if state.phase in ("prepared", "staged"):
        ff_remove_tree(staging)
        return state
    if state.phase == "swapping":
        previous = work / state.run_id / "previous"
        if staging.exists():
            if target_path.exists():
                if previous.exists():
                    raise FFConflictError("both the previous tree and the target exist mid-swap; inspect by hand", path=work)
                _rename(target_path, previous)
            _rename(staging, target_path)
        ff_remove_tree(previous)
        state.phase = "done"
        write_state(state)
    return state


def swap_in(state: FFMigrationStateDTO) -> None:
    """Replace the target with the verified staging copy (two renames, journalled)."""
    work = work_dir_for(state.target)
    staging = work / "staging"
    target_path = Path(state.target)
    previous = work / state.run_id / "previous"
    state.phase = "swapping"
    write_state(state)
    ff_ensure_directory(previous.parent)
    if target_path.exists():
        _rename(target_path, previous)
    _rename(staging, target_path)
    ff_remove_tree(previous)  # the backup is the independent copy; this was the same bytes
    state.phase = "done"
    write_state(state)


def rollback(target: Path | str, artifacts_options: Mapping[str, Any] | None = None) -> tuple[FFMigrationStateDTO, FFManifest]:
    """Restore the target as it was before its last migration; return the journal and the new manifest.

    The backup is copied to a sibling first and checked against the manifest taken before the
    migration, so a damaged backup never replaces the target. A local backup that is gone is
    fetched from the artifact store when the journal names a stored copy (``artifacts_options``:
    the store's fsspec options). Raises FFNotFoundError when the
    target has no migration to roll back, FFStorageError when the restored tree differs.
    """
    state = recover(target)
    if state is None:
        raise FFNotFoundError(f"no migration recorded for {target}", kind="migration", key=str(target))
    if state.phase != "done":
        raise FFConflictError(f"the last migration of {target} is {state.phase}; nothing to roll back")
    work = work_dir_for(target)
    target_path = Path(state.target)
    expected = read_manifest(work_store(target), Path(state.manifest_before_path))
    if state.target_existed:
        restore = work / state.run_id / "restore"
        ff_remove_tree(restore)
        if state.backup_url and not Path(state.backup_dir).is_dir():
            fetch_backup(state, restore, artifacts_options)
        else:
            copy_tree(Path(state.backup_dir), restore)
        restored = ff_build_manifest(restore)
        if manifest_digest(restored) != state.manifest_before_digest:
            ff_remove_tree(restore)
            raise FFStorageError("the backup does not match the manifest taken before the migration: " + "; ".join(describe_diff(expected, restored, 5)), path=state.backup_dir)
        discarded = work / state.run_id / "rolled_back"
        ff_remove_tree(discarded)
        if target_path.exists():
            _rename(target_path, discarded)
        _rename(restore, target_path)
        ff_remove_tree(discarded)
        after = ff_build_manifest(target_path)
    else:
        ff_remove_tree(target_path)
        after = FFManifest(entries=[])
    if manifest_digest(after) != state.manifest_before_digest:
        raise FFStorageError("rollback did not restore the manifest: " + "; ".join(describe_diff(expected, after, 5)), path=target_path)
    state.phase = "rolled_back"
    write_state(state)
    return state, after
