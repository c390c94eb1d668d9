"""Numbering and writing panel messages: a per-panel group commit on top of the panel lock.

Every append request (one ``add_message`` or one ``import_messages`` call) is submitted to the
component's keyed batcher (:class:`~ff_managers._core.batcher.FFKeyedBatcher`, one key per
panel). One drain per panel takes whatever is queued, and under one hold of the panel's lock
numbers each request in arrival order, checks it (participants, ids, replies, turn policy) and
appends all accepted messages in one write. Requests that arrive meanwhile form the next group.
So N concurrent callers cost a few lock holds and fsyncs instead of N, while each request still
succeeds or fails alone and the numbering stays gap-free: a refused request takes no number. A
storage failure fails its whole group (nothing of it was written) and the next group proceeds.
Across processes the panel lock does the serialising; the last number is read back from the
log's tail under it. The batcher belongs to the manager, whose ``shutdown()`` drains it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ff_class_configs.ff_panel_dtos import FFPanelMessageDTO, FFPanelMessageInputDTO
from ff_managers._core.batcher import DrainFunction, FFKeyedBatcher
from ff_managers._panel.checks import FFPanelInputChecker
from ff_managers._panel.store import FFLockedPanel, FFPanelStore
from ff_managers._panel.turns import FFTurnPolicy, FFTurnState, ff_turn_policy_for
from ff_utils.ff_errors import FFConflictError, FFError, FFValidationError
from ff_utils.ff_ids import ff_new_id

__all__ = ["FFPanelMessageWriter", "RunInThread", "MakeBatcher"]

RunInThread = Callable[..., Awaitable[Any]]
"""Runs blocking work in a worker thread (the manager's ``_io``)."""

PanelKey = tuple[str, str]
"""``(owner, panel_id)``: one queue, one drain, per panel."""
Outcome = list[FFPanelMessageDTO] | FFError
"""What one request gets: its numbered messages, or the error that refused it alone."""
MakeBatcher = Callable[..., FFKeyedBatcher[PanelKey, "_AppendRequest", list[FFPanelMessageDTO]]]
"""Makes the keyed batcher from a drain function and a ``name=`` (the component's ``_batcher``)."""


@dataclass(frozen=True, slots=True)
class _AppendRequest:
    """One call waiting for its group commit."""

    items: list[FFPanelMessageInputDTO]
    now: datetime


class FFPanelMessageWriter:
    """Numbers and group-commits append requests per panel (see the module docstring)."""

    def __init__(
        self, store: FFPanelStore, checker: FFPanelInputChecker, run_in_thread: RunInThread, make_batcher: MakeBatcher
    ) -> None:
        self._store = store
        self._checker = checker
        self._run = run_in_thread
        drain: DrainFunction[PanelKey, _AppendRequest, list[FFPanelMessageDTO]] = self._write_batch
        self._batcher = make_batcher(drain, name="message writer")

    async def submit(
        self, owner: str, panel_id: str, items: Sequence[FFPanelMessageInputDTO], now: datetime
    ) -> list[FFPanelMessageDTO]:
        """Append ``items`` (in order, all or none) and return them numbered.

        Raises FFValidationError, FFConflictError (closed panel, out of turn, id taken; also once
        the manager is shutting down) or the storage error that failed the group.
        """
        return await self._batcher.submit((owner, panel_id), _AppendRequest(list(items), now))

    async def drain(self) -> None:
        """Wait for every queued request of this event loop to be written."""
        await self._batcher.drain()

    async def _write_batch(self, key: PanelKey, batch: list[_AppendRequest]) -> list[Outcome]:
        """The batcher's drain function: one worker-thread trip (one lock hold, one write) per group."""
        owner, panel_id = key
        return await self._run(self._write_group, owner, panel_id, batch)

    def _write_group(self, owner: str, panel_id: str, batch: list[_AppendRequest]) -> list[Outcome]:
        """Under one hold of the panel's lock: number each request in arrival order, then append all.

        A request that fails its checks gets its error and leaves no trace; the ones after it are
        checked against the state without it.
        """
        outcomes: list[Outcome] = []
        with self._store.locked(owner, panel_id) as locked:
            if locked.panel.status == "closed":
                return [FFConflictError(f"panel {panel_id!r} is closed", kind="panel", key=panel_id) for _ in batch]
            policy = ff_turn_policy_for(locked.panel)
            state = FFTurnState.from_record(locked.last_message)
            sequence = locked.last_sequence
            grouped_ids: set[str] = set()
            accepted: list[FFPanelMessageDTO] = []
            for request in batch:
                try:
                    messages = self._number(locked, policy, state, sequence, grouped_ids, request)
                except FFError as exc:
                    outcomes.append(exc)
                    continue
                state = FFTurnState(messages[-1].rotation, messages[-1].floor)
                sequence = messages[-1].sequence
                grouped_ids.update(m.message_id for m in messages)
                accepted.extend(messages)
                outcomes.append(messages)
            if accepted:
                locked.append_messages([m.model_dump(mode="json") for m in accepted])
        return outcomes

    def _number(
        self,
        locked: FFLockedPanel,
        policy: FFTurnPolicy,
        state: FFTurnState,
        sequence: int,
        grouped_ids: set[str],
        request: _AppendRequest,
    ) -> list[FFPanelMessageDTO]:
        """Check one request against the panel, the log and the group so far; number its messages."""
        drafts = self._checker.drafts(locked.panel, request.items)
        explicit = {d.message_id for d in drafts if d.message_id is not None}
        earlier: set[str] = set()
        outside: set[str] = set()
        for draft in drafts:
            if draft.reply_to is not None and draft.reply_to not in earlier:
                outside.add(draft.reply_to)
            if draft.message_id is not None:
                earlier.add(draft.message_id)
        outside -= grouped_ids  # replies to messages queued just before this request are fine
        missing = locked.missing_message_ids(explicit | outside)
        taken = sorted((explicit - missing) | (explicit & grouped_ids))
        if taken:
            raise FFConflictError(f"message ids already used in this panel: {', '.join(taken)}", field="message_id")
        unknown = sorted(outside & missing)
        if unknown:
            raise FFValidationError(
                f"reply_to names messages not in this panel (or later in the batch): {', '.join(unknown)}",
                field="reply_to",
            )
        messages = []
        for draft in drafts:
            state = policy.advance(state, draft.participant_id, draft.next_speaker)
            sequence += 1
            messages.append(
                FFPanelMessageDTO(
                    message_id=draft.message_id or ff_new_id("msg_"),
                    panel_id=locked.panel_id,
                    sequence=sequence,
                    participant_id=draft.participant_id,
                    role=draft.role,  # type: ignore[arg-type]  # filled by drafts()
                    content=draft.content,
                    timestamp=draft.timestamp or request.now,
                    reply_to=draft.reply_to,
                    rotation=state.rotation,
                    floor=state.floor,
                    metadata=draft.metadata,
                )
            )
        return messages
