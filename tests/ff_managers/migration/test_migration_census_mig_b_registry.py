"""Census of ``registry`` (issue 20, branch mig-b): the checksum's exact formula (it is compared
with checksums that earlier releases logged, so any change of it reads as "every migration
changed"), what each kind of step contributes, the definition's refusals and the log entry.

No migration is run; the steps are defined here, so their source does not change under mutmut.
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ff_managers import FFMigration, FFMigrationRegistry
from ff_managers._migration.registry import append_applied, read_applied
from ff_utils.ff_errors import FFConflictError, FFValidationError
from ff_utils.ff_hashing import ff_sha256_bytes
from ff_utils.ff_json_utils import ff_dumps
from ff_utils.ff_store import FFStore


async def _forward(context: object) -> None:
    return None


async def _backward(context: object) -> int:
    return 2


class _CallableStep:
    """A step that is an object: its class's source is what the checksum covers."""

    def __call__(self, context: object) -> int:
        return 3


class _Holder:
    def step(self, context: object) -> int:
        return 4


def _expected(migration_id: str, description: str, forward: str, backward: str | None) -> str:
    return ff_sha256_bytes(ff_dumps({"id": migration_id, "from": 1, "to": 2, "description": description,
                                     "forward": forward, "backward": backward}))


def test_the_checksum_is_the_sha256_of_the_definition_and_both_steps_sources() -> None:
    one_way = FFMigration("0001_a", 1, 2, "one to two", _forward)
    assert one_way.checksum() == _expected("0001_a", "one to two", inspect.getsource(_forward), None)
    both = FFMigration("0001_a", 1, 2, "one to two", _forward, _backward)
    assert both.checksum() == _expected("0001_a", "one to two", inspect.getsource(_forward), inspect.getsource(_backward))
    definition = both.definition()
    assert (definition.migration_id, definition.from_version, definition.to_version, definition.description,
            definition.reversible, definition.checksum) == ("0001_a", 1, 2, "one to two", True, both.checksum())
    assert one_way.definition().reversible is False


def test_a_step_without_source_is_named_by_its_module_and_qualified_name() -> None:
    # a builtin has no Python source: the checksum is the same on every machine and every run
    builtin = FFMigration("0001_a", 1, 2, "one to two", len, abs)
    name = "builtins.builtin_function_or_method"
    assert builtin.checksum() == _expected("0001_a", "one to two", name, name)
    assert builtin.checksum() == "262359c490282ab2bb1eeb35c5072b423d6de92a97423686e1de08cf6b830ca2"
    assert FFMigration("0001_a", 1, 2, "one to two", len).checksum() == (
        "c1c3d0a083528af23bc7ca2b9f76e73593ee016f114590ba6effed4ffa8383ae")


def test_an_object_step_counts_its_class_source_and_a_method_step_its_own() -> None:
    obj = FFMigration("0001_a", 1, 2, "d", _CallableStep(), _CallableStep())
    source = inspect.getsource(_CallableStep)
    assert obj.checksum() == _expected("0001_a", "d", source, source)
    assert FFMigration("0001_a", 1, 2, "d", _CallableStep()).checksum() == FFMigration("0001_a", 1, 2, "d", _CallableStep()).checksum()
    method = FFMigration("0001_a", 1, 2, "d", _Holder().step)
    assert method.checksum() == _expected("0001_a", "d", inspect.getsource(_Holder.step), None)


def test_a_definition_that_skips_a_version_or_has_a_bad_id_is_refused_naming_the_field() -> None:
    with pytest.raises(FFValidationError) as caught:
        FFMigration("0001_a", 1, 3, "d", _forward)
    assert (caught.value.message, caught.value.field) == ("migration 0001_a must go up one version (1 -> 3)", "to_version")
    with pytest.raises(FFValidationError) as caught:
        FFMigration("0001_a", 2, 1, "d", _forward)
    assert caught.value.message == "migration 0001_a must go up one version (2 -> 1)"
    with pytest.raises(FFValidationError) as caught:
        FFMigration("bad id!", 1, 2, "d", _forward)
    assert (caught.value.field, caught.value.value) == ("migration_id", "bad id!")
    assert caught.value.message.startswith("invalid migration_id 'bad id!'")


def test_a_duplicate_registration_is_a_conflict_naming_both_migrations() -> None:
    registry = FFMigrationRegistry([FFMigration("0001_a", 1, 2, "d", _forward)])
    with pytest.raises(FFConflictError) as caught:
        registry.register(FFMigration("0001_a", 5, 6, "d", _forward))
    assert caught.value.message == "migration 0001_a is already registered"
    with pytest.raises(FFConflictError) as caught:
        registry.register(FFMigration("0002_b", 1, 2, "d", _forward))
    assert caught.value.message == "two migrations start at version 1: 0001_a, 0002_b"
    assert [m.migration_id for m in registry.migrations] == ["0001_a"]


def test_a_chain_to_an_explicit_version_stops_there() -> None:
    registry = FFMigrationRegistry([FFMigration(f"000{v}_m", v, v + 1, "d", _forward) for v in (3, 1, 2)])
    assert [m.migration_id for m in registry.path(1, 2)] == ["0001_m"]
    assert [m.migration_id for m in registry.path(1, 3)] == ["0001_m", "0002_m"]
    assert [m.migration_id for m in registry.path(2)] == ["0002_m", "0003_m"]
    assert registry.path(4) == [] and registry.path(2, 2) == []
    assert registry.get("0002_m") is registry.migrations[1] and registry.get("0009_x") is None


def test_a_log_entry_keeps_the_measured_duration_and_is_appended_as_json(tmp_path: Path) -> None:
    migration = FFMigration("0001_a", 1, 2, "d", len)
    registry = FFMigrationRegistry([migration])
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    entry = registry.new_log_entry(migration, at, 0.25, "/data/legacy")
    assert entry.model_dump() == {"migration_id": "0001_a", "from_version": 1, "to_version": 2,
                                  "checksum": migration.checksum(), "applied_at": at,
                                  "duration_seconds": 0.25, "source": "/data/legacy"}
    assert registry.new_log_entry(migration, at, -1.5, "s").duration_seconds == 0.0  # a clock step back
    store = FFStore(tmp_path)
    append_applied(store, entry)
    append_applied(store, registry.new_log_entry(migration, at, 2.0, "again"))
    assert [e.source for e in read_applied(store)] == ["/data/legacy", "again"]
    assert read_applied(store)[0] == entry
    line = (tmp_path / "system" / "migrations.jsonl").read_text(encoding="utf-8").splitlines()[0]
    assert '"applied_at":"2026-01-02T03:04:05Z"' in line.replace(" ", "")
