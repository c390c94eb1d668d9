"""A panel's messages: appending them through the group-commit writer, reading them back, and
whose turn it is.

Appends go through :class:`~ff_managers._panel.writer.FFPanelMessageWriter`, which numbers
them under the panel's lock. Reads need no lock: the log is append-only and its last record
carries both the last sequence number and the turn state (:mod:`ff_managers._panel.turns`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ff_class_configs.ff_panel_dtos import FFPanelMessageDTO, FFPanelMessageInputDTO, FFTurnStatusDTO
from ff_managers._panel.owners import FFPanelOwners
from ff_managers._panel.store import FFPanelStore
from ff_managers._panel.turns import FFRoundRobinTurnPolicy, FFTurnState, ff_turn_policy_for
from ff_managers._panel.writer import FFPanelMessageWriter, RunInThread

__all__ = ["FFPanelMessages"]


class FFPanelMessages:
    """Appends (numbered, turn-checked), pages through, and reports the turn state of messages."""

    def __init__(self, store: FFPanelStore, owners: FFPanelOwners, writer: FFPanelMessageWriter, run: RunInThread) -> None:
        self._store = store
        self._owners = owners
        self._writer = writer
        self._run = run

    async def append(
        self, panel_id: str, items: Sequence[FFPanelMessageInputDTO], user_id: str | None, now: datetime
    ) -> tuple[str, list[FFPanelMessageDTO]]:
        """Append ``items`` (all or none) and return the owner and the numbered messages.

        Raises FFValidationError, FFNotFoundError, FFConflictError (closed panel, out of turn,
        ``message_id`` taken) or the storage error that failed the write.
        """
        owner = await self._run(self._owners.resolve, panel_id, user_id)
        return owner, await self._writer.submit(owner, panel_id, items, now)

    async def read(self, panel_id: str, user_id: str | None, limit: int, after: int | None) -> list[FFPanelMessageDTO]:
        """The last ``limit`` messages, or the first ``limit`` after sequence ``after``; oldest first."""
        return await self._run(self._read, panel_id, user_id, limit, after)

    async def turn_status(self, panel_id: str, user_id: str | None) -> FFTurnStatusDTO:
        """Who may post next, from the last message's turn state."""
        return await self._run(self._turn_status, panel_id, user_id)

    # ------------------------------------------------------------------ blocking work (threads)

    def _read(self, panel_id: str, user_id: str | None, limit: int, after: int | None) -> list[FFPanelMessageDTO]:
        owner = self._owners.resolve(panel_id, user_id)
        path = self._store.log_path(owner, panel_id, "messages")
        if after is None:
            records: Iterable[Any] = self._store.tail(owner, panel_id, "messages", limit)
        else:
            last = self._store.last_sequence(owner, panel_id)
            remaining = last - after
            if remaining <= 0:
                return []
            # Sequences are gap-free, so the records after ``after`` are the last ``remaining``:
            # read them backwards when that is shorter than streaming from the start.
            if remaining <= after + limit:
                records = self._store.tail(owner, panel_id, "messages", remaining)
            else:
                records = self._store.read_log(owner, panel_id, "messages")
        result = []
        for record in records:
            message = self._store.storage.load(FFPanelMessageDTO, record, path)
            if after is not None and message.sequence <= after:
                continue
            result.append(message)
            if after is not None and len(result) == limit:
                break
        return result

    def _turn_status(self, panel_id: str, user_id: str | None) -> FFTurnStatusDTO:
        owner = self._owners.resolve(panel_id, user_id)
        panel = self._store.read_panel(owner, panel_id, with_count=False)
        tail = self._store.tail(owner, panel_id, "messages", 1)
        state = FFTurnState.from_record(tail[0] if tail else None)
        policy = ff_turn_policy_for(panel)
        return FFTurnStatusDTO(
            panel_id=panel_id,
            turn_policy=panel.turn_policy,
            next_speakers=[] if panel.status == "closed" else policy.next_speakers(state),
            rotation=state.rotation,
            round=policy.rounds(state) if isinstance(policy, FFRoundRobinTurnPolicy) else 0,
            floor=state.floor,
            last_sequence=int(tail[0]["sequence"]) if tail else 0,
        )
