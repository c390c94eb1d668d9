"""The send queue of one endpoint: bounded, ordered by priority, emergency first.

A message waits here for one of the endpoint's ``capacity`` send slots (its connection pool's
size). When a slot frees, the waiting message with the highest priority gets it (first come
first served within a priority). The queue is bounded: when ``max_waiting`` messages wait, a new
message that is not more urgent than the least urgent one waiting is refused with
:class:`FFQueueFullError`; a more urgent one takes the place of the least urgent, which is
refused instead. So under overload ``low`` is shed first and ``emergency`` last.

The waiting messages are the senders' own tasks: no worker tasks, nothing to reap. A waiter that
is cancelled (its TTL ran out while queued) leaves without taking a slot.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from types import TracebackType

from ff_managers._comm.errors import FFQueueFullError
from ff_managers._comm.message import PRIORITY_RANK

__all__ = ["FFPrioritySendQueue"]


class FFPrioritySendQueue:
    def __init__(self, capacity: int, max_waiting: int, *, name: str = "") -> None:
        if capacity < 1 or max_waiting < 1:
            raise ValueError("capacity and max_waiting must be >= 1")
        self.name = name
        self.capacity = capacity
        self.max_waiting = max_waiting
        self._free = capacity
        self._heap: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._waiting = 0  # live (not yet granted, refused or cancelled) entries of the heap
        self.refused = 0

    @property
    def waiting(self) -> int:
        return self._waiting

    @property
    def in_use(self) -> int:
        return self.capacity - self._free

    def _make_room(self, rank: int, priority: str) -> None:
        if self._waiting < self.max_waiting:
            return
        live = [entry for entry in self._heap if not entry[2].done()]  # a scan only when full
        lowest = max(live, key=lambda entry: (entry[0], entry[1]))  # least urgent, newest among equals
        self.refused += 1
        if rank >= lowest[0]:
            raise FFQueueFullError(f"send queue {self.name!r} is full ({self.max_waiting} waiting); {priority} refused",
                                   queue=self.name, priority=priority)  # fmt: skip
        error = FFQueueFullError(f"send queue {self.name!r} is full; a more urgent message took this one's place", queue=self.name)
        lowest[2].set_exception(error)
        self._waiting -= 1

    async def acquire(self, priority: str) -> None:
        """Wait for a send slot in priority order; FFQueueFullError when refused (see the module doc)."""
        rank = PRIORITY_RANK[priority]
        if self._free > 0 and self.waiting == 0:
            self._free -= 1
            return
        self._make_room(rank, priority)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (rank, next(self._seq), future))
        self._waiting += 1
        try:
            await future
        except asyncio.CancelledError:
            if not future.done() or future.cancelled():
                future.cancel()
                self._waiting -= 1  # left the queue without a slot
            elif future.exception() is None:
                self.release()  # the slot was handed over just as the waiter left: pass it on
            raise

    def release(self) -> None:
        """Give the slot to the most urgent waiter, or back to the pool."""
        while self._heap:
            _, _, future = heapq.heappop(self._heap)
            if not future.done():
                future.set_result(None)
                self._waiting -= 1
                return
        self._free = min(self.capacity, self._free + 1)

    def slot(self, priority: str) -> _Slot:
        return _Slot(self, priority)


class _Slot:
    def __init__(self, queue: FFPrioritySendQueue, priority: str) -> None:
        self._queue, self._priority = queue, priority

    async def __aenter__(self) -> None:
        await self._queue.acquire(self._priority)

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._queue.release()
