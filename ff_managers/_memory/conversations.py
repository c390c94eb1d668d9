"""The disk side of conversations: session documents, message logs, attachments, profiles.

Synchronous; the manager calls it from worker threads. Every write goes through ff_utils:
``session.json`` and ``profile.json`` are JSON documents changed with :func:`ff_update_json`
(atomic replace under the document's lock), ``messages.jsonl`` is append-only through
:func:`ff_append_jsonl` (group commit: concurrent appends to one session share fsyncs), and
attachment bytes are written with :func:`ff_atomic_write` under a file name that is a validated
id, never the caller's file name.

``session.json`` is written when a session is created or changed, never per message: the
message count is derived on read by counting the log's lines (:func:`ff_count_jsonl_lines`,
C speed, no parsing) and the last message's time is read from its tail.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ff_class_configs.ff_memory_dtos import FFChatMessageDTO, FFChatSessionDTO
from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFNotFoundError, ff_translate_errors
from ff_utils.ff_file_ops import ff_atomic_write, ff_read_bytes
from ff_utils.ff_ids import ff_is_valid_id
from ff_utils.ff_json_utils import (
    Durability,
    ff_append_jsonl,
    ff_count_jsonl_lines,
    ff_read_json,
    ff_tail_jsonl,
    ff_update_json,
)

__all__ = [
    "SESSION_DOC",
    "MESSAGES_LOG",
    "ATTACHMENTS_DIR",
    "StorageSettings",
    "parse_record",
    "create_document",
    "update_document",
    "read_document",
    "read_session",
    "append_messages",
    "tail_messages",
    "write_attachment",
    "read_attachment",
    "list_child_ids",
]

SESSION_DOC = "session.json"
MESSAGES_LOG = "messages.jsonl"
ATTACHMENTS_DIR = "attachments"

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class StorageSettings:
    """The storage knobs every write needs, taken once from the config."""

    durability: Durability
    max_record_bytes: int
    batch_interval_s: float


def parse_record(model: type[M], data: Any, path: Path) -> M:
    """Validate a record read from disk; one that does not fit its schema is corruption, not bad input."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise FFCorruptionError(f"stored {model.__name__} does not match its schema: {exc.errors()[0].get('msg')}", path=path) from exc


def create_document(path: Path, record: dict[str, Any], *, kind: str, key: str, durability: Durability) -> None:
    """Write a new JSON document; FFConflictError if one exists (checked under its lock)."""

    def create(current: Any) -> dict[str, Any]:
        if current is not None:
            raise FFConflictError(f"{kind} {key!r} already exists", path=path)
        return record

    ff_update_json(path, create, default=None, durability=durability)


def update_document(
    path: Path, change: Callable[[dict[str, Any]], dict[str, Any]], *, kind: str, key: str, durability: Durability
) -> dict[str, Any]:
    """Read-modify-write an existing JSON document; FFNotFoundError if it is missing."""

    def apply(current: Any) -> dict[str, Any]:
        if current is None:
            raise FFNotFoundError(f"{kind} {key!r} not found", kind=kind, key=key)
        return change(current)

    if not path.is_file():  # do not let ff_update_json create the parent folder for nothing
        raise FFNotFoundError(f"{kind} {key!r} not found", kind=kind, key=key)
    return ff_update_json(path, apply, default=None, durability=durability)


def read_document(path: Path, *, kind: str, key: str) -> Any:
    """A JSON document's data; FFNotFoundError (with kind and key) if it is missing."""
    data = ff_read_json(path, default=None)
    if data is None:
        raise FFNotFoundError(f"{kind} {key!r} not found", kind=kind, key=key)
    return data


def read_session(session_dir: Path, *, session_id: str) -> FFChatSessionDTO:
    """The session with ``message_count`` and ``last_message_at`` derived from its log."""
    doc_path = session_dir / SESSION_DOC
    session = parse_record(FFChatSessionDTO, read_document(doc_path, kind="session", key=session_id), doc_path)
    log = session_dir / MESSAGES_LOG
    last = ff_tail_jsonl(log, 1)
    last_at = parse_record(FFChatMessageDTO, last[0], log).timestamp if last else None
    return session.model_copy(update={"message_count": ff_count_jsonl_lines(log), "last_message_at": last_at})


def append_messages(log: Path | str, records: list[dict[str, Any]], settings: StorageSettings) -> None:
    """Append message records in one call (one write and, for ``always``, one shared fsync)."""
    ff_append_jsonl(
        log,
        records,
        many=True,
        durability=settings.durability,
        max_record_bytes=settings.max_record_bytes,
        batch_interval=settings.batch_interval_s,
    )


def tail_messages(log: Path, limit: int) -> list[FFChatMessageDTO]:
    """The last ``limit`` messages, oldest first; the cost does not grow with the log."""
    return [parse_record(FFChatMessageDTO, record, log) for record in ff_tail_jsonl(log, limit)]


def write_attachment(path: Path, data: bytes, durability: Durability) -> None:
    ff_atomic_write(path, data, fsync=durability != "never")


def read_attachment(path: Path, *, attachment_id: str, max_bytes: int) -> bytes:
    if not path.is_file():
        raise FFNotFoundError(f"attachment {attachment_id!r} not found", kind="attachment", key=attachment_id)
    return ff_read_bytes(path, max_bytes=max_bytes)


def list_child_ids(directory: Path, *, require: str | None = None) -> list[str]:
    """Names of the sub-directories of ``directory`` that are valid ids (and hold ``require``).

    Anything else (stray files, hidden lock files, names no id may have) is ignored, so a
    foreign file dropped into the data root can never be mistaken for a session or user.
    """
    try:
        with ff_translate_errors("list directory", directory):
            entries = list(os.scandir(directory))
    except FFNotFoundError:
        return []
    names = [
        entry.name
        for entry in entries
        if ff_is_valid_id(entry.name)
        and entry.is_dir(follow_symlinks=False)
        and (require is None or os.path.isfile(os.path.join(entry.path, require)))
    ]
    return sorted(names)
