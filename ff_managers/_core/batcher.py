"""One keyed batcher: concurrent callers of one key share a trip to disk, each keeps its own result.

Memory's message appends and the panel's message writer both want the same thing: when many
coroutines write to one session or panel at once, the first one starts a *drain* for that key;
the drain takes everything queued for the key, hands the whole batch to ``drain_fn`` (one
worker-thread trip, one lock hold, one ``fsync``), resolves each caller with its own outcome,
and repeats until the queue is empty. Items queued meanwhile form the next batch. One drain
runs per key at a time; different keys drain concurrently.

The drain function's contract, ``await drain_fn(key, items) -> outcomes``:

- ``outcomes`` has one entry per item, in order; an entry that is an exception instance is
  raised to that item's caller only (a refused message fails its own call, the rest are
  written), any other entry is that caller's result.
- If ``drain_fn`` raises, every caller of that batch gets the error (nothing of the batch was
  written, by the drain function's own contract): errors never leak into another batch.
- A caller cancelled before its batch is taken is dropped (its item is never handed to
  ``drain_fn``); one cancelled while its batch is being written is simply not resolved.
- If the drain itself is cancelled (the event loop is closing), every caller still waiting on
  that key is cancelled, not left hanging.

Lifecycle: the batcher belongs to a component (:meth:`FFComponentBase._batcher` creates and
registers it); :meth:`drain` waits until nothing is queued or being written, including items
submitted while it waits. The component's ``shutdown()`` drains every batcher it owns before it
releases anything; work that arrives during that drain is written too (a manager shut down while
other tasks still call it must not turn their calls into errors). Drains are bound
to the event loop that started them: a drain left by a loop that has since closed is forgotten,
never awaited from another loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

__all__ = ["FFKeyedBatcher", "DrainFunction"]

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
R = TypeVar("R")

DrainFunction = Callable[[K, list[T]], Awaitable[Sequence[R | BaseException]]]


class FFKeyedBatcher(Generic[K, T, R]):
    """Queues items per key and drains each key's queue in batches (see the module docstring)."""

    def __init__(self, drain_fn: DrainFunction[K, T, R], *, name: str = "batcher") -> None:
        self.name = name
        self._drain_fn = drain_fn
        self._queues: dict[K, list[tuple[T, asyncio.Future[R]]]] = {}
        self._drains: dict[K, asyncio.Task[None]] = {}

    @property
    def pending(self) -> int:
        """Items queued and not yet taken by a drain (for health details and tests)."""
        return sum(len(queue) for queue in self._queues.values())

    def submit(self, key: K, item: T) -> asyncio.Future[R]:
        """Queue ``item`` for ``key``; the returned future resolves with this item's own outcome.

        Call from a coroutine on the running loop and await the result.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._queues.setdefault(key, []).append((item, future))
        running = self._drains.get(key)
        if running is None or running.done() or running.get_loop() is not loop:
            self._drains[key] = asyncio.create_task(self._drain_key(key), name=f"{self.name}:{key!r}")
        return future

    async def drain(self) -> None:
        """Wait until every item submitted on this event loop is written (or failed).

        Items submitted while draining are waited for too. Drains of another (closed) loop are
        forgotten: their callers were cancelled when that loop closed.
        """
        loop = asyncio.get_running_loop()
        while True:
            for key, task in list(self._drains.items()):
                if task.done() or task.get_loop() is not loop:
                    del self._drains[key]
            running = list(self._drains.values())
            if not running:
                for key in [key for key, queue in self._queues.items() if not queue]:
                    del self._queues[key]
                return
            # Outcomes belong to the callers; a drain task itself only ends or is cancelled.
            await asyncio.gather(*running, return_exceptions=True)

    async def _drain_key(self, key: K) -> None:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            while True:
                batch = [entry for entry in self._queues.pop(key, []) if not entry[1].done()]
                if not batch:
                    # No await between the empty check and this removal: nothing is stranded.
                    if self._drains.get(key) is asyncio.current_task():
                        del self._drains[key]
                    return
                try:
                    outcomes = await self._drain_fn(key, [item for item, _ in batch])
                except Exception as exc:  # isolation: the error belongs to this batch's callers
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                else:
                    _settle(batch, outcomes, self.name)
                batch = []
        except BaseException:
            # Cancelled (the loop is closing): whoever still waits is cancelled, not left hanging.
            for _, future in batch + self._queues.pop(key, []):
                future.cancel()
            if self._drains.get(key) is asyncio.current_task():
                del self._drains[key]
            raise


def _settle(batch: list[tuple[T, asyncio.Future[R]]], outcomes: Sequence[R | BaseException], name: str) -> None:
    """Resolve each still-waiting caller with its own outcome."""
    if len(outcomes) != len(batch):
        error = RuntimeError(f"{name}: the drain function returned {len(outcomes)} outcomes for {len(batch)} items")
        outcomes = [error] * len(batch)
    for (_, future), outcome in zip(batch, outcomes, strict=True):
        if future.done():  # the caller was cancelled while its batch was written
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
