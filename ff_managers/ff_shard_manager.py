"""FFShardManager: users spread over several data roots (shards), and moving one user between them.

A coordinating manager: it reads and writes data roots as trees of files (never through a domain
manager), the shard routing table (``FFShardRoutingTableDTO``, a versioned JSON file every
client reads: see :class:`ff_managers.FFCrossSystemCommunicationManager`'s sharded mode), and the
per-user write fences every ``serve`` process honours. The private package
:mod:`ff_managers._shard` holds one module per job: ``routing`` (the table and its ketama ring),
``fence`` (the write fence), ``copy`` (mirror + manifest verification), ``mover`` (the journaled
steps of a move). docs/SCALING.md ("several machines by user shard") describes the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ff_class_configs.ff_shard_dtos import FFShardDTO, FFShardRoutingTableDTO
from ff_managers._shard.errors import FFMoveError, FFUserFrozenError, FFUserMovedError
from ff_managers._shard.fence import FFUserFence
from ff_managers._shard.mover import (
    STEPS,
    Crash,
    ff_abort_move,
    ff_crash_from_env,
    ff_move_user,
    ff_read_journal,
    ff_resolve_ends,
)
from ff_managers._shard.routing import FFShardTable, ff_read_table, ff_write_new_table

__all__ = ["MOVE_STEPS", "FFMoveError", "FFShardManager", "FFShardTable", "FFUserFence", "FFUserFrozenError", "FFUserMovedError"]

MOVE_STEPS = STEPS


class FFShardManager:
    """The routing table at ``routing`` (may be None for a move between two directories only)."""

    def __init__(self, routing: Path | str | None = None) -> None:
        self.routing = Path(routing) if routing is not None else None

    def _require_routing(self) -> Path:
        if self.routing is None:
            from ff_utils.ff_errors import FFValidationError

            raise FFValidationError("no routing table given (--routing or comm.shard_routing)", field="routing")
        return self.routing

    def create_table(self, shards: Mapping[str, FFShardDTO | dict[str, Any]], *, replace: bool = False) -> FFShardTable:
        """Write a first routing table (version 1) with these shards; FFMoveError when one exists."""
        path = self._require_routing()
        if path.exists() and not replace:
            raise FFMoveError(f"a routing table already exists at {path}")
        document = FFShardRoutingTableDTO(shards={k: FFShardDTO.model_validate(v) for k, v in shards.items()})
        return ff_write_new_table(path, document)

    def table(self) -> FFShardTable:
        return ff_read_table(self._require_routing())

    def owner(self, user_id: str) -> str:
        """The shard id that owns ``user_id`` now."""
        return self.table().owner(user_id)

    def move_user(self, user_id: str, source: str, dest: str, *, crash: Crash = ff_crash_from_env) -> dict[str, Any]:
        """Move (or resume moving) one user's tree from ``source`` to ``dest`` (a data root, or a
        shard's URL in the routing table); the move's journal: steps, sizes, timings."""
        return ff_move_user(user_id, ff_resolve_ends(source, dest, self.routing), crash=crash)

    def abort_move(self, user_id: str, source: str, dest: str) -> dict[str, Any]:
        """Roll back an unfinished move that has not switched ownership; the source serves the user again."""
        return ff_abort_move(user_id, ff_resolve_ends(source, dest, self.routing))

    def journal(self, user_id: str, source: str, dest: str) -> dict[str, Any] | None:
        """The journal of the user's last move out of ``source`` (None when there was none)."""
        return ff_read_journal(ff_resolve_ends(source, dest, self.routing).source_root, user_id)
