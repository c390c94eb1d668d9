"""Migration machinery behind :class:`testing.FFMigrationValidator`: legacy reader, registry,
import, backup/staging/rollback, comparison, deterministic legacy data generator."""

from ff_managers._migration.engine import LEGACY_IMPORT_ID, VOLATILE_FILES, default_registry, migrate_root, plan_migration
from testing.migration._generator import FFLegacyGeneratorConfig, generate_legacy_root, inject_corruption
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_managers._migration.registry import FFMigration, FFMigrationRegistry

__all__ = [
    "LEGACY_IMPORT_ID",
    "VOLATILE_FILES",
    "FFLegacyGeneratorConfig",
    "FFLegacyReader",
    "FFMigration",
    "FFMigrationRegistry",
    "default_registry",
    "generate_legacy_root",
    "inject_corruption",
    "migrate_root",
    "plan_migration",
]
