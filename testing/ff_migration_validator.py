"""FFMigrationValidator: proves data survives an upgrade.

The migration itself is the product's (:class:`ff_managers.FFMigrationManager`, behind ``main.py
migrate / verify / rollback``); this class proves it. ``validate_existing_data_migration()`` runs
the Liquibase-style "update, test, rollback, update again" cycle on a working copy of a data root
(a generated legacy one when no source is given):

1. SHA-256 manifest of the data as it is; a dry run, proven to write nothing;
2. in-place migration: independent backup, import into a staging copy through the managers,
   field-by-field comparison of source and staging, swap only when verified;
3. rollback from the backup, proven by a manifest identical to step 1;
4. the migration applied again, proven to give the same target (byte-identical except the files
   that record *when* it ran: :data:`VOLATILE_FILES`);
5. the registry's checksums validated against the applied-migrations log; timing against
   ``migration.timeout_minutes``.

``migrate``, ``dry_run``, ``verify``, ``rollback`` and ``validate_registry`` are the manager's,
kept here for the validator's users; ``test_interruptions`` kills migrating child processes.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_integration_testing_config import FFMigrationTestConfigDTO
from ff_class_configs.ff_migration_dtos import (
    FFIrregularAction,
    FFInterruptionTrialDTO,
    FFMigrationPlanDTO,
    FFMigrationRunDTO,
    FFMigrationValidationDTO,
    FFRegistryProblemDTO,
)
from ff_class_configs.ff_test_result_dtos import FFMigrationSummaryDTO
from ff_managers import FFMigrationManager, FFMigrationRegistry
from ff_managers.ff_migration_manager import VOLATILE_FILES, default_registry, manifest_digest
from ff_utils.ff_hashing import FFManifest, FFManifestDiff, ff_build_manifest
from testing.migration._generator import FFLegacyGeneratorConfig, generate_legacy_root
from testing.migration._interrupt import run_interruption_trials, stable_digest

__all__ = ["FFMigrationValidator"]


class FFMigrationValidator:
    """Proves a migration keeps every record: update, compare, roll back, update again."""

    def __init__(self, config: FFConfigurationManagerConfigDTO, *, registry: FFMigrationRegistry | None = None) -> None:
        self.config = config
        self.registry = registry or default_registry()
        self.last_validation: FFMigrationValidationDTO | None = None

    @property
    def manager(self) -> FFMigrationManager:
        """The product's migration manager, on this validator's ``config`` and ``registry``."""
        return FFMigrationManager(self.config, registry=self.registry)

    @property
    def _settings(self) -> FFMigrationTestConfigDTO:
        return self.config.integration_testing.migration_config

    # ------------------------------------------------------------------ the manager's operations

    async def migrate(self, source: Path | str, target: Path | str) -> FFMigrationRunDTO:
        """:meth:`FFMigrationManager.migrate` (see there for what it raises)."""
        return await self.manager.migrate(source, target)

    async def dry_run(self, source: Path | str, target: Path | str) -> FFMigrationPlanDTO:
        """:meth:`FFMigrationManager.dry_run`: the plan, and the proof it wrote nothing."""
        return await self.manager.dry_run(source, target)

    @staticmethod
    def verify(root: Path | str) -> FFManifestDiff:
        """:meth:`FFMigrationManager.verify`: ``root``'s manifest against its ``ff_manifest.json``."""
        return FFMigrationManager.verify(root)

    @staticmethod
    def rollback(root: Path | str) -> FFManifest:
        """:meth:`FFMigrationManager.rollback`: restore ``root`` from its last migration's backup."""
        return FFMigrationManager.rollback(root)

    def validate_registry(self, root: Path | str) -> list[FFRegistryProblemDTO]:
        """:meth:`FFMigrationManager.validate_registry`: changed or missing migrations in ``root``'s log."""
        return self.manager.validate_registry(root)

    def test_interruptions(self, source: Path | str, *, trials: int = 3, seed: int | None = None) -> list[FFInterruptionTrialDTO]:
        """SIGKILL child processes mid-migration; see :mod:`testing.migration._interrupt`."""
        return run_interruption_trials(source, self.config, trials=trials,
                                       seed=self.config.integration_testing.seed if seed is None else seed)

    # ------------------------------------------------------------------ the full validation

    async def validate_existing_data_migration(
        self,
        source: Path | str | None = None,
        *,
        work_dir: Path | str | None = None,
        generator: FFLegacyGeneratorConfig | None = None,
    ) -> FFMigrationSummaryDTO:
        """Run the whole cycle on a working copy of ``source`` (never on ``source`` itself).

        With no source, a legacy root is generated from the configured seed. The richer result
        is kept in :attr:`last_validation`. Raises FFValidationError for a bad source,
        FFCorruptionError under the abort policy when the source is corrupt.
        """
        if work_dir is not None:
            return await self._validate(source, Path(work_dir), generator)
        with tempfile.TemporaryDirectory(prefix="ff-migration-") as tmp:
            return await self._validate(source, Path(tmp), generator)

    async def _validate(self, source: Path | str | None, work: Path, generator: FFLegacyGeneratorConfig | None) -> FFMigrationSummaryDTO:
        started = time.perf_counter()
        seed: int | None = None
        if source is None:
            cfg = generator or FFLegacyGeneratorConfig(
                seed=self.config.integration_testing.seed, users=self._settings.generated_users,
                sessions_per_user=self._settings.generated_sessions_per_user,
            )
            seed = cfg.seed
            source = generate_legacy_root(work / "generated", cfg).root
        data = work / "data"
        shutil.copytree(source, data, symlinks=True)  # a working copy: the source itself is never migrated
        before = ff_build_manifest(data)
        digest_before = manifest_digest(before)

        plan = await self.dry_run(data, data)
        run = await self.migrate(data, data)
        migrated_digest = stable_digest(data)
        registry_problems = self.validate_registry(data)

        rollback_identical = False
        digest_after_rollback = ""
        reapply_identical = False
        reapply_differences: list[str] = []
        if self._settings.test_rollback_procedures:
            restored = self.rollback(data)
            digest_after_rollback = manifest_digest(restored)
            rollback_identical = digest_after_rollback == digest_before
            again = await self.migrate(data, data)
            reapply_identical = again.comparison.equivalent and stable_digest(data) == migrated_digest
            if not reapply_identical:
                reapply_differences = again.comparison.differences[:20] or ["manifest of the re-applied target differs"]
        duration = time.perf_counter() - started
        within = duration <= self.config.migration.timeout_minutes * 60
        self.last_validation = FFMigrationValidationDTO(
            run=run, dry_run=plan, dry_run_wrote_nothing=plan.writes_performed == 0,
            rollback_identical=rollback_identical, reapply_identical=reapply_identical,
            reapply_differences=reapply_differences, volatile_files=list(VOLATILE_FILES),
            registry_problems=registry_problems, within_timeout=within, generated_seed=seed,
        )
        differences = list(run.comparison.differences)
        differences += [f"registry: {p.migration_id} {p.problem}: {p.detail}" for p in registry_problems]
        if plan.writes_performed:
            differences.append(f"dry run changed {plan.writes_performed} file(s)")
        if not within:
            differences.append(f"validation took {duration:.1f}s, over migration.timeout_minutes")
        skipped = [f"{i.path}{f':{i.line_number}' if i.line_number else ''}: {i.kind}: {i.reason}"
                   for i in run.irregular if i.action in (FFIrregularAction.SKIPPED, FFIrregularAction.QUARANTINED)]
        return FFMigrationSummaryDTO(
            source=str(source), from_version=run.from_version, to_version=run.to_version,
            records_source=run.comparison.counts_source, records_target=run.comparison.counts_target,
            files_before=before.file_count, bytes_before=before.total_bytes,
            manifest_digest_before=digest_before, manifest_digest_after_rollback=digest_after_rollback,
            differences=differences, skipped_items=skipped, rollback_identical=rollback_identical,
            reapply_identical=reapply_identical, duration_seconds=round(duration, 3),
            timeout_minutes=self.config.migration.timeout_minutes,
        )
