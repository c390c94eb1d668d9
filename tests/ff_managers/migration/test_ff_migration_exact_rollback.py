"""FFMigrationManager.rollback, exactly: its refusals (type, message, kind/key/path) and an in-place
rollback read back byte for byte, with the scratch folders it promises to clear.

Written for the mutation run's survivors in ``backup.rollback`` (docs/MUTATION.md, ``_migration``):
the package's own tests only rolled back a target that did not exist before, so the branch that
copies the backup aside, checks it against the manifest taken before and swaps it in was unjudged.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_managers import FFMigrationManager
from ff_managers._migration.backup import manifest_digest, read_state, work_dir_for, write_state
from ff_utils.ff_errors import FFConflictError, FFNotFoundError, FFStorageError
from ff_utils.ff_hashing import ff_build_manifest
from testing.migration import FFLegacyGeneratorConfig, generate_legacy_root


@pytest.fixture
def manager(tmp_path: Path) -> FFMigrationManager:
    return FFMigrationManager(load_config(base_path=tmp_path / "unused", environ={}))


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A legacy root that is migrated in place (target == source)."""
    root = tmp_path / "data"
    generate_legacy_root(root, FFLegacyGeneratorConfig(seed=11, users=2, sessions_per_user=1, messages_per_session=3))
    return root


def test_a_root_never_migrated_is_not_found_naming_it(tmp_path: Path) -> None:
    root = tmp_path / "never"
    root.mkdir()
    with pytest.raises(FFNotFoundError) as caught:
        FFMigrationManager.rollback(root)
    assert caught.value.message == f"no migration recorded for {root}"
    assert caught.value.kind == "migration" and caught.value.key == str(root)


# ("swapping" is not among them: recover() completes an interrupted swap first, so it rolls back)
@pytest.mark.parametrize("phase", ["prepared", "staged", "rolled_back"])
async def test_a_migration_that_is_not_done_is_a_conflict_and_changes_nothing(
    data: Path, manager: FFMigrationManager, phase: str
) -> None:
    await manager.migrate(data, data)
    state = read_state(data)
    assert state is not None
    state.phase = phase  # type: ignore[assignment]
    write_state(state)
    before = ff_build_manifest(data)
    with pytest.raises(FFConflictError) as caught:
        FFMigrationManager.rollback(data)
    assert caught.value.message == f"the last migration of {data} is {phase}; nothing to roll back"
    assert ff_build_manifest(data).same_content(before)
    assert read_state(data).phase == phase


async def test_an_in_place_rollback_restores_the_bytes_and_clears_its_scratch(data: Path, manager: FFMigrationManager) -> None:
    before = ff_build_manifest(data)
    run = await manager.migrate(data, data)
    assert run.in_place and not ff_build_manifest(data).same_content(before)
    state = read_state(data)
    assert state is not None and state.target_existed and Path(state.backup_dir).is_dir()

    returned = FFMigrationManager.rollback(data)

    assert returned.same_content(before) and manifest_digest(returned) == manifest_digest(before)
    assert ff_build_manifest(data).same_content(before)
    after = read_state(data)
    assert after is not None and after.phase == "rolled_back" and after.run_id == state.run_id
    run_dir = work_dir_for(data) / state.run_id
    assert not (run_dir / "restore").exists() and not (run_dir / "rolled_back").exists()
    # rolled back once: a second rollback is refused, and the restored root is not touched
    with pytest.raises(FFConflictError):
        FFMigrationManager.rollback(data)
    assert ff_build_manifest(data).same_content(before)


async def test_a_damaged_backup_is_refused_before_it_replaces_the_root(data: Path, manager: FFMigrationManager) -> None:
    await manager.migrate(data, data)
    state = read_state(data)
    assert state is not None
    migrated = ff_build_manifest(data)
    damaged = [p for p in sorted(Path(state.backup_dir).rglob("*")) if p.is_file()][:2]
    for path in damaged:
        path.write_bytes(path.read_bytes() + b"!")
    relatives = [p.relative_to(state.backup_dir).as_posix() for p in damaged]

    with pytest.raises(FFStorageError) as caught:
        FFMigrationManager.rollback(data)

    message = caught.value.message
    prefix = "the backup does not match the manifest taken before the migration: "
    assert message.startswith(prefix)
    assert message[len(prefix):] == "; ".join(f"changed: {relative}" for relative in sorted(relatives))
    assert Path(caught.value.path) == Path(state.backup_dir)
    assert ff_build_manifest(data).same_content(migrated)  # the migrated root stays as it was
    assert not (work_dir_for(data) / state.run_id / "restore").exists()
    assert read_state(data).phase == "done"


async def test_a_backup_that_is_gone_without_a_stored_copy_is_not_swapped_in(data: Path, manager: FFMigrationManager) -> None:
    await manager.migrate(data, data)
    state = read_state(data)
    assert state is not None and state.backup_url == ""
    migrated = ff_build_manifest(data)
    shutil.rmtree(state.backup_dir)
    with pytest.raises(FFStorageError):
        FFMigrationManager.rollback(data)
    assert ff_build_manifest(data).same_content(migrated)
