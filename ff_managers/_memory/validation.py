"""Input checks only the memory manager has: roles, layers, tags, attachments, imported messages.

The rules every manager shares (text, JSON objects, limits, numbers, timestamps) are the one set
in :mod:`ff_managers._core.checks`; this module uses them and adds what is memory's own. Pure
functions (no disk). Each raises exactly one :class:`FFValidationError` naming the field, so a
caller can branch on ``exc.field`` and the manager never half-writes bad input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from ff_class_configs.ff_memory_config import MEMORY_LAYERS, MemoryLayer
from ff_class_configs.ff_memory_dtos import FFAttachmentDTO, FFChatMessageDTO
from ff_managers._core.checks import check_content, check_json_object, check_text, check_timestamp
from ff_managers._core.errors import input_errors, validate_input
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_hashing import ff_sha256_bytes
from ff_utils.ff_ids import ff_validate_id
from ff_utils.ff_json_utils import ff_dumps

__all__ = [
    "PreparedAttachment",
    "check_role",
    "check_layer",
    "check_layers",
    "check_tags",
    "check_record_size",
    "prepare_attachments",
    "message_from_import",
]

_MAX_TAGS = 32
_MAX_TAG_CHARS = 64
_ATTACHMENT_KEYS = {"attachment_id", "name", "mime_type", "data", "metadata", "size_bytes", "sha256"}
_MESSAGE_KEYS = {"message_id", "session_id", "role", "content", "timestamp", "attachments", "metadata", "extra", "schema_version"}


def check_role(role: object, allowed: Sequence[str], *, field: str = "role") -> str:
    if not isinstance(role, str) or role not in allowed:
        raise FFValidationError(f"unknown role {role!r}; expected one of {', '.join(allowed)}", field=field, value=role)
    return role


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


def check_tags(tags: object) -> list[str]:
    """At most 32 single-line texts of 1-64 characters each (the one text rule), repeats dropped."""
    if tags is None:
        return []
    if isinstance(tags, str) or not isinstance(tags, Iterable):
        raise FFValidationError("tags must be a list of strings", field="tags")
    result = list(tags)
    if len(result) > _MAX_TAGS:
        raise FFValidationError(f"at most {_MAX_TAGS} tags", field="tags")
    for tag in result:
        check_text(tag, field="tags", max_chars=_MAX_TAG_CHARS, single_line=True)
    return list(dict.fromkeys(result))


def check_record_size(record: dict[str, Any], max_bytes: int) -> None:
    """A record to append must fit the store's record limit; checked before anything is written
    (attachment bytes are stored before their message is appended)."""
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
    extras = check_json_object(
        {key: value for key, value in raw.items() if key not in _ATTACHMENT_KEYS}, field=field, max_bytes=metadata_bytes
    )
    fields: dict[str, Any] = {
        "attachment_id": attachment_id,
        "name": raw.get("name") or "",
        "mime_type": raw.get("mime_type") or "application/octet-stream",
        "metadata": check_json_object(raw.get("metadata"), field=f"{field}.metadata", max_bytes=metadata_bytes),
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
    return PreparedAttachment(validate_input(FFAttachmentDTO, fields, field=field), data)


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
    with input_errors(where):
        return FFChatMessageDTO(
            message_id=message_id,
            session_id=session_id,
            role=check_role(raw.get("role"), allowed_roles, field=f"{where}.role"),
            content=check_content(raw.get("content"), field=f"{where}.content", max_chars=max_chars, allow_empty=True),
            timestamp=now()
            if timestamp is None
            else check_timestamp(timestamp, field=f"{where}.timestamp", parse_text=True),
            attachments=[{"attachment_id": a.get("attachment_id") or new_id(), **a} for a in attachments],
            metadata=check_json_object(raw.get("metadata"), field=f"{where}.metadata", max_bytes=metadata_bytes),
            extra=check_json_object(extra, field=f"{where}.extra", max_bytes=metadata_bytes),
        )
