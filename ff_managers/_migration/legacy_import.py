"""Migration ``legacy_v1_import`` (schema 1 -> 2): the legacy flat-file chat layout into this platform.

What goes where (every legacy field is kept: known ones map to v2 fields, the rest ride along in
``metadata["legacy"]``):

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
public APIs in :mod:`ff_managers._migration.manager_adapter`), so the v2 layout stays owned by the
managers. Messages are streamed and handed over in batches of ``migration_batch_size``. The same
code runs against :class:`FFCountingSink` for a dry run, which writes nothing.
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
from ff_utils.ff_errors import FFCorruptionError, FFValidationError
from ff_utils.ff_ids import ff_is_valid_id
from ff_managers._migration.legacy_reader import CORRUPT_KINDS, FFLegacyReader, persona_key

__all__ = [
    "IMPORT_KEY",
    "USER_SEAT",
    "ASSISTANT_SEAT",
    "profile_to_v2",
    "profile_from_v2",
    "session_from_v2",
    "message_from_v2",
    "panel_to_v2",
    "panel_message_to_v2",
    "panel_message_from_v2",
    "panel_personas",
    "participant_for",
    "MESSAGE_FIELDS",
    "LEGACY_KB_ID",
    "FFImportSink",
    "FFCountingSink",
    "FFImportStats",
    "FFLegacyImport",
    "message_to_v2",
    "session_to_v2",
    "vector_target_dir",
    "document_id_for",
]

#: The legacy message fields that map one to one onto v2 message fields.
MESSAGE_FIELDS = ("role", "content", "message_id", "timestamp", "attachments", "metadata")
#: Key (in ``extra`` or ``metadata``) under which the import records its own bookkeeping.
IMPORT_KEY = "ff_legacy_import"
USER_SEAT = "user"
ASSISTANT_SEAT = "assistant"
_PROFILE_KEYS = ("username", "preferences", "metadata", "created_at", "updated_at")
_SESSION_KEYS = ("title", "created_at", "updated_at", "metadata")
LEGACY_KB_ID = "legacy-documents"
LEGACY_KB_NAME = "Legacy documents"


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


# ---------------------------------------------------------------------------- pure mapping
#
# Each ``*_to_v2`` builds the keyword arguments of one manager call; each ``*_from_v2`` rebuilds the
# legacy record from what the manager stores. The comparison uses the second on the target, so a
# field the mapping drops shows up as a difference instead of passing silently.


def _parse_time(value: str | None, fallback: datetime) -> datetime:
    """An aware datetime for APIs that need one (naive legacy times are UTC)."""
    if value is None:
        return fallback
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def profile_to_v2(user: FFLegacyUserDTO) -> dict[str, Any]:
    """``create_profile`` kwargs; unknown legacy keys go to ``extra``, absent known ones are remembered."""
    if user.profile is None:
        return {"extra": {IMPORT_KEY: {"profile_json": False}}}
    data = dict(user.profile)
    data.pop("user_id", None)
    kwargs = {key: data.pop(key) for key in _PROFILE_KEYS if data.get(key) is not None}
    absent = sorted(k for k in (*_PROFILE_KEYS, "user_id") if k not in user.profile)
    kwargs["extra"] = {**data, IMPORT_KEY: {"profile_json": True, "absent": absent}}
    return kwargs


def profile_from_v2(profile: dict[str, Any]) -> dict[str, Any] | None:
    """The legacy profile.json rebuilt from a stored v2 profile (None: there was none)."""
    extra = dict(profile.get("extra") or {})
    book = extra.pop(IMPORT_KEY, {})
    if not book.get("profile_json", True):
        return None
    record = {"user_id": profile.get("user_id"), **{k: profile.get(k) for k in _PROFILE_KEYS}, **extra}
    for key in book.get("absent", []):
        record.pop(key, None)
    return record


def session_to_v2(session: FFLegacySessionDTO, vectors: list[str], documents: list[str]) -> dict[str, Any]:
    """``create_session`` kwargs (chat) of a legacy session; see :func:`session_from_v2`.

    Known fields map (title, created_at, updated_at, metadata); everything else in ``session.json``
    (``message_count``, ``session_type``...) is kept verbatim in ``extra``. A session without
    ``session.json`` takes its title and times from its messages.
    """
    book: dict[str, Any] = {"source_dir": session.relative_dir, "session_json": session.session_json is not None}
    if vectors:
        book["vectors"] = vectors
    if documents:
        book["documents"] = documents
    if session.transcripts:
        book["transcripts"] = dict(sorted(session.transcripts.items()))
    if session.session_json is None:
        kwargs: dict[str, Any] = {"title": session.first_user_text, "metadata": {}}
        if session.first_timestamp:
            kwargs["created_at"] = session.first_timestamp
        if session.last_timestamp:
            kwargs["updated_at"] = session.last_timestamp
        kwargs["extra"] = {IMPORT_KEY: book}
        return {"session_id": session.session_id, **kwargs}
    data = dict(session.session_json)
    data.pop("session_id", None)
    if data.get("user_id") == session.user_id:
        data.pop("user_id")
    kwargs = {key: data.pop(key) for key in _SESSION_KEYS if data.get(key) is not None}
    book["absent"] = sorted(k for k in (*_SESSION_KEYS, "session_id", "user_id") if k not in session.session_json)
    kwargs["extra"] = {**data, IMPORT_KEY: book}
    return {"session_id": session.session_id, **kwargs}


def session_from_v2(session: dict[str, Any]) -> dict[str, Any] | None:
    """The legacy session.json rebuilt from a stored v2 session or panel (None: there was none)."""
    extra = dict(session.get("extra") or {})
    metadata = dict(session.get("metadata") or {})
    book = extra.pop(IMPORT_KEY, None) or metadata.pop(IMPORT_KEY, {})
    if not book.get("session_json", True):
        return None
    fields = book.get("fields", {})
    record = {
        "session_id": session.get("session_id") or session.get("panel_id"),
        "user_id": session.get("user_id"),
        "title": session.get("title"),
        "created_at": book.get("created_at", session.get("created_at")),
        "updated_at": session.get("updated_at"),
        "metadata": metadata,
        **extra,
        **fields,
    }
    for key in book.get("absent", []):
        record.pop(key, None)
    return record


def message_to_v2(record: dict[str, Any], default_id: str, duplicate: bool = False) -> dict[str, Any]:
    """An ``import_messages`` item of the memory manager: the legacy record, every key kept.

    Unknown keys go to the manager's ``extra``. A missing ``message_id`` gets a deterministic one
    (so a re-run writes the same bytes), remembered so the comparison does not count it; an id
    already used earlier in the session gets one too, and the original is kept.
    """
    item = dict(record)
    if item.get("message_id") is None:
        item["message_id"] = default_id
        item[IMPORT_KEY] = {"generated": ["message_id"]}
    elif duplicate:
        item[IMPORT_KEY] = {"original_message_id": item["message_id"]}
        item["message_id"] = default_id
    if "session_id" in item:  # the manager takes session_id from the call; keep the legacy value
        item[IMPORT_KEY] = {**item.get(IMPORT_KEY, {}), "session_id": item.pop("session_id")}
    return item


def message_from_v2(message: dict[str, Any]) -> dict[str, Any]:
    """The legacy message line rebuilt from a stored v2 chat message."""
    extra = dict(message.get("extra") or {})
    book = extra.pop(IMPORT_KEY, {})
    record = {name: message.get(name) for name in MESSAGE_FIELDS}
    record.update(extra)
    for name in book.get("generated", []):
        record.pop(name, None)
    if "original_message_id" in book:
        record["message_id"] = book["original_message_id"]
    if "session_id" in book:
        record["session_id"] = book["session_id"]
    return record


def panel_message_to_v2(record: dict[str, Any], participant_id: str, default_id: str, transcript: str | None,
                        duplicate: bool = False) -> dict[str, Any]:
    """An ``import_messages`` item of the panel manager; legacy-only fields ride in metadata."""
    metadata = dict(record.get("metadata") or {})
    kept = {k: v for k, v in record.items() if k not in ("role", "content", "message_id", "metadata")}
    book: dict[str, Any] = {"record": kept, "metadata_present": "metadata" in record}
    if duplicate and record.get("message_id") is not None:
        book["original_message_id"] = record["message_id"]
        record = {**record, "message_id": None}
    if transcript is not None:
        book["transcript"] = transcript
    item: dict[str, Any] = {
        "participant_id": participant_id,
        "content": record["content"],
        "role": record["role"] if record["role"] in ("user", "assistant", "system", "tool") else None,
        "message_id": record.get("message_id") or default_id,
        "metadata": {**metadata, IMPORT_KEY: book},
    }
    if record.get("message_id") is None and "original_message_id" not in book:
        book["generated"] = ["message_id"]
    if isinstance(record.get("timestamp"), str):
        item["timestamp"] = _parse_time(record["timestamp"], datetime(2000, 1, 1, tzinfo=UTC))
    if item["role"] is None:
        book["record"]["role"] = record["role"]
        del item["role"]
    return item


def panel_message_from_v2(message: dict[str, Any]) -> dict[str, Any]:
    """The legacy message line rebuilt from a stored panel message."""
    metadata = dict(message.get("metadata") or {})
    book = metadata.pop(IMPORT_KEY, {})
    record: dict[str, Any] = {"role": message.get("role"), "content": message.get("content"),
                              "message_id": message.get("message_id")}
    if book.get("metadata_present", True):
        record["metadata"] = metadata
    record.update(book.get("record", {}))
    for name in book.get("generated", []):
        record.pop(name, None)
    if "original_message_id" in book:
        record["message_id"] = book["original_message_id"]
    return record


def vector_target_dir(owner: str, session_id: str) -> str:
    """Where a legacy vector store lands in the v2 root (relative path)."""
    return f"users/{owner}/vectors/{session_id}"


def document_id_for(stored_name: str) -> str:
    """The v2 document id of a legacy stored document name (already unique per session)."""
    return stored_name if ff_is_valid_id(stored_name) else "doc-" + "".join(c if c.isalnum() else "-" for c in stored_name)[:100]


def participant_for(record: dict[str, Any], persona_ids: dict[str, str], personas: list[str]) -> str:
    """Which seat a legacy panel message belongs to: the user, its persona, or the one AI seat."""
    if record.get("role") == "user":
        return USER_SEAT
    persona = (record.get("metadata") or {}).get("persona")
    if isinstance(persona, str):
        pid = persona_ids.get(persona_key(persona), persona)
        if pid in personas:
            return pid
    return personas[0] if len(personas) == 1 else ASSISTANT_SEAT


def panel_to_v2(
    session: FFLegacySessionDTO, persona_ids: dict[str, str], registered: set[str],
    vectors: list[str], documents: list[str], clock: datetime,
) -> dict[str, Any]:
    """``create_panel`` kwargs of a panel session; legacy session.json fields under metadata."""
    base = session_to_v2(session, vectors, documents)
    book = dict(base["extra"][IMPORT_KEY])
    fields = {k: v for k, v in base["extra"].items() if k != IMPORT_KEY}
    for key in ("updated_at",):
        if key in base:
            fields[key] = base[key]
    if fields:
        book["fields"] = fields
    if "created_at" in base:
        book["created_at"] = base["created_at"]
    personas = panel_personas(session, persona_ids)
    seats: list[dict[str, Any]] = [{"participant_id": USER_SEAT, "kind": "human", "name": session.user_id}]
    for pid in personas:
        seat: dict[str, Any] = {"participant_id": pid, "kind": "ai"}
        if pid in registered:
            seat["persona_id"] = pid
        seats.append(seat)
    if not personas or (len(personas) > 1 and session.assistant_without_persona):
        seats.append({"participant_id": ASSISTANT_SEAT, "kind": "ai", "name": "assistant (no persona recorded)"})
    return {
        "panel_id": session.session_id,
        "participants": seats,
        "panel_type": "generic",
        "title": base.get("title", ""),
        "created_at": _parse_time(base.get("created_at"), clock),
        "metadata": {**(base.get("metadata") or {}), IMPORT_KEY: book},
    }


def panel_personas(session: FFLegacySessionDTO, persona_ids: dict[str, str]) -> list[str]:
    """The AI seats of a panel: participants, transcript personas, personas named in its messages."""
    found: list[str] = []
    for name in [*session.participants, *sorted(session.transcripts), *session.personas_seen]:
        pid = persona_ids.get(persona_key(name), name)
        if pid not in found and ff_is_valid_id(pid) and pid not in (USER_SEAT, ASSISTANT_SEAT):
            found.append(pid)
    return found


# ---------------------------------------------------------------------------- the import


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
        persona_ids = {persona_key(p.persona_id): p.persona_id for p in self.inventory.personas}
        registered = {p.persona_id for p in self.inventory.personas}
        for persona in self.inventory.personas:
            await sink.put_persona(persona.data)
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
        for session in user.sessions:
            refs = vector_refs.get((user.user_id, session.session_id), [])
            doc_ids = [document_id_for(d.stored_name) for d in session.documents]
            if session.kind == "panel":
                panel = panel_to_v2(session, persona_ids, registered, refs, doc_ids, now)
                await sink.put_panel(user.user_id, panel)
                counts["panels"] += 1
                seats = [p["participant_id"] for p in panel["participants"] if p["participant_id"] != USER_SEAT]
                await self._stream_panel(sink, user.user_id, session, persona_ids, seats)
            else:
                await sink.put_session(user.user_id, session_to_v2(session, refs, doc_ids))
                counts["sessions"] += 1
                if session.messages_file is not None:
                    await self._stream(
                        user.user_id, session.session_id, session.messages_file, "messages",
                        lambda record, number, duplicate: message_to_v2(record, f"legacy-{number:08d}", duplicate),
                        sink.put_messages, self.batch_size,
                    )
            for doc in session.documents:
                meta = doc.metadata or {}
                document = {
                    "document_id": document_id_for(doc.stored_name),
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

    async def _stream(self, user_id: str, session_id: str, relative: str, counter: str, convert: Any, put: Any,
                      batch_size: int, skip_ids: set[str] | None = None, seen: set[str] | None = None) -> None:
        """Hand the records of one file to ``put`` in batches of ``batch_size`` (constant memory)."""
        batch: list[dict[str, Any]] = []
        seen = seen if seen is not None else set()
        for line in self.reader.iter_messages(relative):
            message_id = line.record.get("message_id")
            if skip_ids is not None and message_id in skip_ids:
                continue
            duplicate = isinstance(message_id, str) and message_id in seen
            if isinstance(message_id, str):
                seen.add(message_id)
            batch.append(convert(line.record, line.line_number, duplicate))
            if len(batch) >= batch_size:
                await self._flush(put, user_id, session_id, batch, counter)
                batch = []
        if batch:
            await self._flush(put, user_id, session_id, batch, counter)

    async def _flush(self, put: Any, user_id: str, session_id: str, batch: list[dict[str, Any]], counter: str) -> None:
        await put(user_id, session_id, batch)
        self.stats.counts[counter] += len(batch)
        self.stats.batches += 1
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))

    async def _stream_panel(self, sink: FFImportSink, user_id: str, session: FFLegacySessionDTO,
                            persona_ids: dict[str, str], seats: list[str]) -> None:
        """messages.jsonl first, then transcript records it does not hold (same message_id = same message)."""
        seen: set[str] = set()
        sources: list[tuple[str | None, str]] = []
        if session.messages_file is not None:
            sources.append((None, session.messages_file))
        sources += sorted(session.transcripts.items())
        for persona, relative in sources:
            tag = "t" if persona is None else persona_key(persona)

            def convert(record: dict[str, Any], number: int, duplicate: bool, persona: str | None = persona,
                        tag: str = tag) -> dict[str, Any]:
                return panel_message_to_v2(record, participant_for(record, persona_ids, seats),
                                           f"legacy-{tag}-{number:08d}", persona, duplicate)

            before = self.stats.counts["panel_messages"]
            # a transcript's record whose id messages.jsonl already held is the same message: skip it
            snapshot = set(seen) if persona is not None else None
            await self._stream(user_id, session.session_id, relative, "panel_messages", convert,
                               sink.put_panel_messages, self.panel_batch_size, skip_ids=snapshot, seen=seen)
            if persona is not None:
                added = self.stats.counts["panel_messages"] - before
                self.explained.append(FFIrregularItemDTO(
                    path=relative, kind="persona_transcript", action=FFIrregularAction.EXPLAINED,
                    reason=(f"per-persona transcript of {persona!r}: its records share message_ids with messages.jsonl"
                            + (f"; {added} record(s) only here were imported" if added else "; nothing new"))))
