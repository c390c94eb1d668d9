"""Survivors of the uniform sample of seed 20261208 in ``engine`` and ``audit`` (issue 20,
"Detection power"), each read back as a caller of ``migrate_root`` sees it: the refusal of a
target that is a file, the clock of a source without timestamps, where the backup lies, what a
registered step is given, the step's time budget, and the report of a run that is not swapped in.
Every test here was seen red with its mutant applied by hand (branch rev-mig-a).
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ff_class_configs.ff_migration_dtos import FFIrregularAction, FFLegacyInventoryDTO, FFMigrationRunDTO
from ff_managers import FFMigration, FFMigrationRegistry
from ff_managers._migration import engine
from ff_managers._migration.backup import work_dir_for
from ff_managers._migration.engine import legacy_v1_import_forward, migrate_root
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_managers.ff_data_root import FF_META_NAME
from ff_utils.ff_errors import FFTimeoutError, FFValidationError
from testing.migration import generate_legacy_root
from tests.ff_managers.migration._small_migration import SMALL, config_for

# A session folder of SMALL the reader lists as irregular but imported (no messages file):
# the listing names the folder, not the files in it.
_IMPORTED_FOLDER = "users/user_000/chat_session_no_messages"
_UNLISTED = f"{_IMPORTED_FOLDER}/left_out.txt"


class _SilentReader(FFLegacyReader):
    """Planted defect: the reader finds a stray file and says nothing of it."""

    def scan(self) -> FFLegacyInventoryDTO:
        inventory = super().scan()
        inventory.irregular = [i for i in inventory.irregular if i.path != _UNLISTED]
        return inventory


def _small_source(base: Path) -> Path:
    src = base / "src"
    generate_legacy_root(src, SMALL)
    return src


# ------------------------------------------------------------------ audit.audit_completeness 4
# ------------------------------------------------------------------ engine.migrate_root 386, 404


@pytest.fixture(scope="module")
def refused(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FFMigrationRunDTO, float]:
    """(base, the run, its wall time): a source whose stray file the reader leaves out, migrated."""
    base = tmp_path_factory.mktemp("fresh8_refused")
    src = _small_source(base)
    (src / _UNLISTED).write_text("a file the reader does not mention")
    before = time.perf_counter()
    run = asyncio.run(migrate_root(src, base / "dst", config_for(base), reader_class=_SilentReader))
    return base, run, time.perf_counter() - before


def test_a_file_left_out_below_a_folder_listed_as_imported_is_still_unaccounted(
    refused: tuple[Path, FFMigrationRunDTO, float],
) -> None:
    base, run, _elapsed = refused
    imported = [i for i in run.irregular if i.path == _IMPORTED_FOLDER]
    assert [(i.action, i.line_number) for i in imported] == [(FFIrregularAction.IMPORTED, None)]
    assert not run.comparison.equivalent and run.migrations_applied == []
    assert run.comparison.unaccounted == [_UNLISTED]
    assert f"{_UNLISTED}: neither imported nor listed with a reason" in run.comparison.differences
    assert not (base / "dst").exists()  # not swapped in


def test_a_run_not_swapped_in_still_lists_the_irregular_inputs(refused: tuple[Path, FFMigrationRunDTO, float]) -> None:
    base, run, _elapsed = refused
    expected = FFLegacyReader(base / "src").scan().irregular  # the real reader's list, left-out file included
    listed = {(i.path, i.kind) for i in run.irregular}
    assert {(i.path, i.kind) for i in expected if i.path != _UNLISTED} <= listed
    assert ("users/user_000/notes.txt", "stray_file") in listed


def test_a_run_not_swapped_in_reports_how_long_it_took(refused: tuple[Path, FFMigrationRunDTO, float]) -> None:
    _base, run, elapsed = refused
    assert 0 < run.duration_seconds <= elapsed


# ------------------------------------------------------------------ engine._check_paths 31


async def test_a_target_that_is_a_file_is_refused_naming_the_target(tmp_path: Path) -> None:
    src = _small_source(tmp_path)
    target = tmp_path / "target.txt"
    target.write_text("not a folder")
    with pytest.raises(FFValidationError) as caught:
        await migrate_root(src, target, config_for(tmp_path))
    assert caught.value.message == f"target exists and is not a directory: {target}"
    assert caught.value.field == "target" and caught.value.path == target
    assert target.read_text() == "not a folder"


# ------------------------------------------------------------------ engine._clock_for 11


async def test_a_source_without_timestamps_is_migrated_on_the_clock_of_2000_01_01(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "users").mkdir(parents=True)  # a legacy root with nothing dated in it
    run = await migrate_root(src, tmp_path / "dst", config_for(tmp_path))
    assert run.comparison.equivalent, run.comparison.differences
    meta = json.loads((tmp_path / "dst" / FF_META_NAME).read_text())
    assert meta["created_at"] == "2000-01-01T00:00:00Z"


# ------------------------------------------------------------------ engine.migrate_root 142, 143


async def test_the_backup_of_an_existing_target_lies_in_its_runs_folder_named_backup(tmp_path: Path) -> None:
    src = _small_source(tmp_path)
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / "old.txt").write_text("the target as it was")
    run = await migrate_root(src, dst, config_for(tmp_path))
    assert run.comparison.equivalent, run.comparison.differences
    # README: "it backs the target up (`.DIR.ff_migration/<run>/backup`, manifest-checked)"
    backup = tmp_path / ".dst.ff_migration" / run.run_id / "backup"
    assert work_dir_for(dst) == tmp_path / ".dst.ff_migration"
    assert run.backup_dir == str(backup)
    assert (backup / "old.txt").read_text() == "the target as it was"
    assert not (dst / "old.txt").exists()


# ------------------------------------------------------------------ engine.migrate_root 216, 218


async def test_a_registered_step_is_given_the_staging_root_and_the_sources_reader(tmp_path: Path) -> None:
    src = _small_source(tmp_path)
    seen: dict[str, Any] = {}

    async def recording_import(context: engine.FFMigrationContext) -> Any:
        seen["staging"] = context.staging
        seen["meta_there"] = (context.staging / FF_META_NAME).is_file()
        seen["reader_root"] = context.reader.root
        seen["users"] = [u.user_id for u in context.reader.scan().users]
        return await legacy_v1_import_forward(context)

    registry = FFMigrationRegistry([FFMigration(engine.LEGACY_IMPORT_ID, 1, 2, "import", recording_import)])
    run = await migrate_root(src, tmp_path / "dst", config_for(tmp_path), registry=registry)
    assert run.comparison.equivalent, run.comparison.differences
    assert seen["staging"] == work_dir_for(tmp_path / "dst") / "staging" and seen["meta_there"]
    assert Path(seen["reader_root"]) == src.resolve()
    assert seen["users"] == ["user_000"]


# ------------------------------------------------------------------ engine.migrate_root 229


async def test_a_step_still_running_when_the_minutes_budget_is_spent_stops_with_a_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _small_source(tmp_path)
    config = config_for(tmp_path)
    assert config.migration.timeout_minutes == 60.0  # the default budget: an hour
    real = time.perf_counter
    first: list[float] = []

    def run_clock() -> float:
        """The run's clock: 59 min 59 s of the hour are gone by the time the step starts."""
        now = real()
        if not first:
            first.append(now)
            return now
        return now + 3599.0

    async def slow_step(context: engine.FFMigrationContext) -> None:
        await asyncio.sleep(3.0)  # past the 1 s left (then cancelled); a budget of 61 min would leave it 61 s

    monkeypatch.setattr(engine, "time", SimpleNamespace(perf_counter=run_clock))
    registry = FFMigrationRegistry([FFMigration(engine.LEGACY_IMPORT_ID, 1, 2, "import", slow_step)])
    with pytest.raises(FFTimeoutError) as caught:  # at the 1 s floor, not after the step's 3 s
        await migrate_root(src, tmp_path / "dst", config, registry=registry)
    assert "ran past 60.0 min" in caught.value.message
    assert not (tmp_path / "dst").exists()
