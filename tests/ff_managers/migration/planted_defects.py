"""Planted defects inside ``ff_managers._migration`` (collected by ``tests/planted_defects``).

Each replaces one function for the length of a suite run with the behaviour of a mutant of the
package that survived a partial mutation run of 2026-12-05 and is now killed by the package's
exact tests, or with a bug fixed since; the migration suite test it names must turn red on each:
the dry-run test (plan_migration 100, 107), ``newer_root_refused`` (the root of a newer release
reported "already current", fixed in a39fe79), ``registry_reports_every_problem`` (registry
validate 15), ``full_cycle`` (the target's profiles counted twice: _Comparer._user 19 of the sample of
2026-12-06), ``bad_paths_refused`` (a bad source's refusal without its field: _check_paths 6
of that sample) and the dry-run test again (the vector index read as messages: ``_scan_vectors`` 51
of that sample; nothing inside the generated vector stores may be listed). Seven survivors of the
sample of 2026-12-07 (killed by ``test_migration_fresh_kills_legacy.py``) and three of the census of
``legacy_reader`` (``test_migration_census_mig_a.py``) and that sample turn ``legacy_details_survive``
red: the migration suite's hand-written legacy root, whose every detail is known.
Mutant numbers are those of the trees of those runs (``mutmut show`` in a workspace).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import ff_managers.ff_migration_manager as facade
from ff_class_configs.ff_migration_dtos import FFIdMappingDTO, FFMigrationPlanDTO, FFRegistryProblemDTO
from ff_managers._migration import compare, engine, legacy_format, legacy_import, legacy_mapping, legacy_reader, legacy_records
from ff_managers._migration.compare import _Comparer
from ff_managers._migration.legacy_mapping import document_ids, profile_from_v2
from ff_managers._migration.legacy_import import FFCountingSink
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_managers._migration.manager_adapter import FFManagerTarget
from ff_managers._migration.registry import FFMigrationRegistry
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_file_ops import ff_read_bytes
from ff_utils.ff_ids import ff_is_valid_id
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



# ---------------------------------------------------------------- the 2026-12-07 sample (caught by legacy_details_survive)
# Killed by tests/ff_managers/migration/test_migration_fresh_kills_legacy.py and _engine.py; the
# migration suite's hand-written root (testing/suites/_migration_details.py) holds each detail.


def message_from_v2_losing_the_session_id(message: dict[str, Any]) -> dict[str, Any]:
    """A legacy message line that carried its own ``session_id`` is rebuilt from the target with
    ``session_id`` None (``record["session_id"] = None``: mutant message_from_v2 18), so the
    comparison reports a difference for a message that migrated intact and the migration is not
    swapped in."""
    extra = dict(message.get("extra") or {})
    book = extra.pop(legacy_mapping.IMPORT_KEY, {})
    record = {name: message.get(name) for name in legacy_mapping.MESSAGE_FIELDS}
    record.update(extra)
    if "session_id" in book:
        record["session_id"] = None
    return legacy_mapping._restore(record, book)


def classify_session_ignoring_participants(session: Any) -> None:
    """A legacy session whose only panel sign is its ``participants`` is imported as a chat (``bool(None)``: classify_session 37)."""
    meta = session.session_json or {}
    metadata = meta.get("metadata") if isinstance(meta.get("metadata"), dict) else {}
    participants = metadata.get("participants") if isinstance(metadata.get("participants"), list) else []
    session.participants = [p for p in participants if isinstance(p, str)]
    is_panel = (
        session.session_id.startswith("panel_session_")
        or meta.get("session_type") == "panel"
        or metadata.get("session_type") == "panel"
        or bool(session.transcripts)
        or bool(None)
    )
    session.kind = "panel" if is_panel else "chat"


_real_panel_to_v2 = legacy_import.panel_to_v2


def panel_to_v2_without_its_documents(session: Any, persona_ids: Any, registered: Any, refs: Any, doc_ids: Any, now: Any) -> Any:
    """A migrated panel's book no longer names its documents (their ids not passed: _import_user 49)."""
    return _real_panel_to_v2(session, persona_ids, registered, refs, None, now)


_real_put_document = FFManagerTarget.put_document


async def put_document_without_the_legacy_mime_type(self: FFManagerTarget, user_id: str, kb_id: str, document: dict[str, Any],
                                                    source: Path) -> None:
    """The import hands every document over without its legacy MIME type (the key misspelt:
    ``meta.get("XXmime_typeXX")``, mutant _import_user 139), so the file suffix decides: markdown
    kept in a ``.txt`` file becomes plain text."""
    await _real_put_document(self, user_id, kb_id, {**document, "mime_type": None}, source)


async def put_document_by_suffix_only(self: FFManagerTarget, user_id: str, kb_id: str, document: dict[str, Any], source: Path) -> None:
    """The target adapter ignores a document's legacy MIME type (``document.get(None)``: mutant
    FFManagerTarget.put_document 9): markdown kept in a ``.txt`` file becomes plain text."""
    data = ff_read_bytes(source, max_bytes=self.config.knowledge.max_document_bytes)
    fmt = document.get(None) or source.suffix or None  # type: ignore[call-overload]
    await self.knowledge.add_document(
        user_id, kb_id, data=data, format=fmt, title=document["title"], source=document["source"],
        metadata=document["metadata"], document_id=document["document_id"],
    )


_real_iter_session_records = legacy_records.iter_session_records


def iter_session_records_renamed_without_transcript(reader: Any, session: Any, *, note: bool = False) -> Any:
    """A transcript record renamed for a ``message_id`` that messages.jsonl uses for another record
    loses its persona (``FFSessionRecord(relative, None, ...)``: mutant iter_session_records 122):
    the scan counts it as a messages.jsonl message and the import's explanation undercounts the
    transcript's own records."""
    for rec in _real_iter_session_records(reader, session, note=note):
        yield dataclasses.replace(rec, transcript=None) if rec.status == "renamed" else rec


def profile_problem_without_metadata(profile: dict[str, Any], user_id: str) -> str:
    """A legacy profile whose ``metadata`` is not an object is not refused by the scan
    (``"METADATA"`` checked instead: mutant profile_problem 19); it reaches the import, which
    fails on it."""
    if profile.get("user_id") not in (None, user_id):
        return f"profile names user {profile.get('user_id')!r}, directory is {user_id!r}"
    if profile.get("username") is not None and not isinstance(profile.get("username"), str):
        return "username is not text"
    for key in ("preferences", "METADATA"):
        if profile.get(key) is not None and not isinstance(profile.get(key), dict):
            return f"{key} is not an object"
    for key in ("created_at", "updated_at"):
        if profile.get(key) is not None and not legacy_format.is_timestamp(profile.get(key)):
            return f"{key} is not an ISO 8601 timestamp"
    return ""


def read_json_object_keeping_the_bom(self: FFLegacyReader, entry: Any, kind: str) -> dict[str, Any] | None:
    """A legacy ``profile.json`` or ``session.json`` starting with a UTF-8 BOM (as Windows editors write
    it) is refused as invalid JSON (the BOM never stripped: ``and False``, _read_json_object 31)."""
    path = entry.path
    if entry.kind != "file":
        self._note(path, "unreadable", legacy_reader._SKIPPED, "expected a file, found a directory")
        return None
    try:
        raw = legacy_reader.read_nofollow(path)
    except OSError as exc:
        self._note(path, "unreadable", legacy_reader._SKIPPED, f"cannot read: {exc.strerror or exc}")
        return None
    raw = raw[len(legacy_reader.BOM):] if (raw.startswith(legacy_reader.BOM)) and False else raw
    if not raw.strip():
        return {}
    try:
        value = legacy_reader.orjson.loads(raw)
    except legacy_reader.orjson.JSONDecodeError as exc:
        self._note(path, kind, legacy_reader._SKIPPED, f"not valid JSON: {exc}")
        return None
    if not isinstance(value, dict):
        self._note(path, kind, legacy_reader._SKIPPED, f"expected a JSON object, found {type(value).__name__}")
        return None
    return value


def unique_panel_ids_dropping_every_session_mapping(self: FFLegacyReader, inventory: Any) -> None:
    """When a panel id is met again (two users' panels of one name), every session mapping of the
    id map is dropped, not only that panel's (``or`` for ``and``: mutant _unique_panel_ids 14), so
    the run's id map no longer says where a session with an invalid legacy name went."""
    taken: set[str] = set()
    for user in inventory.users:
        for session in user.sessions:
            if session.kind != "panel":
                continue
            if session.session_id in taken:
                legacy = session.legacy_id or session.session_id
                session.session_id = legacy_reader.mapped_id(session.relative_dir)
                session.legacy_id = legacy
                self._id_map = [m for m in self._id_map if not (m.kind == "session" or m.path == session.relative_dir)]
                self._id_map.append(FFIdMappingDTO(kind="session", legacy_id=legacy, v2_id=session.session_id, path=session.relative_dir))
            taken.add(session.session_id)


def document_id_one_character_longer(stored_name: str) -> str:
    """A legacy document whose name is not a valid id gets ``doc-`` and 101 characters of it, not
    100 (``[:101]``: mutant document_id_for 12), so a long name's id differs from the one earlier
    releases wrote for it."""
    return stored_name if ff_is_valid_id(stored_name) else "doc-" + "".join(c if c.isalnum() else "-" for c in stored_name)[:101]


def _doc(function: Any) -> str:
    return " ".join((function.__doc__ or "").split())


_DETAILS = "legacy_details_survive"

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
    PlantedDefect(
        name="migration_message_session_id_lost", what=_doc(message_from_v2_losing_the_session_id),
        origin="mutant ff_managers._migration.legacy_mapping.x_message_from_v2__mutmut_18", suite="migration", test=_DETAILS,
        patches=((compare, "message_from_v2", message_from_v2_losing_the_session_id),),
    ),
    PlantedDefect(
        name="migration_participants_panel_imported_as_chat", what=_doc(classify_session_ignoring_participants),
        origin="mutant ff_managers._migration.legacy_format.x_classify_session__mutmut_37", suite="migration", test=_DETAILS,
        patches=((legacy_reader, "classify_session", classify_session_ignoring_participants),),
    ),
    PlantedDefect(
        name="migration_panel_book_without_documents", what=_doc(panel_to_v2_without_its_documents),
        origin="mutant ff_managers._migration.legacy_import.xǁFFLegacyImportǁ_import_user__mutmut_49", suite="migration", test=_DETAILS,
        patches=((legacy_import, "panel_to_v2", panel_to_v2_without_its_documents),),
    ),
    PlantedDefect(
        name="migration_document_mime_type_dropped", what=_doc(put_document_without_the_legacy_mime_type),
        origin="mutant ff_managers._migration.legacy_import.xǁFFLegacyImportǁ_import_user__mutmut_139", suite="migration", test=_DETAILS,
        patches=((FFManagerTarget, "put_document", put_document_without_the_legacy_mime_type),),
    ),
    PlantedDefect(
        name="migration_document_format_by_suffix", what=_doc(put_document_by_suffix_only),
        origin="mutant ff_managers._migration.manager_adapter.xǁFFManagerTargetǁput_document__mutmut_9", suite="migration", test=_DETAILS,
        patches=((FFManagerTarget, "put_document", put_document_by_suffix_only),),
    ),
    PlantedDefect(
        name="migration_renamed_transcript_record_loses_persona", what=_doc(iter_session_records_renamed_without_transcript),
        origin="mutant ff_managers._migration.legacy_records.x_iter_session_records__mutmut_122", suite="migration", test=_DETAILS,
        patches=tuple((module, "iter_session_records", iter_session_records_renamed_without_transcript)
                      for module in (legacy_import, legacy_reader, compare)),
    ),
    PlantedDefect(
        name="migration_profile_metadata_not_checked", what=_doc(profile_problem_without_metadata),
        origin="mutant ff_managers._migration.legacy_format.x_profile_problem__mutmut_19", suite="migration", test=_DETAILS,
        patches=((legacy_reader, "profile_problem", profile_problem_without_metadata),),
    ),
    PlantedDefect(
        name="migration_json_with_bom_refused", what=_doc(read_json_object_keeping_the_bom),
        origin="mutant ff_managers._migration.legacy_reader.xǁFFLegacyReaderǁ_read_json_object__mutmut_31", suite="migration", test=_DETAILS,
        patches=((FFLegacyReader, "_read_json_object", read_json_object_keeping_the_bom),),
    ),
    PlantedDefect(
        name="migration_id_map_loses_session_mappings", what=_doc(unique_panel_ids_dropping_every_session_mapping),
        origin="mutant ff_managers._migration.legacy_reader.xǁFFLegacyReaderǁ_unique_panel_ids__mutmut_14", suite="migration", test=_DETAILS,
        patches=((FFLegacyReader, "_unique_panel_ids", unique_panel_ids_dropping_every_session_mapping),),
    ),
    PlantedDefect(
        name="migration_long_document_id_one_longer", what=_doc(document_id_one_character_longer),
        origin="mutant ff_managers._migration.legacy_mapping.x_document_id_for__mutmut_12", suite="migration", test=_DETAILS,
        patches=((legacy_mapping, "document_id_for", document_id_one_character_longer),),
    ),
)
