"""FFMigrationManager: bring a data root (or the legacy flat-file layout) to the current schema.

It is what ``main.py migrate / migrate info / migrate validate / manifest / verify / rollback``
call: migrate, dry run, where a root stands, validate its history against the registry, write and
verify a manifest, what changed since the migration, roll back. The engine is the private package
:mod:`ff_managers._migration`; ``testing.FFMigrationValidator`` proves it on generated data.

Layering
--------
``ff_managers`` holds two kinds of manager:

* **Domain managers** (memory, panels with the persona registry, knowledge, tools, metrics) each own
  one kind of data and its files. They never import each other.
* **Coordinating managers** sit above them and combine them: the migration manager now, the
  service manager (the Service issue) and the cross-system communication manager (the
  Cross-system issue) next. A coordinating manager uses the domain managers only through their
  public APIs, the names ``ff_managers`` exports, never their private packages; so a domain
  manager can change how it stores its data without breaking a coordinator.

The migration writes a legacy root into a staging root through ``create_profile``,
``create_session``, ``import_messages``, ``create_panel``, ``register_persona``,
``create_knowledge_base`` and ``add_document``, and reads it back through the ``get_*`` and
``list_*`` calls to compare it field by field. It writes itself only what no domain manager
owns: ``ff_meta.json``, the applied-migrations log (``system/migrations.jsonl``), the legacy
vector files it copies verbatim, and its work directory beside the target
(``.<target>.ff_migration/``: journal, backup, staging, quarantine). Dependencies point down:
``main.py`` -> ``testing`` -> ``ff_managers`` (coordinating -> domain) -> ``ff_utils``.

What the legacy import never does
---------------------------------
It never follows a symbolic link: links are listed as skipped (with where they point) and never
descended into, and files are opened with ``O_NOFOLLOW``. It never drops a record silently: a
folder, persona or message id the v2 id rule refuses is imported under a deterministic mapped id
(the original kept in the record, in ``ff_migration_id_map.json`` at the target's root and in
``run.id_map``), and every record is imported or listed with a reason. The comparison forgives
only the rules of its one table (``run.comparison.equivalences``), and an audit that does not
trust the reader fails the verification when a file or record line was neither imported nor
listed, or was read through a link.

After a crash
-------------
The journal (:class:`~ff_class_configs.ff_migration_dtos.FFMigrationStateDTO`) names the phase of
the last run. Killed before the swap, the target was never touched and the next run discards the
staging copy; killed during the swap, the next :meth:`FFMigrationManager.migrate` or
:meth:`~FFMigrationManager.rollback` completes it from the verified staging copy. The source is
only ever read.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_migration_dtos import (
    FFLegacyInventoryDTO,
    FFMigrationPlanDTO,
    FFMigrationRunDTO,
    FFMigrationStateDTO,
    FFRegistryProblemDTO,
)
from ff_class_configs.ff_migration_info_dtos import FFMigrationDriftDTO, FFMigrationInfoDTO
from ff_managers._migration.backup import describe_diff, manifest_digest, read_state, rollback, work_dir_for
from ff_managers._migration.drift import changes_since_migration
from ff_managers._migration.engine import LEGACY_IMPORT_ID, VOLATILE_FILES, default_registry, migrate_root, plan_migration
from ff_managers._migration.info import migration_info, validate_root
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_managers._migration.registry import MIGRATION_LOG, FFMigration, FFMigrationRegistry
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_hashing import (
    FF_MANIFEST_NAME,
    FFManifest,
    FFManifestDiff,
    ff_build_manifest,
    ff_verify_manifest,
    ff_write_manifest,
)

__all__ = [
    "FFMigration",
    "FFMigrationManager",
    "FFMigrationRegistry",
    "LEGACY_IMPORT_ID",
    "MIGRATION_LOG",
    "VOLATILE_FILES",
    "default_registry",
    "manifest_digest",
]


class FFMigrationManager:
    """Migrations of data roots: migrate, dry run, verify, rollback, registry checks.

    Not an ``FFComponentBase``: it is bound to no data root of its own (it works on the source and
    target it is given, and starts the domain managers on its staging copy), so it has no
    lifecycle to run. ``registry`` defaults to the migrations this version knows.
    """

    def __init__(self, config: FFConfigurationManagerConfigDTO, *, registry: FFMigrationRegistry | None = None) -> None:
        self.config = config
        self.registry = registry or default_registry()

    async def migrate(self, source: Path | str, target: Path | str) -> FFMigrationRunDTO:
        """Migrate ``source`` into ``target`` (the same path: upgrade in place).

        Backs the target up, imports into a staging copy through the domain managers, compares
        source and staging field by field and swaps the staging copy in only when they agree (a
        run that does not agree returns with ``comparison.differences`` and leaves the target as
        it was). Raises FFValidationError (bad paths, unknown layout), FFCorruptionError (corrupt
        input under ``migration.corrupt_input_policy = 'abort'``), FFTimeoutError (past
        ``migration.timeout_minutes``; nothing swapped in), FFStorageError (a backup or the
        swapped-in tree does not match its manifest).
        """
        return await migrate_root(source, target, self.config, registry=self.registry)

    async def dry_run(self, source: Path | str, target: Path | str) -> FFMigrationPlanDTO:
        """What a migration would write, computed without writing.

        Proven rather than promised: the manifests of the source, the target and the target's
        work directory are taken before and after, and ``writes_performed`` counts what changed.
        """
        watched = [Path(source), Path(target), work_dir_for(target)]
        before = [ff_build_manifest(p) if p.is_dir() else None for p in watched]
        plan = await plan_migration(source, target, self.config, registry=self.registry)
        after = [ff_build_manifest(p) if p.is_dir() else None for p in watched]
        changed = 0
        for old, new in zip(before, after, strict=True):
            if old is None or new is None:
                changed += (old is None) != (new is None)
            else:
                changed += len(describe_diff(old, new, limit=10_000))
        return plan.model_copy(update={"writes_performed": changed})

    @staticmethod
    def verify(root: Path | str) -> FFManifestDiff:
        """Recompute the SHA-256 manifest of ``root`` and diff it with its ``ff_manifest.json``.

        Raises FFValidationError when ``root`` is not a directory, FFNotFoundError when it has
        no manifest.
        """
        base = Path(root)
        if not base.is_dir():
            raise FFValidationError(f"not a directory: {base}", field="root", path=base)
        return ff_verify_manifest(base, base / FF_MANIFEST_NAME)

    @staticmethod
    def rollback(root: Path | str, *, artifacts_options: Mapping[str, Any] | None = None) -> FFManifest:
        """Restore ``root`` from the backup taken by its last migration; return its manifest.

        A target that did not exist before the migration is removed (empty manifest). Anything
        written to the root since the migration is discarded with it: ask
        :meth:`changes_since_migration` first (the CLI refuses unless ``--force``). Raises
        FFNotFoundError when no migration is recorded, FFConflictError when the last one did not
        finish, FFStorageError when the backup does not match the manifest taken before. A local
        backup that is gone is fetched from the artifact store the migration uploaded it to
        (``artifacts_options``: that store's fsspec options; FFArtifactStoreError when it fails).
        """
        _state, manifest = rollback(root, artifacts_options)
        return manifest

    @staticmethod
    def changes_since_migration(root: Path | str) -> FFMigrationDriftDTO:
        """What was added, removed or modified in ``root`` since its last migration: what
        :meth:`rollback` would discard. Raises FFNotFoundError (no migration recorded),
        FFConflictError (the last one is not done)."""
        return changes_since_migration(root)

    @staticmethod
    def write_manifest(root: Path | str) -> FFManifest:
        """Hash every file of ``root`` into ``root/ff_manifest.json`` (what :meth:`verify` compares
        with later); return it. Raises FFValidationError when ``root`` is not a directory."""
        manifest = ff_build_manifest(root)
        ff_write_manifest(root, manifest)
        return manifest

    def validate_registry(self, root: Path | str) -> list[FFRegistryProblemDTO]:
        """Changed, missing or out-of-order migrations in ``root``'s applied log (empty: consistent)."""
        return self.registry.validate_root(root)

    def info(self, root: Path | str) -> FFMigrationInfoDTO:
        """Where ``root`` stands, like Flyway's ``info``: schema version, each applied migration with
        its checksum then and now, the migrations still to run, the last run. Reads only; raises
        FFValidationError when ``root`` is neither an FF data root nor a legacy one."""
        return migration_info(root, self.registry)

    def validate(self, root: Path | str) -> list[FFRegistryProblemDTO]:
        """:meth:`validate_registry` plus ``ff_meta.json``'s agreement with the log (a schema
        version this FF Platform does not know, a version the log does not end at, applied ids the
        log lacks). Empty: consistent. Reads only."""
        return validate_root(root, self.registry)

    @staticmethod
    def scan_legacy(source: Path | str) -> FFLegacyInventoryDTO:
        """What a legacy (v1) root holds, and every irregular item in it with its reason; reads only.

        Raises FFValidationError when ``source`` is not a legacy root.
        """
        return FFLegacyReader(source).scan()

    @staticmethod
    def last_run(target: Path | str) -> FFMigrationStateDTO | None:
        """The journal of ``target``'s last migration (phase, backup, manifests); None if never migrated."""
        return read_state(target)

    @staticmethod
    def work_dir(target: Path | str) -> Path:
        """Where migrations of ``target`` keep journal, backup, staging and quarantine:
        the hidden sibling ``.<name>.ff_migration/`` (same file system, so the swap is a rename)."""
        return work_dir_for(target)
