"""What a `shard move` costs: one user with N messages moved between two data roots on this machine.

``python -m testing.bench._shard_move --messages 1000 10000 100000 [--sessions 10]`` builds, for
each N, a user with N messages spread over ``--sessions`` sessions (imported in bulk through the
memory manager, so the files are the real format), moves it with :class:`FFShardManager` between
two roots under a routing table, and prints per step seconds, the bytes moved and how long writes
to the user were frozen. Nothing writes during the measurement: it is the floor of a move (under
load the freeze also waits for the writes in flight and the second mirror pass copies what was
written during the first; docs/SCALING.md).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager, FFShardManager

__all__ = ["main", "measure"]


async def _fill(root: Path, user: str, messages: int, sessions: int) -> None:
    manager = FFMemoryLayerManager(load_config(base_path=root, environ={}))
    await manager.initialize()
    try:
        per = max(1, messages // sessions)
        for s in range(sessions):
            session = await manager.create_session(user, f"s{s}")
            batch = [{"role": "user", "content": f"message {s}/{m}: " + "lorem ipsum " * 8, "message_id": f"m{s}-{m}"} for m in range(per)]
            await manager.import_messages(user, session.session_id, batch)
    finally:
        await manager.shutdown()


def measure(messages: int, sessions: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="ff-shard-bench-") as tmp:
        base = Path(tmp)
        roots = {"a": base / "a", "b": base / "b"}
        for root in roots.values():
            root.mkdir()
        shards = FFShardManager(base / "routing.json")
        shards.create_table({sid: {"url": f"http://127.0.0.1:{9000 + n}", "data_root": str(r)} for n, (sid, r) in enumerate(roots.items())})
        table = shards.table()
        user = next(f"u{n}" for n in range(10_000) if table.owner(f"u{n}") == "a")
        asyncio.run(_fill(roots["a"], user, messages, sessions))
        started = time.perf_counter()
        journal = shards.move_user(user, str(roots["a"]), str(roots["b"]), crash=lambda step: None)
        total = time.perf_counter() - started
    return {"messages": messages, "files": journal["files"], "bytes": journal["bytes"], "total_s": round(total, 3),
            "frozen_s": journal["frozen_s"], "steps_s": journal["seconds"]}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--sessions", type=int, default=10)
    args = parser.parse_args(argv)
    for count in args.messages:
        print(measure(count, args.sessions), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
