"""Migration ``legacy_v1_import`` (schema 1 -> 2): the legacy flat-file chat layout into this platform.

What goes where (every legacy field is kept: known ones map to v2 fields, the rest ride along in
``extra`` or, for panels and documents, ``metadata``, with the import's bookkeeping under
``ff_legacy_import``; ids the v2 rule refuses arrive already mapped by the reader, see
:mod:`.legacy_ids`; a session's records come from the one record walk, :mod:`.legacy_records`):

* ``users/<u>/profile.json``              -> the user's profile (memory manager)
* ``users/<u>/<s>/`` chat session         -> a chat session with every message (memory manager)
* panel sessions and sessions with per-persona transcripts or participants -> panels (panel manager);
  transcript records already in ``messages.jsonl`` are the same message seen from one persona
  (same ``message_id``) and are *explained*, records only in a transcript are imported too
* ``documents/<id>_<name>`` + ``metadata.json`` -> one knowledge base ``legacy-documents`` per user
  (knowledge manager, which chunks and indexes them)
* ``users/default/sessions/<s>/vectors/*`` -> copied byte-identical to ``users/<owner>/vectors/<s>/``
  and referenced from the session's and the documents' metadata
* ``personas_global/*.json``              -> the persona registry (panel manager)

The import talks to the target only through :class:`FFImportSink` (implemented over the managers'
public APIs in :mod:`.manager_adapter`), so the v2 layout stays owned by the managers; the
record-level mapping is in :mod:`.legacy_mapping`. Messages are streamed and handed over in
batches of ``migration.batch_size``. The same code runs against :class:`FFCountingSink` for a dry
run, which writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ff_class_configs.ff_migration_dtos import (
    FFIrregularAction,
    FFIrregularItemDTO,
    FFLegacyInventoryDTO,
    FFLegacySessionDTO,
    FFLegacyUserDTO,
)
from ff_managers._migration.legacy_format import CORRUPT_KINDS, persona_key
from ff_managers._migration.legacy_mapping import (
    IMPORT_KEY,
    LEGACY_KB_ID,
    LEGACY_KB_NAME,
    USER_SEAT,
    document_ids,
    message_to_v2,
    panel_message_to_v2,
    panel_to_v2,
    participant_for,
    profile_to_v2,
    session_to_v2,
    vector_target_dir,
)
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_managers._migration.legacy_records import FFSessionRecord, iter_session_records
from ff_utils.ff_errors import FFCorruptionError, FFValidationError

__all__ = ["FFCountingSink", "FFImportSink", "FFImportStats", "FFLegacyImport"]



class FFImportSink(Protocol):
    """Where the import writes: the managers' public APIs (or nothing, for a dry run).

    Every ``put_*`` receives the keyword arguments of one manager call, built by the pure
    ``*_to_v2`` functions below.
    """

    async def put_persona(self, persona: dict[str, Any]) -> None: ...
    async def put_user(self, user_id: str, profile: dict[str, Any]) -> None: ...
    async def put_session(self, user_id: str, session: dict[str, Any]) -> None: ...
    async def put_messages(self, user_id: str, session_id: str, messages: list[dict[str, Any]]) -> None: ...
    async def put_panel(self, user_id: str, panel: dict[str, Any]) -> None: ...
    async def put_panel_messages(self, user_id: str, panel_id: str, messages: list[dict[str, Any]]) -> None: ...
    async def put_knowledge_base(self, user_id: str, kb_id: str, name: str, description: str) -> None: ...
    async def put_document(self, user_id: str, kb_id: str, document: dict[str, Any], source: Path) -> None: ...
    async def put_vectors(self, user_id: str, session_id: str, files: dict[str, Path]) -> None: ...


@dataclass
class FFImportStats:
    """What an import (or a dry run) handed to the sink."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("users", "profiles", "sessions", "messages", "panels", "panel_messages", "personas",
         "knowledge_bases", "documents", "vector_files"), 0))
    bytes_copied: int = 0
    batches: int = 0
    largest_batch: int = 0


class FFCountingSink:
    """A sink that writes nothing: the dry run's target."""

    async def put_persona(self, persona: dict[str, Any]) -> None:
        return None

    async def put_user(self, user_id: str, profile: dict[str, Any]) -> None:
        return None

    async def put_session(self, user_id: str, session: dict[str, Any]) -> None:
        return None

    async def put_messages(self, user_id: str, session_id: str, messages: list[dict[str, Any]]) -> None:
        return None

    async def put_panel(self, user_id: str, panel: dict[str, Any]) -> None:
        return None

    async def put_panel_messages(self, user_id: str, panel_id: str, messages: list[dict[str, Any]]) -> None:
        return None

    async def put_knowledge_base(self, user_id: str, kb_id: str, name: str, description: str) -> None:
        return None

    async def put_document(self, user_id: str, kb_id: str, document: dict[str, Any], source: Path) -> None:
        return None

    async def put_vectors(self, user_id: str, session_id: str, files: dict[str, Path]) -> None:
        return None


class FFLegacyImport:
    """Runs one legacy root into a sink, in a fixed order so two runs write the same target."""

    def __init__(self, reader: FFLegacyReader, inventory: FFLegacyInventoryDTO, *, batch_size: int,
                 policy: str = "quarantine", panel_batch_limit: int | None = None) -> None:
        self.reader = reader
        self.inventory = inventory
        self.batch_size = batch_size
        self.panel_batch_size = min(batch_size, panel_batch_limit) if panel_batch_limit else batch_size
        self.policy = policy
        self.stats = FFImportStats()
        self.explained: list[FFIrregularItemDTO] = []
        self.skipped: list[FFIrregularItemDTO] = []

    def corrupt_items(self) -> list[FFIrregularItemDTO]:
        return [i for i in self.inventory.irregular if i.kind in CORRUPT_KINDS]

    def check_policy(self) -> None:
        """Under ``abort``, refuse corrupt input before anything is written (FFCorruptionError)."""
        corrupt = self.corrupt_items()
        if corrupt and self.policy == "abort":
            listed = "; ".join(f"{i.path}{f':{i.line_number}' if i.line_number else ''} {i.kind}: {i.reason}" for i in corrupt[:5])
            raise FFCorruptionError(
                f"{len(corrupt)} corrupt input(s) and corrupt_input_policy is 'abort': {listed}",
                path=self.inventory.root,
            )

    def _vector_refs(self) -> dict[tuple[str, str], list[str]]:
        refs: dict[tuple[str, str], list[str]] = {}
        for vs in self.inventory.vector_sets:
            target = vector_target_dir(vs.owner_user_id, vs.session_id)
            refs[(vs.owner_user_id, vs.session_id)] = [f"{target}/{name}" for name in sorted(vs.files)]
        return refs

    async def run(self, sink: FFImportSink, clock: datetime | None = None) -> FFImportStats:
        """Import everything into ``sink``. Raises FFCorruptionError under the abort policy."""
        self.check_policy()
        now = clock or datetime(2000, 1, 1, tzinfo=UTC)
        counts = self.stats.counts
        persona_ids = {persona_key(p.legacy_id or p.persona_id): p.persona_id for p in self.inventory.personas}
        registered = {p.persona_id for p in self.inventory.personas}
        for persona in self.inventory.personas:
            data = {**persona.data, "persona_id": persona.persona_id}
            if persona.legacy_id is not None:  # mapped: the legacy id stays in the record
                data[IMPORT_KEY] = {"legacy_id": persona.legacy_id}
            await sink.put_persona(data)
            counts["personas"] += 1
        vector_refs = self._vector_refs()
        for user in self.inventory.users:
            await self._import_user(sink, user, persona_ids, registered, vector_refs, now)
        root = Path(self.inventory.root)
        for vs in self.inventory.vector_sets:
            files = {name: root / vs.relative_dir / name for name in sorted(vs.files)}
            await sink.put_vectors(vs.owner_user_id, vs.session_id, files)
            counts["vector_files"] += len(files)
            self.stats.bytes_copied += sum(vs.files.values())
        return self.stats

    async def _import_user(
        self, sink: FFImportSink, user: FFLegacyUserDTO, persona_ids: dict[str, str], registered: set[str],
        vector_refs: dict[tuple[str, str], list[str]], now: datetime,
    ) -> None:
        counts = self.stats.counts
        await sink.put_user(user.user_id, profile_to_v2(user))
        counts["users"] += 1
        counts["profiles"] += user.profile is not None
        if any(s.documents for s in user.sessions):
            await sink.put_knowledge_base(user.user_id, LEGACY_KB_ID, LEGACY_KB_NAME,
                                          "documents uploaded to legacy chat sessions")
            counts["knowledge_bases"] += 1
        user_doc_ids = document_ids(user)
        for session in user.sessions:
            refs = vector_refs.get((user.user_id, session.session_id), [])
            doc_ids = [user_doc_ids[d.relative_path] for d in session.documents]
            if session.kind == "panel":
                panel = panel_to_v2(session, persona_ids, registered, refs, doc_ids, now)
                await sink.put_panel(user.user_id, panel)
                counts["panels"] += 1
                seats = [p["participant_id"] for p in panel["participants"] if p["participant_id"] != USER_SEAT]
                await self._stream_panel(sink, user.user_id, session, persona_ids, seats)
            else:
                await sink.put_session(user.user_id, session_to_v2(session, refs, doc_ids))
                counts["sessions"] += 1
                await self._stream(
                    user.user_id, session, "messages", lambda rec: message_to_v2(rec.line.record, rec),
                    sink.put_messages, self.batch_size,
                )
            for doc in session.documents:
                meta = doc.metadata or {}
                document = {
                    "document_id": user_doc_ids[doc.relative_path],
                    "title": meta.get("original_name") if isinstance(meta.get("original_name"), str) and meta.get("original_name") else doc.stored_name,
                    "mime_type": meta.get("mime_type") if isinstance(meta.get("mime_type"), str) else None,
                    "source": doc.relative_path,
                    "metadata": {IMPORT_KEY: {"legacy": doc.metadata, "session_id": session.session_id, "vectors": refs}},
                }
                try:
                    await sink.put_document(user.user_id, LEGACY_KB_ID, document, Path(self.inventory.root) / doc.relative_path)
                except FFValidationError as exc:  # the knowledge manager refuses it (format, size): list why
                    self.skipped.append(FFIrregularItemDTO(
                        path=doc.relative_path, kind="document_refused", action=FFIrregularAction.SKIPPED,
                        reason=f"the knowledge manager refused it: {exc.message}"))
                    continue
                counts["documents"] += 1

    async def _stream(self, user_id: str, session: FFLegacySessionDTO, counter: str, convert: Any, put: Any,
                      batch_size: int) -> None:
        """Hand the imported records of a session to ``put`` in batches of ``batch_size`` (constant memory)."""
        batch: list[tuple[FFSessionRecord, dict[str, Any]]] = []
        transcripts: dict[str, int] = {}
        for rec in iter_session_records(self.reader, session):
            if rec.transcript is not None:
                transcripts.setdefault(rec.transcript, 0)
            if not rec.imported:
                continue
            if rec.transcript is not None:
                transcripts[rec.transcript] += 1
            batch.append((rec, convert(rec)))
            if len(batch) >= batch_size:
                await self._flush(put, user_id, session.session_id, batch, counter)
                batch = []
        if batch:
            await self._flush(put, user_id, session.session_id, batch, counter)
        for persona, added in sorted(transcripts.items()):
            self.explained.append(FFIrregularItemDTO(
                path=session.transcripts[persona], kind="persona_transcript", action=FFIrregularAction.EXPLAINED,
                reason=(f"per-persona transcript of {persona!r}: its records share message_ids with messages.jsonl"
                        + (f"; {added} record(s) only here were imported" if added else "; nothing new"))))

    async def _flush(self, put: Any, user_id: str, session_id: str,
                     batch: list[tuple[FFSessionRecord, dict[str, Any]]], counter: str) -> None:
        """One manager call for the batch. A batch the manager refuses (it writes nothing then) is
        retried record by record, and each record it still refuses (longer than the manager's limit,
        say) is listed as skipped with the manager's reason instead of failing the migration."""
        try:
            await put(user_id, session_id, [item for _rec, item in batch])
            written = len(batch)
        except FFValidationError:
            written = 0
            for rec, item in batch:
                try:
                    await put(user_id, session_id, [item])
                    written += 1
                except FFValidationError as exc:
                    self.skipped.append(FFIrregularItemDTO(
                        path=rec.relative, line_number=rec.line.line_number, kind="record_refused",
                        action=FFIrregularAction.SKIPPED, reason=f"the v2 manager refused it: {exc.message}"))
        self.stats.counts[counter] += written
        self.stats.batches += 1
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))

    async def _stream_panel(self, sink: FFImportSink, user_id: str, session: FFLegacySessionDTO,
                            persona_ids: dict[str, str], seats: list[str]) -> None:
        """messages.jsonl first, then transcript records it does not hold (same message_id = same message)."""

        def convert(rec: FFSessionRecord) -> dict[str, Any]:
            return panel_message_to_v2(rec.line.record, participant_for(rec.line.record, persona_ids, seats), rec)

        await self._stream(user_id, session, "panel_messages", convert, sink.put_panel_messages, self.panel_batch_size)
