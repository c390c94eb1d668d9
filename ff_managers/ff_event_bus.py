"""An in-process async event bus: how managers meet without importing each other.

A publisher awaits :meth:`FFEventBus.publish`; every matching handler runs concurrently and in
isolation. A handler that raises or times out is counted, its event is kept in a dead-letter
list (and, when a path is given, appended to a JSONL dead-letter log), and the publisher is
unaffected. Publishing waits for the handlers, so "a tool run shows up in metrics" holds as soon
as ``execute_tool`` returns, which keeps tests deterministic without sleeping.
"""

from __future__ import annotations

import asyncio
import fnmatch
import inspect
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ff_utils.ff_errors import FFError
from ff_utils.ff_json_utils import ff_append_jsonl
from ff_utils.ff_logging import get_logger

__all__ = ["FFEvent", "FFEventBus", "FFEventHandler", "FFDeadLetter"]

_log = get_logger("event_bus")


@dataclass(frozen=True, slots=True)
class FFEvent:
    """Something that happened in a manager. ``payload`` holds plain JSON data only."""

    type: str
    source: str
    payload: dict[str, Any] = field(default_factory=dict)
    user_id: str | None = None
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))

    def to_record(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.type,
            "source": self.source,
            "user_id": self.user_id,
            "timestamp": self.timestamp.isoformat(),
            "payload": self.payload,
        }


FFEventHandler = Callable[[FFEvent], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class FFDeadLetter:
    """An event a handler failed on, with the handler's name and the error."""

    event: FFEvent
    handler: str
    error: str


@dataclass(slots=True)
class _Subscription:
    pattern: str
    handler: FFEventHandler
    name: str


class FFEventBus:
    """Publish/subscribe by event type; patterns use shell wildcards (``memory.*``, ``*``)."""

    def __init__(self, *, handler_timeout: float = 10.0, dead_letter_path: Path | None = None) -> None:
        self._subscriptions: list[_Subscription] = []
        self._heard: dict[str, bool] = {}  # event type -> has a subscriber (cleared on (un)subscribe)
        self._handler_timeout = handler_timeout
        self._dead_letter_path = dead_letter_path
        self.dead_letters: list[FFDeadLetter] = []
        self.published = 0
        self.delivered = 0
        self.failed = 0

    def subscribe(self, pattern: str, handler: FFEventHandler) -> Callable[[], None]:
        """Call ``handler`` for events whose type matches ``pattern``; returns an unsubscribe function."""
        name = getattr(handler, "__qualname__", repr(handler))
        subscription = _Subscription(pattern, handler, name)
        self._subscriptions.append(subscription)
        self._heard.clear()

        def unsubscribe() -> None:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)
                self._heard.clear()

        return unsubscribe

    def _matching(self, event_type: str) -> list[_Subscription]:
        return [s for s in self._subscriptions if fnmatch.fnmatchcase(event_type, s.pattern)]

    def skip_unheard(self, event_type: str) -> bool:
        """Count an event of ``event_type`` as published and return True when no one listens.

        Then the publisher need not build the event (a fresh id and timestamp were a tenth of
        ``add_message``'s event-loop time) nor await anything. False when someone may listen,
        and always False for a bus whose ``publish`` or ``subscribe`` a subclass replaced: its
        ``publish`` decides what publishing means.
        """
        cls = type(self)
        if cls.publish is not FFEventBus.publish or cls.subscribe is not FFEventBus.subscribe:
            return False
        heard = self._heard.get(event_type)
        if heard is None:
            heard = self._heard[event_type] = bool(self._matching(event_type))
        if heard:
            return False
        self.published += 1
        return True

    async def publish(self, event: FFEvent) -> None:
        """Deliver ``event`` to every matching handler; never raises because of a handler."""
        self.published += 1
        targets = self._matching(event.type)
        if targets:
            await asyncio.gather(*(self._deliver(s, event) for s in targets))

    async def _deliver(self, subscription: _Subscription, event: FFEvent) -> None:
        try:
            result = subscription.handler(event)
            if inspect.isawaitable(result):
                await asyncio.wait_for(result, timeout=self._handler_timeout)
            self.delivered += 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # isolation is the point: any handler failure is contained here
            self.failed += 1
            letter = FFDeadLetter(event, subscription.name, f"{type(exc).__name__}: {exc}")
            self.dead_letters.append(letter)
            _log.warning("handler %s failed on %s: %s", subscription.name, event.type, letter.error)
            await self._persist(letter)

    async def _persist(self, letter: FFDeadLetter) -> None:
        if self._dead_letter_path is None:
            return
        record = {"handler": letter.handler, "error": letter.error, "event": letter.event.to_record()}
        try:
            await asyncio.to_thread(ff_append_jsonl, self._dead_letter_path, record)
        except FFError as exc:  # the log is best effort: a handler's failure never reaches the publisher
            _log.error("dead-letter log unwritable: %s", exc)
