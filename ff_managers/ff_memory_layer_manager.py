"""FFMemoryLayerManager: a user's conversations and five layers of memory, as flat files.

Two halves, one manager, because the layers draw on the conversations (Letta's "recall memory"):

* **Conversations** (``users/<uid>/sessions/<sid>/``): ``session.json`` (written on create and
  on explicit updates only), ``messages.jsonl`` (append-only; one message a line, in the order
  appended), ``attachments/<attachment_id>`` (bytes, SHA-256 recorded in the message), and the
  user's ``profile.json``. Adding a message costs one durable append; reading the last ``n``
  reads backwards from the end of the log, so neither grows with the session.
* **Memories** (``users/<uid>/memory/``): five layers, each an append-only JSONL file, with an
  archive. Retention moves entries down the chain, archives expired ones and compresses full
  layers (see ``_memory/retention.py`` for the exact semantics, ``_memory/layer_store.py`` for
  the files and their crash-safety, ``_memory/ranking.py`` for search).

Ordering: messages are returned in file order, which is the order their appends were committed
(the append lock serialises writers). Timestamps are taken when ``add_message`` is called, so
under concurrent adds to one session two neighbours may carry timestamps out of order; the file
order is authoritative, and there is no per-message sequence number because keeping one exact
across processes would cost a read or an extra fsync per message.

Legacy fields: top-level message/session/profile fields this schema does not name are kept in
``extra``; ``metadata`` is stored verbatim; attachment keys beyond the known ones stay on the
attachment record. Every public method takes ``user_id`` and touches only ``users/<user_id>/``:
another user's session id is simply not found there (FFNotFoundError).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_memory_config import MEMORY_LAYERS, MemoryLayer
from ff_class_configs.ff_memory_dtos import (
    FFArchivedMemoryDTO,
    FFChatMessageDTO,
    FFChatSessionDTO,
    FFMemoryContextDTO,
    FFMemoryEntryDTO,
    FFMemorySearchHitDTO,
    FFMemoryStatsDTO,
    FFRetentionReportDTO,
    FFUserProfileDTO,
    FFUserRetentionReportDTO,
)
from ff_managers._memory import conversations as conv
from ff_managers._memory.ranking import RankedEntry, rank_entries
from ff_managers._memory.layer_store import MemoryStore
from ff_managers._memory.validation import (
    check_content,
    check_importance,
    check_layer,
    check_layers,
    check_limit,
    check_metadata,
    check_role,
    check_tags,
    check_timestamp,
    check_title,
    check_utc_timestamp,
    message_from_import,
    prepare_attachments,
)
from ff_managers.ff_component_base import Clock, FFComponentBase
from ff_managers.ff_event_bus import FFEventBus
from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFNotFoundError, FFValidationError
from ff_utils.ff_ids import ff_new_id, ff_validate_id
from ff_utils.ff_json_utils import ff_dumps

__all__ = ["FFMemoryLayerManager"]

_MAX_MESSAGES_READ = 1_000_000  # get_messages holds them in memory; a whole legacy session fits
_MAX_CACHED_SESSION_DIRS = 10_000  # checked session paths remembered (then the memo starts over)


def _settle(batch: list[tuple[dict[str, Any], asyncio.Future[None]]], error: BaseException | None) -> None:
    """Resolve every still-waiting caller of a batch with its outcome."""
    for _, future in batch:
        if future.done():  # cancelled while its line was being written
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


class FFMemoryLayerManager(FFComponentBase):
    """Conversations, profiles and layered memories of every user under one data root."""

    component_name = "memory"

    def __init__(
        self,
        config: FFConfigurationManagerConfigDTO,
        *,
        bus: FFEventBus | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(config, bus=bus, clock=clock)
        storage = config.storage
        self._settings = conv.StorageSettings(
            durability=storage.durability,
            max_record_bytes=storage.max_record_bytes,
            batch_interval_s=storage.batch_fsync_interval_ms / 1000.0,
        )
        self._policy = config.memory
        self._max_chars = storage.max_content_chars
        # add_message's coalesced appends (see _append_coalesced) and checked session paths.
        self._append_queues: dict[Path, list[tuple[dict[str, Any], asyncio.Future[None]]]] = {}
        self._append_drains: dict[Path, asyncio.Task[None]] = {}
        self._session_dirs: dict[tuple[str, str], Path] = {}

    # ================================================================== paths and small helpers

    def _now(self) -> datetime:
        return self.clock()

    def _user_dir(self, user_id: str) -> Path:
        return self._path("users", ff_validate_id(user_id, "user_id"))

    def _session_dir(self, user_id: str, session_id: str) -> Path:
        return self._path(
            "users", ff_validate_id(user_id, "user_id"), "sessions", ff_validate_id(session_id, "session_id")
        )

    def _memory(self, user_id: str) -> MemoryStore:
        return MemoryStore(self._path("users", ff_validate_id(user_id, "user_id"), "memory"), self._settings)

    def _metadata(self, value: object, field: str = "metadata") -> dict[str, Any]:
        return check_metadata(value, self._policy.max_metadata_bytes, field=field)

    def _check_record_size(self, record: dict[str, Any]) -> None:
        size = len(ff_dumps(record))
        if size > self._settings.max_record_bytes:
            raise FFValidationError(
                f"record of {size:,} bytes exceeds the limit of {self._settings.max_record_bytes:,}", field="record"
            )

    def _checked_session_dir(self, user_id: str, session_id: str) -> Path:
        """:meth:`_session_dir`, remembered once a message was appended there.

        Building and checking the path (id validation, a symlink check per segment) was a third
        of ``add_message``'s event-loop time. Only ids that already passed that check and named
        an existing session are remembered; the session's existence is still checked on every
        append (in the worker thread), and a session found missing is forgotten.
        """
        if type(user_id) is str and type(session_id) is str:  # noqa: E721 - exact str keys only
            cached = self._session_dirs.get((user_id, session_id))
            if cached is not None:
                return cached
        return self._session_dir(user_id, session_id)

    async def _append_coalesced(self, user_id: str, session_id: str, session_dir: Path, record: dict[str, Any]) -> None:
        """Append one validated message record, sharing the trip to disk with concurrent callers.

        Callers appending to the same session queue their record; one drain task per session takes
        everything queued, writes it with one ``ff_append_jsonl`` call in one worker thread (one
        write, one fsync for ``always``) and then resolves every caller. Validation stays with
        each caller, so a bad message fails only its own call and never reaches the queue. A
        storage failure fails every caller of that batch, none of whose records were written.
        Returns only once the record is written with the configured durability.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._append_queues.setdefault(session_dir, []).append((record, future))
        if session_dir not in self._append_drains:
            self._append_drains[session_dir] = asyncio.create_task(self._drain_appends(user_id, session_id, session_dir))
        await future

    async def _drain_appends(self, user_id: str, session_id: str, session_dir: Path) -> None:
        """Write what callers queued for one session, one batch per worker-thread trip."""
        batch: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        try:
            while True:
                # A caller cancelled before its batch was taken is dropped: nothing was written.
                batch = [entry for entry in self._append_queues.pop(session_dir, []) if not entry[1].done()]
                if not batch:
                    return
                try:
                    await self._io(self._write_records, session_dir, session_id, [record for record, _ in batch])
                except FFNotFoundError as exc:
                    self._session_dirs.pop((user_id, session_id), None)
                    _settle(batch, exc)
                except Exception as exc:  # isolation: the error belongs to this batch's callers
                    _settle(batch, exc)
                else:
                    if len(self._session_dirs) >= _MAX_CACHED_SESSION_DIRS:
                        self._session_dirs.clear()
                    self._session_dirs[(user_id, session_id)] = session_dir
                    _settle(batch, None)
                batch = []
        finally:
            # Cancelled (the loop is closing): whoever still waits is cancelled, not left hanging.
            for _, future in batch + self._append_queues.pop(session_dir, []):
                future.cancel()
            self._append_drains.pop(session_dir, None)

    def _write_records(self, session_dir: Path, session_id: str, records: list[dict[str, Any]]) -> None:
        # _require_session with string paths: pathlib joins were a third of this per-batch work.
        base = os.fspath(session_dir)
        if not os.path.isfile(os.path.join(base, conv.SESSION_DOC)):
            raise FFNotFoundError(f"session {session_id!r} not found", kind="session", key=session_id)
        conv.append_messages(os.path.join(base, conv.MESSAGES_LOG), records, self._settings)

    def _attachment_path(self, user_id: str, session_id: str, attachment_id: str) -> Path:
        return self._path(
            "users",
            ff_validate_id(user_id, "user_id"),
            "sessions",
            ff_validate_id(session_id, "session_id"),
            conv.ATTACHMENTS_DIR,
            ff_validate_id(attachment_id, "attachment_id"),
        )

    @staticmethod
    def _require_session(session_dir: Path, session_id: str) -> None:
        if not (session_dir / conv.SESSION_DOC).is_file():
            raise FFNotFoundError(f"session {session_id!r} not found", kind="session", key=session_id)

    # ================================================================== sessions

    async def create_session(
        self,
        user_id: str,
        title: str = "",
        *,
        session_id: str | None = None,
        created_at: datetime | str | None = None,
        updated_at: datetime | str | None = None,
        metadata: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> FFChatSessionDTO:
        """Create a chat session and return it.

        ``session_id``, ``created_at``, ``updated_at`` and ``extra`` let an importer keep a legacy
        session's identity and times. Raises FFValidationError for bad input, FFConflictError if
        ``session_id`` already exists for this user.
        """
        async with self._operation():
            now = self._now()
            sid = ff_validate_id(session_id, "session_id") if session_id is not None else ff_new_id("ses_")
            created = check_timestamp(created_at, field="created_at") if created_at is not None else now
            session = FFChatSessionDTO(
                session_id=sid,
                user_id=ff_validate_id(user_id, "user_id"),
                title=check_title(title, self._policy.max_title_chars),
                created_at=created,
                updated_at=check_timestamp(updated_at, field="updated_at") if updated_at is not None else created,
                metadata=self._metadata(metadata),
                extra=self._metadata(extra, "extra"),
            )
            doc = self._session_dir(user_id, sid) / conv.SESSION_DOC
            await self._io(
                conv.create_document, doc, session.to_record(), kind="session", key=sid, durability=self._settings.durability
            )
            await self._publish("memory.session_created", {"session_id": sid}, user_id=user_id)
            return session.model_copy(update={"message_count": 0})

    async def get_session(self, user_id: str, session_id: str) -> FFChatSessionDTO:
        """The session with its derived ``message_count`` and ``last_message_at``.

        Raises FFNotFoundError if this user has no such session.
        """
        async with self._operation():
            return await self._io(conv.read_session, self._session_dir(user_id, session_id), session_id=session_id)

    async def list_sessions(self, user_id: str, *, limit: int | None = None) -> list[FFChatSessionDTO]:
        """The user's sessions, most recently active first (last message, else creation time)."""
        async with self._operation():
            if limit is not None:
                check_limit(limit)
            sessions_dir = self._user_dir(user_id) / "sessions"

            def load() -> list[FFChatSessionDTO]:
                ids = conv.list_child_ids(sessions_dir, require=conv.SESSION_DOC)
                return [conv.read_session(self._session_dir(user_id, sid), session_id=sid) for sid in ids]

            sessions = await self._io(load)

            def activity(s: FFChatSessionDTO) -> float:
                moment = s.last_message_at or s.created_at
                return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()

            sessions.sort(key=lambda s: (activity(s), s.session_id), reverse=True)
            return sessions[:limit] if limit is not None else sessions

    async def update_session(
        self, user_id: str, session_id: str, *, title: str | None = None, metadata: dict[str, Any] | None = None
    ) -> FFChatSessionDTO:
        """Change a session's title and/or merge keys into its metadata (one atomic rewrite)."""
        async with self._operation():
            new_title = check_title(title, self._policy.max_title_chars) if title is not None else None
            new_metadata = self._metadata(metadata)
            session_dir = self._session_dir(user_id, session_id)
            now = self._now()

            def change(current: dict[str, Any]) -> dict[str, Any]:
                merged = {**current.get("metadata", {}), **new_metadata}
                self._metadata(merged)
                updated = {**current, "metadata": merged, "updated_at": now.isoformat()}
                if new_title is not None:
                    updated["title"] = new_title
                return updated

            await self._io(
                conv.update_document,
                session_dir / conv.SESSION_DOC,
                change,
                kind="session",
                key=session_id,
                durability=self._settings.durability,
            )
            return await self._io(conv.read_session, session_dir, session_id=session_id)

    # ================================================================== messages

    async def add_message(
        self,
        user_id: str,
        session_id: str,
        role: str,
        content: str,
        attachments: Sequence[dict[str, Any]] | None = None,
        *,
        message_id: str | None = None,
        timestamp: datetime | str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> FFChatMessageDTO:
        """Append a message to a session: about one durable append, no rewrite of session.json.

        ``attachments``: dicts with ``name``, ``mime_type``, ``metadata`` and optional ``data``
        (bytes, stored under the session's ``attachments/<attachment_id>`` with its SHA-256 and
        size recorded). Raises FFValidationError (nothing written) for a bad id, unknown role,
        empty or oversized content, bad metadata or an attachment over the size limit;
        FFNotFoundError if the session does not exist for this user.
        """
        async with self._operation():
            session_dir = self._checked_session_dir(user_id, session_id)
            prepared = prepare_attachments(
                attachments,
                max_count=self._policy.max_attachments_per_message,
                max_bytes=self._policy.max_attachment_bytes,
                metadata_bytes=self._policy.max_metadata_bytes,
                new_id=partial(ff_new_id, "att_"),
            )
            message = FFChatMessageDTO(
                message_id=ff_validate_id(message_id, "message_id") if message_id is not None else ff_new_id("msg_"),
                session_id=session_id,
                role=check_role(role, self._policy.allowed_roles),
                content=check_content(content, self._max_chars),
                timestamp=check_timestamp(timestamp, field="timestamp") if timestamp is not None else self._now(),
                attachments=[p.record for p in prepared],
                metadata=self._metadata(metadata),
            )
            record = message.model_dump(mode="json")
            self._check_record_size(record)
            blobs = [(self._attachment_path(user_id, session_id, p.record.attachment_id), p.data) for p in prepared if p.data is not None]
            if blobs:

                def write() -> None:
                    self._require_session(session_dir, session_id)
                    for path, data in blobs:
                        conv.write_attachment(path, data, self._settings.durability)
                    conv.append_messages(session_dir / conv.MESSAGES_LOG, [record], self._settings)

                await self._io(write)
            else:
                await self._append_coalesced(user_id, session_id, session_dir, record)
            await self._publish(
                "memory.message_added",
                {
                    "session_id": session_id,
                    "message_id": message.message_id,
                    "role": message.role,
                    "content_chars": len(message.content),
                    "attachments": len(prepared),
                },
                user_id=user_id,
            )
            return message

    async def import_messages(
        self, user_id: str, session_id: str, messages: Sequence[dict[str, Any] | FFChatMessageDTO]
    ) -> list[FFChatMessageDTO]:
        """Append many existing messages (a legacy import) in ONE append, keeping every field.

        Every message is validated first (see :func:`message_from_import`: unknown top-level keys
        go to ``extra``, ids and timestamps are kept as given, naive ones stay naive, empty
        content is kept); one bad message refuses the whole batch and nothing is written. Attachments are recorded as given (metadata only; use
        add_message for bytes). Raises FFValidationError, or FFNotFoundError for a missing session.
        """
        async with self._operation():
            session_dir = self._session_dir(user_id, session_id)
            if isinstance(messages, (str, bytes, dict)) or not isinstance(messages, Iterable):
                raise FFValidationError("messages must be a list of dicts or FFChatMessageDTO", field="messages")
            items = list(messages)
            if len(items) > self._policy.max_import_messages:
                raise FFValidationError(
                    f"{len(items)} messages; one import takes at most {self._policy.max_import_messages}", field="messages"
                )
            converted = [
                message_from_import(
                    raw,
                    index=index,
                    session_id=session_id,
                    allowed_roles=self._policy.allowed_roles,
                    max_chars=self._max_chars,
                    metadata_bytes=self._policy.max_metadata_bytes,
                    new_id=partial(ff_new_id, "msg_"),
                    now=self._now,
                )
                for index, raw in enumerate(items)
            ]
            ids = [m.message_id for m in converted]
            if len(set(ids)) != len(ids):
                raise FFValidationError("message ids repeat within the import", field="messages")
            records = [m.model_dump(mode="json") for m in converted]
            for record in records:
                self._check_record_size(record)

            def write() -> None:
                self._require_session(session_dir, session_id)
                if records:
                    conv.append_messages(session_dir / conv.MESSAGES_LOG, records, self._settings)

            await self._io(write)
            if converted:
                await self._publish(
                    "memory.message_added",
                    {"session_id": session_id, "imported": len(converted), "message_id": converted[-1].message_id},
                    user_id=user_id,
                )
            return converted

    async def get_messages(self, user_id: str, session_id: str, limit: int = 50) -> list[FFChatMessageDTO]:
        """The last ``limit`` messages, oldest first, read from the end of the log.

        Raises FFNotFoundError if the session does not exist for this user.
        """
        async with self._operation():
            check_limit(limit, maximum=_MAX_MESSAGES_READ)
            session_dir = self._session_dir(user_id, session_id)

            def read() -> list[FFChatMessageDTO]:
                self._require_session(session_dir, session_id)
                return conv.tail_messages(session_dir / conv.MESSAGES_LOG, limit)

            return await self._io(read)

    async def get_attachment(self, user_id: str, session_id: str, attachment_id: str) -> bytes:
        """The stored bytes of an attachment. Raises FFNotFoundError if there are none."""
        async with self._operation():
            session_dir = self._session_dir(user_id, session_id)
            path = self._attachment_path(user_id, session_id, attachment_id)

            def read() -> bytes:
                self._require_session(session_dir, session_id)
                return conv.read_attachment(path, attachment_id=attachment_id, max_bytes=self._policy.max_attachment_bytes)

            return await self._io(read)

    # ================================================================== profiles

    def _profile_path(self, user_id: str) -> Path:
        return self._user_dir(user_id) / "profile.json"

    async def create_profile(
        self,
        user_id: str,
        *,
        username: str = "",
        preferences: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        created_at: datetime | str | None = None,
        updated_at: datetime | str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> FFUserProfileDTO:
        """Create ``users/<user_id>/profile.json``. Raises FFConflictError if it exists."""
        async with self._operation():
            now = self._now()
            created = check_timestamp(created_at, field="created_at") if created_at is not None else now
            profile = FFUserProfileDTO(
                user_id=ff_validate_id(user_id, "user_id"),
                username=check_title(username, self._policy.max_title_chars),
                preferences=self._metadata(preferences, "preferences"),
                metadata=self._metadata(metadata),
                created_at=created,
                updated_at=check_timestamp(updated_at, field="updated_at") if updated_at is not None else created,
                extra=self._metadata(extra, "extra"),
            )
            await self._io(
                conv.create_document,
                self._profile_path(user_id),
                profile.model_dump(mode="json"),
                kind="profile",
                key=user_id,
                durability=self._settings.durability,
            )
            return profile

    async def get_profile(self, user_id: str) -> FFUserProfileDTO:
        """The user's profile. Raises FFNotFoundError if none was created."""
        async with self._operation():
            path = self._profile_path(user_id)
            data = await self._io(conv.read_document, path, kind="profile", key=user_id)
            return conv.parse_record(FFUserProfileDTO, data, path)

    async def update_profile(
        self,
        user_id: str,
        *,
        username: str | None = None,
        preferences: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> FFUserProfileDTO:
        """Replace ``username`` and merge keys into ``preferences``/``metadata`` (atomically).

        Raises FFNotFoundError if the profile does not exist.
        """
        async with self._operation():
            path = self._profile_path(user_id)
            new_name = check_title(username, self._policy.max_title_chars) if username is not None else None
            new_preferences = self._metadata(preferences, "preferences")
            new_metadata = self._metadata(metadata)
            now = self._now()

            def change(current: dict[str, Any]) -> dict[str, Any]:
                updated = {
                    **current,
                    "preferences": self._metadata({**current.get("preferences", {}), **new_preferences}, "preferences"),
                    "metadata": self._metadata({**current.get("metadata", {}), **new_metadata}),
                    "updated_at": now.isoformat(),
                }
                if new_name is not None:
                    updated["username"] = new_name
                return updated

            data = await self._io(
                conv.update_document, path, change, kind="profile", key=user_id, durability=self._settings.durability
            )
            return conv.parse_record(FFUserProfileDTO, data, path)

    # ================================================================== memories

    async def store_memory(
        self,
        user_id: str,
        content: str,
        layer: str = "short_term",
        importance: float = 0.5,
        *,
        tags: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        session_id: str | None = None,
        message_id: str | None = None,
        memory_id: str | None = None,
        created_at: datetime | str | None = None,
    ) -> FFMemoryEntryDTO:
        """Store a memory in ``layer``: one append to that layer's log, however big it is.

        ``session_id``/``message_id`` record where the memory came from; ``memory_id`` and
        ``created_at`` let an importer keep an existing memory's identity (a given id that is
        already active raises FFConflictError). Raises FFValidationError for empty or oversized
        content, an unknown layer, importance outside [0, 1], bad tags, metadata or ids.
        """
        async with self._operation():
            now = self._now()
            created = check_utc_timestamp(created_at, field="created_at") if created_at is not None else now
            entry = FFMemoryEntryDTO(
                memory_id=ff_validate_id(memory_id, "memory_id") if memory_id is not None else ff_new_id("mem_"),
                user_id=ff_validate_id(user_id, "user_id"),
                layer=check_layer(layer),
                content=check_content(content, self._max_chars),
                importance=check_importance(importance),
                created_at=created,
                layer_entered_at=created,
                tags=check_tags(tags),
                session_id=ff_validate_id(session_id, "session_id") if session_id is not None else None,
                message_id=ff_validate_id(message_id, "message_id") if message_id is not None else None,
                metadata=self._metadata(metadata),
            )
            self._check_record_size(entry.model_dump(mode="json"))
            store = self._memory(user_id)

            def write() -> None:
                if memory_id is not None and any(e.memory_id == memory_id for e in store.load_active()):
                    raise FFConflictError(f"memory {memory_id!r} already exists")
                store.append(entry)

            await self._io(write)
            await self._publish(
                "memory.stored",
                {"memory_id": entry.memory_id, "layer": entry.layer, "importance": entry.importance},
                user_id=user_id,
            )
            return entry

    async def get_memories(
        self, user_id: str, layers: Iterable[str] | str | None = None, limit: int = 50
    ) -> list[FFMemoryEntryDTO]:
        """The user's active memories in ``layers`` (None: all), newest first (ties: last stored first)."""
        async with self._operation():
            wanted = check_layers(layers)
            check_limit(limit)
            entries = await self._io(self._memory(user_id).load_active, wanted)
            order = sorted(range(len(entries)), key=lambda i: (entries[i].created_at, i), reverse=True)
            return [entries[i] for i in order[:limit]]

    async def get_memory(self, user_id: str, memory_id: str) -> FFMemoryEntryDTO:
        """One active memory by id. Raises FFNotFoundError (archived entries: get_archived_memories)."""
        async with self._operation():
            ff_validate_id(memory_id, "memory_id")
            for entry in await self._io(self._memory(user_id).load_active):
                if entry.memory_id == memory_id:
                    return entry
            raise FFNotFoundError(f"memory {memory_id!r} not found", kind="memory", key=memory_id)

    async def search_memories(
        self, user_id: str, query: str, limit: int = 10, *, layers: Iterable[str] | str | None = None
    ) -> list[FFMemorySearchHitDTO]:
        """Active memories ranked by BM25 relevance to ``query`` with a small importance/recency
        tie-breaker (see ``_memory/ranking.py``); only entries sharing a term with the query."""
        async with self._operation():
            check_content(query, self._max_chars, field="query")
            check_limit(limit)
            wanted = check_layers(layers)
            ranked = await self._io(self._load_and_rank, user_id, wanted, query)
            return [
                FFMemorySearchHitDTO(entry=r.entry, score=r.score, bm25=r.bm25, matched_terms=list(r.matched_terms))
                for r in ranked[:limit]
            ]

    def _load_and_rank(self, user_id: str, layers: tuple[MemoryLayer, ...], query: str) -> list[RankedEntry]:
        # Runs in a worker thread: ranking thousands of entries must not stall the event loop.
        return self._rank(self._memory(user_id).load_active(layers), query)

    def _rank(self, entries: list[FFMemoryEntryDTO], query: str) -> list[RankedEntry]:
        policy = self._policy
        now = self._now()
        return rank_entries(
            entries,
            query,
            now=now if now.tzinfo else now.replace(tzinfo=UTC),
            k1=policy.bm25_k1,
            b=policy.bm25_b,
            importance_weight=policy.search_importance_weight,
            recency_weight=policy.search_recency_weight,
            recency_half_life_hours=policy.search_recency_half_life_hours,
        )

    async def get_memory_context(
        self,
        user_id: str,
        query: str,
        *,
        budget_chars: int | None = None,
        layers: Iterable[str] | str | None = None,
    ) -> FFMemoryContextDTO:
        """Memories relevant to ``query`` as prompt text, most relevant first, within ``budget_chars``.

        One line per memory, ``- [layer] content``. Lines are added in rank order while they fit;
        a line that does not fit is left out (counted in ``omitted``), except that the best
        memory is cut to the budget rather than dropped, so a relevant memory is never absent.
        """
        async with self._operation():
            check_content(query, self._max_chars, field="query")
            budget = budget_chars if budget_chars is not None else self._policy.context_budget_chars
            check_limit(budget, field="budget_chars", maximum=10_000_000)
            wanted = check_layers(layers)
            ranked_entries = await self._io(self._load_and_rank, user_id, wanted, query)
            lines: list[str] = []
            hits: list[FFMemorySearchHitDTO] = []
            used = omitted = 0
            for ranked in ranked_entries:
                line = f"- [{ranked.entry.layer}] {' '.join(ranked.entry.content.split())}"
                cost = len(line) + (1 if lines else 0)
                if used + cost > budget:
                    if lines or budget < 2:
                        omitted += 1
                        continue
                    line = line[: budget - 1] + "…"
                    cost = len(line)
                lines.append(line)
                used += cost
                hits.append(
                    FFMemorySearchHitDTO(
                        entry=ranked.entry, score=ranked.score, bm25=ranked.bm25, matched_terms=list(ranked.matched_terms)
                    )
                )
            return FFMemoryContextDTO(
                query=query, text="\n".join(lines), hits=hits, budget_chars=budget, used_chars=used, omitted=omitted
            )

    async def get_archived_memories(self, user_id: str, limit: int = 100) -> list[FFArchivedMemoryDTO]:
        """The last ``limit`` archive records (oldest first): everything retention took out."""
        async with self._operation():
            check_limit(limit)
            return await self._io(self._memory(user_id).tail_archive, limit)

    async def memory_stats(self, user_id: str) -> FFMemoryStatsDTO:
        """Active entries per layer and distinct archived entries (scans the archive)."""
        async with self._operation():
            store = self._memory(user_id)

            def count() -> FFMemoryStatsDTO:
                active = store.load_active()
                per_layer = {layer: 0 for layer in MEMORY_LAYERS}
                for entry in active:
                    per_layer[entry.layer] += 1
                return FFMemoryStatsDTO(
                    user_id=user_id, layers=per_layer, active=len(active), archived=len(store.archived_ids())
                )

            return await self._io(count)

    # ================================================================== retention

    async def process_retention(
        self, now: datetime | None = None, *, user_id: str | None = None
    ) -> FFRetentionReportDTO:
        """Run retention for every user (or one): move, archive and compress as the config says.

        ``now`` defaults to the manager's clock (a naive value is taken as UTC). A user whose
        layer files hold unreadable lines is skipped (nothing of theirs is rewritten) and named in
        the report's ``failed_users``; when ``user_id`` is given that error is raised instead.
        """
        async with self._operation():
            moment = check_utc_timestamp(now if now is not None else self._now(), field="now")
            started = time.perf_counter()
            if user_id is not None:
                user_ids = [ff_validate_id(user_id, "user_id")]
            else:
                users_dir = self._path("users")
                user_ids = await self._io(conv.list_child_ids, users_dir, require=None)
            reports: list[FFUserRetentionReportDTO] = []
            failed: dict[str, str] = {}
            for uid in user_ids:
                store = self._memory(uid)
                if user_id is None and not store.directory.is_dir():
                    continue
                try:
                    plan, before = await self._io(
                        store.apply_retention,
                        moment,
                        self._policy,
                        max_content_chars=self._max_chars,
                        new_id=partial(ff_new_id, "mem_"),
                    )
                except FFCorruptionError as exc:
                    if user_id is not None:
                        raise
                    failed[uid] = str(exc)  # isolation: one user's damaged file must not stop the others
                    continue
                reports.append(
                    FFUserRetentionReportDTO(
                        user_id=uid,
                        moved=plan.moved,
                        archived=plan.archived,
                        compressed=plan.compressed,
                        duplicates_removed=plan.duplicates_removed,
                        counts_before=before,
                        counts_after={layer: len(entries) for layer, entries in plan.layers.items()},
                    )
                )
            report = FFRetentionReportDTO(
                now=moment,
                users=reports,
                moved_count=sum(len(r.moved) for r in reports),
                archived_count=sum(len(r.archived) for r in reports),
                compressed_count=sum(len(r.compressed) for r in reports),
                failed_users=failed,
                duration_ms=(time.perf_counter() - started) * 1000,
            )
            await self._publish(
                "memory.retention_processed",
                {
                    "users": len(reports),
                    "moved": report.moved_count,
                    "archived": report.archived_count,
                    "compressed": report.compressed_count,
                    "failed_users": len(failed),
                    "duration_ms": round(report.duration_ms, 3),
                },
                user_id=user_id,
            )
            return report
