"""The migration manager's refusals for info and drift, exactly: error type, message, ``field`` /
``kind`` / ``key`` / ``path``.

Written for the second mutation run's survivors in ``info._read_root`` (5-11, 21-28) and
``drift.changes_since_migration`` (4-16): the tests checked the error type only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_managers import FFMigrationManager
from ff_managers._migration.backup import read_state, write_state
from ff_utils.ff_errors import FFConflictError, FFNotFoundError, FFValidationError
from testing.migration import FFLegacyGeneratorConfig, generate_legacy_root


@pytest.fixture
def manager(tmp_path: Path) -> FFMigrationManager:
    return FFMigrationManager(load_config(base_path=tmp_path / "unused", environ={}))


def test_info_of_a_missing_folder_names_it(tmp_path: Path, manager: FFMigrationManager) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(FFValidationError) as caught:
        manager.info(missing)
    assert caught.value.message == f"not a directory: {missing}"
    assert caught.value.field == "root" and caught.value.path == missing


def test_info_of_a_folder_that_is_no_data_root_names_it(tmp_path: Path, manager: FFMigrationManager) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("x")
    with pytest.raises(FFValidationError) as caught:
        manager.info(other)
    assert caught.value.message == f"neither an FF data root (no ff_meta.json) nor a legacy v1 root: {other}"
    assert caught.value.field == "root" and caught.value.path == other


def test_drift_of_a_root_never_migrated_is_not_found(tmp_path: Path) -> None:
    root = tmp_path / "never"
    root.mkdir()
    with pytest.raises(FFNotFoundError) as caught:
        FFMigrationManager.changes_since_migration(root)
    assert caught.value.message == f"no migration recorded for {root}"
    assert caught.value.kind == "migration" and caught.value.key == str(root)


async def test_drift_of_a_migration_not_done_is_a_conflict_naming_its_phase(tmp_path: Path, manager: FFMigrationManager) -> None:
    legacy = tmp_path / "legacy"
    generate_legacy_root(legacy, FFLegacyGeneratorConfig(seed=3, users=1, sessions_per_user=1, messages_per_session=2))
    target = tmp_path / "target"
    await manager.migrate(legacy, target)
    state = read_state(target)
    assert state is not None
    state.phase = "rolled_back"
    write_state(state)
    with pytest.raises(FFConflictError) as caught:
        FFMigrationManager.changes_since_migration(target)
    assert caught.value.message == f"the last migration of {target} is rolled_back, not done"
