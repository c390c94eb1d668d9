"""The I/O thread's slow lane, exactly: every group that meets a busy lock is counted, and however
many logs are locked by another process at once, at most four helper threads wait for them.

Written for mutation testing (docs/MUTATION.md, ``ff_utils``): ``_to_slow_lane``'s counter and
pool size. One child process holds the five locks (as a frozen instance would).
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from ff_utils import ff_io_thread
from ff_utils.ff_io_thread import FFIOThread
from ff_utils.ff_locks import ff_file_lock, ff_lock_path

BOUND_S = 10.0
_HOLDER = """
import fcntl, os, sys
for name in sys.argv[1:]:
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""


@contextlib.contextmanager
def _held(paths: list[Path]) -> Iterator[None]:
    child = subprocess.Popen([sys.executable, "-c", _HOLDER, *map(str, map(ff_lock_path, paths))],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == b"locked"
        yield
    finally:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.close()
        child.wait(timeout=BOUND_S)
        child.stdout.close()


def _append(root: Path):  # type: ignore[no-untyped-def]
    def job(key: str, items: list[str]) -> list[str]:
        with ff_file_lock(root / key, timeout=30.0):
            with (root / key).open("a") as handle:
                handle.write("".join(f"{item}\n" for item in items))
        return items

    return job


async def test_each_group_meeting_a_busy_lock_is_counted_and_at_most_four_threads_wait(tmp_path: Path) -> None:
    io = FFIOThread("ff-io:exact-slow")
    job = _append(tmp_path)
    keys = [f"k{i}" for i in range(5)]
    try:
        with _held([tmp_path / key for key in keys]):
            waiting = [io.submit(job, key, key) for key in keys]
            for _ in range(500):  # bounded: the thread moves the five groups aside at once
                if io.slow_groups == 5:
                    break
                await asyncio.sleep(0.01)
            assert io.slow_groups == 5
            assert await asyncio.wait_for(io.submit(job, "free", "x"), BOUND_S) == "x"
            helpers = [t for t in threading.enumerate() if t.name.startswith("ff-io:exact-slow-slow")]
            assert 1 <= len(helpers) <= 4
            assert not any(future.done() for future in waiting)
        assert await asyncio.wait_for(asyncio.gather(*waiting), BOUND_S) == keys
        assert [(tmp_path / key).read_text() for key in keys] == [f"{key}\n" for key in keys]
    finally:
        await io.close()


async def test_after_fork_a_drain_waits_for_the_childs_own_slow_lane(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    io = FFIOThread("ff-io:fork-slow")
    monkeypatch.setattr(ff_io_thread, "_threads", weakref.WeakSet([io]))
    ff_io_thread._after_fork_in_child()  # called here: see test_ff_utils_exact_after_fork.py
    job = _append(tmp_path)
    try:
        with _held([tmp_path / "k"]):
            waiting = io.submit(job, "k", "k")
            for _ in range(500):
                if io.slow_groups == 1:
                    break
                await asyncio.sleep(0.01)
            draining = asyncio.ensure_future(io.drain())
            for _ in range(500):  # the barrier is handed over and waits behind the slow lane
                if io.wakeups == 2:
                    break
                await asyncio.sleep(0.01)
            assert not draining.done()
        await asyncio.wait_for(draining, BOUND_S)
        assert waiting.done() and waiting.result() == "k"
    finally:
        await io.close()
