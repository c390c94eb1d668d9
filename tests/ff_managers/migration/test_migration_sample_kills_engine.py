"""Survivors of the uniform sample of 2026-12-06 in ``engine``, ``backup``, ``audit``, ``compare``,
``equivalence`` and ``manager_adapter``, each read back as a caller sees it (docs/MUTATION.md,
"``_migration``: sampled survivors, engine/backup/compare").

One small generated legacy root is migrated once per module; the comparison tests call
``compare_source_target`` again on it through the real target view (wrapped where a test needs the
target to look different), so most tests take milliseconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_migration_dtos import FFIrregularAction, FFIrregularItemDTO, FFMigrationStateDTO
from ff_managers import FFMigration, FFMigrationRegistry
from ff_managers._migration import backup, engine
from ff_managers._migration.audit import FFLineAudit
from ff_managers._migration.backup import read_manifest, read_state, recover, swap_in, work_dir_for, write_state
from ff_managers._migration.compare import compare_source_target
from ff_managers._migration.engine import legacy_v1_import_forward, migrate_root, plan_migration
from ff_managers._migration.equivalence import FFFieldComparer
from ff_managers._migration.legacy_mapping import IMPORT_KEY
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_managers._migration.manager_adapter import FFManagerTarget
from ff_managers.ff_data_root import FF_META_NAME
from ff_utils.ff_errors import FFCorruptionError, FFStorageError, FFValidationError
from ff_utils.ff_store import FFStore
from testing.migration import generate_legacy_root
from tests.ff_managers.migration._small_migration import SMALL, TargetView, config_for, migrate_small




@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return migrate_small(tmp_path_factory.mktemp("sample_engine"))



async def _compare(migrated: tuple[Path, Path], *,
                   explained: list[FFIrregularItemDTO] | None = None, drop_vectors: bool = False,
                   **overrides: Any) -> Any:
    src, dst = migrated
    reader = FFLegacyReader(src)
    inventory = reader.scan()
    if drop_vectors:
        inventory = inventory.model_copy(update={"vector_sets": []})
    async with FFManagerTarget(load_config(base_path=dst, environ={})) as real:
        return await compare_source_target(reader, inventory, TargetView(real, **overrides), explained or [], [])


# ------------------------------------------------------------------ engine._check_paths


async def test_a_source_that_is_not_a_directory_is_refused_naming_the_source(tmp_path: Path) -> None:
    source = tmp_path / "file.txt"
    source.write_text("x")
    with pytest.raises(FFValidationError) as caught:
        await plan_migration(source, tmp_path / "dst", config_for(tmp_path))
    assert caught.value.message == f"source is not a directory: {source}"
    assert caught.value.field == "source" and caught.value.path == source


async def test_a_target_inside_the_source_is_refused_naming_the_target(tmp_path: Path) -> None:
    generate_legacy_root(tmp_path / "src", SMALL)
    target = tmp_path / "src" / "inner"
    with pytest.raises(FFValidationError) as caught:
        await plan_migration(tmp_path / "src", target, config_for(tmp_path))
    assert caught.value.message == "source and target must not contain each other"
    assert caught.value.field == "target" and caught.value.path == target


# ------------------------------------------------------------------ engine: the import's clock


async def test_a_panel_without_a_creation_time_gets_the_imports_clock_not_a_fixed_date(tmp_path: Path) -> None:
    src = tmp_path / "src"
    generate_legacy_root(src, SMALL)
    (panel_json,) = [p for p in src.rglob("session.json") if json.loads(p.read_text()).get("session_type") == "panel"]
    data = json.loads(panel_json.read_text())
    del data["created_at"]
    panel_json.write_text(json.dumps(data))
    run = await migrate_root(src, tmp_path / "dst", config_for(tmp_path))
    assert run.comparison.equivalent, run.comparison.differences
    clock = json.loads((tmp_path / "dst" / FF_META_NAME).read_text())["created_at"]  # the import's clock
    (stored,) = (tmp_path / "dst").rglob("panel.json")
    created = json.loads(stored.read_text())["created_at"]
    assert not created.startswith("2000-01-01")
    assert created == clock


# ------------------------------------------------------------------ engine.migrate_root: late changes


async def test_a_source_changed_during_the_run_is_named_and_nothing_is_swapped_in(tmp_path: Path) -> None:
    src = tmp_path / "src"
    generate_legacy_root(src, SMALL)

    async def import_then_touch_the_source(context: Any) -> Any:
        stats = await legacy_v1_import_forward(context)
        for n in range(7):
            (context.source / f"late_{n}.txt").write_text("written while migrating")
        return stats

    registry = FFMigrationRegistry([FFMigration("0001_legacy_v1_import", 1, 2, "import", import_then_touch_the_source)])
    run = await migrate_root(src, tmp_path / "dst", config_for(tmp_path), registry=registry)
    assert not run.comparison.equivalent and run.migrations_applied == []
    assert run.source == str(src.resolve()) and run.target == str((tmp_path / "dst").resolve())
    (line,) = [d for d in run.comparison.differences if "source changed" in d]
    added = "; ".join(f"added: late_{n}.txt" for n in range(5))
    assert line == f"the source changed during the migration: {added}; ... and 2 more"
    assert not (tmp_path / "dst").exists()


async def test_a_target_that_differs_from_the_verified_copy_after_the_swap_is_a_storage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    generate_legacy_root(src, SMALL)

    def swap_then_change(state: FFMigrationStateDTO) -> None:
        swap_in(state)
        for n in range(7):
            (dst / f"stray_{n}.txt").write_text("not from the staging copy")

    monkeypatch.setattr(engine, "swap_in", swap_then_change)
    with pytest.raises(FFStorageError) as caught:
        await migrate_root(src, dst, config_for(tmp_path))
    added = "; ".join(f"added: stray_{n}.txt" for n in range(5))
    assert caught.value.message == f"the target's manifest differs from the verified staging copy: {added}; ... and 2 more"
    assert caught.value.path == dst.resolve()


# ------------------------------------------------------------------ backup


def test_a_manifest_that_does_not_fit_its_schema_is_corruption_naming_the_file(tmp_path: Path) -> None:
    store = FFStore(tmp_path)
    path = store.path("manifest_before.json")
    path.write_text(json.dumps({"entries": "not a list"}))
    with pytest.raises(FFCorruptionError) as caught:
        read_manifest(store, path)
    assert caught.value.path == path


def test_a_swap_interrupted_between_its_renames_is_completed_by_recover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / "old.txt").write_text("old")
    work = work_dir_for(target)
    (work / "staging").mkdir(parents=True)
    (work / "staging" / "new.txt").write_text("new")
    state = FFMigrationStateDTO.model_validate({
        "run_id": "run-1", "source": str(tmp_path / "src"), "target": str(target.resolve()), "in_place": False,
        "target_existed": True, "phase": "staged", "started_at": "2026-01-02T00:00:00Z"})
    write_state(state)
    real_rename = backup._rename

    def crash_before_the_second_rename(src: Path, dst: Path) -> None:
        if src.name == "staging":
            raise OSError("killed")
        real_rename(src, dst)

    monkeypatch.setattr(backup, "_rename", crash_before_the_second_rename)
    with pytest.raises(OSError):
        swap_in(state)
    assert not target.exists()
    monkeypatch.setattr(backup, "_rename", real_rename)
    recovered = recover(target)
    assert recovered is not None and recovered.phase == "done"
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert read_state(target).phase == "done"  # type: ignore[union-attr]


# ------------------------------------------------------------------ audit.FFLineAudit


def test_the_line_audit_names_twenty_unaccounted_lines_then_counts_the_rest(tmp_path: Path) -> None:
    (tmp_path / "messages.jsonl").write_text("".join(f'{{"n": {n}}}\n' for n in range(1, 26)))
    audit = FFLineAudit(tmp_path, [])
    audit.check("messages.jsonl", {1})
    assert audit.problems == [f"messages.jsonl:{n}" for n in range(2, 22)] + ["messages.jsonl: ... and 4 more line(s)"]


# ------------------------------------------------------------------ compare


async def test_explained_items_are_listed_in_the_comparison(migrated: tuple[Path, Path]) -> None:
    item = FFIrregularItemDTO(path="users/user_000/profile.json", kind="record_refused",
                              action=FFIrregularAction.SKIPPED, reason="explained by the test", line_number=3)
    comparison = await _compare(migrated, explained=[item])
    assert "users/user_000/profile.json:3: record_refused (skipped): explained by the test" in comparison.explained


async def test_a_panel_count_that_differs_in_the_target_is_a_difference(migrated: tuple[Path, Path]) -> None:
    _src, dst = migrated
    async with FFManagerTarget(load_config(base_path=dst, environ={})) as real:
        true_counts = await real.counts()

    async def counts() -> dict[str, int]:
        return {**true_counts, "panels": true_counts["panels"] + 1}

    comparison = await _compare(migrated, counts=counts)
    assert f"count of panels: source 1, target {true_counts['panels'] + 1}" in comparison.differences
    assert not comparison.equivalent


async def test_a_user_with_a_profile_counts_one_profile_on_each_side(migrated: tuple[Path, Path]) -> None:
    comparison = await _compare(migrated)
    assert comparison.equivalent, comparison.differences
    assert comparison.counts_source["profiles"] == 1
    assert comparison.counts_target["profiles"] == 1


async def test_a_profile_the_target_does_not_hold_is_named(migrated: tuple[Path, Path]) -> None:
    _src, dst = migrated
    async with FFManagerTarget(load_config(base_path=dst, environ={})) as real:
        async def get_user(user_id: str) -> dict[str, Any] | None:
            stored = await real.get_user(user_id)
            assert stored is not None
            extra = dict(stored.get("extra") or {})
            extra[IMPORT_KEY] = {**extra.get(IMPORT_KEY, {}), "profile_json": False}
            return {**stored, "extra": extra}

        reader = FFLegacyReader(migrated[0])
        comparison = await compare_source_target(reader, reader.scan(), TargetView(real, get_user=get_user), [], [])
    assert "users/user_000/profile.json: profile fields not kept" in comparison.differences


async def test_each_vector_file_counts_as_one_compared_field(migrated: tuple[Path, Path]) -> None:
    full = await _compare(migrated)
    without = await _compare(migrated, drop_vectors=True)
    assert full.counts_source["vector_files"] == 2
    assert full.fields_compared - without.fields_compared == 2


# ------------------------------------------------------------------ equivalence


def test_a_differing_field_of_a_kind_without_timestamps_is_reported() -> None:
    out: list[str] = []
    FFFieldComparer(out).diff("personas_global/a.json", "persona", {"name": "A"}, {"name": "B"})
    assert out == ["personas_global/a.json: field 'name' differs: 'A' != 'B'"]


# ------------------------------------------------------------------ manager_adapter


async def test_the_memory_manager_publishes_on_the_targets_shared_bus(tmp_path: Path) -> None:
    seen: list[str] = []
    async with FFManagerTarget(load_config(base_path=tmp_path / "root", environ={})) as target:
        target.bus.subscribe("memory.*", lambda event: seen.append(event.type))
        await target.put_user("user_a", {})
        await target.put_session("user_a", {"session_id": "chat_a"})
    assert "memory.session_created" in seen
