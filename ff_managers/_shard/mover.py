"""Move one user's tree from one data root to another: copy, freeze, verify, switch, remove.

The steps, each recorded in a journal (``<source root>/system/shard/moves/<user_id>.json``)
once it is done, so that a move killed at any point is finished by running it again:

1. ``copied``: the destination is fenced ``incoming`` (nothing there serves the user yet) and
   the user's tree is mirrored to it while the source still takes writes;
2. ``frozen``: the source is fenced ``frozen``: writes to the user answer 503 (retryable) and
   the fence returns only once every write in flight has finished;
3. ``verified``: the mirror runs again (only what changed since step 1), then the SHA-256
   manifests of both trees must be equal;
4. ``switched``: the routing table names the destination as the user's owner (atomic write,
   version + 1). Before this step the source owns the user; from it on, the destination;
5. ``released``: the source keeps a ``moved`` tombstone (421 naming the new owner, for clients
   with a stale table) and the destination's fence is lifted: the user is served again;
6. ``removed``: the source's copy is deleted, never before the manifests matched.

Resuming repeats the step after the last one journaled; every step is idempotent (fences are
set again, the mirror copies what differs, the table change is skipped when already there), so
a crash after a step's effect but before its journal entry is harmless. A move stopped before
``switched`` may instead be rolled back (:func:`ff_abort_move`). At every point exactly one data
root may serve the user: the source until the switch (the destination is fenced), the
destination from it (the source is frozen, then tombstoned). Between a crash and the re-run the
user may be frozen (writes answer 503): available again once the move is re-run.

``crash`` is the test seam: it is called with each step's name after the step's effect and
before its journal entry; by default it reads ``FF_SHARD_CRASH_AT`` and ends the process there
(``os._exit``), the way a kill would.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ff_managers._shard.copy import ff_manifest_digest, ff_mirror, ff_same_tree
from ff_managers._shard.errors import FFMoveError
from ff_managers._shard.fence import FFUserFence
from ff_managers._shard.routing import FFShardTable, ff_read_table, ff_update_table
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_file_ops import ff_atomic_write, ff_remove_tree
from ff_utils.ff_ids import ff_validate_id

__all__ = ["STEPS", "FFMoveEnds", "ff_abort_move", "ff_crash_from_env", "ff_move_user", "ff_read_journal", "ff_resolve_ends"]

STEPS = ("started", "copied", "frozen", "verified", "switched", "released", "removed")
CRASH_ENV = "FF_SHARD_CRASH_AT"
Crash = Callable[[str], None]


def ff_crash_from_env(step: str) -> None:
    """End the process right after ``step``'s effect when ``FF_SHARD_CRASH_AT`` names it (tests)."""
    if os.environ.get(CRASH_ENV) == step:
        os._exit(75)


@dataclass(frozen=True, slots=True)
class FFMoveEnds:
    """Where a move reads and writes: the two data roots and, with a routing table, their shard ids."""

    source_root: Path
    dest_root: Path
    source_shard: str | None
    dest_shard: str | None
    routing: Path | None


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def _root_of(location: str, table: FFShardTable | None, role: str) -> tuple[Path, str | None]:
    if table is None:
        if _is_url(location):
            raise FFValidationError(f"--{role} {location} is a URL: a URL is resolved through the routing table "
                                    "(--routing) to its shard's data_root", field=role)  # fmt: skip
        return Path(location).resolve(), None
    shard = table.shard_of_location(location)
    if shard is None:
        raise FFValidationError(f"--{role} {location} is no shard of the routing table (by url or data_root)", field=role)
    root = table.document.shards[shard].data_root
    if root is None:
        raise FFValidationError(f"shard {shard} has no data_root in the routing table: a move reads and writes the data "
                                "roots themselves (the service has no export/import)", field=role)  # fmt: skip
    return Path(root).resolve(), shard


def ff_resolve_ends(source: str, dest: str, routing: Path | None) -> FFMoveEnds:
    """The data roots and shard ids of ``--from``/``--to`` (FFValidationError when they cannot be resolved)."""
    table = ff_read_table(routing) if routing is not None else None
    source_root, source_shard = _root_of(source, table, "from")
    dest_root, dest_shard = _root_of(dest, table, "to")
    if source_root == dest_root:
        raise FFValidationError("--from and --to are the same data root", field="to")
    for root, role in ((source_root, "from"), (dest_root, "to")):
        if not root.is_dir():
            raise FFValidationError(f"--{role}: no data root at {root}", field=role)
    return FFMoveEnds(source_root, dest_root, source_shard, dest_shard, Path(routing).resolve() if routing else None)


def _journal_path(root: Path, user_id: str) -> Path:
    return root / "system" / "shard" / "moves" / f"{user_id}.json"


def ff_read_journal(source_root: Path, user_id: str) -> dict[str, Any] | None:
    path = _journal_path(source_root, ff_validate_id(user_id, "user_id"))
    return orjson.loads(path.read_bytes()) if path.is_file() else None


class _Move:
    def __init__(self, user_id: str, ends: FFMoveEnds, journal: dict[str, Any], crash: Crash) -> None:
        self.user_id, self.ends, self.journal, self.crash = user_id, ends, journal, crash
        self.src_tree = ends.source_root / "users" / user_id
        self.dst_tree = ends.dest_root / "users" / user_id
        self.src_fence, self.dst_fence = FFUserFence(ends.source_root), FFUserFence(ends.dest_root)
        self.path = _journal_path(ends.source_root, user_id)

    def record(self, step: str, **extra: Any) -> None:
        self.journal.update(step=step, updated_at=datetime.now(UTC).isoformat(), **extra)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ff_atomic_write(self.path, orjson.dumps(self.journal, option=orjson.OPT_INDENT_2) + b"\n")

    def done(self, step: str) -> bool:
        return STEPS.index(self.journal["step"]) >= STEPS.index(step)

    def run(self) -> dict[str, Any]:
        timings: dict[str, float] = self.journal.setdefault("seconds", {})
        for step, action in (("copied", self.copy), ("frozen", self.freeze), ("verified", self.verify),
                             ("switched", self.switch), ("released", self.release), ("removed", self.remove)):  # fmt: skip
            if self.done(step):
                continue
            started = time.perf_counter()
            extra = action() or {}
            self.crash(step)
            timings[step] = round(timings.get(step, 0.0) + time.perf_counter() - started, 6)
            self.record(step, **extra)
        return self.journal

    def copy(self) -> dict[str, Any]:
        self.dst_fence.set(self.user_id, "incoming", move_id=self.journal["move_id"])
        stats = ff_mirror(self.src_tree, self.dst_tree)
        return {"first_pass": {"files": stats.files_copied, "bytes": stats.bytes_copied}}

    def freeze(self) -> dict[str, Any]:
        self.src_fence.set(self.user_id, "frozen", move_id=self.journal["move_id"])
        return {"frozen_at": time.time()}

    def verify(self) -> dict[str, Any]:
        stats = ff_mirror(self.src_tree, self.dst_tree)
        manifest = ff_same_tree(self.src_tree, self.dst_tree)
        return {"second_pass": {"files": stats.files_copied, "bytes": stats.bytes_copied},
                "files": manifest.file_count, "bytes": manifest.total_bytes, "manifest_sha256": ff_manifest_digest(manifest)}  # fmt: skip

    def switch(self) -> dict[str, Any]:
        if self.ends.routing is None or self.ends.dest_shard is None:
            return {"routing_version": None}
        user, dest = self.user_id, self.ends.dest_shard

        def change(document: Any) -> Any:
            table = FFShardTable(document)
            if table.owner(user) == dest:
                return None  # already switched (a re-run after a crash here)
            if table.ring_owner(user) == dest:
                document.overrides.pop(user, None)
            else:
                document.overrides[user] = dest
            return document

        return {"routing_version": ff_update_table(self.ends.routing, change).version}

    def release(self) -> dict[str, Any]:
        owner = self.ends.dest_shard or str(self.ends.dest_root)
        self.src_fence.set(self.user_id, "moved", owner=owner, move_id=self.journal["move_id"])
        self.dst_fence.clear(self.user_id)
        frozen_at = self.journal.get("frozen_at")
        return {"frozen_s": round(time.time() - frozen_at, 6) if frozen_at else None}

    def remove(self) -> dict[str, Any]:
        ff_remove_tree(self.src_tree)
        return {"finished_at": datetime.now(UTC).isoformat()}


def _check_start(user_id: str, ends: FFMoveEnds) -> None:
    if not (ends.source_root / "users" / user_id).is_dir():
        raise FFMoveError(f"user {user_id} has no tree at {ends.source_root}", user_id=user_id)
    if (ends.dest_root / "users" / user_id).exists():
        raise FFMoveError(f"{ends.dest_root} already holds a tree of {user_id}: refusing to overwrite it", user_id=user_id)
    if ends.routing is not None and ends.source_shard is not None:
        owner = ff_read_table(ends.routing).owner(user_id)
        if owner != ends.source_shard:
            raise FFMoveError(f"the routing table says {user_id} belongs to {owner}, not {ends.source_shard}", user_id=user_id)
    state = FFUserFence(ends.source_root).state(user_id)
    if state is not None and state["state"] != "frozen":
        raise FFMoveError(f"{user_id} is fenced {state['state']!r} at {ends.source_root}: not served there", user_id=user_id)


def ff_move_user(user_id: str, ends: FFMoveEnds, *, crash: Crash = ff_crash_from_env) -> dict[str, Any]:
    """Move (or resume moving) ``user_id``; the finished journal (steps, sizes, timings)."""
    ff_validate_id(user_id, "user_id")
    journal = ff_read_journal(ends.source_root, user_id)
    if journal is not None and journal["step"] not in ("removed", "aborted"):
        if Path(journal["dest_root"]) != ends.dest_root:
            raise FFMoveError(f"an unfinished move of {user_id} goes to {journal['dest_root']}: re-run it with that --to, "
                              "or abort it", user_id=user_id)  # fmt: skip
        journal["resumed_from"] = journal["step"]
    else:
        _check_start(user_id, ends)
        journal = {"move_id": uuid.uuid4().hex, "user_id": user_id, "source_root": str(ends.source_root),
                   "dest_root": str(ends.dest_root), "source_shard": ends.source_shard, "dest_shard": ends.dest_shard,
                   "routing": str(ends.routing) if ends.routing else None, "started_at": datetime.now(UTC).isoformat()}  # fmt: skip
    move = _Move(user_id, ends, journal, crash)
    if "step" not in journal:
        move.record("started")
    return move.run()


def ff_abort_move(user_id: str, ends: FFMoveEnds) -> dict[str, Any]:
    """Roll back an unfinished move that has not switched yet: the source serves the user again."""
    journal = ff_read_journal(ends.source_root, user_id)
    if journal is None or journal["step"] in ("removed", "aborted"):
        raise FFMoveError(f"no unfinished move of {user_id} at {ends.source_root}", user_id=user_id)
    move = _Move(user_id, ends, journal, lambda step: None)
    if move.done("switched"):
        raise FFMoveError(f"the move of {user_id} has switched ownership already: re-run it to complete it", user_id=user_id)
    move.dst_fence.set(user_id, "incoming", move_id=journal["move_id"])
    ff_remove_tree(move.dst_tree)
    move.dst_fence.clear(user_id)
    move.src_fence.clear(user_id)
    move.record("aborted", aborted_from=journal["step"])
    return journal
