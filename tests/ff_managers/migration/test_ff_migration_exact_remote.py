"""The stored backup's tar and its fetch, read back exactly, without running a migration.

Written for survivors of this session's mutation run in ``backup_remote`` (docs/MUTATION.md,
``_migration``): ``_pack`` (a linked directory followed, directories added recursively: each
member then appears twice or through the link), ``fetch_backup``'s refusal of a journal that
names no stored backup, and an unpack error naming its action and the archive.
"""

from __future__ import annotations

import io
import os
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ff_class_configs.ff_migration_dtos import FFMigrationStateDTO
from ff_managers._migration.backup_remote import _pack, fetch_backup
from ff_utils.ff_artifact_store import FFArtifactStore
from ff_utils.ff_errors import FFArtifactStoreError, FFStorageError
from tests._s3 import S3Endpoint


def _state(backup_url: str) -> FFMigrationStateDTO:
    return FFMigrationStateDTO(run_id="run-1", source="/src", target="/t", in_place=False, target_existed=True,
                               phase="done", started_at=datetime(2026, 1, 2, tzinfo=UTC), backup_url=backup_url)


def _backup(tmp_path: Path) -> Path:
    backup = tmp_path / "backup"
    (backup / "notes" / "deep").mkdir(parents=True)
    (backup / "notes" / "a.txt").write_text("a")
    (backup / "notes" / "deep" / "b.txt").write_text("b")
    os.symlink("notes", backup / "linked_dir")  # a link to a directory: kept as a link, never entered
    os.symlink("a.txt", backup / "notes" / "link")
    return backup


def test_the_tar_holds_each_entry_once_sorted_links_as_links(tmp_path: Path) -> None:
    archive = tmp_path / "backup.tar"
    _pack(_backup(tmp_path), archive)
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["linked_dir", "notes", "notes/a.txt", "notes/deep", "notes/link", "notes/deep/b.txt"]
    kinds = {m.name: ("link" if m.issym() else "dir" if m.isdir() else "file") for m in members}
    assert kinds == {"linked_dir": "link", "notes": "dir", "notes/a.txt": "file", "notes/deep": "dir",
                     "notes/link": "link", "notes/deep/b.txt": "file"}
    assert {m.name: m.linkname for m in members if m.issym()} == {"linked_dir": "notes", "notes/link": "a.txt"}


@pytest.mark.parametrize("url", ["", "s3://bucket/elsewhere/backup.tar", "migration-backups/x/backup.tar"])
def test_a_journal_that_names_no_stored_backup_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(FFArtifactStoreError) as caught:
        fetch_backup(_state(url), tmp_path / "restore")
    assert str(caught.value).startswith(f"journal names no stored backup: {url!r}")
    assert caught.value.reason == "not_found"
    assert not (tmp_path / "restore").exists()


def test_a_stored_backup_unpacks_and_an_unpack_error_names_the_archive(tmp_path: Path, s3: S3Endpoint) -> None:
    archive = tmp_path / "made.tar"
    _pack(_backup(tmp_path), archive)
    key = "ff/migration-backups/t-0123456789ab/run-1/backup.tar"
    FFArtifactStore(f"s3://{s3.bucket}", s3.options).put_file(key, archive)
    state = _state(f"s3://{s3.bucket}/{key}")

    fetch_backup(state, tmp_path / "restored", s3.options)
    assert (tmp_path / "restored" / "notes" / "deep" / "b.txt").read_text() == "b"
    assert os.readlink(tmp_path / "restored" / "linked_dir") == "notes"
    assert not (tmp_path / ".restored.tar").exists()  # the downloaded archive is removed

    (tmp_path / "exists").mkdir()
    with pytest.raises(FFStorageError) as caught:
        fetch_backup(state, tmp_path / "exists", s3.options)
    assert str(caught.value).startswith("cannot unpack backup: ")
    assert Path(caught.value.path) == tmp_path / ".exists.tar"
    assert not (tmp_path / ".exists.tar").exists()


def test_a_stored_backup_with_an_escaping_member_names_it_and_the_archive(tmp_path: Path, s3: S3Endpoint) -> None:
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        member = tarfile.TarInfo("../../escaped.txt")
        member.size = 3
        tar.addfile(member, io.BytesIO(b"bad"))
    key = "ff/migration-backups/t-0123456789ab/run-1/backup.tar"
    FFArtifactStore(f"s3://{s3.bucket}", s3.options).put_file(key, evil)
    (tmp_path / "work").mkdir()
    with pytest.raises(FFStorageError) as caught:
        fetch_backup(_state(f"s3://{s3.bucket}/{key}"), tmp_path / "work" / "restore", s3.options)
    assert str(caught.value).startswith("stored backup holds an unsafe member: ") and "escaped.txt" in str(caught.value)
    assert Path(caught.value.path) == tmp_path / "work" / ".restore.tar"
    assert not any(tmp_path.rglob("escaped.txt"))
