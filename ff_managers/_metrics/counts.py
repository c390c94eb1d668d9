"""Thread-safe work counters of the metrics manager, reported in its health details.

Samples, analytics events and audit records are written on worker threads (every call runs its
storage work through ``asyncio.to_thread``), so two concurrent calls can bump the same counter at
once; a plain ``+= 1`` on a dict entry is not atomic across threads, hence the lock.
"""

from __future__ import annotations

import threading

__all__ = ["FFWorkCounts"]


class FFWorkCounts:
    """Named counters that start at 0 and only go up."""

    def __init__(self, *names: str) -> None:
        self._guard = threading.Lock()
        self._counts = dict.fromkeys(names, 0)

    def bump(self, name: str, by: int = 1) -> None:
        """Add ``by`` to counter ``name`` (one of the names given at construction)."""
        with self._guard:
            self._counts[name] += by

    def snapshot(self) -> dict[str, int]:
        """Every counter's current value."""
        with self._guard:
            return dict(self._counts)
