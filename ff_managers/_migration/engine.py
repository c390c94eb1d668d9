"""Run the registered migrations on a data root: backup, staging, verify, swap; dry run; verify; rollback.

``migrate_root(source, target)`` is what ``FFMigrationManager.migrate`` (``main.py migrate``) runs:

1. recover from an interrupted earlier run (see :mod:`.backup`);
2. read the source (legacy v1 or a v2 root) and its SHA-256 manifest;
3. back up the target as it is (an independent, manifest-checked copy) when it exists;
4. run the migration chain into a fresh staging directory through the managers;
5. verify: field-by-field comparison of source and staging, source manifest unchanged;
6. only then swap staging in (journalled renames) and check the target's manifest.

A SIGKILL anywhere leaves the source untouched (it is only read) and the target either as it was
or fully migrated; the next run finishes the job, and gives the same bytes: ids come from the
legacy data and the managers run on a clock fixed to the newest legacy timestamp.

The staging root is written through its own :class:`FFStore` (``ff_meta.json``, the applied
migrations log; the managers get one built from the same config) with durability ``never``:
the finished tree is fsynced once, file by file, before it is swapped in.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_migration_dtos import (
    FFComparisonDTO,
    FFIrregularAction,
    FFIrregularItemDTO,
    FFMigrationPlanDTO,
    FFMigrationRunDTO,
    FFMigrationStateDTO,
)
from ff_class_configs.ff_storage_config import FF_SCHEMA_VERSION
from ff_managers._migration.backup import (
    copy_tree,
    describe_diff,
    manifest_digest,
    read_manifest,
    read_state,
    recover,
    swap_in,
    work_dir_for,
    work_store,
    write_state,
)
from ff_managers._migration.backup_remote import backup_store, upload_backup
from ff_managers._migration.compare import compare_source_target
from ff_managers._migration.drift import MANIFEST_AFTER
from ff_managers._migration.legacy_files import entry_kind
from ff_managers._migration.legacy_format import CORRUPT_KINDS, is_legacy_root, parse_timestamp
from ff_managers._migration.legacy_ids import ID_MAP_NAME, mapped_id
from ff_managers._migration.legacy_import import FFCountingSink, FFImportStats, FFLegacyImport
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_managers._migration.manager_adapter import FFManagerTarget
from ff_managers._migration.registry import FFMigration, FFMigrationRegistry, append_applied
from ff_managers.ff_data_root import FF_META_NAME, FFDataRootMetaDTO, ff_read_meta
from ff_utils.ff_errors import FFStorageError, FFTimeoutError, FFValidationError, ff_translate_errors
from ff_utils.ff_file_ops import ff_ensure_directory, ff_fsync_directory, ff_remove_tree, ff_safe_path
from ff_utils.ff_hashing import FFManifest, ff_build_manifest, ff_write_manifest
from ff_utils.ff_ids import ff_is_valid_id, ff_new_id
from ff_utils.ff_logging import get_logger
from ff_utils.ff_store import FFStore

__all__ = [
    "FFMigrationContext",
    "LEGACY_IMPORT_ID",
    "default_registry",
    "detect_version",
    "migrate_root",
    "plan_migration",
    "VOLATILE_FILES",
]

LEGACY_IMPORT_ID = "0001_legacy_v1_import"
#: Files that legitimately differ between two runs of the same migration (they record *when*).
VOLATILE_FILES = ("system/migrations.jsonl",)
_log = get_logger("migration")


@dataclass
class FFMigrationContext:
    """What a migration step needs: where to read, where to write, how."""

    source: Path
    staging: Path
    config: FFConfigurationManagerConfigDTO
    reader: FFLegacyReader
    importer: FFLegacyImport
    clock_value: datetime


async def legacy_v1_import_forward(context: FFMigrationContext) -> FFImportStats:
    """Import the legacy v1 layout into the staging root through the managers' public APIs."""
    async with FFManagerTarget(context.config, clock=lambda: context.clock_value) as target:
        return await context.importer.run(target, context.clock_value)


def default_registry() -> FFMigrationRegistry:
    """The migrations this version of FF Platform knows, in order."""
    return FFMigrationRegistry([
        FFMigration(
            migration_id=LEGACY_IMPORT_ID,
            from_version=1,
            to_version=2,
            description="import the legacy flat-file chat layout (users, sessions, panels, documents, vectors, personas)",
            forward=legacy_v1_import_forward,
            backward=None,  # v1 cannot be rebuilt from v2 alone; rollback restores the backup
        )
    ])


def detect_version(root: Path) -> int:
    """Schema version of a root: ``ff_meta.json``'s, or 1 for a legacy root. Raises FFValidationError."""
    meta = ff_read_meta(root) if (root / FF_META_NAME).exists() else None
    if meta is not None:
        return meta.schema_version
    if is_legacy_root(root):
        return 1
    raise FFValidationError(f"neither a legacy v1 root nor an FF data root: {root}", field="source", path=root)


def _refuse_newer(src: Path, version: int, registry: FFMigrationRegistry) -> None:
    """A root written by a newer FF Platform is not "already current": this one cannot read it."""
    if version > registry.latest_version:
        raise FFValidationError(
            f"{src} is at schema version {version}, newer than the {registry.latest_version} this FF Platform "
            "knows (a newer release wrote it); nothing was migrated",
            field="schema_version", value=version, path=src,
        )


def _clock_for(newest: str) -> datetime:
    """The import's fixed clock: the newest legacy timestamp (deterministic for a given source)."""
    moment = parse_timestamp(newest) or datetime(2000, 1, 1)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check_paths(source: Path, target: Path) -> None:
    if not source.is_dir():
        raise FFValidationError(f"source is not a directory: {source}", field="source", path=source)
    if source != target and (target in source.parents or source in target.parents):
        raise FFValidationError("source and target must not contain each other", field="target", path=target)
    if target.exists() and not target.is_dir():
        raise FFValidationError(f"target exists and is not a directory: {target}", field="target", path=target)


def _staging_config(config: FFConfigurationManagerConfigDTO, staging: Path) -> FFConfigurationManagerConfigDTO:
    """The managers' config for the staging root. Durability "never" per write: the staging copy
    is made durable once, file by file, before it is swapped in (see :func:`_fsync_tree`), which
    is as safe (nothing is visible before the swap) and an order of magnitude faster."""
    updated = config.model_copy(deep=True)
    updated.storage.base_path = staging
    updated.storage.durability = "never"
    updated.storage.artifacts_url = None  # the staging managers never upload; only the backup goes to the store
    return updated


def _fsync_tree(store: FFStore) -> None:
    """fsync every file and directory of the staging tree (before it replaces a live target)."""
    with ff_translate_errors("fsync tree", store.root):
        for directory, _dirs, names in os.walk(store.root):
            for name in names:
                if name.endswith(".jsonl"):
                    # also clears the appender's "unsynced" mark, so nothing tries to fsync the
                    # staging path after it has been renamed into the target
                    store.flush(Path(directory, name))
                fd = os.open(os.path.join(directory, name), os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            ff_fsync_directory(directory)


def _prepare(source: Path, config: FFConfigurationManagerConfigDTO,
             reader_class: type[FFLegacyReader] = FFLegacyReader) -> tuple[FFLegacyReader, FFLegacyImport]:
    reader = reader_class(source)
    inventory = reader.scan()
    settings = config.migration
    # A batch never exceeds what one manager call accepts (panel imports are validated in memory).
    batch = min(settings.batch_size, config.memory.max_import_messages)
    importer = FFLegacyImport(reader, inventory, batch_size=batch, policy=settings.corrupt_input_policy,
                              panel_batch_limit=config.panel.max_import_messages)
    return reader, importer


async def plan_migration(
    source: Path | str,
    target: Path | str,
    config: FFConfigurationManagerConfigDTO,
    *,
    registry: FFMigrationRegistry | None = None,
) -> FFMigrationPlanDTO:
    """Dry run: the same import against a counting sink. Writes nothing (the tests prove it by manifest)."""
    src, dst = Path(source).resolve(), Path(target).resolve()
    _check_paths(src, dst)
    version = detect_version(src)
    registry = registry or default_registry()
    _refuse_newer(src, version, registry)
    chain = registry.path(version, registry.latest_version)
    if not chain:
        return FFMigrationPlanDTO(source=str(src), target=str(dst), from_version=version, to_version=version,
                                  migrations=[], records={}, files_to_write=0, bytes_to_copy=0, source_bytes=0)
    reader, importer = _prepare(src, config)
    importer.check_policy()
    stats = await importer.run(FFCountingSink())
    c = stats.counts
    # Files the managers create per record (profile, session.json + messages.jsonl, panel.json +
    # messages.jsonl, persona file, catalog, document files) plus the copied vector files.
    files = (c["users"] + 2 * c["sessions"] + 2 * c["panels"] + c["personas"] + c["knowledge_bases"]
             + 2 * c["documents"] + c["vector_files"] + 2)
    doc_bytes = sum(d.size for s in importer.inventory.sessions() for d in s.documents)
    return FFMigrationPlanDTO(
        source=str(src), target=str(dst), from_version=version, to_version=chain[-1].to_version,
        migrations=[m.migration_id for m in chain], records=dict(c), files_to_write=files,
        bytes_to_copy=stats.bytes_copied + doc_bytes, source_bytes=importer.inventory.bytes,
        irregular=[*importer.inventory.irregular, *importer.explained], id_map=list(importer.inventory.id_map),
    )


def _quarantine(importer: FFLegacyImport, source: Path, quarantine: Path) -> list[FFIrregularItemDTO]:
    """Copy each corrupt input aside (the original stays where it is) and mark it quarantined."""
    marked: list[FFIrregularItemDTO] = []
    for item in importer.inventory.irregular:
        if item.kind in CORRUPT_KINDS:
            src = source / item.path
            if entry_kind(src) == "file":
                # legacy names may hold what a safe path refuses (a tab, ..): mapped like ids
                safe = "/".join(p if ff_is_valid_id(p) else mapped_id(p) for p in item.path.split("/"))
                dst = ff_safe_path(ff_ensure_directory(quarantine), safe)
                ff_ensure_directory(dst.parent)
                if not dst.exists():
                    shutil.copyfile(src, dst, follow_symlinks=False)
            item = item.model_copy(update={"action": FFIrregularAction.QUARANTINED,
                                           "reason": item.reason + " (copied to quarantine; good records imported)"})
        marked.append(item)
    return marked


async def migrate_root(
    source: Path | str,
    target: Path | str,
    config: FFConfigurationManagerConfigDTO,
    *,
    registry: FFMigrationRegistry | None = None,
    reader_class: type[FFLegacyReader] = FFLegacyReader,
) -> FFMigrationRunDTO:
    """Migrate ``source`` into ``target`` (the same path for an in-place upgrade).

    ``reader_class`` is the seam the planted-defect tests use (a reader that follows links or
    drops ids must be caught by the verification, which does not trust the reader). Raises FFValidationError (bad paths, unknown layout,
    a schema version newer than the registry's latest), FFCorruptionError (corrupt input under
    the abort policy), FFTimeoutError (past migration.timeout_minutes; nothing swapped in),
    FFStorageError (verification failed; the target is left as it was).
    """
    started = time.perf_counter()
    src, dst = Path(source).resolve(), Path(target).resolve()
    in_place = src == dst
    _check_paths(src, dst)
    recover(dst)
    registry = registry or default_registry()
    version = detect_version(src)
    _refuse_newer(src, version, registry)
    chain = registry.path(version, registry.latest_version)
    previous = read_state(dst)
    settings = config.migration
    if not chain or (previous is not None and previous.phase == "done" and not in_place and previous.source == str(src)
                     and dst.exists() and previous.staging_digest == manifest_digest(ff_build_manifest(dst))
                     and _source_digest(dst) == manifest_digest(ff_build_manifest(src))):
        return _already_current(src, dst, in_place, version, started, previous)
    reader, importer = _prepare(src, config, reader_class)
    importer.check_policy()  # abort policy: raise before a single byte is written
    remote = backup_store(config)  # an unreachable artifact store stops the run here, nothing written
    source_manifest = ff_build_manifest(src)
    work = ff_ensure_directory(work_dir_for(dst))
    run_id = f"run-{datetime.now(UTC):%Y%m%dT%H%M%S}-{ff_new_id()[:8]}"
    run_dir = ff_ensure_directory(work / run_id)
    target_existed = dst.exists() and any(dst.iterdir())
    before = ff_build_manifest(dst) if target_existed else FFManifest(entries=[])
    ff_write_manifest(run_dir, before, run_dir / "manifest_before.json")
    ff_write_manifest(run_dir, source_manifest, run_dir / "manifest_source.json")
    state = FFMigrationStateDTO(
        run_id=run_id, source=str(src), target=str(dst), in_place=in_place, target_existed=target_existed,
        phase="prepared", started_at=datetime.now(UTC), manifest_before_path=str(run_dir / "manifest_before.json"),
        manifest_before_digest=manifest_digest(before),
    )
    write_state(state)
    if target_existed:
        backup = run_dir / "backup"
        copy_tree(dst, backup)
        if manifest_digest(ff_build_manifest(backup)) != state.manifest_before_digest:
            raise FFStorageError("the backup copy does not match the target's manifest", path=backup)
        state.backup_dir = str(backup)
        if remote is not None:
            state.backup_url = upload_backup(remote, state, backup)
        write_state(state)
    staging = work / "staging"
    ff_remove_tree(staging)
    ff_ensure_directory(staging)
    irregular = _quarantine(importer, src, run_dir / "quarantine") if importer.corrupt_items() else list(importer.inventory.irregular)
    clock_value = _clock_for(importer.inventory.newest_timestamp)
    staging_config = _staging_config(config, staging)
    store = FFStore.from_config(staging_config)
    store.write_json(store.path(FF_META_NAME), FFDataRootMetaDTO(
        schema_version=chain[-1].to_version, created_at=clock_value, created_by="ff-platform migration",
    ).model_dump(mode="json"))
    context = FFMigrationContext(source=src, staging=staging, config=staging_config,
                                 reader=reader, importer=importer, clock_value=clock_value)
    timeout = settings.timeout_minutes * 60
    applied: list[str] = []
    for migration in chain:
        step_started = time.perf_counter()
        try:
            await asyncio.wait_for(migration.forward(context), timeout=max(1.0, timeout - (time.perf_counter() - started)))
        except TimeoutError as exc:
            raise FFTimeoutError(f"migration {migration.migration_id} ran past {settings.timeout_minutes} min; "
                                 "the target was not touched", path=dst) from exc
        append_applied(store, registry.new_log_entry(migration, datetime.now(UTC), time.perf_counter() - step_started, str(src)))
        applied.append(migration.migration_id)
    store.write_json(store.path(FF_META_NAME), FFDataRootMetaDTO(
        schema_version=chain[-1].to_version, created_at=clock_value, created_by="ff-platform migration",
        migrations_applied=applied,
    ).model_dump(mode="json"))
    if version == 1:  # the legacy ids imported under a mapped v2 id (see legacy_ids)
        store.write_json(store.path(ID_MAP_NAME), {
            "mappings": [m.model_dump(mode="json") for m in importer.inventory.id_map]})
    async with FFManagerTarget(context.config, clock=lambda: clock_value) as view:
        comparison = await compare_source_target(reader, importer.inventory, view, importer.explained, importer.skipped)
    source_after = ff_build_manifest(src)
    if not source_after.same_content(source_manifest):
        comparison.differences.append("the source changed during the migration: " + "; ".join(describe_diff(source_manifest, source_after, 5)))
    _fsync_tree(store)
    staged = ff_build_manifest(staging)
    ff_write_manifest(staging, staged)
    ff_write_manifest(run_dir, staged, run_dir / MANIFEST_AFTER)  # rollback's reference for later changes (drift.py)
    state.staging_digest = manifest_digest(staged)
    state.phase = "staged"
    write_state(state)
    if not comparison.equivalent:
        # Not swapped in: the target stays as it was; the caller (CLI: exit 1) shows the differences.
        _log.error("migration of %s not swapped in: %d difference(s)", src, len(comparison.differences))
        return FFMigrationRunDTO(
            run_id=run_id, source=str(src), target=str(dst), in_place=in_place, from_version=version,
            to_version=chain[-1].to_version, migrations_applied=[], counts=dict(importer.stats.counts),
            irregular=[*irregular, *importer.explained, *importer.skipped], comparison=comparison,
            id_map=list(importer.inventory.id_map),
            manifest_digest_source=manifest_digest(source_manifest), manifest_digest_target="",
            backup_dir=state.backup_dir, duration_seconds=time.perf_counter() - started,
            batches_written=importer.stats.batches, batch_size=importer.batch_size,
            largest_batch=importer.stats.largest_batch,
        )
    swap_in(state)
    for old_run in work.glob("run-*"):  # keep only this run's backup: rollback restores the last one
        if old_run.name != run_id and old_run.is_dir():
            ff_remove_tree(old_run)
    after = ff_build_manifest(dst)
    if manifest_digest(after) != state.staging_digest:
        raise FFStorageError("the target's manifest differs from the verified staging copy: " + "; ".join(describe_diff(staged, after, 5)), path=dst)
    return FFMigrationRunDTO(
        run_id=run_id, source=str(src), target=str(dst), in_place=in_place, from_version=version,
        to_version=chain[-1].to_version, migrations_applied=applied, counts=dict(importer.stats.counts),
        irregular=[*irregular, *importer.explained, *importer.skipped], comparison=comparison,
        id_map=list(importer.inventory.id_map),
        manifest_digest_source=manifest_digest(source_manifest), manifest_digest_target=state.staging_digest,
        backup_dir=state.backup_dir, batches_written=importer.stats.batches, batch_size=importer.batch_size,
        largest_batch=importer.stats.largest_batch, duration_seconds=time.perf_counter() - started,
    )


def _source_digest(target: Path) -> str:
    """Digest of the source manifest recorded by the last run of ``target`` ('' when unknown)."""
    state = read_state(target)
    if state is None:
        return ""
    store = work_store(target)
    path = store.path(state.run_id, "manifest_source.json")
    if not path.exists():
        return ""
    return manifest_digest(read_manifest(store, path))


def _already_current(src: Path, dst: Path, in_place: bool, version: int, started: float,
                     previous: FFMigrationStateDTO | None) -> FFMigrationRunDTO:
    """Nothing to do: the root is at the latest version, or this exact source was migrated here."""
    digest = manifest_digest(ff_build_manifest(dst)) if dst.exists() else ""
    return FFMigrationRunDTO(
        run_id=previous.run_id if previous else "none", source=str(src), target=str(dst), in_place=in_place,
        from_version=version, to_version=FF_SCHEMA_VERSION if previous else version, migrations_applied=[],
        comparison=FFComparisonDTO(), manifest_digest_source=manifest_digest(ff_build_manifest(src)),
        manifest_digest_target=digest, backup_dir=previous.backup_dir if previous else "",
        duration_seconds=time.perf_counter() - started, already_current=True,
    )
