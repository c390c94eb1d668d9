"""Field-by-field comparison of a legacy source and a migrated target.

The target is read back through :class:`FFTargetView` (the managers' public read APIs), and every
legacy record is *reconstructed* from what the target holds (:func:`message_from_v2`,
:func:`session_from_v2`). A record counts as kept only when the reconstruction equals the
original, key by key, under the documented equivalences of :mod:`.equivalence` and nothing else,
so "every field kept" is checked rather than assumed.

Messages are compared by walking the source file and the target in step, so memory stays flat.
Then the completeness audit (:mod:`.audit`) walks the legacy root on its own: every file and every
record line must have been compared or listed with a reason, and nothing imported may be a link.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

from ff_class_configs.ff_migration_dtos import FFComparisonDTO, FFIrregularItemDTO, FFLegacyInventoryDTO
from ff_utils.ff_hashing import ff_sha256_file
from ff_managers._migration.legacy_mapping import (
    IMPORT_KEY,
    LEGACY_KB_ID,
    document_ids,
    message_from_v2,
    panel_message_from_v2,
    profile_from_v2,
    session_from_v2,
)
from ff_managers._migration.audit import FFLineAudit, audit_completeness
from ff_managers._migration.equivalence import FFFieldComparer, rules_summary
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_managers._migration.legacy_records import iter_session_records

__all__ = ["FFTargetView", "compare_source_target", "MAX_DIFFERENCES"]

MAX_DIFFERENCES = 200


class FFTargetView(Protocol):
    """Read access to a migrated target, in the import's vocabulary (plain dicts)."""

    async def get_user(self, user_id: str) -> dict[str, Any] | None: ...
    async def get_session(self, user_id: str, session_id: str) -> dict[str, Any] | None: ...
    def iter_messages(self, user_id: str, session_id: str) -> AsyncIterator[dict[str, Any]]: ...
    async def get_panel(self, user_id: str, panel_id: str) -> dict[str, Any] | None: ...
    def iter_panel_messages(self, user_id: str, panel_id: str) -> AsyncIterator[dict[str, Any]]: ...
    async def get_persona(self, persona_id: str) -> dict[str, Any] | None: ...
    async def get_document(self, user_id: str, kb_id: str, document_id: str) -> dict[str, Any] | None: ...
    async def vector_file(self, user_id: str, session_id: str, name: str) -> Path | None: ...
    async def counts(self) -> dict[str, int]: ...


class _Comparer:
    def __init__(self, reader: FFLegacyReader, inventory: FFLegacyInventoryDTO, view: FFTargetView,
                 skipped: set[str], listed: list[FFIrregularItemDTO]) -> None:
        self.reader, self.inventory, self.view = reader, inventory, view
        self.skipped = skipped
        self.differences: list[str] = []
        self.fields = FFFieldComparer(self.differences)
        self.lines = FFLineAudit(Path(inventory.root), listed)
        # records a manager refused at import (listed with its reason): not expected in the target
        self.refused = {(i.path, i.line_number) for i in listed if i.kind == "record_refused"}
        self.counts = dict.fromkeys(("users", "profiles", "sessions", "panels", "messages", "personas", "documents", "vector_files"), 0)
        # Kinds the target view does not count through a list API: counted here, from what the
        # walk read out of the target, so the report's source/target table has both sides.
        self.target_counts = dict.fromkeys(("profiles", "messages"), 0)

    def differ(self, line: str) -> None:
        self.differences.append(line)

    async def run(self) -> None:
        for persona in self.inventory.personas:
            self.counts["personas"] += 1
            target = await self.view.get_persona(persona.persona_id)
            if target is None:
                self.differ(f"{persona.relative_path}: persona {persona.persona_id} missing in target")
                continue
            got = {k: target.get(k) for k in persona.data}
            legacy_id = (target.get(IMPORT_KEY) or {}).get("legacy_id")
            if legacy_id is not None and "persona_id" in got:
                got["persona_id"] = legacy_id
            self.fields.diff(persona.relative_path, "persona", persona.data, got)
        for user in self.inventory.users:
            await self._user(user)
        for vs in self.inventory.vector_sets:
            for name in sorted(vs.files):
                self.counts["vector_files"] += 1
                source = Path(self.inventory.root) / vs.relative_dir / name
                target = await self.view.vector_file(vs.owner_user_id, vs.session_id, name)
                if target is None:
                    self.differ(f"{vs.relative_dir}/{name}: vector file missing in target")
                elif ff_sha256_file(source) != ff_sha256_file(target):
                    self.differ(f"{vs.relative_dir}/{name}: vector file not byte-identical")
                self.fields.fields += 1

    async def _user(self, user: Any) -> None:
        self.counts["users"] += 1
        target = await self.view.get_user(user.user_id)
        where = f"users/{user.legacy_id or user.user_id}/profile.json"
        if target is None:
            self.differ(f"{where}: user {user.user_id} missing in target")
            return
        rebuilt = profile_from_v2(target)
        if rebuilt is not None:
            self.target_counts["profiles"] += 1
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

    async def _session(self, user_id: str, session: Any, doc_ids: dict[str, str]) -> None:
        is_panel = session.kind == "panel"
        self.counts["panels" if is_panel else "sessions"] += 1
        get = self.view.get_panel if is_panel else self.view.get_session
        target = await get(user_id, session.session_id)
        if target is None:
            self.differ(f"{session.relative_dir}: {'panel' if is_panel else 'session'} missing in target")
            return
        rebuilt = session_from_v2(target)
        where = f"{session.relative_dir}/session.json"
        if session.session_json is None:
            if rebuilt is not None:
                self.differ(f"{where}: target claims a session.json the source does not have")
        elif rebuilt is None:
            self.differ(f"{where}: session.json fields not kept")
        else:
            self.fields.diff(where, "session", session.session_json, rebuilt)
        if is_panel:
            await self._messages(session, self.view.iter_panel_messages(user_id, session.session_id),
                                 panel_message_from_v2, "panel_message")
        else:
            await self._messages(session, self.view.iter_messages(user_id, session.session_id), message_from_v2, "message")
        for doc in session.documents:
            if doc.relative_path in self.skipped:
                continue
            self.counts["documents"] += 1
            got = await self.view.get_document(user_id, LEGACY_KB_ID, doc_ids[doc.relative_path])
            if got is None:
                self.differ(f"{doc.relative_path}: document missing in target")
                continue
            if got.get("checksum_sha256") != ff_sha256_file(Path(self.inventory.root) / doc.relative_path):
                self.differ(f"{doc.relative_path}: document bytes differ (SHA-256)")
            legacy_meta = ((got.get("metadata") or {}).get(IMPORT_KEY) or {}).get("legacy")
            if legacy_meta != doc.metadata:
                self.differ(f"{doc.relative_path}: documents/metadata.json entry not kept")
            self.fields.fields += 2

    async def _messages(self, session: Any, stream: AsyncIterator[dict[str, Any]], rebuild: Any, kind: str) -> None:
        """Walk source and target in step, over the same record walk the import used."""
        iterator = stream.__aiter__()
        walked: dict[str, set[int]] = {p: set() for p in [session.messages_file, *session.transcripts.values()] if p}
        try:
            await self._walk(session, iterator, rebuild, kind, walked)
        finally:
            for relative, lines in walked.items():
                self.lines.check(relative, lines)

    async def _walk(self, session: Any, iterator: Any, rebuild: Any, kind: str, walked: dict[str, set[int]]) -> None:
        for rec in iter_session_records(self.reader, session):
            walked[rec.relative].add(rec.line.line_number)
            if not rec.imported or (rec.relative, rec.line.line_number) in self.refused:
                continue  # the same record again, a transcript's copy, or refused: listed by the scan / import
            self.counts["messages"] += 1
            where = f"{rec.relative}:{rec.line.line_number}"
            try:
                got = await iterator.__anext__()
            except StopAsyncIteration:
                self.differ(f"{where}: message missing in target (target has fewer messages)")
                return
            self.target_counts["messages"] += 1
            self.fields.diff(where, kind, rec.line.record, rebuild(got))
        extra = 0
        async for _ in iterator:
            extra += 1
        self.target_counts["messages"] += extra
        if extra:
            self.differ(f"{session.relative_dir}: target holds {extra} message(s) not in the source")


async def compare_source_target(
    reader: FFLegacyReader,
    inventory: FFLegacyInventoryDTO,
    view: FFTargetView,
    explained: list[FFIrregularItemDTO] | None = None,
    skipped: list[FFIrregularItemDTO] | None = None,
) -> FFComparisonDTO:
    """Compare every legacy record with the target; unexplained differences make it non-equivalent.

    ``skipped`` lists inputs the import refused with a reason (they are explained, not compared).
    """
    listed = [*inventory.irregular, *(explained or []), *(skipped or [])]
    comparer = _Comparer(reader, inventory, view, {i.path for i in skipped or []}, listed)
    await comparer.run()
    unaccounted = audit_completeness(Path(inventory.root), inventory, listed) + comparer.lines.problems
    target_counts = {**comparer.target_counts, **await view.counts()}
    differences = comparer.differences
    differences += [f"{line}: neither imported nor listed with a reason" for line in unaccounted]
    for key in ("users", "sessions", "panels", "personas", "documents", "vector_files"):
        if key in target_counts and target_counts[key] != comparer.counts[key]:
            differences.append(f"count of {key}: source {comparer.counts[key]}, target {target_counts[key]}")
    if len(differences) > MAX_DIFFERENCES:
        differences = differences[:MAX_DIFFERENCES] + [f"... and {len(differences) - MAX_DIFFERENCES} more"]
    explained_lines = [f"{i.path}{f':{i.line_number}' if i.line_number else ''}: {i.kind} ({i.action.value}): {i.reason}"
                       for i in listed]
    return FFComparisonDTO(
        counts_source=comparer.counts, counts_target=target_counts, fields_compared=comparer.fields.fields,
        differences=differences, explained=explained_lines, equivalences=rules_summary(),
        forgiven=dict(comparer.fields.forgiven), unaccounted=unaccounted,
    )
