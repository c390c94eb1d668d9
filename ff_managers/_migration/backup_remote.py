"""A migration's backup, also kept in the object store of ``storage.artifacts_url``.

The local backup (``.T.ff_migration/<run_id>/backup/``) is what a rollback restores, but it sits on
the same disk as the target: a lost disk or a pruned work directory loses both. With
``storage.artifacts_url`` set, once the local backup is durable and verified against the
manifest taken before the migration, it is packed into one tar (symlinks kept as links, members
sorted) and uploaded as a write-once object with its SHA-256; the journal records its URL. A
rollback whose local backup is gone fetches the tar, checks its SHA-256, unpacks it, and then
applies the same manifest check as for a local backup, so a damaged object never replaces a
target.

Layout in the store::

    migration-backups/<target name>-<sha256(target path)[:12]>/<run_id>/backup.tar
    migration-backups/<target name>-<sha256(target path)[:12]>/<run_id>/manifest_before.json

The store is checked before the migration writes anything, so an unreachable endpoint or a
missing bucket stops the run with nothing written locally.
"""

from __future__ import annotations

import contextlib
import os
import re
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ff_class_configs.ff_configuration_manager_config import (
    FFConfigurationManagerConfigDTO,
)
from ff_class_configs.ff_migration_dtos import FFMigrationStateDTO
from ff_utils.ff_artifact_store import FFArtifactStore
from ff_utils.ff_errors import FFArtifactStoreError, FFStorageError, ff_translate_errors
from ff_utils.ff_hashing import ff_sha256_bytes

__all__ = ["backup_store", "fetch_backup", "upload_backup"]

_PREFIX = "migration-backups"
_TAR = "backup.tar"


def backup_store(config: FFConfigurationManagerConfigDTO) -> FFArtifactStore | None:
    """The configured store, checked reachable now; None when ``storage.artifacts_url`` is unset."""
    url = config.storage.artifacts_url
    if not url:
        return None
    store = FFArtifactStore(url, config.storage.artifacts_options)
    store.check()
    return store


def _folder(state: FFMigrationStateDTO) -> str:
    target = Path(state.target)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", target.name).lstrip("._-") or "root"
    return f"{_PREFIX}/{name}-{ff_sha256_bytes(str(target).encode())[:12]}/{state.run_id}"


def _pack(source: Path, archive: Path) -> None:
    """Every entry under ``source``, sorted, links as links (never followed), into an uncompressed tar."""
    with ff_translate_errors("pack backup", source), tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
        for directory, dirnames, filenames in os.walk(source, followlinks=False):
            dirnames.sort()
            for name in sorted([*dirnames, *filenames]):
                path = Path(directory) / name
                tar.add(path, arcname=str(path.relative_to(source)), recursive=False)
        tar.fileobj.flush()  # type: ignore[union-attr]
        os.fsync(tar.fileobj.fileno())  # type: ignore[union-attr]


def upload_backup(store: FFArtifactStore, state: FFMigrationStateDTO, backup: Path) -> str:
    """Upload the verified local backup and its manifest; return the tar's URL (for the journal)."""
    folder = _folder(state)
    fd, name = tempfile.mkstemp(prefix=".backup.", suffix=".tar", dir=backup.parent)
    os.close(fd)
    archive = Path(name)
    try:
        _pack(backup, archive)
        ref = store.put_file(f"{folder}/{_TAR}", archive)
        if state.manifest_before_path:
            store.put_file(f"{folder}/manifest_before.json", Path(state.manifest_before_path))
    finally:
        with contextlib.suppress(FileNotFoundError):
            archive.unlink()
    return ref.url


def fetch_backup(state: FFMigrationStateDTO, destination: Path, options: Mapping[str, Any] | None = None) -> None:
    """Unpack the stored backup of ``state`` into ``destination`` (which must not exist).

    Raises FFArtifactStoreError when the object is missing, unreachable or fails its checksum;
    FFStorageError when the archive holds a member that would land outside ``destination``.
    """
    url = state.backup_url
    base, _, key_tail = url.rpartition(f"/{_PREFIX}/")
    if not base or not key_tail:
        raise FFArtifactStoreError(f"journal names no stored backup: {url!r}", reason="not_found")
    store = FFArtifactStore(base, options)
    archive = destination.parent / f".{destination.name}.tar"
    try:
        store.get_file(f"{_PREFIX}/{key_tail}", archive)
        with ff_translate_errors("unpack backup", archive), tarfile.open(archive, "r") as tar:
            destination.mkdir(parents=True, exist_ok=False)
            try:
                tar.extractall(destination, filter="tar")  # keeps links; refuses paths outside destination
            except tarfile.FilterError as exc:
                raise FFStorageError(f"stored backup holds an unsafe member: {exc}", path=archive) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            archive.unlink()
