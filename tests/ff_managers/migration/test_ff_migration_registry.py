"""The migration registry: order, checksums of definitions, and validate() against a root's log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ff_managers import FFMigration, FFMigrationRegistry
from ff_managers._migration.registry import _source_of, append_applied, read_applied
from ff_managers.ff_migration_manager import LEGACY_IMPORT_ID, default_registry
from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFValidationError
from ff_utils.ff_store import FFStore


async def _step_a(context: object) -> None:
    return None


async def _step_a_edited(context: object) -> int:
    return 1  # a different body: a changed migration


async def _step_b(context: object) -> None:
    return None


def _registry(first=_step_a, description: str = "one to two") -> FFMigrationRegistry:
    return FFMigrationRegistry([
        FFMigration("0002_b", 2, 3, "two to three", _step_b),
        FFMigration("0001_a", 1, 2, description, first),
    ])


def test_registry_orders_by_version_and_builds_the_chain() -> None:
    registry = _registry()
    assert [m.migration_id for m in registry.migrations] == ["0001_a", "0002_b"]
    assert registry.latest_version == 3
    assert [m.migration_id for m in registry.path(1)] == ["0001_a", "0002_b"]
    assert [m.migration_id for m in registry.path(2)] == ["0002_b"]
    assert registry.path(3) == []
    with pytest.raises(FFValidationError):
        FFMigrationRegistry([FFMigration("0002_b", 2, 3, "x", _step_b)]).path(1)


def test_registry_refuses_duplicates_and_skipped_versions() -> None:
    registry = _registry()
    with pytest.raises(FFConflictError):
        registry.register(FFMigration("0001_a", 5, 6, "dup id", _step_a))
    with pytest.raises(FFConflictError):
        registry.register(FFMigration("0003_c", 1, 2, "second from 1", _step_a))
    with pytest.raises(FFValidationError):
        FFMigration("0009_z", 1, 3, "skips a version", _step_a)


def test_checksum_covers_code_and_description() -> None:
    base = _registry().get("0001_a").checksum()
    assert _registry().get("0001_a").checksum() == base  # stable
    assert _registry(first=_step_a_edited).get("0001_a").checksum() != base
    assert _registry(description="reworded").get("0001_a").checksum() != base


def test_validate_reports_a_changed_and_a_missing_migration(tmp_path: Path) -> None:
    applied_with = _registry()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for migration in applied_with.migrations:
        append_applied(FFStore(tmp_path), applied_with.new_log_entry(migration, now, 0.5, "src"))
    assert [e.migration_id for e in read_applied(FFStore(tmp_path))] == ["0001_a", "0002_b"]
    assert applied_with.validate_root(tmp_path) == []

    edited = _registry(first=_step_a_edited)
    problems = edited.validate_root(tmp_path)
    assert [(p.migration_id, p.problem) for p in problems] == [("0001_a", "changed")]

    without_b = FFMigrationRegistry([FFMigration("0001_a", 1, 2, "one to two", _step_a)])
    problems = without_b.validate_root(tmp_path)
    assert [(p.migration_id, p.problem) for p in problems] == [("0002_b", "missing")]


def test_default_registry_knows_the_legacy_import() -> None:
    registry = default_registry()
    assert registry.latest_version == 2
    definition = registry.migrations[0].definition()
    assert (definition.from_version, definition.to_version, definition.reversible) == (1, 2, False)
    assert len(definition.checksum) == 64


def test_the_legacy_import_keeps_the_checksum_it_was_applied_with() -> None:
    # Roots migrated by earlier versions logged this checksum: if the step's code or description
    # changes, validate_registry reports every one of them as "changed". Change it on purpose only.
    legacy = default_registry().get(LEGACY_IMPORT_ID)
    assert legacy is not None
    if "mutmut" in _source_of(legacy.forward):  # mutation testing rewrote the very source this hashes
        pytest.skip("the step's source is mutmut's instrumented copy")
    assert legacy.checksum() == "032c9c765052700afff2171f9c3f2b0f464598b385a301b49818a285486d5750"


def test_a_damaged_log_line_is_corruption_naming_the_log(tmp_path: Path) -> None:
    log = tmp_path / "system" / "migrations.jsonl"
    log.parent.mkdir()
    log.write_text('{"migration_id": "0001_a"}\n')
    with pytest.raises(FFCorruptionError) as caught:
        _registry().validate_root(tmp_path)
    assert "migrations.jsonl" in str(caught.value)
