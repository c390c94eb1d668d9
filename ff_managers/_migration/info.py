"""Where a data root stands (``migrate info``) and whether its history is consistent (``migrate validate``).

Flyway's ``info`` and ``validate`` are what users of a migration tool reach for first: which
version is this, what was applied when, with which checksum, what is still to run, and has any
applied migration changed since. Here they read three things and write nothing:

* ``ff_meta.json``: the schema version and the ids of the applied migrations (a legacy v1 root
  has none and is version 1);
* ``system/migrations.jsonl``: each applied migration with its checksum and timing;
* the registry of the running version: today's checksums and the chain still to run.

:func:`validate_root` adds to :meth:`FFMigrationRegistry.validate` (changed, missing, out of order)
the checks that need ``ff_meta.json`` too: a schema version newer than this FF Platform knows, a
version the log does not end at, and applied ids the log does not record.
"""

from __future__ import annotations

from pathlib import Path

from ff_class_configs.ff_migration_dtos import FFAppliedMigrationDTO, FFRegistryProblemDTO
from ff_class_configs.ff_migration_info_dtos import FFAppliedMigrationInfoDTO, FFLastMigrationRunDTO, FFMigrationInfoDTO
from ff_managers._migration.backup import read_state
from ff_managers._migration.legacy_format import is_legacy_root
from ff_managers._migration.registry import FFMigrationRegistry, read_applied
from ff_managers.ff_data_root import FF_META_NAME, FFDataRootMetaDTO, ff_read_meta
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_store import FFStore

__all__ = ["migration_info", "validate_root"]


def _read_root(root: Path | str) -> tuple[Path, FFDataRootMetaDTO | None, list[FFAppliedMigrationDTO]]:
    """The root, its meta (None for a legacy root) and its applied log. Raises FFValidationError."""
    base = Path(root)
    if not base.is_dir():
        raise FFValidationError(f"not a directory: {base}", field="root", path=base)
    meta = ff_read_meta(base) if (base / FF_META_NAME).is_file() else None
    if meta is None and not is_legacy_root(base):
        raise FFValidationError(f"neither an FF data root (no {FF_META_NAME}) nor a legacy v1 root: {base}",
                                field="root", path=base)
    applied = read_applied(FFStore(base)) if meta is not None else []
    return base, meta, applied


def migration_info(root: Path | str, registry: FFMigrationRegistry) -> FFMigrationInfoDTO:
    """Schema version, applied migrations (checked against the registry), pending ones, last run."""
    base, meta, applied = _read_root(root)
    version = meta.schema_version if meta is not None else 1
    rows = []
    for entry in applied:
        known = registry.get(entry.migration_id)
        checksum_now = known.checksum() if known is not None else None
        state = "missing" if known is None else ("applied" if checksum_now == entry.checksum else "changed")
        rows.append(FFAppliedMigrationInfoDTO(
            migration_id=entry.migration_id, from_version=entry.from_version, to_version=entry.to_version,
            description=known.description if known is not None else "", applied_at=entry.applied_at,
            duration_seconds=entry.duration_seconds, checksum=entry.checksum, checksum_now=checksum_now, state=state,
        ))
    pending = [m.definition() for m in registry.path(version)] if version < registry.latest_version else []
    state = read_state(base)
    last_run = None
    if state is not None:
        last_run = FFLastMigrationRunDTO(
            run_id=state.run_id, phase=state.phase, started_at=state.started_at, source=state.source,
            backup_dir=state.backup_dir, rollback_available=state.phase == "done",
        )
    return FFMigrationInfoDTO(
        root=str(base.resolve()), layout="ff" if meta is not None else "legacy_v1", schema_version=version,
        latest_version=registry.latest_version, applied=rows, pending=pending, last_run=last_run,
    )


def validate_root(root: Path | str, registry: FFMigrationRegistry) -> list[FFRegistryProblemDTO]:
    """Every inconsistency between a root's history and the registry (empty: consistent)."""
    _base, meta, applied = _read_root(root)
    problems = registry.validate(applied)
    if meta is None:
        return problems
    if meta.schema_version > registry.latest_version:
        problems.append(FFRegistryProblemDTO(
            migration_id=applied[-1].migration_id if applied else "-", problem="unknown_version",
            detail=f"{FF_META_NAME} says schema {meta.schema_version}; this FF Platform knows up to "
                   f"{registry.latest_version} (a newer version wrote this root)"))
    if applied and applied[-1].to_version != meta.schema_version:
        problems.append(FFRegistryProblemDTO(
            migration_id=applied[-1].migration_id, problem="unknown_version",
            detail=f"{FF_META_NAME} says schema {meta.schema_version}, the applied log ends at {applied[-1].to_version}"))
    logged = {entry.migration_id for entry in applied}
    for migration_id in meta.migrations_applied:
        if migration_id not in logged:
            problems.append(FFRegistryProblemDTO(
                migration_id=migration_id, problem="missing",
                detail=f"named in {FF_META_NAME}'s migrations_applied but not in the applied log"))
    return problems
