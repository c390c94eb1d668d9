"""The panel's state document (``state.json``): what a panel carries between sessions, such as a
game's world or a task agent's plan.

Changes are merged under the panel's lock (a key set to None is removed), so two callers never
lose each other's keys; the merged document must fit ``max_state_bytes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ff_managers._core.checks import check_json_object
from ff_managers._panel.checks import FFPanelInputChecker
from ff_managers._panel.owners import FFPanelOwners
from ff_managers._panel.store import FFLockedPanel, FFPanelStore
from ff_managers._panel.writer import RunInThread
from ff_utils.ff_errors import FFCorruptionError

__all__ = ["FFPanelStateDocument"]


class FFPanelStateDocument:
    """Merges changes into, and reads, a panel's ``state.json``."""

    def __init__(self, store: FFPanelStore, owners: FFPanelOwners, checker: FFPanelInputChecker, run: RunInThread) -> None:
        self._store = store
        self._owners = owners
        self._check = checker
        self._max_bytes = checker.limits.max_state_bytes
        self._run = run

    async def update(self, user_id: str, panel_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Merge ``changes`` into the document and return it (FFValidationError when not a mapping or too large)."""
        changes = self._check.state_changes(changes)
        owner = await self._run(self._owners.resolve, user_id, panel_id)

        def write(locked: FFLockedPanel) -> dict[str, Any]:
            current = self._stored(owner, panel_id)
            merged = {key: value for key, value in {**current, **changes}.items() if value is not None}
            merged = check_json_object(merged, field="changes", max_bytes=self._max_bytes)  # the merged size counts
            locked.write_document("state", merged)
            return merged

        return await self._run(self._store.change_open, owner, panel_id, write)

    async def get(self, user_id: str, panel_id: str) -> dict[str, Any]:
        """The document ({} when nothing was stored)."""
        return await self._run(self._read, user_id, panel_id)

    def _read(self, user_id: str, panel_id: str) -> dict[str, Any]:
        owner = self._owners.resolve(user_id, panel_id)
        return self._stored(owner, panel_id)

    def _stored(self, owner: str, panel_id: str) -> dict[str, Any]:
        """The stored document; one that is not a JSON object is FFCorruptionError, not a crash later."""
        document = self._store.read_document(owner, panel_id, "state", default={})
        if not isinstance(document, dict):
            raise FFCorruptionError(
                f"state.json holds {type(document).__name__}, not an object", path=self._store.document_path(owner, panel_id, "state")
            )
        return document
