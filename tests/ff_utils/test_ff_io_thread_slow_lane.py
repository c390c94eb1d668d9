"""A log whose lock another process holds must not stall the other logs of the root.

The store's I/O thread serves every log of a data root. Before the slow lane, a job that met a
lock held by another process (one frozen by SIGSTOP, or stuck on a slow disk) slept in the I/O
thread, and every other user's write of that process waited behind it: the cross-system
suite's SIGSTOP check saw half its requests fail on the surviving instance. Here the holder is
a real process (tests/_lock_holder.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager
from ff_utils.ff_io_thread import FFIOThread
from ff_utils.ff_locks import ff_file_lock
from tests._lock_holder import held_by_another_process

_BOUND_S = 10.0  # generous: these waits end in milliseconds unless the write path is stalled


class LockedAppend:
    """A job like the managers': take the key's file lock, then append the items to the file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.calls: list[tuple[str, list[str]]] = []

    def path(self, key: str) -> Path:
        return self.root / f"{key}.log"

    def __call__(self, key: str, items: list[str]) -> list[str]:
        with ff_file_lock(self.path(key), timeout=30.0):
            self.calls.append((key, list(items)))
            with self.path(key).open("a") as f:
                f.write("".join(f"{item}\n" for item in items))
        return [f"{key}:{item}" for item in items]


@pytest.fixture
async def io() -> Any:
    thread = FFIOThread("ff-io:slow-lane")
    yield thread
    await thread.close()


async def test_a_busy_lock_moves_its_group_aside_and_the_other_keys_keep_flowing(io: FFIOThread, tmp_path: Path) -> None:
    job = LockedAppend(tmp_path)
    with held_by_another_process(job.path("a")):
        a1 = io.submit(job, "a", "a1")
        b1 = io.submit(job, "b", "b1")
        assert await asyncio.wait_for(b1, _BOUND_S) == "b:b1"
        a2 = io.submit(job, "a", "a2")  # behind a1, in the slow lane, in order
        b2 = io.submit(job, "b", "b2")
        assert await asyncio.wait_for(b2, _BOUND_S) == "b:b2"
        await asyncio.sleep(0.2)
        assert not a1.done() and not a2.done(), "a write went ahead while another process held its lock"
        assert io.slow_groups == 1
    assert await asyncio.wait_for(asyncio.gather(a1, a2), _BOUND_S) == ["a:a1", "a:a2"]
    assert job.path("a").read_text() == "a1\na2\n"
    assert job.path("b").read_text() == "b1\nb2\n"
    # Once its lane is empty, the key is back on the one-hop path.
    assert await asyncio.wait_for(io.submit(job, "a", "a3"), _BOUND_S) == "a:a3"
    assert io.slow_groups == 1


async def test_drain_and_close_wait_for_the_slow_lane(tmp_path: Path) -> None:
    io = FFIOThread("ff-io:slow-drain")
    job = LockedAppend(tmp_path)
    try:
        with held_by_another_process(job.path("a")):
            a1 = io.submit(job, "a", "a1")
            drained = asyncio.ensure_future(io.drain())
            await asyncio.sleep(0.3)
            assert not drained.done(), "drain() returned while a write waited in the slow lane"
        await asyncio.wait_for(drained, _BOUND_S)
        assert a1.done() and a1.result() == "a:a1"
        with held_by_another_process(job.path("a")):
            a2 = io.submit(job, "a", "a2")
            await asyncio.sleep(0.2)
            closing = asyncio.ensure_future(io.close())
            await asyncio.sleep(0.3)
            assert not closing.done(), "close() returned before the slow lane wrote what was queued"
        await asyncio.wait_for(closing, _BOUND_S)
        assert a2.result() == "a:a2"
        assert job.path("a").read_text() == "a1\na2\n"
    finally:
        await io.close()


async def test_a_session_locked_by_another_process_stalls_only_that_session(tmp_path: Path) -> None:
    """The manager over the real store: another user's add_message is not held up."""
    config = load_config(base_path=tmp_path, environ={})
    config.storage.durability = "always"  # type: ignore[assignment]
    async with FFMemoryLayerManager(config) as memory:
        stuck = await memory.create_session("alice", title="stuck")
        free = await memory.create_session("bob", title="free")
        log = tmp_path / "users" / "alice" / "sessions" / stuck.session_id / "messages.jsonl"
        with held_by_another_process(log):
            waiting = asyncio.ensure_future(memory.add_message("alice", stuck.session_id, "user", "waits for the lock"))
            for n in range(3):
                await asyncio.wait_for(memory.add_message("bob", free.session_id, "user", f"flows {n}"), _BOUND_S)
            assert not waiting.done()
        message = await asyncio.wait_for(waiting, _BOUND_S)
        assert [m.content for m in await memory.get_messages("alice", stuck.session_id)] == ["waits for the lock"]
        assert message.content == "waits for the lock"
        assert len(await memory.get_messages("bob", free.session_id)) == 3


async def test_close_lets_the_slow_lane_threads_go(tmp_path: Path) -> None:
    import threading

    io = FFIOThread("ff-io:slow-threads")
    job = LockedAppend(tmp_path)
    with held_by_another_process(job.path("a")):
        waiting = io.submit(job, "a", "a1")
        await asyncio.sleep(0.2)
        assert any(t.name.startswith("ff-io:slow-threads-slow") for t in threading.enumerate())
    await asyncio.wait_for(waiting, _BOUND_S)
    await io.close()
    for _ in range(200):  # bounded: idle pool threads end right after shutdown
        if not any(t.name.startswith("ff-io:slow-threads-slow") and t.is_alive() for t in threading.enumerate()):
            break
        await asyncio.sleep(0.01)
    assert not any(t.name.startswith("ff-io:slow-threads-slow") and t.is_alive() for t in threading.enumerate())
