"""The panel's state document (``state.json``): what a panel carries between sessions, such as a
game's world or a task agent's plan.

Changes are merged under the panel's lock (a key set to None is removed), so two callers never
lose each other's keys; the merged document must fit ``max_state_bytes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ff_managers._core.checks import check_json_object
from ff_managers._panel.owners import FFPanelOwners
from ff_managers._panel.store import FFLockedPanel, FFPanelStore
from ff_managers._panel.writer import RunInThread

__all__ = ["FFPanelStateDocument"]


class FFPanelStateDocument:
    """Merges changes into, and reads, a panel's ``state.json``."""

    def __init__(self, store: FFPanelStore, owners: FFPanelOwners, max_bytes: int, run: RunInThread) -> None:
        self._store = store
        self._owners = owners
        self._max_bytes = max_bytes
        self._run = run

    async def update(self, panel_id: str, changes: Mapping[str, Any], user_id: str | None) -> dict[str, Any]:
        """Merge checked ``changes`` into the document and return it (FFValidationError when too large)."""
        owner = await self._run(self._owners.resolve, panel_id, user_id)

        def write(locked: FFLockedPanel) -> dict[str, Any]:
            current = self._store.read_document(owner, panel_id, "state", default={})
            merged = {key: value for key, value in {**current, **changes}.items() if value is not None}
            merged = check_json_object(merged, field="changes", max_bytes=self._max_bytes)  # the merged size counts
            locked.write_document("state", merged)
            return merged

        return await self._run(self._store.change_open, owner, panel_id, write)

    async def get(self, panel_id: str, user_id: str | None) -> dict[str, Any]:
        """The document ({} when nothing was stored)."""
        return await self._run(self._read, panel_id, user_id)

    def _read(self, panel_id: str, user_id: str | None) -> dict[str, Any]:
        owner = self._owners.resolve(panel_id, user_id)
        return self._store.read_document(owner, panel_id, "state", default={})
