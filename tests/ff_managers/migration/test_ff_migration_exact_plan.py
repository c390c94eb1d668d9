"""The dry run's plan and the "already current" run, every field read back.

Written for the mutation run's survivors in ``engine.plan_migration`` and
``engine._already_current`` (docs/MUTATION.md, ``_migration``): the plan's counts and sizes were
only checked for "writes nothing", and the no-op run's DTO was reached by no test of the package.
Each figure is checked against an independent measure (the real run's counts, the source's
manifest, the files the real run writes), not against the formula that computes it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_migration_dtos import FFComparisonDTO
from ff_managers import FFMigrationManager
from ff_managers._migration.backup import manifest_digest, read_state
from ff_managers.ff_migration_manager import LEGACY_IMPORT_ID
from ff_utils.ff_hashing import ff_build_manifest
from testing.migration import FFLegacyGeneratorConfig, generate_legacy_root, generate_varied_root, seeded_choose


@pytest.fixture
def manager(tmp_path: Path) -> FFMigrationManager:
    return FFMigrationManager(load_config(base_path=tmp_path / "unused", environ={}))


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    root = tmp_path / "legacy"
    generate_legacy_root(root, FFLegacyGeneratorConfig(seed=5, users=2, sessions_per_user=2, messages_per_session=4))
    return root


def _written_files(root: Path) -> list[Path]:
    """Files a run leaves in ``root``, without the managers' lock files."""
    return [p for p in root.rglob("*") if p.is_file() and not p.name.endswith(".lock")]


async def test_the_plan_of_a_legacy_root_matches_the_run_it_predicts(tmp_path: Path, legacy: Path, manager: FFMigrationManager) -> None:
    target = tmp_path / "target"
    source_manifest = ff_build_manifest(legacy)
    plan = await manager.dry_run(legacy, target)
    assert not target.exists() and ff_build_manifest(legacy).same_content(source_manifest)

    assert plan.source == str(legacy.resolve()) and plan.target == str(target.resolve())
    assert (plan.from_version, plan.to_version) == (1, 2)
    assert plan.migrations == [LEGACY_IMPORT_ID]
    assert plan.writes_performed == 0
    assert plan.source_bytes == sum(entry.size for entry in source_manifest.entries)

    run = await manager.migrate(legacy, target)
    assert plan.records == run.counts and all(plan.records[k] > 0 for k in ("users", "sessions", "messages", "panels", "personas"))
    c = plan.records
    # one file per user, persona and knowledge base, two per session, panel and document, one
    # per vector file, and the two root files (meta, id map)
    assert plan.files_to_write == (c["users"] + 2 * c["sessions"] + 2 * c["panels"] + c["personas"]
                                   + c["knowledge_bases"] + 2 * c["documents"] + c["vector_files"] + 2)
    written = _written_files(target)
    assert 0 < plan.files_to_write <= len(written)
    # what is copied byte for byte: the vector files and the documents' sources (not their metadata)
    copied = [e for e in source_manifest.entries
              if "/vectors/" in e.path or ("/documents/" in e.path and not e.path.endswith("/metadata.json"))]
    assert len(copied) == c["vector_files"] + c["documents"]
    assert plan.bytes_to_copy == sum(e.size for e in copied)
    assert [(i.path, i.kind) for i in plan.irregular] == [(i.path, i.kind) for i in run.irregular]
    assert plan.irregular and plan.id_map == run.id_map


async def test_the_plan_of_a_root_already_at_the_latest_version_is_empty(tmp_path: Path, legacy: Path, manager: FFMigrationManager) -> None:
    current = tmp_path / "current"
    await manager.migrate(legacy, current)
    copy = tmp_path / "copy"
    shutil.copytree(current, copy)
    plan = await manager.dry_run(copy, tmp_path / "elsewhere")
    assert plan.source == str(copy.resolve()) and plan.target == str((tmp_path / "elsewhere").resolve())
    assert (plan.from_version, plan.to_version) == (2, 2)
    assert plan.migrations == [] and plan.records == {} and plan.irregular == [] and plan.id_map == []
    assert (plan.files_to_write, plan.bytes_to_copy, plan.source_bytes, plan.writes_performed) == (0, 0, 0, 0)
    assert not (tmp_path / "elsewhere").exists()


async def test_migrating_the_same_source_again_is_already_current_and_names_the_first_run(
    tmp_path: Path, legacy: Path, manager: FFMigrationManager
) -> None:
    target = tmp_path / "target"
    first = await manager.migrate(legacy, target)
    migrated = ff_build_manifest(target)
    again = await manager.migrate(legacy, target)

    assert again.already_current and not first.already_current
    assert again.run_id == first.run_id == read_state(target).run_id
    assert again.source == str(legacy.resolve()) and again.target == str(target.resolve()) and not again.in_place
    assert (again.from_version, again.to_version) == (1, 2)
    assert again.migrations_applied == [] and again.counts == {} and again.irregular == [] and again.id_map == []
    assert again.comparison == FFComparisonDTO()
    assert again.manifest_digest_source == manifest_digest(ff_build_manifest(legacy)) == first.manifest_digest_source
    assert again.manifest_digest_target == manifest_digest(migrated)
    assert again.backup_dir == first.backup_dir
    assert again.duration_seconds >= 0
    assert ff_build_manifest(target).same_content(migrated)  # nothing was written


async def test_an_already_current_target_names_the_backup_of_the_run_that_replaced_it(
    tmp_path: Path, legacy: Path, manager: FFMigrationManager
) -> None:
    target = tmp_path / "target"
    await manager.migrate(legacy, target)
    (target / "written_later.txt").write_text("not from the source")  # the target changed: migrate again
    second = await manager.migrate(legacy, target)
    assert not second.already_current and second.backup_dir and Path(second.backup_dir).is_dir()
    third = await manager.migrate(legacy, target)
    assert third.already_current and third.run_id == second.run_id and third.backup_dir == second.backup_dir


async def test_a_root_at_the_latest_version_with_no_journal_is_already_current_as_it_is(
    tmp_path: Path, legacy: Path, manager: FFMigrationManager
) -> None:
    current = tmp_path / "current"
    await manager.migrate(legacy, current)
    copy = tmp_path / "copy"
    shutil.copytree(current, copy)  # a v2 root; its sibling work folder (the journal) is not copied
    assert read_state(copy) is None
    run = await manager.migrate(copy, copy)

    assert run.already_current and run.run_id == "none" and run.in_place
    assert run.source == run.target == str(copy.resolve())
    assert (run.from_version, run.to_version) == (2, 2)
    assert run.migrations_applied == [] and run.backup_dir == ""
    assert run.manifest_digest_source == run.manifest_digest_target == manifest_digest(ff_build_manifest(copy))
    assert read_state(copy) is None  # no journal is started for a run that does nothing

    elsewhere = tmp_path / "not-there"
    run = await manager.migrate(copy, elsewhere)
    assert run.already_current and run.target == str(elsewhere.resolve())
    assert run.manifest_digest_target == "" and not elsewhere.exists()


async def test_the_plan_of_a_varied_root_counts_several_documents_no_panel_and_its_id_map(
    tmp_path: Path, manager: FFMigrationManager
) -> None:
    """The generated root above has one panel and one document and maps no id, so a formula that
    divides by those counts, or a plan without its id map, passed it (third run: plan_migration
    63, 71, 101). This varied root has no panel, three documents and ids the v2 rule refuses."""
    legacy = tmp_path / "varied"
    generate_varied_root(legacy, seeded_choose(3))
    plan = await manager.dry_run(legacy, tmp_path / "target")
    run = await manager.migrate(legacy, tmp_path / "target")
    assert run.comparison.equivalent and plan.records == run.counts
    c = plan.records
    assert (c["panels"], c["documents"]) == (0, 3)
    assert plan.files_to_write == (c["users"] + 2 * c["sessions"] + c["personas"] + c["knowledge_bases"]
                                   + 2 * c["documents"] + c["vector_files"] + 2)
    assert plan.id_map and plan.id_map == run.id_map
