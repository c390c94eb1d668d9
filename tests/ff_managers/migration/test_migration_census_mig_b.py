"""Census of ``backup``, ``backup_remote``, ``registry`` and ``compare`` (issue 20): exact checks
written for the survivors of a complete mutation run of those modules (branch mig-b).

Each test pins what a caller sees; no migration is run (trees, journals and registries are made
by hand), so each test takes milliseconds.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ff_class_configs.ff_migration_dtos import FFMigrationStateDTO
from ff_managers._migration.backup import (
    copy_file_atomic,
    copy_tree,
    manifest_digest,
    read_state,
    recover,
    rollback,
    swap_in,
    work_dir_for,
    write_state,
)
from ff_utils.ff_errors import FFNotFoundError, FFStorageError
from ff_utils.ff_hashing import ff_build_manifest, ff_write_manifest


def test_copy_tree_makes_the_missing_parents_of_its_destination(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "f.txt").write_bytes(b"abc")
    destination = tmp_path / "not" / "yet" / "there"
    assert copy_tree(source, destination) == 3
    assert ff_build_manifest(destination).same_content(ff_build_manifest(source))


# ------------------------------------------------------------------ backup.rollback


def _done_in_place(tmp_path: Path, *, backup_url: str = "", extra: int = 0) -> tuple[Path, FFMigrationStateDTO]:
    """A target migrated (journal ``done``) whose local backup holds ``a.txt`` (and ``extra`` files
    ``f0.txt``...); the target now holds ``new.txt``."""
    target = tmp_path / "target"
    target.mkdir()
    (target / "new.txt").write_text("new")
    work = work_dir_for(target)
    backup_dir = work / "run-1" / "backup"
    backup_dir.mkdir(parents=True)
    (backup_dir / "a.txt").write_text("a")
    for n in range(extra):
        (backup_dir / f"f{n}.txt").write_text(str(n))
    before = ff_build_manifest(backup_dir)
    ff_write_manifest(work / "run-1", before, work / "run-1" / "manifest_before.json")
    state = FFMigrationStateDTO.model_validate({
        "run_id": "run-1", "source": str(target.resolve()), "target": str(target.resolve()), "in_place": True,
        "target_existed": True, "phase": "done", "started_at": "2026-01-02T00:00:00Z",
        "backup_dir": str(backup_dir), "backup_url": backup_url,
        "manifest_before_path": str(work / "run-1" / "manifest_before.json"),
        "manifest_before_digest": manifest_digest(before)})
    write_state(state)
    return target, state


def test_a_lost_local_backup_without_a_stored_copy_is_refused_naming_what_is_missing(tmp_path: Path) -> None:
    target, state = _done_in_place(tmp_path)
    shutil.rmtree(state.backup_dir)
    with pytest.raises(FFStorageError) as caught:
        rollback(target)
    assert type(caught.value) is FFStorageError
    assert caught.value.message == "the backup does not match the manifest taken before the migration: removed: a.txt"
    assert Path(caught.value.path) == Path(state.backup_dir)
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert read_state(target).phase == "done"  # type: ignore[union-attr]


def test_a_lost_backup_names_five_missing_files_then_counts_the_rest(tmp_path: Path) -> None:
    target, state = _done_in_place(tmp_path, extra=6)
    shutil.rmtree(state.backup_dir)
    with pytest.raises(FFStorageError) as caught:
        rollback(target)
    named = "; ".join(f"removed: {name}" for name in ["a.txt", "f0.txt", "f1.txt", "f2.txt", "f3.txt"])
    assert caught.value.message == f"the backup does not match the manifest taken before the migration: {named}; ... and 2 more"


def test_a_rollback_that_cannot_restore_names_five_differences_and_the_target(tmp_path: Path) -> None:
    # the target did not exist before the migration, but the manifest taken before lists 7 files:
    # removing the target cannot restore them
    target = tmp_path / "target"
    target.mkdir()
    for n in range(7):
        (target / f"f{n}.txt").write_text(str(n))
    before = ff_build_manifest(target)
    work = work_dir_for(target)
    (work / "run-1").mkdir(parents=True)
    ff_write_manifest(work / "run-1", before, work / "run-1" / "manifest_before.json")
    write_state(FFMigrationStateDTO.model_validate({
        "run_id": "run-1", "source": str(tmp_path / "src"), "target": str(target.resolve()), "in_place": False,
        "target_existed": False, "phase": "done", "started_at": "2026-01-02T00:00:00Z",
        "manifest_before_path": str(work / "run-1" / "manifest_before.json"),
        "manifest_before_digest": manifest_digest(before)}))
    with pytest.raises(FFStorageError) as caught:
        rollback(target)
    named = "; ".join(f"removed: f{n}.txt" for n in range(5))
    assert caught.value.message == f"rollback did not restore the manifest: {named}; ... and 2 more"
    assert Path(caught.value.path) == target.resolve()


def test_a_local_backup_is_restored_even_when_a_stored_copy_is_named(tmp_path: Path) -> None:
    # the stored copy is only for a local backup that is gone: this URL is never read
    unreachable = f"file://{tmp_path}/no-store/migration-backups/target-000000000000/run-1/backup.tar"
    target, _state = _done_in_place(tmp_path, backup_url=unreachable)
    state, after = rollback(target)
    assert state.phase == "rolled_back"
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]
    assert (target / "a.txt").read_text() == "a"
    assert [e.path for e in after.entries] == ["a.txt"]


# ------------------------------------------------------------------ errors a caller reads; the journal


def test_a_swap_without_its_staging_copy_is_not_found_naming_the_rename_and_the_folder(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / "old.txt").write_text("old")
    state = FFMigrationStateDTO.model_validate({
        "run_id": "run-1", "source": str(tmp_path / "src"), "target": str(target.resolve()), "in_place": False,
        "target_existed": True, "phase": "staged", "started_at": "2026-01-02T00:00:00Z"})
    staging = work_dir_for(target) / "staging"
    staging.parent.mkdir()  # the run's work folder exists; its staging copy does not
    with pytest.raises(FFNotFoundError) as caught:
        swap_in(state)  # the target is moved aside first, then the missing staging copy is met
    assert caught.value.message == "cannot rename: no such file"
    assert Path(caught.value.path) == staging and caught.value.key == str(staging)


def test_copying_a_missing_file_is_not_found_naming_the_copy_and_the_source(tmp_path: Path) -> None:
    missing = tmp_path / "missing.bin"
    with pytest.raises(FFNotFoundError) as caught:
        copy_file_atomic(missing, tmp_path / "out.bin")
    assert caught.value.message == "cannot copy file: no such file"
    assert Path(caught.value.path) == missing
    assert not (tmp_path / "out.bin").exists()


def test_the_journal_records_when_it_was_written_in_utc(tmp_path: Path) -> None:
    target = tmp_path / "target"
    work_dir_for(target).mkdir()
    state = FFMigrationStateDTO.model_validate({
        "run_id": "run-1", "source": str(tmp_path / "src"), "target": str(target.resolve()), "in_place": False,
        "target_existed": False, "phase": "prepared", "started_at": "2026-01-02T00:00:00Z",
        "updated_at": "2026-01-02T00:00:00Z"})
    before = datetime.now(UTC)
    write_state(state)
    read = read_state(target)
    assert read is not None and read.updated_at.utcoffset() == timedelta(0)
    assert read.updated_at >= before.replace(microsecond=0)
    assert read.model_dump(exclude={"updated_at"}) == state.model_dump(exclude={"updated_at"})


@pytest.mark.parametrize("phase", ["prepared", "staged"])
def test_recover_discards_the_staging_copy_of_a_run_killed_before_its_swap(tmp_path: Path, phase: str) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / "old.txt").write_text("old")
    staging = work_dir_for(target) / "staging"
    staging.mkdir(parents=True)
    (staging / "half.txt").write_text("half")
    write_state(FFMigrationStateDTO.model_validate({
        "run_id": "run-1", "source": str(tmp_path / "src"), "target": str(target.resolve()), "in_place": False,
        "target_existed": True, "phase": phase, "started_at": "2026-01-02T00:00:00Z"}))
    state = recover(target)
    assert state is not None and state.phase == phase
    assert not staging.exists()
    assert sorted(p.name for p in target.iterdir()) == ["old.txt"]
