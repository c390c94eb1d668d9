"""What :class:`testing.FFMigrationValidator` adds to the migration engine (which is the product's:
``ff_managers.FFMigrationManager``): a deterministic legacy data generator, interruption trials
(SIGKILL to a migrating child), the memory benchmark, and the child process they run."""

from testing.migration._generator import (
    FFGeneratedLegacyDTO,
    FFLegacyGeneratorConfig,
    generate_legacy_root,
    inject_corruption,
)

__all__ = [
    "FFGeneratedLegacyDTO",
    "FFLegacyGeneratorConfig",
    "generate_legacy_root",
    "inject_corruption",
]
