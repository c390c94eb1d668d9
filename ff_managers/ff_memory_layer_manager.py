"""FFMemoryLayerManager: a user's conversations and five layers of memory, as flat files.

Two halves, one manager, because the layers draw on the conversations (Letta's "recall memory"):

* **Conversations** (``users/<uid>/sessions/<sid>/``): ``session.json`` (written on create and
  on explicit updates only), ``messages.jsonl`` (append-only; one message a line, in the order
  appended), ``attachments/<attachment_id>`` (bytes, SHA-256 recorded in the message), and the
  user's ``profile.json``. Adding a message costs one durable append; reading the last ``n``
  reads backwards from the end of the log, so neither grows with the session.
* **Memories** (``users/<uid>/memory/``): five layers, each an append-only JSONL file, with an
  archive. Retention moves entries down the chain, archives expired ones and compresses full
  layers.

This module is the façade: each public method checks its input, makes one call into the private
package ``ff_managers/_memory/`` and publishes one event. The package has one module per job:
``layout.py`` (every path), ``conversations.py`` (sessions), ``messages.py`` (messages,
attachments, coalesced appends), ``profiles.py``, ``layers.py`` (store, read, search, context),
``layer_store.py`` (the layer files and their crash-safety), ``ranking.py`` (search),
``retention.py`` (the exact retention semantics), ``retention_pass.py``, ``summary.py`` and
``validation.py`` (memory's own checks). All storage goes through ``self.store``
(:class:`~ff_utils.ff_store.FFStore`); text, JSON objects, limits, numbers and timestamps are
checked by the one rule set every manager uses (``ff_managers/_core/checks.py``: no control
characters but TAB/LF/CR, no NaN or infinity), and concurrent appends to one session share one
write through the store's I/O thread (``ff_utils/ff_io_thread.py``), which ``shutdown()``
drains.

Legacy fields: top-level message/session/profile fields this schema does not name are kept in
``extra``; ``metadata`` is stored verbatim; attachment keys beyond the known ones stay on the
attachment record. Every public method takes ``user_id`` and touches only ``users/<user_id>/``:
another user's session id is simply not found there (FFNotFoundError).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, ClassVar

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
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
)
from ff_managers._memory.conversations import Sessions
from ff_managers._memory.layers import MemoryLayers
from ff_managers._memory.layout import MemoryLayout
from ff_managers._memory.messages import Messages
from ff_managers._memory.profiles import Profiles
from ff_managers._memory.remote_attachments import RemoteAttachments
from ff_managers._memory.retention import RetentionPlanner, plan_retention
from ff_managers._memory.retention_pass import MemoryRetention
from ff_managers._core.checks import check_content, check_limit, check_text, timestamp
from ff_managers._memory.validation import check_layers
from ff_managers.ff_component_base import Clock, FFComponentBase
from ff_managers.ff_event_bus import FFEventBus
from ff_utils.ff_ids import ff_validate_id
from ff_utils.ff_store import FFStore

__all__ = ["FFMemoryLayerManager"]

_MAX_LIMIT = 100_000  # the largest page any list or search returns
_MAX_MESSAGES_READ = 1_000_000  # get_messages holds them in memory; a whole legacy session fits
_NOW = timestamp(naive="utc", parse_text=True)  # retention compares times: a naive "now" is UTC


class FFMemoryLayerManager(FFComponentBase):
    """Conversations, profiles and layered memories of every user under one data root."""

    component_name = "memory"

    retention_planner: ClassVar[RetentionPlanner] = staticmethod(plan_retention)
    """Decides a retention pass (pure; ``_memory/retention.py``). Read at every pass: a hook the
    validation suites replace on the class to plant a faulty retention their checks must catch."""

    def __init__(
        self,
        config: FFConfigurationManagerConfigDTO,
        *,
        bus: FFEventBus | None = None,
        clock: Clock | None = None,
        store: FFStore | None = None,
    ) -> None:
        super().__init__(config, bus=bus, clock=clock, store=store)
        self._policy = policy = config.memory
        self._max_chars = max_chars = config.storage.max_content_chars
        store, layout = self.store, MemoryLayout(self.store)
        self._sessions = Sessions(store, layout, policy, self.clock)
        self._messages = Messages(store, layout, policy, self.clock, max_chars=max_chars, remote=RemoteAttachments.from_config(store, config.storage))
        self._profiles = Profiles(store, layout, policy, self.clock)
        self._layers = MemoryLayers(store, layout, policy, self.clock)
        self._retention = MemoryRetention(self._layers, policy, max_content_chars=max_chars)

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
            fields = {"session_id": session_id, "created_at": created_at, "updated_at": updated_at, "extra": extra}
            session = self._sessions.new(ff_validate_id(user_id, "user_id"), title, metadata=metadata, **fields)
            await self._io(self._sessions.create, session)
            await self._publish("memory.session_created", {"session_id": session.session_id}, user_id=user_id)
            return session.model_copy(update={"message_count": 0})

    async def get_session(self, user_id: str, session_id: str) -> FFChatSessionDTO:
        """The session with its derived ``message_count`` and ``last_message_at``.

        Raises FFNotFoundError if this user has no such session.
        """
        async with self._operation():
            return await self._io(self._sessions.read, user_id, session_id)

    async def list_sessions(self, user_id: str, *, limit: int | None = None) -> list[FFChatSessionDTO]:
        """The user's sessions, most recently active first (last message, else creation time)."""
        async with self._operation():
            if limit is not None:
                check_limit(limit, maximum=_MAX_LIMIT)
            return await self._io(self._sessions.recent, user_id, limit)

    async def update_session(
        self, user_id: str, session_id: str, *, title: str | None = None, metadata: dict[str, Any] | None = None
    ) -> FFChatSessionDTO:
        """Change a session's title and/or merge keys into its metadata (one atomic rewrite)."""
        async with self._operation():
            return await self._io(self._sessions.update, user_id, session_id, title=title, metadata=metadata)

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

        Idempotent per ``message_id``: an id the session holds with the same role, content,
        attachments and metadata (a retry) returns the stored message, appending and publishing
        nothing; with other content it is FFConflictError, and nothing is written.
        """
        async with self._operation():
            files = self._messages.session(user_id, session_id)
            text = check_content(content, field="content", max_chars=self._max_chars)
            new = self._messages.new(
                session_id, role, text, attachments, message_id=message_id, timestamp=timestamp, metadata=metadata
            )
            stored = await self._messages.add(files, new)
            message = new.message
            if stored is not None or self.bus.skip_unheard("memory.message_added"):  # a retry, or no listener
                return stored if stored is not None else message
            payload = {"session_id": session_id, "message_id": message.message_id, "role": message.role}
            payload.update(content_chars=len(message.content), attachments=len(message.attachments))
            await self._publish("memory.message_added", payload, user_id=user_id)
            return message

    async def import_messages(
        self, user_id: str, session_id: str, messages: Sequence[dict[str, Any] | FFChatMessageDTO]
    ) -> list[FFChatMessageDTO]:
        """Append many existing messages (a legacy import) in ONE append, keeping every field.

        Every message is validated first (:func:`message_from_import`: unknown keys go to ``extra``,
        ids and timestamps kept as given); one bad message refuses the whole batch, nothing written.
        Attachments are metadata only (add_message takes bytes). A message already held (same id, same
        message) is not appended again: a re-sent batch appends nothing; the same id with other content
        is FFConflictError. Raises FFValidationError, or FFNotFoundError for a missing session.
        """
        async with self._operation():
            files = self._messages.session(user_id, session_id)
            converted = self._messages.from_import(session_id, messages)
            if appended := await self._io(self._messages.append_imported, files, converted):
                payload = {"session_id": session_id, "imported": appended, "message_id": converted[-1].message_id}
                await self._publish("memory.message_added", payload, user_id=user_id)
            return converted

    async def get_messages(self, user_id: str, session_id: str, limit: int = 50) -> list[FFChatMessageDTO]:
        """The last ``limit`` messages, oldest first, read from the end of the log.

        Raises FFNotFoundError if the session does not exist for this user.
        """
        async with self._operation():
            check_limit(limit, maximum=_MAX_MESSAGES_READ)
            return await self._io(self._messages.tail, user_id, session_id, limit)

    async def get_attachment(self, user_id: str, session_id: str, attachment_id: str) -> bytes:
        """The stored bytes of an attachment. Raises FFNotFoundError if there are none."""
        async with self._operation():
            return await self._io(self._messages.attachment, user_id, session_id, attachment_id)

    # ================================================================== profiles

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
            times = {"created_at": created_at, "updated_at": updated_at}
            fields = {"username": username, "preferences": preferences, "metadata": metadata, "extra": extra}
            profile = self._profiles.new(user_id, **fields, **times)
            await self._io(self._profiles.create, profile)
            return profile

    async def get_profile(self, user_id: str) -> FFUserProfileDTO:
        """The user's profile. Raises FFNotFoundError if none was created."""
        async with self._operation():
            return await self._io(self._profiles.read, user_id)

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
            change = {"username": username, "preferences": preferences, "metadata": metadata}
            return await self._io(self._profiles.update, user_id, **change)

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
            text = check_content(content, field="content", max_chars=self._max_chars)
            origin = {"session_id": session_id, "message_id": message_id}
            identity = {"memory_id": memory_id, "created_at": created_at}
            entry = self._layers.new(user_id, text, layer, importance, tags=tags, metadata=metadata, **origin, **identity)
            await self._io(self._layers.add, entry, keep_id=memory_id is not None)
            payload = {"memory_id": entry.memory_id, "layer": entry.layer, "importance": entry.importance}
            await self._publish("memory.stored", payload, user_id=user_id)
            return entry

    async def get_memories(
        self, user_id: str, layers: Iterable[str] | str | None = None, limit: int = 50
    ) -> list[FFMemoryEntryDTO]:
        """The user's active memories in ``layers`` (None: all), newest first (ties: last stored first)."""
        async with self._operation():
            wanted = check_layers(layers)
            check_limit(limit, maximum=_MAX_LIMIT)
            return await self._io(self._layers.newest, user_id, wanted, limit)

    async def get_memory(self, user_id: str, memory_id: str) -> FFMemoryEntryDTO:
        """One active memory by id. Raises FFNotFoundError (archived entries: get_archived_memories)."""
        async with self._operation():
            ff_validate_id(memory_id, "memory_id")
            return await self._io(self._layers.get, user_id, memory_id)

    async def search_memories(
        self, user_id: str, query: str, limit: int = 10, *, layers: Iterable[str] | str | None = None
    ) -> list[FFMemorySearchHitDTO]:
        """Active memories ranked by BM25 relevance to ``query`` with a small importance/recency
        tie-breaker (see ``_memory/ranking.py``); only entries sharing a term with the query."""
        async with self._operation():
            check_text(query, field="query", max_chars=self._max_chars)
            check_limit(limit, maximum=_MAX_LIMIT)
            return await self._io(self._layers.search, user_id, check_layers(layers), query, limit)

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
            check_text(query, field="query", max_chars=self._max_chars)
            budget = budget_chars if budget_chars is not None else self._policy.context_budget_chars
            check_limit(budget, field="budget_chars", maximum=10_000_000)
            return await self._io(self._layers.context, user_id, check_layers(layers), query, budget)

    async def get_archived_memories(self, user_id: str, limit: int = 100) -> list[FFArchivedMemoryDTO]:
        """The last ``limit`` archive records (oldest first): everything retention took out."""
        async with self._operation():
            check_limit(limit, maximum=_MAX_LIMIT)
            return await self._io(self._layers.archived, user_id, limit)

    async def memory_stats(self, user_id: str) -> FFMemoryStatsDTO:
        """Active entries per layer and distinct archived entries (scans the archive)."""
        async with self._operation():
            return await self._io(self._layers.stats, user_id)

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
            moment = _NOW(now if now is not None else self.clock(), "now")
            uid = ff_validate_id(user_id, "user_id") if user_id is not None else None
            report = await self._io(self._retention.run, moment, uid, type(self).retention_planner)
            counts = {"users": len(report.users), "moved": report.moved_count, "archived": report.archived_count}
            counts.update(compressed=report.compressed_count, failed_users=len(report.failed_users))
            counts["duration_ms"] = round(report.duration_ms, 3)
            await self._publish("memory.retention_processed", counts, user_id=user_id)
            return report
