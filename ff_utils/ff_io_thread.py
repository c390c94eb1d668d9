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

A log whose lock another process holds (frozen by SIGSTOP or a VM pause, or stuck on a slow
disk) must not stall every other log of the root behind it. So the thread takes locks
fail-fast (:func:`~ff_utils.ff_locks.ff_locks_fail_fast`): a job that meets a busy lock raises
before writing anything, and its group moves to the *slow lane*, a few helper threads that may
wait for the lock (up to the store's lock timeout). Later groups of the same key follow it
there, in order, until its lane is empty; every other key keeps its one hop. :meth:`drain`
and :meth:`close` wait for the slow lane too.

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
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ff_utils.ff_locks import FFLockBusy, ff_locks_fail_fast
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
_SLOW_LANE_THREADS = 4
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
        self.slow_groups = 0  # groups that met a busy lock and went to the slow lane
        self._slow_guard = threading.Condition()
        self._slow: dict[tuple[Any, Any], deque[list[Any]]] = {}  # (job, key) -> its groups waiting in the slow lane
        self._slow_barriers: list[list[Any]] = []  # barrier groups waiting for the slow lane to empty
        self._slow_pool: ThreadPoolExecutor | None = None
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
        for slot, batch in groups.items():
            if self._follow_slow_lane(slot, batch):
                continue
            try:
                with ff_locks_fail_fast():
                    outcomes, fatal = _run_group(self.name, slot, batch)
            except FFLockBusy:
                self._to_slow_lane(slot, batch)  # nothing of it was written
                continue
            stopping = stopping or fatal
            for (_, future, loop), outcome in zip(batch, outcomes, strict=True):
                settled.setdefault(loop, []).append((future, outcome))
        for loop, pairs in settled.items():
            _post(loop, pairs)
        if stopping:
            self._wait_slow_lane()  # close() promises everything queued before it is written
            if stop_notify is not None:
                done, loop = stop_notify
                _post(loop, [(done, None)])
            return False
        return True

    # ------------------------------------------------------------------ the slow lane

    def _follow_slow_lane(self, slot: tuple[Any, Any], batch: list[Any]) -> bool:
        """Queue ``batch`` behind its key's groups in the slow lane (True), if it has any; a barrier
        waits for the whole slow lane, so drain() covers the groups written there."""
        with self._slow_guard:
            if slot[0] is _barrier:
                if not self._slow:
                    return False
                self._slow_barriers.append(batch)
                return True
            chain = self._slow.get(slot)
            if chain is None:
                return False
            chain.append(batch)
            return True

    def _to_slow_lane(self, slot: tuple[Any, Any], batch: list[Any]) -> None:
        with self._slow_guard:
            self.slow_groups += 1
            self._slow[slot] = deque([batch])
            if self._slow_pool is None:
                self._slow_pool = ThreadPoolExecutor(_SLOW_LANE_THREADS, thread_name_prefix=f"{self.name}-slow")
            self._slow_pool.submit(self._run_slow_lane, slot)

    def _run_slow_lane(self, slot: tuple[Any, Any]) -> None:
        """Write one key's slow-lane groups in order (waiting for its lock), then retire the key."""
        while True:
            with self._slow_guard:
                chain = self._slow[slot]
                if not chain:
                    del self._slow[slot]
                    if not self._slow:
                        barriers, self._slow_barriers = self._slow_barriers, []
                        for batch in barriers:
                            _post_batch(batch, [None] * len(batch))
                        self._slow_guard.notify_all()
                    return
                batch = chain.popleft()
            outcomes, _fatal = _run_group(self.name, slot, batch)
            _post_batch(batch, outcomes)

    def _wait_slow_lane(self) -> None:
        """Wait until the slow lane is empty, then let its threads go (a later busy lock starts a pool)."""
        with self._slow_guard:
            while self._slow:
                self._slow_guard.wait()
            pool, self._slow_pool = self._slow_pool, None
        if pool is not None:
            pool.shutdown(wait=False)


def _run_group(name: str, slot: tuple[Any, Any], batch: list[Any]) -> tuple[Sequence[Any], bool]:
    """One group's outcomes, and whether a fatal error asks the thread to stop (FFLockBusy passes)."""
    job, key = slot
    try:
        outcomes = job(key, [item for item, _, _ in batch])
        if len(outcomes) != len(batch):
            raise RuntimeError(f"{name}: the job returned {len(outcomes)} outcomes for {len(batch)} items")
    except FFLockBusy:
        raise
    except Exception as exc:  # noqa: BLE001 - isolation: the error belongs to this group's callers
        return [exc] * len(batch), False
    except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt: tell the callers, then stop
        return [exc] * len(batch), True
    return outcomes, False


def _post_batch(batch: list[Any], outcomes: Sequence[Any]) -> None:
    per_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = {}
    for (_, future, loop), outcome in zip(batch, outcomes, strict=True):
        per_loop.setdefault(loop, []).append((future, outcome))
    for loop, pairs in per_loop.items():
        _post(loop, pairs)


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
        io._slow_guard = threading.Condition()
        io._slow = {}
        io._slow_barriers = []
        io._slow_pool = None


os.register_at_fork(after_in_child=_after_fork_in_child)


@atexit.register
def _stop_all_at_exit() -> None:
    """Write what is queued and end every I/O thread before the interpreter goes."""
    for io in list(_threads):
        try:
            io.stop(timeout=10.0)
        except Exception as exc:  # noqa: BLE001 - the process is ending; say so and carry on
            _log.warning("stopping %s failed: %s", io.name, exc)
