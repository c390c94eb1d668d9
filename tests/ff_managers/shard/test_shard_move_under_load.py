"""The issue's test: 3 `serve` processes, each on its own data root; 50 users routed by the sharded
communication manager; 5 of them moved by `main.py shard move` while writers keep writing.
Every acknowledged message must be at the user's (new) owner exactly once and nothing at the old one."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from collections.abc import Awaitable, Callable

import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO
from ff_managers import FFCrossSystemCommunicationManager, FFShardManager
from ff_managers._shard import mover
from ff_managers._shard.fence import FFUserFence
from ff_utils.ff_errors import FFCorruptionError, FFError
from testing.cluster import FFLocalCluster

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
SHARDS = ("s1", "s2", "s3")
USERS = [f"user{n:02d}" for n in range(50)]
WRITERS = 15  # the 5 moving users and 10 others write all along


def request(operation: str, **payload: Any) -> FFCrossSystemMessageDTO:
    return FFCrossSystemMessageDTO(target_system="shards", operation=operation, payload=payload, ttl_s=30)


class Writer:
    """One user's writer: numbered messages, retried (same message_id) until acknowledged or stopped."""

    def __init__(self, comm: Any, user: str, session: str) -> None:
        self.comm, self.user, self.session = comm, user, session
        self.acked: list[str] = []
        self.unacked: list[str] = []
        self.fenced = 0  # 503 FFUserFrozenError answers, retried
        self.other_errors: list[str] = []

    async def run(self, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            content = f"{self.user}-{n}"
            n += 1
            for _attempt in range(200):
                try:
                    reply = await self.comm.send_message(request("memory.add_message", user_id=self.user, session_id=self.session,
                                                                 role="user", content=content, message_id=content))  # fmt: skip
                except FFError as exc:
                    self.other_errors.append(f"{type(exc).__name__}: {exc}")
                    await asyncio.sleep(0.05)
                    continue
                if reply.message_type == "response":
                    self.acked.append(content)
                    break
                if reply.payload.get("error") == "FFUserFrozenError":
                    self.fenced += 1
                    await asyncio.sleep(0.05)  # shorter than Retry-After: the test wants to see the fence often
                    continue
                self.other_errors.append(str(reply.payload))
                await asyncio.sleep(0.05)
            else:
                self.unacked.append(content)


async def _move(routing: Path, user: str, source: str, dest: str) -> float:
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "main.py", "shard", "move", user, "--from", source, "--to", dest, "--routing", str(routing),
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), 180)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, (out.decode(), err.decode())
    print(out.decode().strip())
    return time.perf_counter() - started


Mover = Callable[[Path, str, str, str], Awaitable[float]]


async def _scenario(tmp_path: Path, move: Mover) -> dict[str, int]:
    """Run the scenario; the counts (acknowledged, lost, duplicated, fenced, left at the old owner)."""
    env = {"FF_SERVICE__RATE_LIMIT": "100000/second"}
    clusters = {sid: FFLocalCluster(instances=1, data_dir=tmp_path / sid, run_dir=tmp_path / f"run-{sid}", tcp=False, udp=False,
                                    env=env, name=f"ff-{sid}") for sid in SHARDS}  # fmt: skip
    try:
        await asyncio.gather(*(c.start(timeout_s=120) for c in clusters.values()))
        routing = FFShardManager(tmp_path / "routing.json")
        routing.create_table({sid: {"url": f"http://127.0.0.1:{c.instances[0].http_port}", "data_root": str(c.data_dir)}
                              for sid, c in clusters.items()})  # fmt: skip
        config = load_config(base_path=tmp_path / "client", environ={})
        config.comm.shard_routing = str(routing.routing)
        config.comm.retry_backoff_base_s = 0.01
        comm = FFCrossSystemCommunicationManager(config, shard_tokens={sid: c.token() for sid, c in clusters.items()})
        async with comm:
            table = routing.table()
            sessions = {}
            for user in USERS:  # every user gets a session and a first message, on its owner
                created = await comm.send_message(request("memory.create_session", user_id=user, title="load"))
                assert created.message_type == "response" and created.headers["endpoint"] == table.owner(user), created.payload
                sessions[user] = created.payload["session_id"]
            movers = USERS[:5]
            moves = {u: (table.owner(u), SHARDS[(SHARDS.index(table.owner(u)) + 1) % 3]) for u in movers}
            writers = [Writer(comm, u, sessions[u]) for u in USERS[:WRITERS]]
            stop = asyncio.Event()
            tasks = [asyncio.create_task(w.run(stop)) for w in writers]
            try:
                await asyncio.sleep(1.0)  # load first, then the moves, one after the other, under it
                seconds = {}
                for user, (source, dest) in moves.items():
                    seconds[user] = await move(routing.routing, user, str(clusters[source].data_dir),
                                                f"http://127.0.0.1:{clusters[dest].instances[0].http_port}")  # fmt: skip
                await asyncio.sleep(1.0)  # and more writes after the last move
            finally:
                stop.set()
                await asyncio.gather(*tasks)
            final = routing.table()
            lost = duplicated = acked = left = 0
            for writer in writers:
                owner = final.owner(writer.user)
                stored = await comm.send_message(request("memory.get_messages", user_id=writer.user, session_id=sessions[writer.user],
                                                         limit=100_000))  # fmt: skip
                assert stored.message_type == "response" and stored.headers["endpoint"] == owner, stored.payload
                counts = Counter(m["content"] for m in stored.payload)
                acked += len(writer.acked)
                lost += sum(1 for c in writer.acked if counts[c] == 0)
                duplicated += sum(1 for c in counts.values() if c > 1)
                assert not writer.unacked and not writer.other_errors, (writer.user, writer.unacked[:3], writer.other_errors[:3])
            for user, (source, dest) in moves.items():
                assert final.owner(user) == dest
                left += (clusters[source].data_dir / "users" / user).exists()  # must be absent at the old owner
                assert (clusters[dest].data_dir / "users" / user).is_dir()
            fenced = sum(w.fenced for w in writers)
            print(f"\nshard move under load: {acked} acknowledged writes, {lost} lost, {duplicated} duplicated, "
                  f"{fenced} fenced 503s retried, {left} trees left at the old owner; routing version {final.version}; "
                  f"move seconds {', '.join(f'{u}={s:.2f}' for u, s in seconds.items())}")
            assert acked > 100 and all(w.acked for w in writers)
            assert final.version == 1 + len(moves)
            return {"acked": acked, "lost": lost, "duplicated": duplicated, "fenced": fenced, "left": left}
    finally:
        for cluster in clusters.values():
            with contextlib.suppress(Exception):
                await cluster.stop(grace_s=5)


async def test_five_users_move_under_load_losing_and_duplicating_nothing(tmp_path: Path) -> None:
    """The moves run as `main.py shard move` processes (the CLI, as an operator would)."""
    counts = await _scenario(tmp_path, _move)
    assert counts["lost"] == 0 and counts["duplicated"] == 0 and counts["left"] == 0, counts


class _NoFreezeFence(FFUserFence):
    """Planted defect: the mover never freezes the source (the fence's other states still work)."""

    def set(self, user_id: str, state: Any, **kwargs: Any) -> None:
        if state != "frozen":
            super().set(user_id, state, **kwargs)


async def test_the_planted_move_without_a_freeze_loses_acknowledged_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the freeze, writes acknowledged by the source between the last copy and the switch
    are deleted with the source's tree: the counts must show it (the window is widened to 0.5 s).
    Writes racing the second pass make the manifests differ (the verification refuses the move);
    the planted mover re-runs until it passes, and the loss happens after."""
    monkeypatch.setattr(mover, "FFUserFence", _NoFreezeFence)

    async def move_in_process(routing: Path, user: str, source: str, dest: str) -> float:
        started = time.perf_counter()
        widen = lambda step: time.sleep(0.5) if step == "verified" else None
        for _run in range(50):  # unfrozen writes may also race the verification: re-run, as an operator would
            try:
                await asyncio.to_thread(FFShardManager(routing).move_user, user, source, dest, crash=widen)
                break
            except FFCorruptionError:
                continue
        return time.perf_counter() - started

    counts = await _scenario(tmp_path, move_in_process)
    assert counts["lost"] > 0, counts
