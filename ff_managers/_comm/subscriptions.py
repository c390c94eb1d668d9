"""An event stream over WebSocket that resumes where it stopped, on the same or another instance.

``FFEventStream`` subscribes through one WebSocket endpoint of the target group (chosen by the
pool like a request) and yields ``event`` messages. It remembers the offset of the last event
it yielded; when the connection breaks (the instance was killed, frozen past the ping timeout,
or stopped), the endpoint is reported failed and the stream subscribes again with ``after`` =
that offset on the next available endpoint, so nothing the new instance still holds is lost or
repeated. Offsets belong to one instance's event log: when the new one cannot resume from the
offset (older than what it retains, or past its newest), the stream subscribes from "now" and
yields one ``events.gap`` event first (headers ``gap: true`` and the ``after`` it could not
resume from), so a consumer knows to re-read state instead of silently missing events.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO, FFEndpointDTO
from ff_managers._comm.directory import FFEndpointDirectory
from ff_managers._comm.errors import FFCommUnavailableError, FFTransportError
from ff_managers._comm.handlers.ws import FFWebSocketHandler
from ff_utils.ff_errors import FFError
from ff_utils.ff_logging import get_logger

__all__ = ["FFEventStream"]

_log = get_logger("comm.events")


class FFEventStream:
    def __init__(self, directory: FFEndpointDirectory, target: str, topics: list[str], *, after: int | None = None,
                 max_wait_s: float = 30.0) -> None:  # fmt: skip
        self._directory = directory
        self._target = target
        self._topics = list(topics)
        self.last_offset = after
        self.max_wait_s = max_wait_s
        self._handler: FFWebSocketHandler | None = None
        self._endpoint: FFEndpointDTO | None = None
        self._pending_gap: FFCrossSystemMessageDTO | None = None
        self.failovers = 0
        self.endpoint_history: list[str] = []

    @property
    def endpoint(self) -> FFEndpointDTO | None:
        return self._endpoint

    def _candidates_excluded(self) -> set[str]:
        pool, pinned = self._directory.resolve(self._target)
        return {e.system_id for e in pool.endpoints()
                if e.protocol != "websocket" or e.system_id in self._directory.disconnected or (pinned and e.system_id != pinned)}  # fmt: skip

    async def _open(self, failed: str | None) -> None:
        pool, _ = self._directory.resolve(self._target)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait_s
        excluded = self._candidates_excluded()
        while True:
            endpoint = pool.choose(exclude=excluded | ({failed} if failed else set()))
            if endpoint is None and failed:
                endpoint = pool.choose(exclude=excluded)
            if endpoint is not None and await self._subscribe(endpoint):
                return
            if loop.time() >= deadline:
                raise FFCommUnavailableError(f"no WebSocket endpoint of {self._target!r} accepted the subscription", topics=self._topics)
            await asyncio.sleep(min(self._directory.config.health_interval_s, max(0.0, deadline - loop.time())))

    async def _subscribe(self, endpoint: FFEndpointDTO) -> bool:
        handler = self._directory.handlers.build(endpoint, self._directory.context)
        assert isinstance(handler, FFWebSocketHandler)
        pool = self._directory.resolve(endpoint.system_id)[0]
        try:
            answer = await handler.subscribe(self._topics, after=self.last_offset)
            if "error" in answer and self.last_offset is not None and answer["error"].get("data", {}).get("status") in (409, 422):
                gap_after, handler.last_offset = self.last_offset, None
                answer = await handler.subscribe(self._topics)
                if "result" in answer:
                    self._pending_gap = self._gap(endpoint, gap_after)
        except FFTransportError as exc:
            _log.debug("subscribe on %s failed: %r", endpoint.system_id, exc)
            pool.on_failure(endpoint.system_id)
            await handler.close()
            return False
        if "error" in answer:
            await handler.close()
            raise FFError(f"subscription refused by {endpoint.system_id}: {answer['error'].get('message')}", answer=answer["error"])
        pool.on_success(endpoint.system_id, 0.0)
        self._handler, self._endpoint = handler, endpoint
        self.endpoint_history.append(endpoint.system_id)
        return True

    def _gap(self, endpoint: FFEndpointDTO, after: int) -> FFCrossSystemMessageDTO:
        return FFCrossSystemMessageDTO(message_type="event", source_system=endpoint.system_id, target_system="ff-client",
                                       operation="events.gap", payload={"after": after},
                                       headers={"gap": "true", "after": str(after)})  # fmt: skip

    async def next(self) -> FFCrossSystemMessageDTO:
        """The next event (failing over as needed); FFCommUnavailableError when no endpoint serves it."""
        while True:
            if self._handler is None:
                await self._open(None)
            if self._pending_gap is not None:
                gap, self._pending_gap = self._pending_gap, None
                return gap
            assert self._handler is not None and self._endpoint is not None
            try:
                event = await self._handler.receive()
            except FFTransportError:
                failed = self._endpoint.system_id
                self._directory.resolve(failed)[0].on_failure(failed)
                await self._handler.close()
                self._handler = None
                self.failovers += 1
                await self._open(failed)
                continue
            offset = event.headers.get("offset")
            if offset is not None and offset.isdigit():
                self.last_offset = int(offset)
            return event

    def __aiter__(self) -> FFEventStream:
        return self

    async def __anext__(self) -> FFCrossSystemMessageDTO:
        return await self.next()

    async def close(self) -> None:
        handler, self._handler = self._handler, None
        if handler is not None:
            await handler.close()

    async def __aenter__(self) -> FFEventStream:
        await self._open(None)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    def describe(self) -> dict[str, Any]:
        return {"target": self._target, "topics": self._topics, "last_offset": self.last_offset, "failovers": self.failovers,
                "endpoints": list(self.endpoint_history)}  # fmt: skip
