"""The store's I/O thread: one hop per call, a turn's submissions grouped per (job, key) in one
wake-up, outcomes and errors per caller, cancellation, drain, and a lifecycle with no leaked thread."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager
from ff_utils.ff_errors import FFStorageError, FFValidationError
from ff_utils.ff_io_thread import FFIOThread
from ff_utils.ff_store import FFStore


class Job:
    """Records each call (key, items, the thread it ran in); odd items are refused alone."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, list[int]]] = []
        self.threads: set[str] = set()
        self.fail_keys: set[str] = set()
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def __call__(self, key: str, items: list[int]) -> list[int | BaseException]:
        self.entered.set()
        self.gate.wait(10)
        self.calls.append((key, list(items)))
        self.threads.add(threading.current_thread().name)
        if key in self.fail_keys:
            raise FFStorageError(f"disk full for {key}")
        return [FFValidationError(f"odd {i}", field="item") if i % 2 else i * 10 for i in items]


def _io_threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name and t.is_alive()]


async def _wait_until_gone(name: str) -> None:
    for _ in range(500):  # bounded: the thread ends right after its last job
        if not _io_threads(name):
            return
        await asyncio.sleep(0.01)


@pytest.fixture
async def io() -> Any:
    thread = FFIOThread("ff-io:test")
    yield thread
    await thread.close()


async def test_one_turn_is_one_call_per_key_and_each_caller_gets_its_own_outcome(io: FFIOThread) -> None:
    job = Job()
    futures = [io.submit(job, key, i) for key in ("a", "b") for i in range(4)]
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert sorted(job.calls) == [("a", [0, 1, 2, 3]), ("b", [0, 1, 2, 3])]
    assert results[0] == 0 and results[2] == 20 and results[4] == 0 and results[6] == 20
    assert all(isinstance(r, FFValidationError) for r in results[1::2])
    assert job.threads == {"ff-io:test"} and io.wakeups == 1


async def test_a_failing_group_fails_its_callers_only(io: FFIOThread) -> None:
    job = Job()
    job.fail_keys = {"bad"}
    together = asyncio.gather(io.submit(job, "bad", 0), io.submit(job, "bad", 2), io.submit(job, "good", 4), return_exceptions=True)
    results = await asyncio.wait_for(together, 10)  # bounded: a thread killed by the error resolves no one
    assert [type(r) for r in results[:2]] == [FFStorageError, FFStorageError]
    assert results[2] == 40
    assert await io.submit(job, "good", 6) == 60  # the thread carries on


async def test_a_caller_cancelled_in_its_turn_is_never_handed_to_the_job(io: FFIOThread) -> None:
    job = Job()
    kept, doomed = io.submit(job, "a", 0), io.submit(job, "a", 2)
    doomed.cancel()
    assert await kept == 0
    assert job.calls == [("a", [0])]


async def test_drain_waits_for_work_queued_meanwhile(io: FFIOThread) -> None:
    job = Job()
    job.gate.clear()
    first = io.submit(job, "a", 0)
    assert await asyncio.to_thread(job.entered.wait, 10)  # the thread took it and waits at the gate
    draining = asyncio.ensure_future(io.drain())
    await asyncio.sleep(0)
    late = io.submit(job, "a", 2)
    job.gate.set()
    await draining
    assert first.done() and late.done()
    assert job.calls == [("a", [0]), ("a", [2])]


async def test_close_writes_what_is_queued_and_ends_the_thread_then_a_submit_starts_a_new_one() -> None:
    io, job = FFIOThread("ff-io:close"), Job()
    pending = [io.submit(job, "a", i) for i in (0, 2, 4)]
    await io.close()
    assert [f.result() for f in pending] == [0, 20, 40]
    assert not io.alive and not _io_threads("ff-io:close")
    assert await io.submit(job, "a", 6) == 60  # restarted lazily (a store shared by another manager)
    assert io.alive
    await io.close()
    assert not _io_threads("ff-io:close")
    await io.close()  # closing a stopped thread is a no-op


async def test_an_idle_thread_retires_by_itself_and_comes_back_on_demand() -> None:
    io, job = FFIOThread("ff-io:idle", idle_s=0.05), Job()
    assert await io.submit(job, "a", 0) == 0
    await _wait_until_gone("ff-io:idle")
    assert not io.alive
    assert await io.submit(job, "a", 2) == 20
    await io.close()


async def test_copies_of_a_store_share_its_thread(tmp_path: Path) -> None:
    store = FFStore(tmp_path)
    assert store.with_settings(durability="batch").io is store.io


async def test_a_memory_manager_leaves_no_io_thread_behind(tmp_path: Path) -> None:
    config = load_config(base_path=tmp_path, environ={})
    async with FFMemoryLayerManager(config) as memory:
        session = await memory.create_session("alice")
        await asyncio.gather(*(memory.add_message("alice", session.session_id, "user", f"m{i}") for i in range(10)))
        name = memory.store.io.name
        assert memory.store.io.alive and _io_threads(name)
    assert not memory.store.io.alive and not _io_threads(name)
    assert (await memory.get_session("alice", session.session_id)).message_count == 10  # restarts lazily
    await memory.shutdown()
