"""Input checks of the memory manager: everything is validated here before anything is written.

Pure functions (no disk). Each raises exactly one :class:`FFValidationError` naming the field,
so a caller can branch on ``exc.field`` and the manager never half-writes bad input.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from pydantic import TypeAdapter, ValidationError

from ff_class_configs.ff_memory_config import MEMORY_LAYERS, MemoryLayer
from ff_class_configs.ff_memory_dtos import FFAttachmentDTO, FFChatMessageDTO
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_hashing import ff_sha256_bytes
from ff_utils.ff_ids import ff_validate_id
from ff_utils.ff_json_utils import ff_dumps

__all__ = [
    "PreparedAttachment",
    "check_content",
    "check_role",
    "check_importance",
    "check_layer",
    "check_layers",
    "check_metadata",
    "check_title",
    "check_timestamp",
    "check_utc_timestamp",
    "check_tags",
    "check_limit",
    "check_record_size",
    "prepare_attachments",
    "message_from_import",
]

_DATETIME = TypeAdapter(datetime)
_MAX_TAGS = 32
_MAX_TAG_CHARS = 64
_ATTACHMENT_KEYS = {"attachment_id", "name", "mime_type", "data", "metadata", "size_bytes", "sha256"}
_MESSAGE_KEYS = {"message_id", "session_id", "role", "content", "timestamp", "attachments", "metadata", "extra", "schema_version"}


def check_content(content: object, max_chars: int, *, field: str = "content", allow_empty: bool = False) -> str:
    """Non-empty text (not only whitespace) of at most ``max_chars`` characters, returned as is.

    ``allow_empty`` is for imports only: a historical record is kept even if its text is empty.
    """
    if not isinstance(content, str):
        raise FFValidationError(f"{field} must be text, not {type(content).__name__}", field=field)
    if not allow_empty and not content.strip():
        raise FFValidationError(f"{field} is empty", field=field)
    if len(content) > max_chars:
        raise FFValidationError(f"{field} has {len(content):,} characters; the limit is {max_chars:,}", field=field)
    return content


def check_role(role: object, allowed: Sequence[str]) -> str:
    if not isinstance(role, str) or role not in allowed:
        raise FFValidationError(f"unknown role {role!r}; expected one of {', '.join(allowed)}", field="role", value=role)
    return role


def check_importance(value: object) -> float:
    """A real number within [0, 1] (booleans refused: ``True`` is not an importance)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FFValidationError(f"importance must be a number in [0, 1], not {value!r}", field="importance", value=value)
    if not 0.0 <= float(value) <= 1.0:
        raise FFValidationError(f"importance {value} is outside [0, 1]", field="importance", value=value)
    return float(value)


def check_layer(layer: object) -> MemoryLayer:
    if layer not in MEMORY_LAYERS:
        raise FFValidationError(
            f"unknown memory layer {layer!r}; expected one of {', '.join(MEMORY_LAYERS)}", field="layer", value=layer
        )
    return cast(MemoryLayer, layer)


def check_layers(layers: Iterable[str] | str | None) -> tuple[MemoryLayer, ...]:
    """``None`` means every layer; a single name is accepted as well as a list."""
    if layers is None:
        return MEMORY_LAYERS
    names = [layers] if isinstance(layers, str) else list(layers)
    if not names:
        raise FFValidationError("layers is empty; pass None for every layer", field="layers")
    return tuple(dict.fromkeys(check_layer(name) for name in names))


def check_metadata(metadata: object, max_bytes: int, *, field: str = "metadata") -> dict[str, Any]:
    """A JSON-serialisable dict with string keys, at most ``max_bytes`` as JSON; ``None`` is ``{}``."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping) or not all(isinstance(key, str) for key in metadata):
        raise FFValidationError(f"{field} must be a dict with string keys", field=field)
    try:
        size = len(ff_dumps(dict(metadata)))
    except FFValidationError as exc:
        raise FFValidationError(f"{field} is not JSON: {exc.message}", field=field) from exc
    if size > max_bytes:
        raise FFValidationError(f"{field} is {size:,} bytes as JSON; the limit is {max_bytes:,}", field=field)
    return dict(metadata)


def check_title(title: object, max_chars: int) -> str:
    if not isinstance(title, str):
        raise FFValidationError(f"title must be text, not {type(title).__name__}", field="title")
    if len(title) > max_chars:
        raise FFValidationError(f"title has {len(title):,} characters; the limit is {max_chars:,}", field="title")
    return title


def check_timestamp(value: object, *, field: str) -> datetime:
    """A datetime or an ISO 8601 string. Naive values stay naive (legacy data keeps its form)."""
    try:
        return _DATETIME.validate_python(value)
    except ValidationError as exc:
        raise FFValidationError(f"{field} is not a timestamp: {value!r}", field=field, value=value) from exc


def check_utc_timestamp(value: object, *, field: str) -> datetime:
    """Like :func:`check_timestamp`, but naive values are taken as UTC (memories compare times)."""
    moment = check_timestamp(value, field=field)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def check_tags(tags: object) -> list[str]:
    if tags is None:
        return []
    if isinstance(tags, str) or not isinstance(tags, Iterable):
        raise FFValidationError("tags must be a list of strings", field="tags")
    result = list(tags)
    if len(result) > _MAX_TAGS:
        raise FFValidationError(f"at most {_MAX_TAGS} tags", field="tags")
    for tag in result:
        if not isinstance(tag, str) or not tag.strip() or len(tag) > _MAX_TAG_CHARS:
            raise FFValidationError(f"tag {tag!r} must be 1-{_MAX_TAG_CHARS} characters of text", field="tags", value=tag)
    return list(dict.fromkeys(result))


def check_limit(limit: object, *, field: str = "limit", maximum: int = 100_000) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise FFValidationError(f"{field} must be an integer in [1, {maximum}], not {limit!r}", field=field, value=limit)
    return limit


def check_record_size(record: dict[str, Any], max_bytes: int) -> None:
    """A record to append must fit the store's record limit; checked before anything is written."""
    size = len(ff_dumps(record))
    if size > max_bytes:
        raise FFValidationError(f"record of {size:,} bytes exceeds the limit of {max_bytes:,}", field="record")


@dataclass(frozen=True, slots=True)
class PreparedAttachment:
    """A validated attachment: what the message records, and the bytes to store (if any)."""

    record: FFAttachmentDTO
    data: bytes | None


def _prepare_one(raw: object, index: int, max_bytes: int, metadata_bytes: int, new_id: Callable[[], str]) -> PreparedAttachment:
    field = f"attachments[{index}]"
    if isinstance(raw, FFAttachmentDTO):
        raw = raw.model_dump()
    if not isinstance(raw, Mapping):
        raise FFValidationError(f"{field} must be a dict", field=field)
    data = raw.get("data")
    if data is not None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise FFValidationError(f"{field}.data must be bytes", field=f"{field}.data")
        data = bytes(data)
        if len(data) > max_bytes:
            raise FFValidationError(
                f"{field} has {len(data):,} bytes; the limit is {max_bytes:,}", field=f"{field}.data"
            )
    attachment_id = raw.get("attachment_id") or new_id()
    ff_validate_id(attachment_id, f"{field}.attachment_id")
    extras = {key: value for key, value in raw.items() if key not in _ATTACHMENT_KEYS}
    check_metadata(extras, metadata_bytes, field=field)
    fields: dict[str, Any] = {
        "attachment_id": attachment_id,
        "name": raw.get("name") or "",
        "mime_type": raw.get("mime_type") or "application/octet-stream",
        "metadata": check_metadata(raw.get("metadata"), metadata_bytes, field=f"{field}.metadata"),
        "size_bytes": raw.get("size_bytes"),
        "sha256": raw.get("sha256"),
        "stored": False,
        **extras,
    }
    if data is not None:
        digest = ff_sha256_bytes(data)
        if fields["sha256"] not in (None, digest):
            raise FFValidationError(f"{field}.sha256 does not match its data", field=f"{field}.sha256")
        if fields["size_bytes"] not in (None, len(data)):
            raise FFValidationError(f"{field}.size_bytes does not match its data", field=f"{field}.size_bytes")
        fields.update(sha256=digest, size_bytes=len(data), stored=True)
    try:
        record = FFAttachmentDTO.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise FFValidationError(f"{field}.{where}: {first.get('msg')}", field=f"{field}.{where}") from exc
    return PreparedAttachment(record, data)


def prepare_attachments(
    attachments: object,
    *,
    max_count: int,
    max_bytes: int,
    metadata_bytes: int,
    new_id: Callable[[], str],
) -> list[PreparedAttachment]:
    """Validate attachment dicts (``name``, ``mime_type``, ``metadata``, optional ``data`` bytes).

    Keys beyond those are kept on the attachment record as extras. With ``data`` the size and
    SHA-256 are computed (a given ``sha256``/``size_bytes`` must match); ids must be unique.
    """
    if attachments is None:
        return []
    if isinstance(attachments, (str, bytes, Mapping)) or not isinstance(attachments, Iterable):
        raise FFValidationError("attachments must be a list of dicts", field="attachments")
    items = list(attachments)
    if len(items) > max_count:
        raise FFValidationError(f"{len(items)} attachments; the limit is {max_count}", field="attachments")
    prepared = [_prepare_one(raw, index, max_bytes, metadata_bytes, new_id) for index, raw in enumerate(items)]
    ids = [p.record.attachment_id for p in prepared]
    if len(set(ids)) != len(ids):
        raise FFValidationError("attachment ids must be unique within a message", field="attachments")
    return prepared


def message_from_import(
    raw: object,
    *,
    index: int,
    session_id: str,
    allowed_roles: Sequence[str],
    max_chars: int,
    metadata_bytes: int,
    new_id: Callable[[], str],
    now: Callable[[], datetime],
) -> FFChatMessageDTO:
    """Turn one imported message (a dict or DTO) into a stored message, keeping every field.

    Known keys map to fields; any other top-level key goes to ``extra`` verbatim. A missing
    ``message_id`` or ``timestamp`` is generated. Empty content is accepted here (unlike
    add_message): an imported record is history, and refusing it would lose it. A ``session_id``
    naming another session, a role outside ``allowed_roles``, non-text content, or an invalid
    id raises FFValidationError (``field`` names the index).
    """
    where = f"messages[{index}]"
    if isinstance(raw, FFChatMessageDTO):
        raw = raw.model_dump()
    if not isinstance(raw, Mapping):
        raise FFValidationError(f"{where} must be a dict or FFChatMessageDTO", field=where)
    if raw.get("session_id") not in (None, session_id):
        raise FFValidationError(f"{where}.session_id names another session", field=f"{where}.session_id")
    extra = dict(raw.get("extra") or {})
    extra.update({key: value for key, value in raw.items() if key not in _MESSAGE_KEYS})
    message_id = raw.get("message_id") or new_id()
    ff_validate_id(message_id, f"{where}.message_id")
    timestamp = raw.get("timestamp")
    attachments = raw.get("attachments") or []
    if not isinstance(attachments, list) or not all(isinstance(a, Mapping) for a in attachments):
        raise FFValidationError(f"{where}.attachments must be a list of dicts", field=f"{where}.attachments")
    try:
        return FFChatMessageDTO(
            message_id=message_id,
            session_id=session_id,
            role=check_role(raw.get("role"), allowed_roles),
            content=check_content(raw.get("content"), max_chars, field=f"{where}.content", allow_empty=True),
            timestamp=now() if timestamp is None else check_timestamp(timestamp, field=f"{where}.timestamp"),
            attachments=[{"attachment_id": a.get("attachment_id") or new_id(), **a} for a in attachments],
            metadata=check_metadata(raw.get("metadata"), metadata_bytes, field=f"{where}.metadata"),
            extra=check_metadata(extra, metadata_bytes, field=f"{where}.extra"),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        raise FFValidationError(f"{where}.{loc}: {first.get('msg')}", field=f"{where}.{loc}") from exc
