"""Numbering and writing panel messages: a per-panel group commit on top of the panel lock.

Every append request (one ``add_message`` or one ``import_messages`` call) is submitted to the
store's I/O thread (:class:`~ff_utils.ff_io_thread.FFIOThread`, one key per panel): one hop per
call, the same thread that writes memory's messages. Each wake-up takes whatever is queued for
each panel, and under one hold of the panel's lock
numbers each request in arrival order, checks it (participants, ids, replies, turn policy) and
appends all accepted messages in one write. Requests that arrive meanwhile form the next group.
So N concurrent callers cost a few lock holds and fsyncs instead of N, while each request still
succeeds or fails alone and the numbering stays gap-free: a refused request takes no number. A
storage failure fails its whole group (nothing of it was written) and the next group proceeds.
Across processes the panel lock does the serialising; the last number is read back from the
log's tail under it. The manager's ``shutdown()`` drains the thread and ends it.

Writes are idempotent by ``message_id``: a request whose messages are all already stored under
their ids, with the same participant, role and content (a client retrying after a timeout), is
answered with the stored messages and appends nothing; an id taken by a different message is
FFConflictError. The check uses the panel's in-memory id index
(:mod:`ff_managers._panel.message_index`), not a scan of the log per write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ff_class_configs.ff_panel_dtos import FFPanelMessageDTO, FFPanelMessageInputDTO
from ff_managers._panel.checks import FFPanelInputChecker
from ff_managers._panel.message_index import ff_message_fingerprint
from ff_managers._panel.store import FFLockedPanel, FFPanelStore
from ff_managers._panel.turns import FFTurnPolicy, FFTurnState, ff_turn_policy_for
from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFError, FFValidationError
from ff_utils.ff_ids import ff_new_id

__all__ = ["FFPanelMessageWriter", "FFAppended", "RunInThread"]

RunInThread = Callable[..., Awaitable[Any]]
"""Runs blocking work in a worker thread (the manager's ``_io``)."""

PanelKey = tuple[str, str]
"""``(owner, panel_id)``: one queue, one drain, per panel."""


@dataclass(frozen=True, slots=True)
class FFAppended:
    """What one append request got: its messages, and whether they were already stored (a retry)."""

    messages: list[FFPanelMessageDTO]
    replayed: bool = False

    @property
    def new(self) -> list[FFPanelMessageDTO]:
        """The messages this request added ([] for a replayed retry)."""
        return [] if self.replayed else self.messages


Outcome = FFAppended | FFError
"""What one request gets: its numbered (or already stored) messages, or the error that refused it alone."""


@dataclass(frozen=True, slots=True)
class _AppendRequest:
    """One call waiting for its group commit."""

    items: list[FFPanelMessageInputDTO]
    now: datetime


class _Group:
    """What one group commit has accepted so far: the turn state, the last number, the new messages."""

    def __init__(self, locked: FFLockedPanel) -> None:
        self.locked = locked
        self.policy: FFTurnPolicy = ff_turn_policy_for(locked.panel)
        last = locked.last_message
        self.state = FFTurnState.after(last)
        self.sequence = locked.last_sequence
        self.accepted: dict[str, FFPanelMessageDTO] = {}

    def accept(self, messages: list[FFPanelMessageDTO]) -> None:
        self.state = FFTurnState(messages[-1].rotation, messages[-1].floor)
        self.sequence = messages[-1].sequence
        self.accepted.update((m.message_id, m) for m in messages)


class FFPanelMessageWriter:
    """Numbers and group-commits append requests per panel (see the module docstring)."""

    def __init__(self, store: FFPanelStore, checker: FFPanelInputChecker, run_in_thread: RunInThread) -> None:
        """Requests go to the store's I/O thread (``store.storage.io``), grouped per panel."""
        self._store = store
        self._checker = checker
        self._run = run_in_thread
        self._io = store.storage.io
        self._job = self._write_batch  # one bound method: the I/O thread groups by (job, key)

    async def submit(self, owner: str, panel_id: str, items: Sequence[FFPanelMessageInputDTO], now: datetime) -> FFAppended:
        """Append ``items`` (in order, all or none) and return them numbered.

        A retry (every item's ``message_id`` already stored with the same participant, role and
        content) appends nothing and returns the stored messages, ``replayed``. Raises
        FFValidationError, FFConflictError (closed panel, out of turn, an id taken by another
        message; also once the manager is shutting down) or the storage error that failed the group.
        """
        return await self._io.submit(self._job, (owner, panel_id), _AppendRequest(list(items), now))  # type: ignore[no-any-return]

    async def drain(self) -> None:
        """Wait for every queued request of this event loop to be written."""
        await self._io.drain()

    def _write_batch(self, key: PanelKey, batch: list[_AppendRequest]) -> list[Outcome]:
        """The I/O thread's job (runs in that thread): one lock hold, one write per group."""
        owner, panel_id = key
        return self._write_group(owner, panel_id, batch)

    def _write_group(self, owner: str, panel_id: str, batch: list[_AppendRequest]) -> list[Outcome]:
        """Under one hold of the panel's lock: number each request in arrival order, then append all.

        A request that fails its checks gets its error and leaves no trace; the ones after it are
        checked against the state without it.
        """
        outcomes: list[Outcome] = []
        with self._store.locked(owner, panel_id) as locked:
            group = _Group(locked)
            new: list[FFPanelMessageDTO] = []
            for request in batch:
                try:
                    outcome = self._number(group, request)
                except FFError as exc:
                    outcomes.append(exc)
                    continue
                if not outcome.replayed:
                    group.accept(outcome.messages)
                    new.extend(outcome.messages)
                outcomes.append(outcome)
            if new:
                locked.append_messages(new)
        return outcomes

    def _number(self, group: _Group, request: _AppendRequest) -> FFAppended:
        """Check one request against the panel, the log and the group so far; number its messages."""
        locked = group.locked
        drafts = self._checker.drafts(locked.panel, request.items)
        replayed = self._replayed(group, drafts)
        if replayed is not None:
            return FFAppended(replayed, replayed=True)
        if locked.panel.status == "closed":
            raise FFConflictError(f"panel {locked.panel_id!r} is closed", kind="panel", key=locked.panel_id)
        earlier: set[str] = set()
        outside: set[str] = set()
        for draft in drafts:
            if draft.reply_to is not None and draft.reply_to not in earlier:
                outside.add(draft.reply_to)
            if draft.message_id is not None:
                earlier.add(draft.message_id)
        outside -= group.accepted.keys()  # replies to messages queued just before this request are fine
        unknown = sorted(locked.missing_message_ids(outside))
        if unknown:
            raise FFValidationError(
                f"reply_to names messages not in this panel (or later in the batch): {', '.join(unknown)}",
                field="reply_to",
            )
        state, sequence = group.state, group.sequence
        messages = []
        for draft in drafts:
            state = group.policy.advance(state, draft.participant_id, draft.next_speaker)
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
        return FFAppended(messages)

    @staticmethod
    def _replayed(group: _Group, drafts: list[FFPanelMessageInputDTO]) -> list[FFPanelMessageDTO] | None:
        """The stored messages when ``drafts`` is a retry of a stored request, else None.

        A retry names every message by ``message_id`` and each one is stored (in the log, or
        earlier in this group) from the same participant, with the same role and content.
        Raises FFConflictError when any of its ids is taken by a different message, or when only
        some of them are stored (a request is written all or none, so that is not a retry).
        """
        ids = [d.message_id for d in drafts if d.message_id is not None]
        if not ids:
            return None
        accepted = group.accepted
        known = group.locked.known_messages(i for i in ids if i not in accepted)
        taken: list[str] = []
        differ: list[str] = []
        for draft in drafts:
            message_id = draft.message_id
            if message_id in accepted:
                m = accepted[message_id]
                stored = ff_message_fingerprint(m.participant_id, m.role, m.content)
            elif message_id in known:
                stored = known[message_id][1]
            else:
                continue
            taken.append(message_id)
            if stored != ff_message_fingerprint(draft.participant_id, draft.role or "", draft.content):
                differ.append(message_id)
        if not taken:
            return None
        if differ or len(taken) < len(drafts):
            raise FFConflictError(
                f"message ids already used in this panel by other messages: {', '.join(sorted(differ or taken))}",
                field="message_id",
            )
        stored_messages = group.locked.stored_messages(known)
        unreadable = sorted(set(known) - stored_messages.keys())
        if unreadable:  # indexed, but the log no longer holds a readable record of it
            raise FFCorruptionError(f"stored messages cannot be read back: {', '.join(unreadable)}", path=group.locked.log)
        return [accepted[i] if i in accepted else stored_messages[i] for i in ids]
