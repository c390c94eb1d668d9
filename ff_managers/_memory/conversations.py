"""Chat sessions on disk: ``session.json`` per session, with counts derived from its message log.

Synchronous; the manager calls it from worker threads. ``session.json`` is a JSON document
written when a session is created (:meth:`FFStore.create_json`: FFConflictError if it exists,
checked under its lock) or changed (:meth:`FFStore.update_existing_json`: one atomic
read-modify-write), never per message: the message count is derived on read by counting the
log's lines (:meth:`FFStore.count_lines`, C speed, no parsing) and the last message's time is read
from its tail. Messages themselves are in ``messages.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ff_class_configs.ff_memory_config import FFMemoryConfigDTO
from ff_class_configs.ff_memory_dtos import FFChatMessageDTO, FFChatSessionDTO
from ff_managers._memory.layout import MESSAGES_LOG, SESSION_DOC, MemoryLayout
from ff_managers._memory.stored import tail_records
from ff_managers._core.checks import check_json_object, check_text, timestamp
from ff_managers.ff_component_base import Clock
from ff_utils.ff_ids import ff_new_id, ff_validate_id
from ff_utils.ff_store import FFStore

__all__ = ["Sessions"]

_WHEN = timestamp(parse_text=True)  # a datetime or ISO 8601 text; naive stays naive (legacy data)


def _activity(session: FFChatSessionDTO) -> float:
    """When a session was last active: its last message, else its creation (naive is UTC)."""
    moment = session.last_message_at or session.created_at
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class Sessions:
    """Create, read, list and change a user's chat sessions."""

    def __init__(self, store: FFStore, layout: MemoryLayout, policy: FFMemoryConfigDTO, clock: Clock) -> None:
        self.store = store
        self.layout = layout
        self.policy = policy
        self.clock = clock

    def new(
        self,
        user_id: str,
        title: object,
        *,
        session_id: str | None,
        created_at: datetime | str | None,
        updated_at: datetime | str | None,
        metadata: object,
        extra: object,
    ) -> FFChatSessionDTO:
        """A new session from checked input (FFValidationError naming the first bad field).

        ``session_id``, the times and ``extra`` are an importer's, to keep a legacy session's
        identity; by default the id is new and both times are now.
        """
        sid = ff_validate_id(session_id, "session_id") if session_id is not None else ff_new_id("ses_")
        created = _WHEN(created_at, "created_at") if created_at is not None else self.clock()
        most = self.policy.max_metadata_bytes
        return FFChatSessionDTO(
            session_id=sid,
            user_id=user_id,
            title=check_text(title, field="title", max_chars=self.policy.max_title_chars, allow_empty=True),
            created_at=created,
            updated_at=_WHEN(updated_at, "updated_at") if updated_at is not None else created,
            metadata=check_json_object(metadata, field="metadata", max_bytes=most),
            extra=check_json_object(extra, field="extra", max_bytes=most),
        )

    def create(self, session: FFChatSessionDTO) -> None:
        """Write a new ``session.json``; FFConflictError if the session id is taken for this user."""
        doc = self.layout.session_dir(session.user_id, session.session_id) / SESSION_DOC
        self.store.create_json(doc, session.to_record(), kind="session", key=session.session_id)

    def read(self, user_id: str, session_id: str) -> FFChatSessionDTO:
        """The session with ``message_count`` and ``last_message_at`` derived from its log."""
        session_dir = self.layout.session_dir(user_id, session_id)
        doc = session_dir / SESSION_DOC
        session = self.store.load(FFChatSessionDTO, self.store.read_document(doc, kind="session", key=session_id), doc)
        log = session_dir / MESSAGES_LOG
        last = tail_records(self.store, FFChatMessageDTO, log, 1)  # a bad last line is skipped, not fatal
        last_at = last[0].timestamp if last else None
        return session.model_copy(update={"message_count": self.store.count_lines(log), "last_message_at": last_at})

    def recent(self, user_id: str, limit: int | None) -> list[FFChatSessionDTO]:
        """The user's sessions, most recently active first (ties: higher session id first)."""
        ids = self.layout.child_ids(self.layout.sessions_dir(user_id), require=SESSION_DOC)
        sessions = [self.read(user_id, session_id) for session_id in ids]
        sessions.sort(key=lambda s: (_activity(s), s.session_id), reverse=True)
        return sessions[:limit] if limit is not None else sessions

    def update(self, user_id: str, session_id: str, *, title: object, metadata: object) -> FFChatSessionDTO:
        """Replace the title (if given) and merge ``metadata`` in: one atomic rewrite of session.json.

        Input is checked first; the merged metadata must still fit the size limit. Either way a
        bad value is FFValidationError and nothing is written.
        """
        policy = self.policy
        new_title = None
        if title is not None:
            new_title = check_text(title, field="title", max_chars=policy.max_title_chars, allow_empty=True)
        new_metadata = check_json_object(metadata, field="metadata", max_bytes=policy.max_metadata_bytes)
        now = self.clock()

        doc = self.layout.session_dir(user_id, session_id) / SESSION_DOC

        def change(current: dict[str, Any]) -> dict[str, Any]:
            self.store.load(FFChatSessionDTO, current, doc)  # a stored document of another shape: FFCorruptionError
            merged = {**current.get("metadata", {}), **new_metadata}
            merged = check_json_object(merged, field="metadata", max_bytes=policy.max_metadata_bytes)
            updated = {**current, "metadata": merged, "updated_at": now.isoformat()}
            if new_title is not None:
                updated["title"] = new_title
            return updated

        self.store.update_existing_json(doc, change, kind="session", key=session_id)
        return self.read(user_id, session_id)
