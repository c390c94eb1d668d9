"""Data roots with users in them, and the invariant every interrupted move must keep."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager
from ff_managers._shard.fence import FFUserFence
from ff_managers._shard.routing import ff_read_table
from ff_utils.ff_hashing import FFManifest, ff_build_manifest

__all__ = ["accepting_writes", "fill_user", "tree_manifest", "user_on_ring"]


async def _fill(root: Path, user_id: str, sessions: int, messages: int) -> None:
    manager = FFMemoryLayerManager(load_config(base_path=root, environ={}))
    await manager.initialize()
    try:
        for s in range(sessions):
            session = await manager.create_session(user_id, f"session {s}")
            for m in range(messages):
                await manager.add_message(user_id, session.session_id, "user", f"{user_id} says {s}/{m}", message_id=f"m-{s}-{m}")
    finally:
        await manager.shutdown()


def fill_user(root: Path, user_id: str, *, sessions: int = 2, messages: int = 5) -> FFManifest:
    """Give ``user_id`` sessions and messages in the data root; the manifest of the user's tree."""
    asyncio.run(_fill(root, user_id, sessions, messages))
    return tree_manifest(root, user_id)


def tree_manifest(root: Path, user_id: str) -> FFManifest:
    return ff_build_manifest(root / "users" / user_id)


def user_on_ring(routing: Path, shard: str, prefix: str = "u") -> str:
    """A user id the ring (no override) gives to ``shard``."""
    table = ff_read_table(routing)
    return next(f"{prefix}{n}" for n in range(10_000) if table.ring_owner(f"{prefix}{n}") == shard)


def accepting_writes(roots: dict[str, Path], user_id: str) -> set[str]:
    """The shards whose data root would take a write for the user now: a tree there and no fence."""
    return {sid for sid, root in roots.items() if (root / "users" / user_id).is_dir() and FFUserFence(root).state(user_id) is None}
