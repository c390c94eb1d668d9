"""Planted defects inside ``ff_managers._migration`` (collected by ``tests/planted_defects``).

Each replaces one function for the length of a suite run with the behaviour of a mutant of the
package that survived a partial mutation run of 2026-12-05 and is now killed by the package's
exact tests, or with a bug fixed since; the migration suite test it names must turn red on each:
the dry-run test (plan_migration 100, 107), ``newer_root_refused`` (the root of a newer release
reported "already current", fixed in a39fe79), ``registry_reports_every_problem`` (registry
validate 15), ``full_cycle`` (the target's profiles counted twice: _Comparer._user 19 of the sample of
2026-12-06), ``bad_paths_refused`` (a bad source's refusal without its field: _check_paths 6
of that sample) and the dry-run test again (the vector index read as messages: ``_scan_vectors`` 51
of that sample; nothing inside the generated vector stores may be listed).
Mutant numbers are those of the trees of those runs (``mutmut show`` in a workspace).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ff_managers.ff_migration_manager as facade
from ff_class_configs.ff_migration_dtos import FFMigrationPlanDTO, FFRegistryProblemDTO
from ff_managers._migration import engine
from ff_managers._migration.compare import _Comparer
from ff_managers._migration.legacy_mapping import document_ids, profile_from_v2
from ff_managers._migration.legacy_import import FFCountingSink
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_managers._migration.registry import FFMigrationRegistry
from ff_utils.ff_errors import FFValidationError
from tests._planted import PlantedDefect

__all__ = ["DEFECTS"]

_real_plan = engine.plan_migration
_real_check_paths = engine._check_paths


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


def accept_a_newer_root(src: Path, version: int, registry: Any) -> None:
    """The refusal of a root newer than the registry is gone: such a root is reported "already
    current" (the behaviour before a39fe79), though this release cannot read what it holds."""


def validate_stopping_at_a_missing_entry(self: FFMigrationRegistry, applied: list[Any]) -> list[FFRegistryProblemDTO]:
    """The log check stops at the first migration the registry no longer knows (``break`` for
    ``continue``: mutant registry validate 15), so a changed migration after it goes unreported."""
    problems: list[FFRegistryProblemDTO] = []
    expected_version: int | None = None
    for entry in applied:
        known = self.get(entry.migration_id)
        if known is None:
            problems.append(FFRegistryProblemDTO(migration_id=entry.migration_id, problem="missing",
                                                 detail="no longer in the registry"))
            break
        if known.checksum() != entry.checksum:
            problems.append(FFRegistryProblemDTO(migration_id=entry.migration_id, problem="changed", detail="checksum"))
        if expected_version is not None and entry.from_version != expected_version:
            problems.append(FFRegistryProblemDTO(migration_id=entry.migration_id, problem="out_of_order", detail="order"))
        expected_version = entry.to_version
    return problems


async def user_counting_the_target_profile_twice(self: _Comparer, user: Any) -> None:
    """The comparison counts each profile it reads back from the target twice
    (``target_counts["profiles"] += 2``: mutant _Comparer._user 19 of the sample of 2026-12-06),
    so the report's source/target table shows profiles that do not exist."""
    self.counts["users"] += 1
    target = await self.view.get_user(user.user_id)
    where = f"users/{user.legacy_id or user.user_id}/profile.json"
    if target is None:
        self.differ(f"{where}: user {user.user_id} missing in target")
        return
    rebuilt = profile_from_v2(target)
    if rebuilt is not None:
        self.target_counts["profiles"] += 2
    if user.profile is not None:
        self.counts["profiles"] += 1
        if rebuilt is None:
            self.differ(f"{where}: profile fields not kept")
        else:
            self.fields.diff(where, "profile", user.profile, rebuilt)
    elif rebuilt is not None:
        self.differ(f"{where}: target claims a legacy profile the source does not have")
    doc_ids = document_ids(user)
    for session in user.sessions:
        await self._session(user.user_id, session, doc_ids)


def check_paths_without_the_source_field(source: Path, target: Path) -> None:
    """The refusal of a source that is not a folder no longer names its field (``field="source"``
    dropped: mutant _check_paths 6 of the sample of 2026-12-06); the other refusals as they are."""
    if not source.is_dir():
        raise FFValidationError(f"source is not a directory: {source}", path=source)
    _real_check_paths(source, target)


_real_iter_lines = FFLegacyReader.iter_lines


def iter_lines_index_as_messages(self: FFLegacyReader, path: Path, *, note: bool = False, messages: bool = True) -> Any:
    """The vector index's lines are checked as chat messages (``messages=True`` in
    ``_scan_vectors``: mutant _scan_vectors 51 of the 2026-12-06 sample): every index line is
    refused as an invalid record and the index counted as holding none."""
    if Path(path).name == "vector_index.jsonl":
        messages = True
    return _real_iter_lines(self, path, note=note, messages=messages)


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
    PlantedDefect(
        name="migration_accepts_a_newer_root",
        what="a data root whose schema version is newer than the registry's is reported already current, not refused",
        origin="mutant ff_managers._migration.engine.x__already_current__mutmut_40 (the bug it showed, fixed in a39fe79)",
        suite="migration", test="newer_root_refused",
        patches=((engine, "_refuse_newer", accept_a_newer_root),),
    ),
    PlantedDefect(
        name="migration_registry_check_stops_at_a_missing_entry",
        what="validate_registry stops at the first applied migration the registry no longer knows",
        origin="mutant ff_managers._migration.registry.xǁFFMigrationRegistryǁvalidate__mutmut_15",
        suite="migration", test="registry_reports_every_problem",
        patches=((FFMigrationRegistry, "validate", validate_stopping_at_a_missing_entry),),
    ),
    PlantedDefect(
        name="migration_counts_target_profiles_twice",
        what="the comparison counts every profile read back from the target twice (source/target table wrong)",
        origin="mutant ff_managers._migration.compare.xǁ_Comparerǁ_user__mutmut_19",
        suite="migration", test="full_cycle",
        patches=((_Comparer, "_user", user_counting_the_target_profile_twice),),
    ),
    PlantedDefect(
        name="migration_bad_source_names_no_field",
        what="the refusal of a migration source that is not a folder names no field",
        origin="mutant ff_managers._migration.engine.x__check_paths__mutmut_6",
        suite="migration", test="bad_paths_refused",
        patches=((engine, "_check_paths", check_paths_without_the_source_field),),
    ),
    PlantedDefect(
        name="migration_vector_index_read_as_messages",
        what="the lines of a vector index are checked as chat messages and all refused",
        origin="mutant ff_managers._migration.legacy_stores.xǁFFLegacyStoreScansǁ_scan_vectors__mutmut_51 (2026-12-06 sample)",
        suite="migration", test="dry_run_writes_nothing",
        patches=((FFLegacyReader, "iter_lines", iter_lines_index_as_messages),),
    ),
)
