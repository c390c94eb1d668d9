"""Planted defects inside ``ff_managers._migration`` (collected by ``tests/planted_defects``).

Each replaces one function for the length of a suite run with the behaviour of a mutant of the
package that survived the partial mutation run of 2026-12-05 and is now killed by the package's
exact tests (tests/ff_managers/migration/test_ff_migration_exact_plan.py); the migration suite's
dry-run test must turn red on each. Mutant numbers are those of the tree of that run's successor
(``mutmut show`` in its workspace).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ff_managers.ff_migration_manager as facade
from ff_class_configs.ff_migration_dtos import FFMigrationPlanDTO
from ff_managers._migration import engine
from ff_managers._migration.legacy_import import FFCountingSink
from tests._planted import PlantedDefect

__all__ = ["DEFECTS"]

_real_plan = engine.plan_migration


async def plan_without_irregular(source: Path | str, target: Path | str, config: Any, *, registry: Any = None) -> FFMigrationPlanDTO:
    """The dry run leaves out the irregular items the migration would skip (the ``irregular=``
    argument dropped: mutant plan_migration 100), so a user learns of them only after migrating."""
    plan = await _real_plan(source, target, config, registry=registry)
    return plan.model_copy(update={"irregular": []})


async def plan_subtracting_documents(source: Path | str, target: Path | str, config: Any, *, registry: Any = None) -> FFMigrationPlanDTO:
    """The plan's bytes to copy subtract the documents' bytes instead of adding them
    (``stats.bytes_copied - doc_bytes``: mutant plan_migration 107)."""
    src, dst = Path(source).resolve(), Path(target).resolve()
    engine._check_paths(src, dst)
    version = engine.detect_version(src)
    registry = registry or engine.default_registry()
    chain = registry.path(version, registry.latest_version)
    if not chain:
        return await _real_plan(source, target, config, registry=registry)
    _reader, importer = engine._prepare(src, config)
    importer.check_policy()
    stats = await importer.run(FFCountingSink())
    c = stats.counts
    files = (c["users"] + 2 * c["sessions"] + 2 * c["panels"] + c["personas"] + c["knowledge_bases"]
             + 2 * c["documents"] + c["vector_files"] + 2)
    doc_bytes = sum(d.size for s in importer.inventory.sessions() for d in s.documents)
    return FFMigrationPlanDTO(
        source=str(src), target=str(dst), from_version=version, to_version=chain[-1].to_version,
        migrations=[m.migration_id for m in chain], records=dict(c), files_to_write=files,
        bytes_to_copy=stats.bytes_copied - doc_bytes, source_bytes=importer.inventory.bytes,
        irregular=[*importer.inventory.irregular, *importer.explained], id_map=list(importer.inventory.id_map),
    )


DEFECTS: tuple[PlantedDefect, ...] = (
    PlantedDefect(
        name="migration_plan_hides_irregular",
        what="the dry run's plan lists none of the irregular items the migration would skip",
        origin="mutant ff_managers._migration.engine.x_plan_migration__mutmut_100",
        suite="migration", test="dry_run_writes_nothing",
        patches=((facade, "plan_migration", plan_without_irregular),),
    ),
    PlantedDefect(
        name="migration_plan_subtracts_documents",
        what="the dry run's bytes to copy subtract the documents' bytes instead of adding them",
        origin="mutant ff_managers._migration.engine.x_plan_migration__mutmut_107",
        suite="migration", test="dry_run_writes_nothing",
        patches=((facade, "plan_migration", plan_subtracting_documents),),
    ),
)
