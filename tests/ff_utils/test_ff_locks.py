"""ff_locks: one lock per file across threads, processes and coroutines."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import time
from pathlib import Path

import pytest

from ff_utils.ff_errors import FFStorageError
from ff_utils.ff_locks import ff_async_file_lock, ff_file_lock, ff_lock_path


def test_lock_path_is_hidden_sibling(tmp_path: Path) -> None:
    assert ff_lock_path(tmp_path / "a.json") == tmp_path / ".a.json.lock"


def test_threads_are_mutually_exclusive(tmp_path: Path) -> None:
    target = tmp_path / "counter"
    inside = 0
    overlap = False
    total = 0

    def work() -> None:
        nonlocal inside, overlap, total
        for _ in range(50):
            with ff_file_lock(target):
                inside += 1
                overlap |= inside > 1
                current = total
                time.sleep(0)
                total = current + 1
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not overlap and total == 300


def test_timeout_raises_storage_error(tmp_path: Path) -> None:
    target = tmp_path / "doc"
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with ff_file_lock(target):
            held.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    held.wait(5)
    started = time.monotonic()
    with pytest.raises(FFStorageError, match="lock not acquired"):
        with ff_file_lock(target, timeout=0.2):
            pass
    assert time.monotonic() - started < 3
    release.set()
    t.join()
    with ff_file_lock(target, timeout=1):  # released: free again
        pass


def _hold_lock(path: str, ready: object, release: object) -> None:
    with ff_file_lock(path):
        ready.set()  # type: ignore[attr-defined]
        release.wait(10)  # type: ignore[attr-defined]


def test_lock_excludes_other_processes(tmp_path: Path) -> None:
    target = tmp_path / "shared"
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_hold_lock, args=(str(target), ready, release))
    child.start()
    try:
        assert ready.wait(10)
        with pytest.raises(FFStorageError, match="another process"):
            with ff_file_lock(target, timeout=0.3):
                pass
    finally:
        release.set()
        child.join(10)
    with ff_file_lock(target, timeout=2):
        pass


async def test_async_lock_does_not_block_loop(tmp_path: Path) -> None:
    target = tmp_path / "doc"
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    with ff_file_lock(target):
        waiter = asyncio.create_task(_take(target))
        await asyncio.sleep(0.2)
        assert not waiter.done()
    await asyncio.wait_for(waiter, 5)
    task.cancel()
    assert ticks >= 5  # the loop kept running while the coroutine waited for the lock


async def _take(target: Path) -> None:
    async with ff_async_file_lock(target):
        pass


def test_lock_under_a_file_is_an_ff_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(FFStorageError):
        with ff_file_lock(tmp_path / "file" / "doc.json"):
            pass
