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

from ff_class_configs.ff_migration_dtos import FFLegacySessionDTO, FFLegacyUserDTO
from ff_managers._migration.legacy_format import persona_key
from ff_utils.ff_ids import ff_is_valid_id

__all__ = [
    "ASSISTANT_SEAT",
    "IMPORT_KEY",
    "LEGACY_KB_ID",
    "LEGACY_KB_NAME",
    "MESSAGE_FIELDS",
    "USER_SEAT",
    "document_id_for",
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
