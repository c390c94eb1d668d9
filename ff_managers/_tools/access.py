"""Who may run which tool: a user's roles and explicit grants, in ``users/<uid>/tools/access.json``.

Separate from the registry because it is the one part of the permission rules that is stored
(the registry's rules are code, the grants are data). Every method blocks on disk: the manager
calls them from a worker thread. Ids are checked by the manager before they get here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from ff_class_configs.ff_tool_dtos import FFToolUserAccessDTO
from ff_utils.ff_store import FFStore

__all__ = ["FFToolAccess"]

AccessField = Literal["roles", "grants"]


class FFToolAccess:
    """Reads and changes users' tool access through the manager's store."""

    def __init__(self, store: FFStore) -> None:
        self.store = store

    def path(self, user_id: str) -> Path:
        return self.store.path("users", user_id, "tools", "access.json")

    def read(self, user_id: str) -> FFToolUserAccessDTO:
        """The user's roles and grants (empty when none were given).

        A stored document that does not fit the schema is FFCorruptionError naming the file.
        """
        path = self.path(user_id)
        data = self.store.read_json(path, None)
        return self.store.load(FFToolUserAccessDTO, data, path) if data else FFToolUserAccessDTO(user_id=user_id)

    def change(self, user_id: str, field: AccessField, value: str, *, add: bool) -> FFToolUserAccessDTO:
        """Add ``value`` to (or remove it from) the user's ``roles`` or ``grants``, under the file's lock."""
        path = self.path(user_id)

        def update(current: Any) -> dict[str, Any]:
            access = self.store.load(FFToolUserAccessDTO, current, path) if current else FFToolUserAccessDTO(user_id=user_id)
            values = set(getattr(access, field))
            values.add(value) if add else values.discard(value)
            return access.model_copy(update={field: sorted(values)}).model_dump(mode="json")

        return self.store.load(FFToolUserAccessDTO, self.store.update_json(path, update, default=None), path)
