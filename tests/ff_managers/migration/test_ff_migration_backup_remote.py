"""Migration backups in the artifact store (storage.artifacts_url), on moto's S3 server."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_managers import FFMigrationManager
from ff_utils.ff_artifact_store import SHA256_METADATA
from ff_utils.ff_errors import FFArtifactStoreError
from ff_utils.ff_hashing import ff_build_manifest
from testing.migration import FFLegacyGeneratorConfig, generate_legacy_root
from tests._s3 import S3Endpoint


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    root = tmp_path / "legacy"
    generate_legacy_root(root, FFLegacyGeneratorConfig(seed=7, users=2, sessions_per_user=1, messages_per_session=3))
    return root


def _target(tmp_path: Path) -> Path:
    """A target that exists, so the migration takes a backup (with a link, kept as a link)."""
    target = tmp_path / "target"
    (target / "notes").mkdir(parents=True)
    (target / "notes" / "a.txt").write_text("kept as it was\n")
    (target / "notes" / "b.bin").write_bytes(os.urandom(4096))
    os.symlink("a.txt", target / "notes" / "link")
    return target


def _manager(tmp_path: Path, s3: S3Endpoint) -> FFMigrationManager:
    return FFMigrationManager(load_config(base_path=tmp_path / "unused", environ={}, overrides={
        "storage": {"artifacts_url": s3.url("ff"), "artifacts_options": s3.options}}))


def _tar_key(s3: S3Endpoint) -> str:
    [key] = [k for k in s3.keys("ff/migration-backups/") if k.endswith("/backup.tar")]
    return key


async def test_the_backup_is_uploaded_and_a_lost_local_backup_is_restored_from_the_store(
    tmp_path: Path, legacy: Path, s3: S3Endpoint
) -> None:
    manager = _manager(tmp_path, s3)
    target = _target(tmp_path)
    before = ff_build_manifest(target)
    run = await manager.migrate(legacy, target)
    assert run.comparison.equivalent
    state = manager.last_run(target)
    assert state.backup_url == f"s3://{s3.bucket}/{_tar_key(s3)}"
    assert any(k.endswith("/manifest_before.json") for k in s3.keys("ff/migration-backups/"))
    shutil.rmtree(state.backup_dir)  # the local disk lost the backup
    restored = manager.rollback(target, artifacts_options=s3.options)
    assert restored.same_content(before) and os.readlink(target / "notes" / "link") == "a.txt"


async def test_a_corrupted_stored_backup_never_replaces_the_target(tmp_path: Path, legacy: Path, s3: S3Endpoint) -> None:
    manager = _manager(tmp_path, s3)
    target = _target(tmp_path)
    await manager.migrate(legacy, target)
    migrated = ff_build_manifest(target)
    shutil.rmtree(manager.last_run(target).backup_dir)
    key = _tar_key(s3)
    original = s3.client().get_object(Bucket=s3.bucket, Key=key)
    # Planted defect: one byte of the stored tar flipped, its recorded checksum kept.
    body = bytearray(original["Body"].read())
    body[len(body) // 2] ^= 0xFF
    s3.client().put_object(Bucket=s3.bucket, Key=key, Body=bytes(body), Metadata={SHA256_METADATA: original["Metadata"][SHA256_METADATA]})
    with pytest.raises(FFArtifactStoreError) as caught:
        manager.rollback(target, artifacts_options=s3.options)
    assert caught.value.reason == "checksum_mismatch"
    assert ff_build_manifest(target).same_content(migrated) and manager.last_run(target).phase == "done"


async def test_a_stored_backup_with_an_escaping_member_is_refused(tmp_path: Path, legacy: Path, s3: S3Endpoint) -> None:
    """A tar that would write outside the restore folder is refused even with a valid checksum."""
    from ff_utils.ff_artifact_store import FFArtifactStore
    from ff_utils.ff_errors import FFStorageError

    manager = _manager(tmp_path, s3)
    target = _target(tmp_path)
    await manager.migrate(legacy, target)
    shutil.rmtree(manager.last_run(target).backup_dir)
    key = _tar_key(s3)
    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w") as tar:
        member = tarfile.TarInfo("../../escaped.txt")
        member.size = 3
        tar.addfile(member, io.BytesIO(b"bad"))
    s3.client().delete_object(Bucket=s3.bucket, Key=key)
    FFArtifactStore(f"s3://{s3.bucket}", s3.options).put_bytes(key, evil.getvalue())
    with pytest.raises(FFStorageError):
        manager.rollback(target, artifacts_options=s3.options)
    assert not (tmp_path / "escaped.txt").exists() and not any(tmp_path.rglob("escaped.txt"))


async def test_an_unreachable_store_stops_the_migration_before_anything_is_written(
    tmp_path: Path, legacy: Path, s3: S3Endpoint
) -> None:
    manager = _manager(tmp_path, s3)
    target = _target(tmp_path)
    before = ff_build_manifest(target)
    s3.stop()
    with pytest.raises(FFArtifactStoreError) as caught:
        await manager.migrate(legacy, target)
    assert caught.value.reason == "unreachable"
    assert ff_build_manifest(target).same_content(before) and not manager.work_dir(target).exists()
