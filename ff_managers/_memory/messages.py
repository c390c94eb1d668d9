"""Chat messages on disk: one append-only ``messages.jsonl`` per session, plus attachment bytes.

Adding a message costs one durable append (:meth:`FFStore.append_many`; no rewrite of
``session.json``), and reading the last ``n`` reads backwards from the end of the log
(:meth:`FFStore.tail_jsonl`), so neither grows with the session. Attachment bytes are written
atomically (:meth:`FFStore.write_bytes`) under a file name that is a validated id, never the
caller's file name, before the message that records them is appended.

Ordering: messages are returned in file order, which is the order their appends were committed
(the append lock serialises writers). Timestamps are taken when ``add_message`` is called, so
under concurrent adds to one session two neighbours may carry timestamps out of order; the file
order is authoritative, and there is no per-message sequence number because keeping one exact
across processes would cost a read or an extra fsync per message.

Coalescing (:meth:`Messages.add`): appends go straight to the store's one I/O thread
(:class:`~ff_utils.ff_io_thread.FFIOThread`, keyed by session): one hop per call, no task and no
``to_thread`` work item. When the thread wakes it takes everything queued for every session of
the root, writes each session's records with one append (one write, one fsync for ``always``)
and then resolves every caller. Validation stays with each caller, so a bad message fails only
its own call and never reaches the queue. A storage failure fails every caller of that
session's batch, none of whose records were written. The manager's shutdown waits for every
queued append and ends the thread.

Idempotency: a message whose caller named its ``message_id`` is checked against the ids the
session already holds (:class:`~ff_managers._memory.message_ids.FFMessageIdIndex`, kept in
memory, so no write scans the log). A known id with the same role, content, attachments and
metadata returns the stored message and appends nothing; with anything else it is
FFConflictError. Every append to a session holds the log's lock (the one lock of the session:
the appender does not take it again), so the check and the append are one step across
processes too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from ff_class_configs.ff_memory_config import FFMemoryConfigDTO
from ff_class_configs.ff_memory_dtos import FFChatMessageDTO
from ff_managers._core.checks import check_json_object, timestamp
from ff_managers._memory.history_page import tail_page
from ff_managers._memory.layout import MESSAGES_LOG, SESSION_DOC, MemoryLayout
from ff_managers._memory.message_ids import FFMessageIdIndex, same_message
from ff_managers._memory.remote_attachments import RemoteAttachments
from ff_managers._memory.stored import tail_records
from ff_managers._memory.validation import check_record_size, check_role, message_from_import, prepare_attachments
from ff_managers.ff_component_base import Clock
from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFNotFoundError, FFValidationError
from ff_utils.ff_ids import ff_new_id, ff_validate_id
from ff_utils.ff_store import FFStore

__all__ = ["SessionFiles", "NewMessage", "Messages"]

_MAX_CACHED_SESSIONS = 10_000  # checked session paths remembered (then the memo starts over)
_WHEN = timestamp(parse_text=True)  # a datetime or ISO 8601 text; naive stays naive (legacy data)


@dataclass(frozen=True, slots=True)
class SessionFiles:
    """The checked paths of one session, built once and reused by every append to it."""

    user_id: str
    session_id: str
    directory: Path
    document: Path
    log: Path


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A checked message: what add_message returns, the record to append, the bytes to store."""

    message: FFChatMessageDTO
    record: dict[str, Any]
    blobs: list[tuple[str, bytes]]
    named_id: bool = False  # the caller gave message_id: a repeat of it is checked, not appended


Outcome = FFChatMessageDTO | None  # None: appended; a message: the stored one with that id


class Messages:
    """Append, import and read a session's messages; store and read attachment bytes."""

    def __init__(
        self,
        store: FFStore,
        layout: MemoryLayout,
        policy: FFMemoryConfigDTO,
        clock: Clock,
        *,
        max_chars: int,
        remote: RemoteAttachments | None = None,
    ) -> None:
        """Appends go through ``store.io``, which the manager's shutdown drains and ends.

        ``remote``: the artifact store attachment bytes are also uploaded to (``storage.artifacts_url``).
        """
        self.store = store
        self.layout = layout
        self.policy = policy
        self.clock = clock
        self.max_chars = max_chars
        self._job = self._write_batch  # one bound method: the I/O thread groups by (job, key)
        self._known: dict[tuple[str, str], SessionFiles] = {}
        self._ids = FFMessageIdIndex(store)
        self.remote = remote

    # ------------------------------------------------------------------ paths

    def session(self, user_id: str, session_id: str) -> SessionFiles:
        """The session's paths (ids validated); remembered once a message was appended there.

        Building and checking the path (id validation, a symlink check per segment) was a third
        of ``add_message``'s event-loop time. Only ids that already passed that check and named
        an existing session are remembered; the session's existence is still checked on every
        append (in the worker thread), and a session found missing is forgotten.
        """
        if type(user_id) is str and type(session_id) is str:  # noqa: E721 - exact str keys only
            known = self._known.get((user_id, session_id))
            if known is not None:
                return known
        directory = self.layout.session_dir(user_id, session_id)
        return SessionFiles(user_id, session_id, directory, directory / SESSION_DOC, directory / MESSAGES_LOG)

    def _require(self, files: SessionFiles) -> None:
        if not self.store.exists(files.document):
            raise FFNotFoundError(f"session {files.session_id!r} not found", kind="session", key=files.session_id)

    # ------------------------------------------------------------------ input

    def new(
        self,
        session_id: str,
        role: object,
        content: str,
        attachments: object,
        *,
        message_id: str | None,
        timestamp: datetime | str | None,
        metadata: object,
    ) -> NewMessage:
        """A message from checked input; ``content`` was checked by the caller (the manager).

        Raises FFValidationError (naming the field) for a bad attachment, id, role, timestamp,
        metadata, or a record over the store's size limit.
        """
        policy = self.policy
        prepared = prepare_attachments(
            attachments,
            max_count=policy.max_attachments_per_message,
            max_bytes=policy.max_attachment_bytes,
            metadata_bytes=policy.max_metadata_bytes,
            new_id=partial(ff_new_id, "att_"),
        )
        message = FFChatMessageDTO(
            message_id=ff_validate_id(message_id, "message_id") if message_id is not None else ff_new_id("msg_"),
            session_id=session_id,
            role=check_role(role, policy.allowed_roles),
            content=content,
            timestamp=_WHEN(timestamp, "timestamp") if timestamp is not None else self.clock(),
            attachments=[p.record for p in prepared],
            metadata=check_json_object(metadata, field="metadata", max_bytes=policy.max_metadata_bytes),
        )
        record = message.model_dump(mode="json")
        check_record_size(record, self.store.max_record_bytes)
        blobs = [(p.record.attachment_id, p.data) for p in prepared if p.data is not None]
        return NewMessage(message, record, blobs, named_id=message_id is not None)

    def from_import(self, session_id: str, messages: object) -> list[FFChatMessageDTO]:
        """Every imported message checked and converted (see :func:`message_from_import`), or none.

        One bad message, more than ``max_import_messages`` or an id given twice is
        FFValidationError for the whole batch.
        """
        if isinstance(messages, (str, bytes, dict)) or not isinstance(messages, Iterable):
            raise FFValidationError("messages must be a list of dicts or FFChatMessageDTO", field="messages")
        items, most = list(messages), self.policy.max_import_messages
        if len(items) > most:
            raise FFValidationError(f"{len(items)} messages; one import takes at most {most}", field="messages")
        convert = partial(
            message_from_import,
            session_id=session_id,
            allowed_roles=self.policy.allowed_roles,
            max_chars=self.max_chars,
            metadata_bytes=self.policy.max_metadata_bytes,
            new_id=partial(ff_new_id, "msg_"),
            now=self.clock,
        )
        converted = [convert(raw, index=index) for index, raw in enumerate(items)]
        if len({m.message_id for m in converted}) != len(converted):
            raise FFValidationError("message ids repeat within the import", field="messages")
        return converted

    # ------------------------------------------------------------------ writes

    async def add(self, files: SessionFiles, new: NewMessage) -> Outcome:
        """Append one checked message (after its attachment bytes, if any); None once written.

        Without attachment bytes the append is coalesced with concurrent callers (see the module
        docstring). Returns only once the record is written with the configured durability. A
        named id the session already holds returns the stored message (same content) or raises
        FFConflictError (different content), and writes nothing.
        """
        if new.blobs:
            return await asyncio.to_thread(self._write_with_attachments, files, new)
        return await self.store.io.submit(self._job, files, new)  # type: ignore[no-any-return]

    def _write_with_attachments(self, files: SessionFiles, new: NewMessage) -> Outcome:
        self._require(files)  # before the lock, whose file would create a missing session's folder
        with self.store.lock(self._ids.lock_path(files.log)):
            outcomes, records = self._sort_out(files, [new])
            if not records:
                return _settled(outcomes[0])
            written: list[Path] = []
            try:
                for attachment_id, data in new.blobs:
                    path = self.layout.attachment(files.user_id, files.session_id, attachment_id)
                    self.store.write_bytes(path, data)
                    written.append(path)
                    if self.remote is not None:  # after the durable local write; before the message names it
                        self.remote.upload(path, files.user_id, files.session_id, attachment_id, data)
            except BaseException:
                if self.remote is not None:
                    RemoteAttachments.discard(written)  # no message names them: nothing half-written
                raise
            self._append_checked(files, records)
        return None

    def append_imported(self, files: SessionFiles, messages: list[FFChatMessageDTO]) -> int:
        """Append converted messages in ONE append; FFNotFoundError for a missing session.

        Each record must fit the store's record limit (FFValidationError, nothing written). A
        message whose id the session already holds is not appended again when it is the same
        message (a re-sent batch appends nothing, like a re-sent add_message); with other content
        it is FFConflictError and nothing of the batch is written. Returns how many were appended.
        """
        records = [message.model_dump(mode="json") for message in messages]
        for record in records:
            check_record_size(record, self.store.max_record_bytes)
        self._require(files)  # before the lock, whose file would create a missing session's folder
        with self.store.lock(self._ids.lock_path(files.log)):
            known = self._ids.ids(files.log) if records else set()
            fresh = []
            for record in records:
                if record["message_id"] in known:
                    outcome = self._repeat(files, self._ids.find(files.log, record["message_id"]), record)
                    if isinstance(outcome, BaseException):
                        raise outcome
                    continue
                fresh.append(record)
            if fresh:
                self._append_checked(files, fresh)
        return len(fresh)

    def _append_batch(self, files: SessionFiles, items: list[NewMessage]) -> list[Outcome | BaseException]:
        self._require(files)  # before the lock, whose file would create a missing session's folder
        with self.store.lock(self._ids.lock_path(files.log)):
            outcomes, records = self._sort_out(files, items)
            if records:
                self._append_checked(files, records)
        return outcomes

    def _append_checked(self, files: SessionFiles, records: list[dict[str, Any]]) -> None:
        """Append under the log's lock (held by the caller) and tell the id index what was appended."""
        try:
            self.store.append_many(files.log, records)
        except BaseException:
            self._ids.forget(files.log)  # a failed write may have left anything: rebuild when asked
            raise
        self._ids.appended(files.log, (record["message_id"] for record in records))

    def _sort_out(self, files: SessionFiles, items: list[NewMessage]) -> tuple[list[Outcome | BaseException], list[dict[str, Any]]]:
        """Each item's outcome (None: to append; the stored message; FFConflictError) and the records to append."""
        known = self._ids.ids(files.log) if any(item.named_id for item in items) else set()
        outcomes: list[Outcome | BaseException] = []
        records: list[dict[str, Any]] = []
        in_batch: dict[str, dict[str, Any]] = {}
        for item in items:
            message_id = item.record["message_id"]
            if item.named_id:
                stored = in_batch.get(message_id)
                if stored is None and message_id in known:
                    stored = self._ids.find(files.log, message_id)
                if stored is not None:
                    outcomes.append(self._repeat(files, stored, item.record))
                    continue
            in_batch[message_id] = item.record
            records.append(item.record)
            outcomes.append(None)
        return outcomes, records

    def _repeat(self, files: SessionFiles, stored: Any, record: dict[str, Any]) -> Outcome | BaseException:
        """What a repeated message id returns: the stored message, or why it cannot be repeated."""
        message_id = record["message_id"]
        if not same_message(stored, record):
            return FFConflictError(
                f"message {message_id!r} already exists in session {files.session_id!r} with other content",
                kind="message",
                key=message_id,
            )
        try:
            return self.store.load(FFChatMessageDTO, stored, files.log)
        except FFCorruptionError as exc:
            return exc

    def _write_batch(self, files: SessionFiles, items: list[NewMessage]) -> list[Outcome | BaseException]:
        """The I/O thread's job: one session's queued records in one append (runs in that thread).

        A missing session fails the whole batch (and is forgotten); a written batch remembers
        the session's checked paths for the next call (plain dict operations: the event loop
        only reads the memo).
        """
        key = (files.user_id, files.session_id)
        try:
            outcomes = self._append_batch(files, items)
        except FFNotFoundError:
            self._known.pop(key, None)
            raise
        if len(self._known) >= _MAX_CACHED_SESSIONS:
            self._known.clear()
        self._known[key] = files
        return outcomes

    # ------------------------------------------------------------------ reads

    def tail(self, user_id: str, session_id: str, limit: int) -> list[FFChatMessageDTO]:
        """The last ``limit`` messages, oldest first; FFNotFoundError if the session does not exist.

        A line that is not a message (unparsable, or JSON of another shape) is skipped and logged.
        """
        files = self.session(user_id, session_id)
        key = (user_id, session_id)
        try:
            self._require(files)
        except FFNotFoundError:
            self._known.pop(key, None)
            raise
        if key not in self._known:  # checked ids of an existing session: build the path once
            if len(self._known) >= _MAX_CACHED_SESSIONS:
                self._known.clear()
            self._known[key] = files
        return tail_page(self.store, FFChatMessageDTO, files.log, limit)

    def attachment(self, user_id: str, session_id: str, attachment_id: str) -> bytes:
        """An attachment's stored bytes; FFNotFoundError if the session or the bytes do not exist."""
        files = self.session(user_id, session_id)
        path = self.layout.attachment(user_id, session_id, attachment_id)
        self._require(files)
        if not self.store.exists(path) and self.remote is not None and self.remote.artifacts.exists(
            RemoteAttachments.key(user_id, session_id, attachment_id)
        ):
            self.remote.fetch(path, user_id, session_id, attachment_id)  # the local copy is gone: bring it back
        if not self.store.exists(path):
            raise FFNotFoundError(f"attachment {attachment_id!r} not found", kind="attachment", key=attachment_id)
        return self.store.read_bytes(path, max_bytes=self.policy.max_attachment_bytes)


def _settled(outcome: Outcome | BaseException) -> Outcome:
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
