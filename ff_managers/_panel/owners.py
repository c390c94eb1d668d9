"""Who owns a panel id: the index lookup every panel call starts with, remembered per process.

Methods that take only a ``panel_id`` find the owner through the global index
(``panels_index/<panel_id>.json``). A caller may also pass ``user_id=``; when it is not the
owner, the panel is reported as not found, the same answer as for an id that does not exist, so
a caller cannot probe for other users' panel ids.

Owners never change, so the index is read once per panel and process; ``panel.json`` (read under
the lock for every change) must agree with it, or the read fails as corrupt.
"""

from __future__ import annotations

from ff_managers._panel.store import FFPanelStore
from ff_utils.ff_errors import FFNotFoundError
from ff_utils.ff_ids import ff_validate_id

__all__ = ["FFPanelOwners"]


class FFPanelOwners:
    """Resolves panel ids to their owners and checks the caller's ``user_id`` against them."""

    def __init__(self, store: FFPanelStore) -> None:
        self._store = store
        self._owners: dict[str, str] = {}

    def resolve(self, panel_id: str, user_id: str | None) -> str:
        """The owner of ``panel_id``, checking ``user_id`` when given (blocking: reads the index once).

        Raises FFValidationError for a bad id, FFNotFoundError for a missing panel or another
        user's panel (no hint that it exists).
        """
        ff_validate_id(panel_id, "panel_id")
        if user_id is not None:
            ff_validate_id(user_id, "user_id")
        owner = self._owners.get(panel_id)
        if owner is None:
            owner = self._owners[panel_id] = self._store.owner_of(panel_id)
        if user_id is not None and user_id != owner:
            raise FFNotFoundError(f"no panel {panel_id!r}", kind="panel", key=panel_id)
        return owner

    def remember(self, panel_id: str, owner: str) -> None:
        """Record the owner of a panel this process just created."""
        self._owners[panel_id] = owner

    def forget(self) -> None:
        """Drop what was remembered (on shutdown)."""
        self._owners.clear()
