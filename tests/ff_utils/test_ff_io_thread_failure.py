"""The store's I/O thread when its own loop breaks, and the kind of thread it is (issue 20,
survivors ``_serve`` 6 and ``_start`` 10 of the ff_utils sample of seed 20261209).

A bug in the serving loop must not leave a caller waiting forever: every queued caller gets the
error, the log names the thread and the error's type, and a later submit starts a new thread. The
thread is a daemon, so a program that ends without ``close()`` is not kept alive until the thread's
idle timeout.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

import pytest

from ff_utils.ff_io_thread import FFIOThread


def _tens(key: str, items: list[int]) -> list[int]:
    return [i * 10 for i in items]


async def test_a_bug_in_the_loop_fails_the_queued_callers_logs_its_type_and_a_submit_starts_afresh(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_serve_queue = FFIOThread._serve_queue
    broken = threading.Event()

    def serve_queue_with_a_bug(self: FFIOThread, q: queue.SimpleQueue[Any]) -> None:
        if not broken.is_set():
            broken.set()
            raise RuntimeError("bug in the loop")
        real_serve_queue(self, q)

    monkeypatch.setattr(FFIOThread, "_serve_queue", serve_queue_with_a_bug)
    monkeypatch.setattr(threading, "excepthook", lambda args: None)  # the thread re-raises it: expected here
    io = FFIOThread("ff-io:broken")
    try:
        with caplog.at_level(logging.ERROR, logger="ff_utils.ff_io_thread"):
            with pytest.raises(RuntimeError, match="bug in the loop"):
                await io.submit(_tens, "a", 1)
        assert [r.getMessage() for r in caplog.records] == ["ff-io:broken stopped on RuntimeError: bug in the loop"]
        assert await io.submit(_tens, "a", 2) == 20
    finally:
        await io.close()


async def test_the_io_thread_is_a_daemon() -> None:
    io = FFIOThread("ff-io:daemon")
    try:
        assert await io.submit(_tens, "a", 1) == 10
        assert [t.daemon for t in threading.enumerate() if t.name == "ff-io:daemon" and t.is_alive()] == [True]
    finally:
        await io.close()
