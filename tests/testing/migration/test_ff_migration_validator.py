"""FFMigrationValidator: the update / rollback / re-apply cycle, dry run, verify, rollback, kills."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_managers import FFMigrationManager
from ff_managers.ff_migration_manager import manifest_digest
from ff_utils.ff_hashing import ff_build_manifest
from testing import FFMigrationValidator
from testing.migration import FFLegacyGeneratorConfig, generate_legacy_root
from testing.migration._interrupt import stable_digest


@pytest.fixture
def validator(tmp_path: Path) -> FFMigrationValidator:
    return FFMigrationValidator(load_config(base_path=tmp_path / "unused", environ={}))


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    root = tmp_path / "legacy"
    generate_legacy_root(root, FFLegacyGeneratorConfig(seed=11, users=3, sessions_per_user=3, messages_per_session=8))
    return root


async def test_validate_existing_data_migration_on_generated_data(validator: FFMigrationValidator) -> None:
    summary = await validator.validate_existing_data_migration()
    assert summary.from_version == 1 and summary.to_version == 2
    assert summary.differences == []
    assert summary.rollback_identical and summary.reapply_identical
    assert summary.manifest_digest_after_rollback == summary.manifest_digest_before
    assert summary.records_source["messages"] > 0
    assert summary.records_source["users"] == summary.records_target["users"] == 4
    assert any("empty_session" in s for s in summary.skipped_items)
    detail = validator.last_validation
    assert detail is not None and detail.dry_run_wrote_nothing and detail.within_timeout
    assert detail.registry_problems == []
    assert detail.generated_seed == validator.config.integration_testing.seed


async def test_batches_honour_migration_batch_size(tmp_path: Path, legacy: Path) -> None:
    config = load_config(base_path=tmp_path / "unused", environ={})
    config.migration.batch_size = 3
    run = await FFMigrationValidator(config).migrate(legacy, tmp_path / "target")
    assert run.comparison.equivalent
    assert run.largest_batch == 3 and run.batch_size == 3
    # 8 messages a session in batches of 3 -> 3 appends per session at least
    assert run.batches_written >= 3 * run.counts["sessions"] - 3


async def test_dry_run_writes_nothing(tmp_path: Path, legacy: Path, validator: FFMigrationValidator) -> None:
    target = tmp_path / "target"
    source_before = ff_build_manifest(legacy)
    plan = await validator.dry_run(legacy, target)
    assert plan.writes_performed == 0
    assert not target.exists() and not FFMigrationManager.work_dir(target).exists()
    assert ff_build_manifest(legacy).same_content(source_before)
    assert plan.records["users"] == 3 and plan.records["messages"] > 0 and plan.files_to_write > plan.records["users"]
    run = await validator.migrate(legacy, target)
    assert {k: run.counts[k] for k in plan.records} == plan.records  # the plan predicted the import


async def test_rollback_restores_byte_identical_data_in_place(tmp_path: Path, legacy: Path, validator: FFMigrationValidator) -> None:
    data = tmp_path / "data"
    shutil.copytree(legacy, data)
    before = ff_build_manifest(data)
    run = await validator.migrate(data, data)
    assert run.in_place and run.backup_dir and (data / "ff_meta.json").is_file()
    assert json.loads((data / "ff_meta.json").read_text())["schema_version"] == 2
    assert validator.verify(data).identical
    assert validator.validate_registry(data) == []
    restored = validator.rollback(data)
    assert manifest_digest(restored) == manifest_digest(before)
    assert ff_build_manifest(data).same_content(before)
    assert FFMigrationManager.last_run(data).phase == "rolled_back"


async def test_verify_lists_a_changed_file(tmp_path: Path, legacy: Path, validator: FFMigrationValidator) -> None:
    target = tmp_path / "target"
    await validator.migrate(legacy, target)
    profile = target / "users" / "user_000" / "profile.json"
    profile.write_bytes(profile.read_bytes() + b" ")
    diff = validator.verify(target)
    assert diff.changed == ["users/user_000/profile.json"] and not diff.added and not diff.removed


async def test_rerun_is_idempotent_and_reapply_is_byte_identical(tmp_path: Path, legacy: Path, validator: FFMigrationValidator) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    await validator.migrate(legacy, first)
    again = await validator.migrate(legacy, first)
    assert again.already_current  # the same source was already migrated into this target
    await validator.migrate(legacy, second)
    assert stable_digest(first) == stable_digest(second)


async def test_registry_change_is_reported_for_a_migrated_root(tmp_path: Path, legacy: Path, validator: FFMigrationValidator) -> None:
    target = tmp_path / "target"
    await validator.migrate(legacy, target)
    log = target / "system" / "migrations.jsonl"
    entry = json.loads(log.read_text().splitlines()[0])
    entry["checksum"] = "0" * 64
    log.write_text(json.dumps(entry) + "\n")
    problems = validator.validate_registry(target)
    assert [(p.migration_id, p.problem) for p in problems] == [("0001_legacy_v1_import", "changed")]


@pytest.mark.slow
def test_sigkill_mid_migration_leaves_source_untouched_and_rerun_converges(tmp_path: Path, legacy: Path, validator: FFMigrationValidator) -> None:
    trials = validator.test_interruptions(legacy, trials=4, seed=5)
    print("\n" + "\n".join(f"kill after {t.kill_after_seconds}s: finished_first={t.child_finished_first} "
                            f"source_untouched={t.source_untouched} converged={t.rerun_converged}" for t in trials))
    assert len(trials) == 4
    assert all(t.source_untouched and t.rerun_converged for t in trials)
    assert any(not t.child_finished_first for t in trials)  # at least one kill landed mid-migration


async def test_a_long_session_is_compared_by_streaming(tmp_path: Path, validator: FFMigrationValidator) -> None:
    legacy = tmp_path / "long"
    generate_legacy_root(legacy, FFLegacyGeneratorConfig(seed=2, users=1, sessions_per_user=1, messages_per_session=2_500,
                                                         words_per_message=3, irregular=False))
    run = await validator.migrate(legacy, tmp_path / "target")
    assert run.comparison.equivalent and run.comparison.counts_source["messages"] == 2_500
    assert run.comparison.fields_compared >= 2_500 * 6
