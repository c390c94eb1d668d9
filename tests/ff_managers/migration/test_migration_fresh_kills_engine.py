"""Survivors of the second uniform sample (seed 20261207) in ``engine``, ``backup``, ``audit``,
``compare``, ``manager_adapter`` and ``registry``, each read back as a caller sees it
(docs/MUTATION.md, "``_migration``: second sample (seed 20261207), engine/backup/compare").
"""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_migration_dtos import FFIrregularItemDTO, FFMigrationStateDTO
from ff_managers import FFMigration, FFMigrationRegistry
from ff_managers._migration import backup, engine
from ff_managers._migration.audit import FFLineAudit
from ff_managers._migration.backup import manifest_digest, read_state, recover, rollback, swap_in, work_dir_for, write_state
from ff_managers._migration.compare import compare_source_target
from ff_managers._migration.engine import legacy_v1_import_forward, migrate_root, plan_migration
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_managers._migration.manager_adapter import FFManagerTarget
from ff_utils.ff_errors import FFConflictError, FFStorageError, FFValidationError
from ff_utils.ff_hashing import ff_build_manifest, ff_write_manifest
from testing.migration import generate_legacy_root
from tests.ff_managers.migration._small_migration import SMALL, TargetView, config_for, migrate_small




@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return migrate_small(tmp_path_factory.mktemp("fresh_engine"))



async def _compare(migrated: tuple[Path, Path], *, skipped: list[FFIrregularItemDTO] | None = None,
                   **overrides: Any) -> Any:
    src, dst = migrated
    reader = FFLegacyReader(src)
    async with FFManagerTarget(load_config(base_path=dst, environ={})) as real:
        return await compare_source_target(reader, reader.scan(), TargetView(real, **overrides), [], skipped or [])


# ------------------------------------------------------------------ audit.FFLineAudit.check 27


def test_twenty_one_unaccounted_lines_name_twenty_and_count_one_more(tmp_path: Path) -> None:
    (tmp_path / "messages.jsonl").write_text("".join(f'{{"n": {n}}}\n' for n in range(1, 23)))
    audit = FFLineAudit(tmp_path, [])
    audit.check("messages.jsonl", {1})  # lines 2..22 unaccounted: 21
    assert audit.problems == [f"messages.jsonl:{n}" for n in range(2, 22)] + ["messages.jsonl: ... and 1 more line(s)"]


# ------------------------------------------------------------------ backup.recover / swap_in / rollback


def _mid_swap(tmp_path: Path, *, phase: str = "swapping") -> tuple[Path, Path, FFMigrationStateDTO]:
    target = tmp_path / "target"
    target.mkdir()
    (target / "old.txt").write_text("old")
    work = work_dir_for(target)
    (work / "staging").mkdir(parents=True)
    (work / "staging" / "new.txt").write_text("new")
    (work / "run-1").mkdir()  # the run's folder exists from the run's start
    state = FFMigrationStateDTO.model_validate({
        "run_id": "run-1", "source": str(tmp_path / "src"), "target": str(target.resolve()), "in_place": False,
        "target_existed": True, "phase": phase, "started_at": "2026-01-02T00:00:00Z"})
    write_state(state)
    return target, work, state


def test_recover_completes_a_swap_killed_before_its_first_rename(tmp_path: Path) -> None:
    target, work, _state = _mid_swap(tmp_path)
    recovered = recover(target)
    assert recovered is not None and recovered.phase == "done"
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert not (work / "staging").exists()
    assert not any(p.name == "old.txt" for p in work.rglob("*"))


def test_recover_refuses_when_the_previous_tree_and_the_target_both_exist(tmp_path: Path) -> None:
    target, work, _state = _mid_swap(tmp_path)
    (work / "run-1" / "previous").mkdir()
    with pytest.raises(FFConflictError) as caught:
        recover(target)
    assert caught.value.message == "both the previous tree and the target exist mid-swap; inspect by hand"
    assert caught.value.path == work


def test_a_swap_killed_between_its_renames_leaves_no_copy_of_the_old_tree_after_recover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target, work, state = _mid_swap(tmp_path, phase="staged")
    real_rename = backup._rename

    def crash_before_the_second_rename(src: Path, dst: Path) -> None:
        if src.name == "staging":
            raise OSError("killed")
        real_rename(src, dst)

    monkeypatch.setattr(backup, "_rename", crash_before_the_second_rename)
    with pytest.raises(OSError):
        swap_in(state)
    monkeypatch.setattr(backup, "_rename", real_rename)
    recover(target)
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert not any(p.name == "old.txt" for p in work.rglob("*"))  # the old tree's swap copy is cleared


def test_a_rollback_that_cannot_restore_the_manifest_is_a_storage_error_naming_the_difference(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / "a.txt").write_text("a")
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
    assert caught.value.message == "rollback did not restore the manifest: removed: a.txt"
    assert read_state(target).phase == "done"  # type: ignore[union-attr]


# ------------------------------------------------------------------ compare


async def test_a_persona_count_that_differs_in_the_target_is_a_difference(migrated: tuple[Path, Path]) -> None:
    _src, dst = migrated
    async with FFManagerTarget(load_config(base_path=dst, environ={})) as real:
        true_counts = await real.counts()

    async def counts() -> dict[str, int]:
        return {**true_counts, "personas": true_counts["personas"] + 1}

    comparison = await _compare(migrated, counts=counts)
    n = comparison.counts_source["personas"]
    assert n >= 1
    assert f"count of personas: source {n}, target {true_counts['personas'] + 1}" in comparison.differences
    assert not comparison.equivalent


async def test_a_skipped_document_does_not_stop_the_comparison_of_the_next_ones(
    migrated: tuple[Path, Path], tmp_path: Path
) -> None:
    src = tmp_path / "src"
    shutil.copytree(migrated[0], src, symlinks=True)
    (docs,) = src.glob("users/*/*/documents")
    (docs / "zz_second.txt").write_text("a second document")
    inventory = FFLegacyReader(src).scan()
    (session,) = [s for u in inventory.users for s in u.sessions if s.documents]
    assert len(session.documents) == 2
    skip = [FFIrregularItemDTO(path=session.documents[0].relative_path, kind="document_refused",
                               action="skipped", reason="by the test")]

    async def no_documents(user_id: str, kb_id: str, document_id: str) -> None:
        return None

    comparison = await _compare((src, migrated[1]), skipped=skip, get_document=no_documents)
    assert comparison.counts_source["documents"] == 1
    missing = [d for d in comparison.differences if d.endswith(": document missing in target")]
    assert missing == [f"{session.documents[1].relative_path}: document missing in target"]


async def test_a_profile_field_the_target_changed_is_named_with_the_profile_file(migrated: tuple[Path, Path]) -> None:
    _src, dst = migrated
    async with FFManagerTarget(load_config(base_path=dst, environ={})) as real:
        async def get_user(user_id: str) -> dict[str, Any] | None:
            stored = await real.get_user(user_id)
            assert stored is not None
            return {**stored, "extra": {**(stored.get("extra") or {}), "added_by_test": 1}}

        reader = FFLegacyReader(migrated[0])
        comparison = await compare_source_target(reader, reader.scan(), TargetView(real, get_user=get_user), [], [])
    profile_lines = [d for d in comparison.differences if "profile.json" in d]
    assert profile_lines == ["users/user_000/profile.json: field 'added_by_test' only in target"]


async def test_a_vector_file_that_is_not_byte_identical_is_named(migrated: tuple[Path, Path], tmp_path: Path) -> None:
    other = tmp_path / "other.npy"
    other.write_bytes(b"not the same bytes")

    async def vector_file(user_id: str, session_id: str, name: str) -> Path:
        return other

    comparison = await _compare(migrated, vector_file=vector_file)
    lines = [d for d in comparison.differences if d.endswith(": vector file not byte-identical")]
    assert len(lines) == comparison.counts_source["vector_files"] == 2


# ------------------------------------------------------------------ engine


async def test_panel_messages_are_imported_in_batches_no_larger_than_the_panel_managers_limit(tmp_path: Path) -> None:
    generate_legacy_root(tmp_path / "src", SMALL)
    config = config_for(tmp_path, FF_PANEL__MAX_IMPORT_MESSAGES="1")
    run = await migrate_root(tmp_path / "src", tmp_path / "dst", config)
    assert run.comparison.equivalent, run.comparison.differences
    # 8 panel messages, one a call (a batch the manager refuses is retried record by record, so the
    # run would pass anyway: the report's batch figures show the oversized call)
    assert run.counts["panel_messages"] == 8
    assert run.largest_batch == 2  # a chat session's 2 messages, not the panel's 8
    assert run.batches_written >= run.counts["panel_messages"]


async def test_a_backup_that_differs_from_the_target_is_refused_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate_legacy_root(tmp_path / "src", SMALL)
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / "kept.txt").write_text("the target as it was")
    real_copy = engine.copy_tree

    def copy_then_damage(source: Path, destination: Path) -> int:
        copied = real_copy(source, destination)
        (destination / "kept.txt").write_text("damaged")
        return copied

    monkeypatch.setattr(engine, "copy_tree", copy_then_damage)
    with pytest.raises(FFStorageError) as caught:
        await migrate_root(tmp_path / "src", dst, config_for(tmp_path))
    assert caught.value.message == "the backup copy does not match the target's manifest"
    assert (dst / "kept.txt").read_text() == "the target as it was"


async def test_a_run_not_swapped_in_reports_its_id_map_batch_size_and_logs_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    src = tmp_path / "src"
    generate_legacy_root(src, SMALL)
    chat = src / "users" / "user_000" / "chat_session_user_000_00001"
    chat.rename(chat.parent / "my chat")  # an id the v2 rule refuses: mapped, listed in the id map
    config = config_for(tmp_path, FF_MIGRATION__BATCH_SIZE="7")
    plan = await plan_migration(src, tmp_path / "dst", config)

    async def import_then_touch_the_source(context: Any) -> Any:
        stats = await legacy_v1_import_forward(context)
        (context.source / "late.txt").write_text("written while migrating")
        return stats

    registry = FFMigrationRegistry([FFMigration("0001_legacy_v1_import", 1, 2, "import", import_then_touch_the_source)])
    with caplog.at_level(logging.ERROR):
        run = await migrate_root(src, tmp_path / "dst", config, registry=registry)
    assert not run.comparison.equivalent and run.migrations_applied == []
    assert plan.id_map and run.id_map == plan.id_map
    assert run.batch_size == 7
    n = len(run.comparison.differences)
    assert f"migration of {src.resolve()} not swapped in: {n} difference(s)" in caplog.messages


# ------------------------------------------------------------------ manager_adapter


_FIXED = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)


async def test_the_targets_clock_dates_sessions_and_panels(tmp_path: Path) -> None:
    config = load_config(base_path=tmp_path / "root", environ={})
    async with FFManagerTarget(config, clock=lambda: _FIXED) as target:
        await target.put_user("user_a", {})
        await target.put_session("user_a", {"session_id": "chat_a"})
        session = await target.get_session("user_a", "chat_a")
        await target.put_panel("user_a", {"panel_id": "panel_a", "participants": [
            {"participant_id": "user", "kind": "human", "name": "user_a"},
            {"participant_id": "assistant", "kind": "ai", "name": "assistant"}]})
        got = await target.get_panel("user_a", "panel_a")
    assert session is not None and got is not None
    assert datetime.fromisoformat(session["created_at"].replace("Z", "+00:00")) == _FIXED
    assert datetime.fromisoformat(got["created_at"].replace("Z", "+00:00")) == _FIXED


async def test_a_documents_legacy_mime_type_wins_over_its_file_suffix(tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_text("# Heading\n\nbody\n")
    config = load_config(base_path=tmp_path / "root", environ={})
    async with FFManagerTarget(config) as target:
        await target.put_user("user_a", {})
        await target.put_knowledge_base("user_a", "kb_a", "legacy", "")
        await target.put_document("user_a", "kb_a", {
            "mime_type": "text/markdown", "title": "notes", "source": "notes.txt", "metadata": {},
            "document_id": "doc_a"}, source)
        got = await target.get_document("user_a", "kb_a", "doc_a")
    assert got is not None and got["format"] == "markdown"


# ------------------------------------------------------------------ registry.path


def test_a_gap_in_the_registry_is_refused_naming_the_schema_version() -> None:
    registry = FFMigrationRegistry([FFMigration("0002_x", 2, 3, "x", legacy_v1_import_forward)])
    with pytest.raises(FFValidationError) as caught:
        registry.path(1, 3)
    assert caught.value.field == "schema_version" and caught.value.value == 1
    assert caught.value.message == "no migration from schema version 1"
