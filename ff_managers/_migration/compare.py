"""Field-by-field comparison of a legacy source and a migrated target.

The target is read back through :class:`FFTargetView` (the managers' public read APIs), and every
legacy record is *reconstructed* from what the target holds (:func:`message_from_v2`,
:func:`session_fields_from_v2`). A record counts as kept only when the reconstruction equals the
original, key by key, so "every field kept" is checked rather than assumed. Timestamps are
compared as instants (a naive legacy time is read as UTC), because the managers store aware ones.

Messages are compared by walking the source file and the target in step, so memory stays flat.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ff_class_configs.ff_migration_dtos import FFComparisonDTO, FFIrregularItemDTO, FFLegacyInventoryDTO
from ff_utils.ff_hashing import ff_sha256_file
from ff_managers._migration.legacy_mapping import (
    IMPORT_KEY,
    LEGACY_KB_ID,
    document_id_for,
    message_from_v2,
    panel_message_from_v2,
    profile_from_v2,
    session_from_v2,
)
from ff_managers._migration.legacy_reader import FFLegacyReader

__all__ = ["FFTargetView", "compare_source_target", "normalise", "MAX_DIFFERENCES"]

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


def _as_instant(value: str) -> str | None:
    if len(value) < 19 or value[4] != "-" or value[10] not in "T ":
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def normalise(value: Any) -> Any:
    """Make two equal records compare equal: ISO timestamps become UTC instants, recursively."""
    if isinstance(value, str):
        instant = _as_instant(value)
        return instant if instant is not None else value
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    return value


def _diff_fields(where: str, expected: dict[str, Any], actual: dict[str, Any], out: list[str]) -> int:
    """Append one line per differing key; return how many keys were compared."""
    exp, act = normalise(expected), normalise(actual)
    for key in sorted(set(exp) | set(act)):
        if key not in act:
            out.append(f"{where}: field {key!r} missing in target")
        elif key not in exp:
            out.append(f"{where}: field {key!r} only in target")
        elif exp[key] != act[key]:
            out.append(f"{where}: field {key!r} differs: {str(exp[key])[:60]!r} != {str(act[key])[:60]!r}")
    return len(exp)


class _Comparer:
    def __init__(self, reader: FFLegacyReader, inventory: FFLegacyInventoryDTO, view: FFTargetView,
                 skipped: set[str]) -> None:
        self.reader, self.inventory, self.view = reader, inventory, view
        self.skipped = skipped
        self.differences: list[str] = []
        self.fields = 0
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
            self.fields += _diff_fields(persona.relative_path, persona.data, {k: target.get(k) for k in persona.data}, self.differences)
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
                self.fields += 1

    async def _user(self, user: Any) -> None:
        self.counts["users"] += 1
        target = await self.view.get_user(user.user_id)
        where = f"users/{user.user_id}/profile.json"
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
                self.fields += _diff_fields(where, user.profile, rebuilt, self.differences)
        elif rebuilt is not None:
            self.differ(f"{where}: target claims a legacy profile the source does not have")
        for session in user.sessions:
            await self._session(user.user_id, session)

    async def _session(self, user_id: str, session: Any) -> None:
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
            self.fields += _diff_fields(where, session.session_json, rebuilt, self.differences)
        if is_panel:
            await self._messages(session, self.view.iter_panel_messages(user_id, session.session_id), panel_message_from_v2)
        else:
            await self._messages(session, self.view.iter_messages(user_id, session.session_id), message_from_v2)
        for doc in session.documents:
            if doc.relative_path in self.skipped:
                continue
            self.counts["documents"] += 1
            got = await self.view.get_document(user_id, LEGACY_KB_ID, document_id_for(doc.stored_name))
            if got is None:
                self.differ(f"{doc.relative_path}: document missing in target")
                continue
            if got.get("checksum_sha256") != ff_sha256_file(Path(self.inventory.root) / doc.relative_path):
                self.differ(f"{doc.relative_path}: document bytes differ (SHA-256)")
            legacy_meta = ((got.get("metadata") or {}).get(IMPORT_KEY) or {}).get("legacy")
            if normalise(legacy_meta) != normalise(doc.metadata):
                self.differ(f"{doc.relative_path}: documents/metadata.json entry not kept")
            self.fields += 2

    async def _messages(self, session: Any, stream: AsyncIterator[dict[str, Any]], rebuild: Any) -> None:
        """Walk source and target in step; transcripts skip ids seen before them (as the import does)."""
        sources = [session.messages_file] if session.messages_file else []
        sources += [path for _name, path in sorted(session.transcripts.items())]
        seen: set[str] = set()
        iterator = stream.__aiter__()
        for index, relative in enumerate(sources):
            skip = set(seen) if index > 0 or not session.messages_file else None
            for line in self.reader.iter_messages(relative):
                message_id = line.record.get("message_id")
                if skip is not None and message_id in skip:
                    continue  # the same message seen from one persona: explained, not imported twice
                if isinstance(message_id, str):
                    seen.add(message_id)
                self.counts["messages"] += 1
                where = f"{relative}:{line.line_number}"
                try:
                    got = await iterator.__anext__()
                except StopAsyncIteration:
                    self.differ(f"{where}: message missing in target (target has fewer messages)")
                    return
                self.target_counts["messages"] += 1
                self.fields += _diff_fields(where, line.record, rebuild(got), self.differences)
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
    comparer = _Comparer(reader, inventory, view, {i.path for i in skipped or []})
    await comparer.run()
    target_counts = {**comparer.target_counts, **await view.counts()}
    differences = comparer.differences
    for key in ("users", "sessions", "panels", "personas", "documents", "vector_files"):
        if key in target_counts and target_counts[key] != comparer.counts[key]:
            differences.append(f"count of {key}: source {comparer.counts[key]}, target {target_counts[key]}")
    if len(differences) > MAX_DIFFERENCES:
        differences = differences[:MAX_DIFFERENCES] + [f"... and {len(differences) - MAX_DIFFERENCES} more"]
    explained_lines = [f"{i.path}: {i.kind} ({i.action.value}): {i.reason}"
                       for i in [*inventory.irregular, *(explained or []), *(skipped or [])]]
    return FFComparisonDTO(
        counts_source=comparer.counts, counts_target=target_counts, fields_compared=comparer.fields,
        differences=differences, explained=explained_lines,
    )
