"""The legacy (schema version 1) flat-file chat layout: its names, and which records v2 can take.

Pure functions, no walking and no writing: :mod:`.legacy_reader` walks a root with them, the import
and the comparison read lines with them. Layout::

    users/<user_id>/profile.json
    users/<user_id>/<session_id>/session.json, messages.jsonl, <persona>_messages.jsonl, documents/
    users/<user>/sessions/<session_id>/vectors/embeddings.npy + vector_index.jsonl
    personas_global/<persona_id>.json

A line is salvaged when stray bytes precede its JSON object (the real fixture has one). A record
the v2 layout cannot hold is named with a *kind*: the corrupt kinds (:data:`CORRUPT_KINDS`) are
left to the configured ``corrupt_input_policy``; the rest are listed and skipped or imported.
"""

from __future__ import annotations

import ast
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from ff_class_configs.ff_migration_dtos import FFLegacySessionDTO
from ff_managers._migration.legacy_files import open_nofollow
from ff_utils.ff_errors import FFValidationError

__all__ = [
    "CORRUPT_KINDS",
    "DOCUMENTS_DIR",
    "DOCUMENTS_META",
    "FFLegacyLine",
    "MESSAGES_NAME",
    "NPY_NAME",
    "PROFILE_NAME",
    "ROOT_KNOWN",
    "SESSION_NAME",
    "TRANSCRIPT_SUFFIX",
    "VECTORS_DIR",
    "VECTOR_INDEX_NAME",
    "classify_session",
    "is_legacy_root",
    "KNOWN_ROLES",
    "content_text",
    "is_timestamp",
    "normalised_role",
    "parse_timestamp",
    "message_problem",
    "timestamp_text",
    "parse_line",
    "parse_npy_header",
    "persona_key",
    "profile_problem",
    "session_problem",
    "summarise_message",
]

MESSAGES_NAME = "messages.jsonl"
SESSION_NAME = "session.json"
PROFILE_NAME = "profile.json"
DOCUMENTS_DIR = "documents"
DOCUMENTS_META = "metadata.json"
VECTORS_DIR = "vectors"
NPY_NAME = "embeddings.npy"
VECTOR_INDEX_NAME = "vector_index.jsonl"
TRANSCRIPT_SUFFIX = "_messages.jsonl"
ROOT_KNOWN = {"users", "personas_global", "ff_meta.json", "README.md"}

#: Kinds of irregular item that are corruption: the configured policy (abort or quarantine) decides.
CORRUPT_KINDS = frozenset(
    {"torn_line", "corrupt_line", "invalid_record", "invalid_profile", "invalid_session_json",
     "invalid_persona", "invalid_documents_metadata", "invalid_vectors", "unreadable"}
)

_NPY_MAGIC = b"\x93NUMPY"
_MOMENT: TypeAdapter[datetime] = TypeAdapter(datetime)
#: Message roles v2 stores; a legacy role is matched to one of them ignoring case.
KNOWN_ROLES = ("user", "assistant", "system", "tool")
#: How the text parts of a list-valued legacy ``content`` are joined (the list itself is kept).
CONTENT_PART_SEPARATOR = "\n"


def persona_key(name: str) -> str:
    """Normalise a persona id or transcript prefix: ``dr._sarah_wilson`` and ``dr_sarah_wilson`` meet."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def is_legacy_root(root: Path) -> bool:
    """A legacy root has a ``users/`` or ``personas_global/`` directory and no v2 ``ff_meta.json``."""
    return (root / "users").is_dir() or (root / "personas_global").is_dir()


def parse_npy_header(path: Path) -> tuple[str, list[int]]:
    """Read dtype and shape from a ``.npy`` header without numpy (the header is a Python literal).

    Raises FFValidationError when the file is not a well-formed ``.npy`` whose data size matches.
    """
    with open_nofollow(path) as handle:
        head = handle.read(10)
        if len(head) < 10 or not head.startswith(_NPY_MAGIC):
            raise FFValidationError("not a .npy file (bad magic)", path=path)
        major = head[6]
        if major == 1:
            header_len = int.from_bytes(head[8:10], "little")
            offset = 10
        else:
            header_len = int.from_bytes(head[8:10] + handle.read(2), "little")
            offset = 12
        header = handle.read(header_len)
    try:
        spec = ast.literal_eval(header.decode("latin-1").strip())
        dtype, shape = str(spec["descr"]), [int(n) for n in spec["shape"]]
    except (ValueError, SyntaxError, KeyError, TypeError) as exc:
        raise FFValidationError(f"unreadable .npy header: {exc}", path=path) from exc
    itemsize = int(re.sub(r"\D", "", dtype) or 0)
    count = 1
    for n in shape:
        count *= n
    if itemsize and path.stat().st_size != offset + header_len + count * itemsize:
        raise FFValidationError(f".npy data size does not match shape {shape} of {dtype}", path=path)
    return dtype, shape


def profile_problem(profile: dict[str, Any], user_id: str) -> str:
    """Why a profile.json cannot become a v2 profile ('' when it can)."""
    if profile.get("user_id") not in (None, user_id):
        return f"profile names user {profile.get('user_id')!r}, directory is {user_id!r}"
    if profile.get("username") is not None and not isinstance(profile.get("username"), str):
        return "username is not text"
    for key in ("preferences", "metadata"):
        if profile.get(key) is not None and not isinstance(profile.get(key), dict):
            return f"{key} is not an object"
    for key in ("created_at", "updated_at"):
        if profile.get(key) is not None and not is_timestamp(profile.get(key)):
            return f"{key} is not an ISO 8601 timestamp"
    return ""


def session_problem(data: dict[str, Any]) -> str:
    """Why a session.json cannot become a v2 session ('' when it can)."""
    if data.get("title") is not None and not isinstance(data.get("title"), str):
        return "title is not text"
    if data.get("metadata") is not None and not isinstance(data.get("metadata"), dict):
        return "metadata is not an object"
    for key in ("created_at", "updated_at"):
        if data.get(key) is not None and not is_timestamp(data.get(key)):
            return f"{key} is not an ISO 8601 timestamp"
    return ""


class FFLegacyLine:
    """One parsed line of a legacy JSONL file (kept small: the record and where it came from)."""

    __slots__ = ("line_number", "record", "salvaged_bytes")

    def __init__(self, line_number: int, record: dict[str, Any], salvaged_bytes: int = 0) -> None:
        self.line_number = line_number
        self.record = record
        self.salvaged_bytes = salvaged_bytes


def parse_line(raw: bytes) -> tuple[dict[str, Any] | None, int, str]:
    """Parse one line: (record, stray bytes skipped, error). Salvage stray bytes before a ``{``."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        brace = raw.find(b"{")
        if brace > 0:
            try:
                value = orjson.loads(raw[brace:])
            except orjson.JSONDecodeError:
                return None, 0, f"invalid JSON: {exc}"
            if isinstance(value, dict):
                return value, brace, ""
        return None, 0, f"invalid JSON: {exc}"
    if not isinstance(value, dict):
        return None, 0, f"a record must be a JSON object, not {type(value).__name__}"
    return value, 0, ""


def parse_timestamp(value: object) -> datetime | None:
    """A legacy timestamp as a datetime, by the very rule the managers' imports parse with
    (pydantic's): ISO 8601 with or without a zone (``T`` or a space), epoch seconds or
    milliseconds as a number. None when it is not one; a naive time stays naive."""
    if value is None or isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        return _MOMENT.validate_python(value)
    except ValidationError:
        return None


def is_timestamp(value: object) -> bool:
    """A legacy timestamp (see :func:`parse_timestamp`)."""
    return parse_timestamp(value) is not None


def timestamp_text(value: object) -> str | None:
    """A legacy timestamp as text: a string as written, a number as ISO (UTC); None when it is not one."""
    moment = parse_timestamp(value)
    if moment is None:
        return None
    return value if isinstance(value, str) else moment.isoformat()


def normalised_role(role: str) -> str:
    """A legacy role as v2 stores it: ``" User"`` -> ``"user"`` (the legacy spelling is kept beside it)."""
    return role.strip().lower()


def content_text(content: object) -> str | None:
    """A legacy ``content`` as text: a string as is, a list of text parts joined; None otherwise.

    A part is a string or an object with a string ``text`` (``{"type": "text", "text": ...}``);
    other parts (an image reference...) carry no text and are kept only in the original list.
    """
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return None
    parts: list[str] = []
    for part in content:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict) and isinstance(part.get("text"), str):
            parts.append(part["text"])
    return CONTENT_PART_SEPARATOR.join(parts)


def message_problem(record: dict[str, Any]) -> tuple[str, str]:
    """(kind, reason) when a record cannot become a v2 message, ('', '') when it can.

    Accepted variations: ``null`` for any optional field, a role in another case, content as a
    list of text parts, epoch-number timestamps, any ``message_id`` (one the id rule refuses is
    mapped). Structural damage is ``invalid_record`` (corruption: the policy decides); a
    well-formed message the v2 layout refuses (no text) is ``unimportable_record``, listed.
    """
    role = record.get("role")
    if not isinstance(role, str) or not role:
        return "invalid_record", "message without a role"
    if normalised_role(role) not in KNOWN_ROLES:
        return "invalid_record", f"role {role[:40]!r} is not one of {', '.join(KNOWN_ROLES)} (in any case)"
    text = content_text(record.get("content"))
    if text is None:
        return "invalid_record", "message content is neither text nor a list of text parts"
    if record.get("metadata") is not None and not isinstance(record.get("metadata"), dict):
        return "invalid_record", "message metadata is not an object"
    attachments = record.get("attachments")
    if attachments is not None and not (isinstance(attachments, list) and all(isinstance(a, dict) for a in attachments)):
        return "invalid_record", "message attachments is not a list of objects"
    if record.get("timestamp") is not None and not is_timestamp(record.get("timestamp")):
        return "invalid_record", "timestamp is neither ISO 8601 nor epoch seconds"
    if not text.strip():
        return "unimportable_record", "empty message: the v2 layout refuses messages without text"
    return "", ""


def classify_session(session: FFLegacySessionDTO) -> None:
    """Set a scanned session's ``participants`` and ``kind``.

    A session is a panel when its id, its ``session_type`` (top level or in metadata), per-persona
    transcripts or a participants list say so; otherwise it is a chat.
    """
    meta = session.session_json or {}
    metadata = meta.get("metadata") if isinstance(meta.get("metadata"), dict) else {}
    participants = metadata.get("participants") if isinstance(metadata.get("participants"), list) else []
    session.participants = [p for p in participants if isinstance(p, str)]
    is_panel = (
        session.session_id.startswith("panel_session_")
        or meta.get("session_type") == "panel"
        or metadata.get("session_type") == "panel"
        or bool(session.transcripts)
        or bool(session.participants)
    )
    session.kind = "panel" if is_panel else "chat"


def summarise_message(session: FFLegacySessionDTO, record: dict[str, Any]) -> None:
    """Fold one good message of ``messages.jsonl`` into its session's summary: first and last
    timestamps, the first user text (a title for a session without ``session.json``), the
    personas that spoke and whether an assistant spoke without one."""
    stamp = timestamp_text(record.get("timestamp"))
    if stamp is not None:
        session.first_timestamp = session.first_timestamp or stamp
        session.last_timestamp = stamp
    role = normalised_role(record["role"])
    if not session.first_user_text and role == "user":
        session.first_user_text = " ".join((content_text(record["content"]) or "").split())[:80]
    persona = (record.get("metadata") or {}).get("persona")
    if isinstance(persona, str) and persona not in session.personas_seen:
        session.personas_seen.append(persona)
    elif not isinstance(persona, str) and role != "user":
        session.assistant_without_persona = True
