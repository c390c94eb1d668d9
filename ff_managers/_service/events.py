"""Event subscriptions with offsets: resume after a reconnect without losing or repeating events.

Every event on the managers' bus gets the next offset and is kept in a bounded in-memory log
(the last ``service.event_retention`` events). A subscriber names topic patterns (shell
wildcards, ``memory.*``) and optionally ``after``: it first gets every retained event past that
offset, then live ones, in offset order, each exactly once. The backlog is taken and the live
queue registered in one step on the event loop, so no event falls between them.

Retention bound, decided and documented: the log is per instance and in memory. Offsets start
at the instance's start time in microseconds, so they only grow, also across restarts. A resume
whose ``after`` is older than the oldest retained event (too slow, or the server restarted) is
refused with FFConflictError naming the oldest retained offset, never answered with a silent
gap; an ``after`` beyond the newest offset is FFValidationError. A subscriber that falls
``subscriber_queue`` events behind is dropped with an overflow notice and resumes with
``after=<last offset it saw>``.

Only the subscriber's own user's events are delivered; an admin sees every user's.
"""

from __future__ import annotations

import asyncio
import fnmatch
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ff_managers._service.auth import FFPrincipal
from ff_managers.ff_event_bus import FFEvent
from ff_utils.ff_errors import FFConflictError, FFValidationError

__all__ = ["FFEventLog", "FFSubscription"]

_MAX_TOPICS = 64


@dataclass(slots=True)
class FFSubscription:
    principal: FFPrincipal
    topics: tuple[str, ...]
    queue: asyncio.Queue[dict[str, Any]]
    overflowed: bool = False
    last_offset: int = 0
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    def wants(self, record: dict[str, Any]) -> bool:
        if not (self.principal.admin or record["user_id"] == self.principal.user_id):
            return False
        return any(fnmatch.fnmatchcase(record["topic"], pattern) for pattern in self.topics)


class FFEventLog:
    def __init__(self, retention: int, queue_size: int) -> None:
        self._records: deque[dict[str, Any]] = deque(maxlen=retention)
        self._queue_size = queue_size
        self._subscribers: list[FFSubscription] = []
        self.next_offset = time.time_ns() // 1000

    @property
    def last_offset(self) -> int:
        return self.next_offset - 1

    @property
    def oldest_offset(self) -> int:
        return self._records[0]["offset"] if self._records else self.next_offset

    def on_event(self, event: FFEvent) -> None:
        """Bus handler: number the event, keep it, hand it to every matching subscriber."""
        record = {"offset": self.next_offset, "topic": event.type, "user_id": event.user_id,
                  "timestamp": event.timestamp.isoformat(), "data": event.payload}  # fmt: skip
        self.next_offset += 1
        self._records.append(record)
        for subscription in self._subscribers:
            if subscription.overflowed or not subscription.wants(record):
                continue
            try:
                subscription.queue.put_nowait(record)
            except asyncio.QueueFull:
                subscription.overflowed = True
                subscription.closed.set()

    def subscribe(self, principal: FFPrincipal, topics: Any, after: Any) -> FFSubscription:
        patterns = _check_topics(topics)
        if after is not None and (not isinstance(after, int) or isinstance(after, bool)):
            raise FFValidationError("after must be an integer offset", field="after")
        if after is not None and after > self.last_offset:
            raise FFValidationError(f"after={after} is beyond the newest offset {self.last_offset}", field="after")
        if after is not None and after < self.oldest_offset - 1:
            raise FFConflictError(f"events after offset {after} are no longer retained; the oldest is {self.oldest_offset}")
        subscription = FFSubscription(principal, patterns, asyncio.Queue(self._queue_size))
        if after is not None:
            backlog = [r for r in self._records if r["offset"] > after and subscription.wants(r)]
            if len(backlog) > self._queue_size:
                raise FFConflictError(f"{len(backlog)} events to replay exceed the subscriber queue; resume from a later offset")
            for record in backlog:
                subscription.queue.put_nowait(record)
        self._subscribers.append(subscription)
        return subscription

    def unsubscribe(self, subscription: FFSubscription) -> None:
        if subscription in self._subscribers:
            self._subscribers.remove(subscription)
        subscription.closed.set()


def _check_topics(topics: Any) -> tuple[str, ...]:
    if not isinstance(topics, list) or not topics or len(topics) > _MAX_TOPICS:
        raise FFValidationError(f"topics must be a list of 1 to {_MAX_TOPICS} patterns", field="topics")
    if not all(isinstance(t, str) and 0 < len(t) <= 200 for t in topics):
        raise FFValidationError("every topic must be a non-empty string", field="topics")
    return tuple(topics)
