"""User profiles on disk: one ``users/<user_id>/profile.json`` document per user.

Synchronous; the manager calls it from worker threads. The document is created once
(:meth:`FFStore.create_json`, FFConflictError if it exists) and changed only by one atomic
read-modify-write (:meth:`FFStore.update_existing_json`) that replaces ``username`` and merges
keys into ``preferences`` and ``metadata``; every merged dict must still fit the size limit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ff_class_configs.ff_memory_config import FFMemoryConfigDTO
from ff_class_configs.ff_memory_dtos import FFUserProfileDTO
from ff_managers._memory.layout import MemoryLayout
from ff_managers._core.checks import check_json_object, check_text, timestamp
from ff_managers.ff_component_base import Clock
from ff_utils.ff_ids import ff_validate_id
from ff_utils.ff_store import FFStore

__all__ = ["Profiles"]

_WHEN = timestamp(parse_text=True)  # a datetime or ISO 8601 text; naive stays naive (legacy data)


class Profiles:
    """Create, read and change user profiles."""

    def __init__(self, store: FFStore, layout: MemoryLayout, policy: FFMemoryConfigDTO, clock: Clock) -> None:
        self.store = store
        self.layout = layout
        self.policy = policy
        self.clock = clock

    def new(
        self,
        user_id: str,
        *,
        username: object,
        preferences: object,
        metadata: object,
        created_at: datetime | str | None,
        updated_at: datetime | str | None,
        extra: object,
    ) -> FFUserProfileDTO:
        """A new profile from checked input (FFValidationError naming the first bad field)."""
        created = _WHEN(created_at, "created_at") if created_at is not None else self.clock()
        most = self.policy.max_metadata_bytes
        return FFUserProfileDTO(
            user_id=ff_validate_id(user_id, "user_id"),
            username=check_text(username, field="username", max_chars=self.policy.max_title_chars, allow_empty=True),
            preferences=check_json_object(preferences, field="preferences", max_bytes=most),
            metadata=check_json_object(metadata, field="metadata", max_bytes=most),
            created_at=created,
            updated_at=_WHEN(updated_at, "updated_at") if updated_at is not None else created,
            extra=check_json_object(extra, field="extra", max_bytes=most),
        )

    def create(self, profile: FFUserProfileDTO) -> None:
        """Write a new ``profile.json``; FFConflictError if the user has one."""
        path = self.layout.profile(profile.user_id)
        self.store.create_json(path, profile.model_dump(mode="json"), kind="profile", key=profile.user_id)

    def read(self, user_id: str) -> FFUserProfileDTO:
        """The user's profile; FFNotFoundError if none was created."""
        path = self.layout.profile(user_id)
        return self.store.load(FFUserProfileDTO, self.store.read_document(path, kind="profile", key=user_id), path)

    def update(self, user_id: str, *, username: object, preferences: object, metadata: object) -> FFUserProfileDTO:
        """Replace ``username`` (if given) and merge ``preferences``/``metadata``; FFNotFoundError if missing.

        Input is checked first, then the merged dicts (FFValidationError; nothing written).
        """
        path = self.layout.profile(user_id)
        most = self.policy.max_metadata_bytes
        new_name = (
            check_text(username, field="username", max_chars=self.policy.max_title_chars, allow_empty=True)
            if username is not None
            else None
        )
        new_preferences = check_json_object(preferences, field="preferences", max_bytes=most)
        new_metadata = check_json_object(metadata, field="metadata", max_bytes=most)
        now = self.clock()

        def change(current: dict[str, Any]) -> dict[str, Any]:
            self.store.load(FFUserProfileDTO, current, path)  # a stored document of another shape: FFCorruptionError
            merged_preferences = {**current.get("preferences", {}), **new_preferences}
            merged_metadata = {**current.get("metadata", {}), **new_metadata}
            updated = {
                **current,
                "preferences": check_json_object(merged_preferences, field="preferences", max_bytes=most),
                "metadata": check_json_object(merged_metadata, field="metadata", max_bytes=most),
                "updated_at": now.isoformat(),
            }
            if new_name is not None:
                updated["username"] = new_name
            return updated

        data = self.store.update_existing_json(path, change, kind="profile", key=user_id)
        return self.store.load(FFUserProfileDTO, data, path)
