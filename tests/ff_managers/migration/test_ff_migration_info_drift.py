"""FFMigrationManager.info / validate / changes_since_migration / write_manifest on real migrated roots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_managers import FFMigration, FFMigrationManager, FFMigrationRegistry
from ff_managers._migration.backup import read_state, work_dir_for
from ff_managers._migration.drift import MANIFEST_AFTER
from ff_managers.ff_migration_manager import LEGACY_IMPORT_ID, default_registry
from ff_utils.ff_errors import FFConflictError, FFNotFoundError, FFValidationError
from ff_utils.ff_hashing import FF_MANIFEST_NAME
from testing.migration import FFLegacyGeneratorConfig, generate_legacy_root


@pytest.fixture
def migrated(tmp_path: Path, config: FFConfigurationManagerConfigDTO) -> tuple[Path, Path, FFMigrationManager]:
    legacy = tmp_path / "legacy"
    generate_legacy_root(legacy, FFLegacyGeneratorConfig(seed=5, users=2, sessions_per_user=2, messages_per_session=3))
    manager = FFMigrationManager(config)
    return legacy, tmp_path / "target", manager


async def _migrate(legacy: Path, target: Path, manager: FFMigrationManager) -> None:
    run = await manager.migrate(legacy, target)
    assert run.comparison.equivalent


def _edited_registry() -> FFMigrationRegistry:
    """The default registry with the legacy import's description changed: a changed checksum."""
    (known,) = default_registry().migrations
    return FFMigrationRegistry([FFMigration(known.migration_id, 1, 2, known.description + " (edited)", known.forward)])


async def _step_two_to_three(context: object) -> None:
    return None


async def test_info_of_a_legacy_root_lists_the_import_as_pending(migrated) -> None:
    legacy, _target, manager = migrated
    info = manager.info(legacy)
    assert (info.layout, info.schema_version, info.latest_version) == ("legacy_v1", 1, 2)
    assert info.applied == [] and [p.migration_id for p in info.pending] == [LEGACY_IMPORT_ID]
    assert info.pending[0].checksum == default_registry().get(LEGACY_IMPORT_ID).checksum()
    assert info.last_run is None


async def test_info_after_migration_shows_the_applied_checksum_and_the_last_run(migrated) -> None:
    legacy, target, manager = migrated
    await _migrate(legacy, target, manager)
    info = manager.info(target)
    assert (info.layout, info.schema_version, info.pending) == ("ff", 2, [])
    (row,) = info.applied
    assert row.migration_id == LEGACY_IMPORT_ID and row.state == "applied" and row.checksum == row.checksum_now
    assert info.last_run is not None and info.last_run.phase == "done" and info.last_run.rollback_available
    # A later registry step is pending for this root.
    newer = FFMigrationRegistry([*default_registry().migrations, FFMigration("0002_next", 2, 3, "next", _step_two_to_three)])
    assert [p.migration_id for p in FFMigrationManager(manager.config, registry=newer).info(target).pending] == ["0002_next"]


async def test_info_and_validate_see_a_changed_and_a_missing_migration(migrated) -> None:
    legacy, target, manager = migrated
    await _migrate(legacy, target, manager)
    assert manager.validate(target) == []
    edited = FFMigrationManager(manager.config, registry=_edited_registry())
    (row,) = edited.info(target).applied
    assert row.state == "changed" and row.checksum != row.checksum_now
    assert [p.problem for p in edited.validate(target)] == ["changed"]
    empty = FFMigrationManager(manager.config, registry=FFMigrationRegistry([]))
    assert empty.info(target).applied[0].state == "missing"
    assert "missing" in [p.problem for p in empty.validate(target)]


async def test_validate_checks_ff_meta_against_the_log(migrated) -> None:
    legacy, target, manager = migrated
    await _migrate(legacy, target, manager)
    meta_path = target / "ff_meta.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "schema_version": 3}))
    details = [p.detail for p in manager.validate(target)]
    assert any("knows up to 2" in d for d in details) and any("log ends at 2" in d for d in details)
    meta_path.write_text(json.dumps({**meta, "migrations_applied": [*meta["migrations_applied"], "0009_ghost"]}))
    (problem,) = manager.validate(target)
    assert (problem.migration_id, problem.problem) == ("0009_ghost", "missing")


def test_info_refuses_a_folder_that_is_no_data_root(tmp_path: Path, config) -> None:
    with pytest.raises(FFValidationError):
        FFMigrationManager(config).info(tmp_path)
    with pytest.raises(FFValidationError):
        FFMigrationManager(config).validate(tmp_path / "missing")


async def test_changes_since_migration_lists_added_modified_removed(migrated) -> None:
    legacy, target, manager = migrated
    with pytest.raises(FFNotFoundError):
        manager.changes_since_migration(target)
    await _migrate(legacy, target, manager)
    assert not manager.changes_since_migration(target).changed
    manager.write_manifest(target)  # ff_manifest.json is not data: replacing it is no change
    assert not manager.changes_since_migration(target).changed
    profile = next(target.rglob("profile.json"))
    profile.write_text("{}")
    (target / "notes.txt").write_text("written after the migration")
    meta_log = target / "system" / "migrations.jsonl"
    meta_log.unlink()
    drift = manager.changes_since_migration(target)
    assert drift.changed and drift.paths_known
    assert drift.added == ["notes.txt"] and drift.removed == ["system/migrations.jsonl"]
    assert drift.modified == [profile.relative_to(target).as_posix()]


async def test_drift_falls_back_to_the_roots_manifest_then_to_the_digest(migrated) -> None:
    legacy, target, manager = migrated
    await _migrate(legacy, target, manager)
    state = read_state(target)
    (work_dir_for(target) / state.run_id / MANIFEST_AFTER).unlink()  # a root migrated before the file existed
    (target / "notes.txt").write_text("new")
    drift = manager.changes_since_migration(target)
    assert drift.changed and drift.paths_known and drift.added == ["notes.txt"]
    manager.write_manifest(target)  # the post-migration manifest in the root is replaced: paths unknown
    drift = manager.changes_since_migration(target)
    assert drift.changed and not drift.paths_known and drift.added == []
    (target / "notes.txt").unlink()
    assert not manager.changes_since_migration(target).changed


async def test_changes_since_migration_refuses_a_rolled_back_root(migrated) -> None:
    legacy, target, manager = migrated
    await _migrate(legacy, target, manager)
    manager.rollback(target)
    with pytest.raises(FFConflictError):
        manager.changes_since_migration(target)


def test_write_manifest_then_verify(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    manifest = FFMigrationManager.write_manifest(tmp_path)
    assert manifest.file_count == 1 and (tmp_path / FF_MANIFEST_NAME).is_file()
    assert FFMigrationManager.verify(tmp_path).identical
    (tmp_path / "a.txt").write_text("b")
    assert FFMigrationManager.verify(tmp_path).changed == ["a.txt"]
    with pytest.raises(FFValidationError):
        FFMigrationManager.write_manifest(tmp_path / "missing")
