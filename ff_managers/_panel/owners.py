"""Whose panel is it: the ownership check every panel call starts with, remembered per process.

Every public panel method takes the caller's ``user_id`` first, and every path into this package
goes through :meth:`FFPanelOwners.resolve` before it touches a panel's files: there is no
optional ``user_id`` and no call that skips the check. A panel of another user is reported
exactly like a panel that does not exist (same FFNotFoundError, same message), so a caller
cannot probe for other users' panel ids.

The owner comes from the global index (``panels_index/<panel_id>.json``, which also keeps panel
ids unique across users). Owners never change, so the index is read once per panel and process;
``panel.json`` (read under the lock for every change) must agree with it, or the read fails as
corrupt.
"""

from __future__ import annotations

from ff_managers._panel.store import FFPanelStore, ff_panel_not_found
from ff_utils.ff_ids import ff_validate_id

__all__ = ["FFPanelOwners"]


class FFPanelOwners:
    """Checks that ``user_id`` owns ``panel_id`` (or says the panel is not found)."""

    def __init__(self, store: FFPanelStore) -> None:
        self._store = store
        self._owners: dict[str, str] = {}

    def resolve(self, user_id: str, panel_id: str) -> str:
        """``user_id`` once it is known to own ``panel_id`` (blocking: reads the index once per panel).

        Raises FFValidationError for a bad (or missing) id, FFNotFoundError for a missing panel
        or another user's panel (no hint that it exists).
        """
        ff_validate_id(user_id, "user_id")
        ff_validate_id(panel_id, "panel_id")
        owner = self._owners.get(panel_id)
        if owner is None:
            owner = self._owners[panel_id] = self._store.owner_of(panel_id)
        if owner != user_id:
            raise ff_panel_not_found(panel_id)
        return owner

    def remember(self, panel_id: str, owner: str) -> None:
        """Record the owner of a panel this process just created."""
        self._owners[panel_id] = owner

    def forget(self) -> None:
        """Drop what was remembered (on shutdown)."""
        self._owners.clear()
