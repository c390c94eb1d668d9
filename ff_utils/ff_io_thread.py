"""One long-lived I/O thread per store: the write path's single hop off the event loop.

Before it, every durable append made two trips: an ``asyncio`` task (the keyed batcher's drain)
and ``asyncio.to_thread`` into the default executor (a fresh work item, a copied context, a
wrapped ``concurrent.futures`` future), and the profile of ``add_message`` showed those trips
costing more than the write itself when nothing was fsynced. Here a caller on the event loop
queues ``(job, key, item, future)`` and awaits its future; at the next turn of the loop what was
queued goes onto a :class:`queue.SimpleQueue` in one piece, and the one thread takes *everything* queued when it wakes, groups it by ``(job, key)`` (one key is one log:
a session, a panel) in arrival order, calls ``job(key, items)`` once per group (one lock hold,
one ``write``, one ``fsync`` under ``always``: a group commit across every log of the root) and
resolves all the callers of one event loop with one ``loop.call_soon_threadsafe``.

Contract of a job, ``job(key, items) -> outcomes`` (synchronous; runs in the I/O thread, so it
may block on disk):

- ``outcomes`` has one entry per item, in order; an entry that is an exception instance is
  raised to that item's caller only (one refused append fails its own call), any other entry
  is that caller's result;
- if the job raises, every caller of that group gets the error (by the job's own contract
  nothing of the group was written); other groups of the same wake-up are unaffected.

Callers cancelled in the turn they submitted are dropped (never handed to the thread); the
thread drops those it finds cancelled when it groups a wake-up's items; a caller cancelled later
is simply not resolved.

Lifecycle (structured: no thread outlives its owner). The thread starts on the first submit and
ends when :meth:`FFIOThread.stop` (or :meth:`FFIOThread.close` from a coroutine) is called, after
writing everything queued before the call; it also ends by itself after ``idle_s`` without work,
and at interpreter exit. A submit after any of these starts a fresh thread, so a store shared by
several managers keeps working when one of them shuts down. In a forked child the parent's
thread does not exist: the child starts its own on first use.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import queue
import threading
import weakref
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from ff_utils.ff_logging import get_logger

__all__ = ["FFIOThread", "IOJob"]

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
R = TypeVar("R")
IOJob = Callable[[Any, list[Any]], Sequence[Any]]
"""``job(key, items) -> outcomes`` (see the module docstring)."""

_log = get_logger("io_thread")
_STOP = object()
_DEFAULT_IDLE_S = 30.0
_threads: weakref.WeakSet[FFIOThread] = weakref.WeakSet()


class FFIOThread:
    """A lazily started I/O thread with a queue; see the module docstring."""

    def __init__(self, name: str = "ff-io", *, idle_s: float = _DEFAULT_IDLE_S) -> None:
        self.name = name
        self.idle_s = idle_s
        self._guard = threading.Lock()
        self._queue: queue.SimpleQueue[Any] | None = None  # the running thread's queue (None: none running)
        self._thread: threading.Thread | None = None
        self._pending: dict[asyncio.AbstractEventLoop, list[Any]] = {}  # this turn's submissions, per loop
        self.submitted = 0
        """Items submitted since creation (for tests and health details)."""
        self.wakeups = 0
        """Times the thread woke to work (items per wake-up shows the batching)."""
        _threads.add(self)

    # ------------------------------------------------------------------ callers (event loop)

    def submit(self, job: IOJob, key: Hashable, item: Any) -> asyncio.Future[Any]:
        """Queue ``item`` for ``job`` under ``key``; the future resolves with this item's own outcome.

        Call from a coroutine on the running loop and await the result. What is submitted during
        one turn of the event loop is handed to the thread in one piece at the start of the next
        turn (one ``call_soon`` per turn, not per call): concurrent callers always share a
        wake-up, and a caller cancelled in the same turn is dropped before the thread sees it.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        pending = self._pending.get(loop)
        if pending is None:
            pending = self._pending[loop] = []
            loop.call_soon(self._flush, loop)
        pending.append((job, key, item, future, loop))
        return future

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        """Hand this loop's submissions to the thread (starting it if none runs)."""
        entries = self._pending.pop(loop, None)
        if not entries:
            return
        entries = [entry for entry in entries if not entry[3].done()]  # cancelled meanwhile
        if not entries:
            return
        with self._guard:
            q = self._queue
            if q is None:
                q = self._start()
            q.put(entries)
            self.submitted += len(entries)

    async def drain(self) -> None:
        """Wait until everything submitted before this call (and while it waits) is done.

        A barrier item goes through the queue: the thread handles items in order, so once the
        barrier is resolved everything queued before it has been written and its callers
        resolved (they are settled in the same callback as the barrier, or an earlier one).
        """
        loop = asyncio.get_running_loop()
        while True:
            self._flush(loop)
            with self._guard:
                seen, running = self.submitted, self._queue is not None
            if not running:
                return
            barrier = self.submit(_barrier, None, None)
            self._flush(loop)
            await barrier
            with self._guard:
                if self.submitted == seen + 1 and not self._pending.get(loop):
                    return

    async def close(self) -> None:
        """Write everything queued, then end the thread, without blocking the event loop.

        The thread resolves a future as its last act; the join that follows waits only for
        the thread function to return.
        """
        loop = asyncio.get_running_loop()
        self._flush(loop)
        done: asyncio.Future[None] = loop.create_future()
        thread = self._request_stop((done, loop))
        if thread is None:
            return
        await done
        thread.join()

    def stop(self, timeout: float | None = None) -> None:
        """Write everything handed to the thread, then end it (blocking: for sync code and exit)."""
        thread = self._request_stop(None)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def alive(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _request_stop(self, notify: tuple[asyncio.Future[None], asyncio.AbstractEventLoop] | None) -> threading.Thread | None:
        with self._guard:
            q, thread = self._queue, self._thread
            if q is None or thread is None:
                return None
            self._queue = None  # the next submit starts a fresh thread with a fresh queue
            q.put([(_STOP, None, None, notify, None)])
        return thread

    def _start(self) -> queue.SimpleQueue[Any]:
        # Called under _guard.
        q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        thread = threading.Thread(target=self._serve, args=(q,), name=self.name, daemon=True)
        self._queue, self._thread = q, thread
        thread.start()
        return q

    # ------------------------------------------------------------------ the thread

    def _serve(self, q: queue.SimpleQueue[Any]) -> None:
        try:
            self._serve_queue(q)
        except BaseException as exc:  # a bug here must not leave callers (or close()) waiting forever
            with self._guard:
                if self._queue is q:
                    self._queue = None
            _log.error("%s stopped on %s: %s", self.name, type(exc).__name__, exc)
            _fail_queued(q, exc)
            raise

    def _serve_queue(self, q: queue.SimpleQueue[Any]) -> None:
        get, get_nowait, idle = q.get, q.get_nowait, self.idle_s
        while True:
            try:
                first = get(timeout=idle)
            except queue.Empty:
                with self._guard:
                    if q.empty():  # nothing slipped in: retire (a later submit starts a new thread)
                        if self._queue is q:
                            self._queue = None
                        return
                continue
            entries = list(first)
            try:
                while True:
                    entries.extend(get_nowait())
            except queue.Empty:
                pass
            self.wakeups += 1
            if not self._handle(entries):
                return

    def _handle(self, entries: list[Any]) -> bool:
        """Run one wake-up's groups and resolve their callers; False once the stop item is seen."""
        groups: dict[tuple[Any, Any], list[tuple[Any, asyncio.Future[Any], asyncio.AbstractEventLoop]]] = {}
        stop_notify: Any = None
        stopping = False
        for job, key, item, future, loop in entries:
            if job is _STOP:
                stopping, stop_notify = True, future
                continue  # items after the stop item (none: it is put last, under the guard) would follow
            if future.cancelled():
                continue
            groups.setdefault((job, key), []).append((item, future, loop))
        settled: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = {}
        for (job, key), batch in groups.items():
            try:
                outcomes = job(key, [item for item, _, _ in batch])
                if len(outcomes) != len(batch):
                    raise RuntimeError(f"{self.name}: the job returned {len(outcomes)} outcomes for {len(batch)} items")
            except Exception as exc:  # noqa: BLE001 - isolation: the error belongs to this group's callers
                outcomes = [exc] * len(batch)
            except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt: tell the callers, then stop
                outcomes = [exc] * len(batch)
                stopping = True
            for (_, future, loop), outcome in zip(batch, outcomes, strict=True):
                settled.setdefault(loop, []).append((future, outcome))
        for loop, pairs in settled.items():
            _post(loop, pairs)
        if stopping:
            if stop_notify is not None:
                done, loop = stop_notify
                _post(loop, [(done, None)])
            return False
        return True


def _fail_queued(q: queue.SimpleQueue[Any], exc: BaseException) -> None:
    """Fail every caller still queued (and let a waiting close() return)."""
    while True:
        try:
            entries = q.get_nowait()
        except queue.Empty:
            return
        for job, _key, _item, future, loop in entries:
            if job is _STOP:
                if future is not None:
                    done, stop_loop = future
                    _post(stop_loop, [(done, None)])
            else:
                _post(loop, [(future, exc)])


def _barrier(_key: Any, items: list[Any]) -> list[None]:
    return [None] * len(items)


def _post(loop: asyncio.AbstractEventLoop, pairs: list[tuple[asyncio.Future[Any], Any]]) -> None:
    try:
        loop.call_soon_threadsafe(_settle, pairs)
    except RuntimeError:  # the loop is closed: its callers are gone with it
        pass


def _settle(pairs: list[tuple[asyncio.Future[Any], Any]]) -> None:
    """On the caller's loop: resolve each still-waiting caller with its own outcome."""
    for future, outcome in pairs:
        if future.done():  # cancelled while its item was written
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


def _after_fork_in_child() -> None:
    # The parent's threads do not exist here; their queues may hold the parent's items, which
    # the child must never write. Each store starts a fresh thread on its next submit.
    for io in list(_threads):
        io._guard = threading.Lock()
        io._queue = None
        io._thread = None
        io._pending = {}


os.register_at_fork(after_in_child=_after_fork_in_child)


@atexit.register
def _stop_all_at_exit() -> None:
    """Write what is queued and end every I/O thread before the interpreter goes."""
    for io in list(_threads):
        try:
            io.stop(timeout=10.0)
        except Exception as exc:  # noqa: BLE001 - the process is ending; say so and carry on
            _log.warning("stopping %s failed: %s", io.name, exc)
