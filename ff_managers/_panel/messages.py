"""A panel's messages: appending them through the group-commit writer, reading them back, and
whose turn it is.

Appends go through :class:`~ff_managers._panel.writer.FFPanelMessageWriter`, which numbers
them under the panel's lock. Reads need no lock: the log is append-only and its last good record
carries both the last sequence number and the turn state (:mod:`ff_managers._panel.turns`).
Bad lines are skipped and reported (:mod:`ff_managers._panel.reading`), never fatal to a read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ff_class_configs.ff_panel_dtos import FFPanelMessageDTO, FFPanelMessageInputDTO, FFTurnStatusDTO
from ff_managers._panel.checks import FFPanelInputChecker
from ff_managers._panel.owners import FFPanelOwners
from ff_managers._panel.store import FFPanelStore
from ff_managers._panel.turns import FFRoundRobinTurnPolicy, FFTurnState, ff_turn_policy_for
from ff_managers._panel.writer import FFAppended, FFPanelMessageWriter, RunInThread

__all__ = ["FFPanelMessages"]


class FFPanelMessages:
    """Appends (numbered, turn-checked, idempotent by id), pages through, and reports the turn state of messages."""

    def __init__(
        self, store: FFPanelStore, owners: FFPanelOwners, writer: FFPanelMessageWriter, checker: FFPanelInputChecker, run: RunInThread
    ) -> None:
        self._store = store
        self._owners = owners
        self._writer = writer
        self._check = checker
        self._run = run

    async def append(
        self, user_id: str, panel_id: str, items: Sequence[FFPanelMessageInputDTO], now: datetime
    ) -> FFAppended:
        """Append ``items`` (all or none) to ``user_id``'s panel and return them numbered.

        A retry of stored messages returns them (``replayed``) and appends nothing. Raises
        FFValidationError, FFNotFoundError, FFConflictError (closed panel, out of turn,
        ``message_id`` taken by another message) or the storage error that failed the write.
        """
        owner = await self._run(self._owners.resolve, user_id, panel_id)
        return await self._writer.submit(owner, panel_id, items, now)

    async def read(self, user_id: str, panel_id: str, limit: Any, after: Any) -> list[FFPanelMessageDTO]:
        """The last ``limit`` messages, or the first ``limit`` after sequence ``after``; oldest first."""
        limit = self._check.count(limit, "limit")
        if after is not None:
            after = self._check.count(after, "after_sequence", minimum=0)
        return await self._run(self._read, user_id, panel_id, limit, after)

    async def turn_status(self, user_id: str, panel_id: str) -> FFTurnStatusDTO:
        """Who may post next, from the last message's turn state."""
        return await self._run(self._turn_status, user_id, panel_id)

    # ------------------------------------------------------------------ blocking work (threads)

    def _read(self, user_id: str, panel_id: str, limit: int, after: int | None) -> list[FFPanelMessageDTO]:
        owner = self._owners.resolve(user_id, panel_id)
        if after is None:
            return self._store.tail(owner, panel_id, limit)
        remaining = self._store.last_sequence(owner, panel_id) - after
        if remaining <= 0:
            return []
        # Sequences are gap-free, so the messages after ``after`` are the last ``remaining``:
        # read them backwards when that is shorter than streaming from the start.
        if remaining <= after + limit:
            messages: Iterable[FFPanelMessageDTO] = self._store.tail(owner, panel_id, remaining)
        else:
            messages = self._store.records(owner, panel_id, "messages", FFPanelMessageDTO)
        result = []
        for message in messages:
            if message.sequence > after:
                result.append(message)
                if len(result) == limit:
                    break
        return result

    def _turn_status(self, user_id: str, panel_id: str) -> FFTurnStatusDTO:
        owner = self._owners.resolve(user_id, panel_id)
        panel = self._store.read_panel(owner, panel_id, with_count=False)
        last = self._store.last_message(owner, panel_id)
        state = FFTurnState.after(last)
        policy = ff_turn_policy_for(panel)
        return FFTurnStatusDTO(
            panel_id=panel_id,
            turn_policy=panel.turn_policy,
            next_speakers=[] if panel.status == "closed" else policy.next_speakers(state),
            rotation=state.rotation,
            round=policy.rounds(state) if isinstance(policy, FFRoundRobinTurnPolicy) else 0,
            floor=state.floor,
            last_sequence=last.sequence if last is not None else 0,
        )
