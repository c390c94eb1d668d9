"""What :class:`testing.FFMigrationValidator` adds to the migration engine (which is the product's:
``ff_managers.FFMigrationManager``): a deterministic legacy data generator, a generator of *varied*
legacy roots (the variations older writers of the format left) with the check a migrated target
must pass, interruption trials (SIGKILL to a migrating child), the memory benchmark, and the child
process they run."""

from testing.migration._generator import (
    FFGeneratedLegacyDTO,
    FFLegacyGeneratorConfig,
    generate_legacy_root,
    inject_corruption,
)
from testing.migration._variations import FFVariedRootDTO, generate_varied_root, seeded_choose
from testing.migration._variations_check import check_varied_target

__all__ = [
    "FFGeneratedLegacyDTO",
    "FFLegacyGeneratorConfig",
    "FFVariedRootDTO",
    "check_varied_target",
    "generate_legacy_root",
    "generate_varied_root",
    "inject_corruption",
    "seeded_choose",
]
