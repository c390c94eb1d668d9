"""The legacy -> v2 mapping of single records, and its inverse; pure functions, no disk, no managers.

Each ``*_to_v2`` builds the keyword arguments of one manager call; each ``*_from_v2`` rebuilds the
legacy record from what the manager stores. The comparison uses the second on the target, so a
field the mapping drops shows up as a difference instead of passing silently. Every legacy field
is kept: known ones map to v2 fields, the rest ride along in ``extra`` (memory) or ``metadata``
(panels, documents), with the import's own bookkeeping under :data:`IMPORT_KEY`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from ff_class_configs.ff_memory_dtos import FFAttachmentDTO
from ff_class_configs.ff_migration_dtos import FFLegacySessionDTO, FFLegacyUserDTO
from ff_managers._migration.legacy_format import (
    content_text,
    normalised_role,
    parse_timestamp,
    persona_key,
    timestamp_text,
)
from ff_managers._migration.legacy_ids import mapped_id
from ff_managers._migration.legacy_records import FFSessionRecord
from ff_utils.ff_ids import ff_is_valid_id

__all__ = [
    "ASSISTANT_SEAT",
    "IMPORT_KEY",
    "LEGACY_KB_ID",
    "LEGACY_KB_NAME",
    "MESSAGE_FIELDS",
    "USER_SEAT",
    "document_id_for",
    "document_ids",
    "message_from_v2",
    "message_to_v2",
    "panel_message_from_v2",
    "panel_message_to_v2",
    "panel_personas",
    "panel_to_v2",
    "participant_for",
    "profile_from_v2",
    "profile_to_v2",
    "session_from_v2",
    "session_to_v2",
    "vector_target_dir",
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


def _parse_time(value: object, fallback: datetime) -> datetime:
    """An aware datetime for APIs that need one (naive legacy times are UTC, numbers epoch time)."""
    moment = parse_timestamp(value)
    if moment is None:
        return fallback
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _known_fields(data: dict[str, Any], keys: tuple[str, ...], book: dict[str, Any]) -> dict[str, Any]:
    """Pop the known keys of a legacy document into manager kwargs; nulls and absences go to ``book``.

    A key the document has as ``null`` is not passed (the manager applies its default) and is
    listed under ``book["null"]``, a key it lacks under ``book["absent"]``, so the rebuilt
    document has exactly the legacy keys and values. Timestamps given as epoch seconds are passed
    as ISO text.
    """
    kwargs = {key: data.pop(key) for key in keys if data.get(key) is not None}
    for key in ("created_at", "updated_at"):
        if key in kwargs:
            kwargs[key] = timestamp_text(kwargs[key])
    nulls = sorted(key for key in keys if key in data and data[key] is None)
    for key in nulls:
        data.pop(key)
    if nulls:
        book["null"] = nulls
    return kwargs


def _rebuild(record: dict[str, Any], book: dict[str, Any]) -> dict[str, Any]:
    for key in book.get("absent", []):
        record.pop(key, None)
    for key in book.get("null", []):
        record[key] = None
    return record


def profile_to_v2(user: FFLegacyUserDTO) -> dict[str, Any]:
    """``create_profile`` kwargs; unknown legacy keys go to ``extra``, absent known ones are remembered.

    ``user_id`` in profile.json is dropped when it equals the v2 id and kept in ``extra`` otherwise
    (a mapped id: the legacy name stays in the record).
    """
    book: dict[str, Any] = {"profile_json": user.profile is not None}
    if user.legacy_id is not None:
        book["legacy_id"] = user.legacy_id
    if user.profile is None:
        return {"extra": {IMPORT_KEY: book}}
    data = dict(user.profile)
    if data.get("user_id") == user.user_id:
        data.pop("user_id")
    kwargs = _known_fields(data, _PROFILE_KEYS, book)
    book["absent"] = sorted(k for k in (*_PROFILE_KEYS, "user_id") if k not in user.profile)
    kwargs["extra"] = {**data, IMPORT_KEY: book}
    return kwargs


def profile_from_v2(profile: dict[str, Any]) -> dict[str, Any] | None:
    """The legacy profile.json rebuilt from a stored v2 profile (None: there was none)."""
    extra = dict(profile.get("extra") or {})
    book = extra.pop(IMPORT_KEY, {})
    if not book.get("profile_json", True):
        return None
    record = {"user_id": profile.get("user_id"), **{k: profile.get(k) for k in _PROFILE_KEYS}, **extra}
    return _rebuild(record, book)


def session_to_v2(session: FFLegacySessionDTO, vectors: list[str], documents: list[str]) -> dict[str, Any]:
    """``create_session`` kwargs (chat) of a legacy session; see :func:`session_from_v2`.

    Known fields map (title, created_at, updated_at, metadata); everything else in ``session.json``
    (``message_count``, ``session_type``...) is kept verbatim in ``extra``, and so are its
    ``session_id`` and ``user_id`` when they differ from the v2 ids. A session without
    ``session.json`` takes its title and times from its messages.
    """
    book: dict[str, Any] = {"source_dir": session.relative_dir, "session_json": session.session_json is not None}
    if session.legacy_id is not None:
        book["legacy_id"] = session.legacy_id
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
    if data.get("session_id") == session.session_id:
        data.pop("session_id")
    if data.get("user_id") == session.user_id:
        data.pop("user_id")
    kwargs = _known_fields(data, _SESSION_KEYS, book)
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
    return _rebuild(record, book)


def _book_variations(record: dict[str, Any], book: dict[str, Any]) -> tuple[str, str]:
    """(role, content) as v2 stores them; the legacy spelling kept in ``book`` when it differs."""
    role = record["role"]
    if role != normalised_role(role):
        book["original_role"] = role
    content = record["content"]
    if not isinstance(content, str):
        book["original_content"] = content
    return normalised_role(role), content_text(content) or ""


def message_to_v2(record: dict[str, Any], rec: FFSessionRecord) -> dict[str, Any]:
    """An ``import_messages`` item of the memory manager: the legacy record, every key kept.

    Unknown keys go to the manager's ``extra``. The v2 id comes from ``rec`` (see
    :mod:`.legacy_records`); a replaced legacy id is kept, a generated one remembered so the
    comparison does not count it. A role in another case and list-valued content are stored
    lower-cased and joined, their legacy form kept; a missing timestamp is generated.
    """
    item = dict(record)
    book: dict[str, Any] = {}
    item["role"], item["content"] = _book_variations(record, book)
    if record.get("attachments"):
        item["attachments"] = _attachments_to_v2(record["attachments"], rec.message_id, book)
    generated = [name for name in ("message_id", "timestamp") if item.get(name) is None]
    item["message_id"] = rec.message_id
    if rec.original_id is not None:
        book["original_message_id"] = rec.original_id
    if item.get("timestamp") is None:
        item.pop("timestamp", None)
    if generated:
        book["generated"] = generated
    if "session_id" in item:  # the manager takes session_id from the call; keep the legacy value
        book["session_id"] = item.pop("session_id")
    if book:
        item[IMPORT_KEY] = book
    return item


def _attachments_to_v2(attachments: list[dict[str, Any]], message_id: str, book: dict[str, Any]) -> list[dict[str, Any]]:
    """What v2 records of legacy attachments; the legacy list is kept verbatim in ``book``.

    v2 fills every attachment out (an id, a MIME type, ``stored``...), so the legacy entries are
    kept as they were for the comparison. One without an id gets ``<message_id>-a<index>``
    (deterministic, so a re-run writes the same bytes); an entry v2 cannot describe (a size that
    is not a number...) leaves the v2 list empty rather than refusing the message.
    """
    book["original_attachments"] = attachments
    converted: list[dict[str, Any]] = []
    for index, entry in enumerate(attachments):
        candidate = {**entry, "attachment_id": entry.get("attachment_id") or f"{message_id}-a{index}"}
        try:
            converted.append(FFAttachmentDTO.model_validate(candidate).model_dump(mode="json"))
        except ValidationError:
            book["attachments_not_in_v2"] = True
            return []
    return converted


def _restore(record: dict[str, Any], book: dict[str, Any]) -> dict[str, Any]:
    for name in book.get("generated", []):
        record.pop(name, None)
    if "original_message_id" in book:
        record["message_id"] = book["original_message_id"]
    if "original_role" in book:
        record["role"] = book["original_role"]
    if "original_content" in book:
        record["content"] = book["original_content"]
    if "original_attachments" in book:
        record["attachments"] = book["original_attachments"]
    return record


def message_from_v2(message: dict[str, Any]) -> dict[str, Any]:
    """The legacy message line rebuilt from a stored v2 chat message."""
    extra = dict(message.get("extra") or {})
    book = extra.pop(IMPORT_KEY, {})
    record = {name: message.get(name) for name in MESSAGE_FIELDS}
    record.update(extra)
    if "session_id" in book:
        record["session_id"] = book["session_id"]
    return _restore(record, book)


def panel_message_to_v2(record: dict[str, Any], participant_id: str, rec: FFSessionRecord) -> dict[str, Any]:
    """An ``import_messages`` item of the panel manager; legacy-only fields ride in metadata."""
    metadata = dict(record.get("metadata") or {})
    kept = {k: v for k, v in record.items() if k not in ("role", "content", "message_id", "metadata")}
    book: dict[str, Any] = {"record": kept, "metadata_present": "metadata" in record}
    if record.get("metadata") is None and "metadata" in record:
        book["metadata_null"] = True
    role, content = _book_variations(record, book)
    if rec.original_id is not None:
        book["original_message_id"] = rec.original_id
    if rec.generated:
        book["generated"] = ["message_id"]
    if rec.transcript is not None:
        book["transcript"] = rec.transcript
    item: dict[str, Any] = {
        "participant_id": participant_id, "content": content, "role": role,
        "message_id": rec.message_id, "metadata": {**metadata, IMPORT_KEY: book},
    }
    stamp = timestamp_text(record.get("timestamp"))
    if stamp is not None:
        item["timestamp"] = _parse_time(stamp, datetime(2000, 1, 1, tzinfo=UTC))
    return item


def panel_message_from_v2(message: dict[str, Any]) -> dict[str, Any]:
    """The legacy message line rebuilt from a stored panel message."""
    metadata = dict(message.get("metadata") or {})
    book = metadata.pop(IMPORT_KEY, {})
    record: dict[str, Any] = {"role": message.get("role"), "content": message.get("content"),
                              "message_id": message.get("message_id")}
    if book.get("metadata_present", True):
        record["metadata"] = None if book.get("metadata_null") else metadata
    record.update(book.get("record", {}))
    return _restore(record, book)


def vector_target_dir(owner: str, session_id: str) -> str:
    """Where a legacy vector store lands in the v2 root (relative path)."""
    return f"users/{owner}/vectors/{session_id}"


def document_id_for(stored_name: str) -> str:
    """The v2 document id of a legacy stored document name (its own name when the id rule takes it)."""
    return stored_name if ff_is_valid_id(stored_name) else "doc-" + "".join(c if c.isalnum() else "-" for c in stored_name)[:100]


def document_ids(user: FFLegacyUserDTO) -> dict[str, str]:
    """Relative path -> v2 document id for every document of a user.

    All of a user's legacy documents land in one knowledge base, while legacy names were unique
    only per session: a name met again in a later session is prefixed with that session's id
    (and hashed, should even that be taken), so no document replaces another.
    """
    ids: dict[str, str] = {}
    used: set[str] = set()
    for session in user.sessions:
        for doc in session.documents:
            doc_id = document_id_for(doc.stored_name)
            if doc_id in used:
                doc_id = document_id_for(f"{session.session_id}_{doc.stored_name}")
            if doc_id in used or not ff_is_valid_id(doc_id):
                doc_id = mapped_id(doc.relative_path)
            used.add(doc_id)
            ids[doc.relative_path] = doc_id
    return ids


def participant_for(record: dict[str, Any], persona_ids: dict[str, str], personas: list[str]) -> str:
    """Which seat a legacy panel message belongs to: the user, its persona, or the one AI seat."""
    if normalised_role(str(record.get("role"))) == USER_SEAT:
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
