"""Where the memory manager's files live: every path built from validated ids, in one place.

Layout under the data root::

    users/<user_id>/profile.json
    users/<user_id>/sessions/<session_id>/session.json
    users/<user_id>/sessions/<session_id>/messages.jsonl
    users/<user_id>/sessions/<session_id>/attachments/<attachment_id>
    users/<user_id>/memory/<layer>.jsonl, archive.jsonl, retention_log.jsonl   (see layer_store.py)

Each id is checked with :func:`ff_validate_id` first (so a bad one is an FFValidationError naming
its field) and the path is then built by :meth:`FFStore.path`, which refuses anything that would
leave the root. Every method touches only ``users/<user_id>/``: another user's session id is
simply not found there.
"""

from __future__ import annotations

from pathlib import Path

from ff_utils.ff_errors import FFNotFoundError
from ff_utils.ff_ids import ff_is_valid_id, ff_validate_id
from ff_utils.ff_store import FFStore

__all__ = ["SESSION_DOC", "MESSAGES_LOG", "ATTACHMENTS_DIR", "PROFILE_DOC", "MemoryLayout"]

SESSION_DOC = "session.json"
MESSAGES_LOG = "messages.jsonl"
ATTACHMENTS_DIR = "attachments"
PROFILE_DOC = "profile.json"


class MemoryLayout:
    """The paths of one data root's users, sessions, attachments, profiles and memory folders."""

    def __init__(self, store: FFStore) -> None:
        self.store = store

    def users_dir(self) -> Path:
        return self.store.path("users")

    def sessions_dir(self, user_id: str) -> Path:
        return self.store.path("users", ff_validate_id(user_id, "user_id"), "sessions")

    def session_dir(self, user_id: str, session_id: str) -> Path:
        return self.store.path(
            "users", ff_validate_id(user_id, "user_id"), "sessions", ff_validate_id(session_id, "session_id")
        )

    def attachment(self, user_id: str, session_id: str, attachment_id: str) -> Path:
        return self.store.path(
            "users",
            ff_validate_id(user_id, "user_id"),
            "sessions",
            ff_validate_id(session_id, "session_id"),
            ATTACHMENTS_DIR,
            ff_validate_id(attachment_id, "attachment_id"),
        )

    def profile(self, user_id: str) -> Path:
        return self.store.path("users", ff_validate_id(user_id, "user_id"), PROFILE_DOC)

    def memory_dir(self, user_id: str) -> Path:
        return self.store.path("users", ff_validate_id(user_id, "user_id"), "memory")

    def child_ids(self, directory: Path, *, require: str | None = None) -> list[str]:
        """Names of the sub-directories of ``directory`` that are valid ids (and hold ``require``).

        Anything else (stray files, hidden lock files, names no id may have) is ignored, so a
        foreign file dropped into the data root can never be mistaken for a session or user.
        (Listed and checked through the store: no symlink is followed.)
        """
        try:
            entries = self.store.list_dir(directory)
        except FFNotFoundError:
            return []
        names = [
            entry.name
            for entry in entries
            if ff_is_valid_id(entry.name)
            and entry.is_dir
            and (require is None or self.store.exists(entry.path / require))
        ]
        return sorted(names)
