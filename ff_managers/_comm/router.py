"""``send_message``: choose an endpoint, send, fail over, and decide what the caller gets.

One message, several attempts at most (``1 + max_retries``), each on an endpoint the pool
chooses among those not tried yet (the same one again only when it is the last one left).
An attempt ends in one of three ways:

* an **answer**: a ``response``, or an ``error`` reply for a 4xx (the caller's problem: returned
  at once, never retried) or a 5xx (a server fault: the endpoint is reported failed and the
  message may be retried elsewhere);
* a **transport failure** (:class:`FFTransportError`): the endpoint is reported failed;
* **expiry**: the TTL ran out while queued or in flight: an ``error`` reply
  (``FFMessageExpiredError``, 504); a late answer is never returned.

Whether a failed attempt may be retried is the idempotency rule: the operation is idempotent in
the service's registry, or the write carries its idempotency field (filled with the message id
when left out), so the server answers a repeat with the first result. A request that never left
(the connection could not be opened) is safe to send elsewhere whatever it is. Every retry also
spends from the retry budget, so a failing system gets a bounded extra load. When no attempt
got an answer, :class:`FFCommUnavailableError` is raised; when the last answer was a 5xx, that
error reply is returned.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO, FFEndpointDTO
from ff_managers._comm.directory import FFEndpointDirectory
from ff_managers._comm.errors import FFCommUnavailableError, FFMessageExpiredError, FFQueueFullError, FFTransportError
from ff_managers._comm.message import (
    Clock,
    ff_error_reply,
    ff_idempotency_key,
    ff_is_expired,
    ff_problem_of,
    ff_remaining_s,
    ff_response_reply,
)
from ff_managers._comm.metrics import FFCommMetrics
from ff_managers._comm.retry_budget import FFRetryBudget, ff_retry_allowed
from ff_utils.ff_errors import FFError

__all__ = ["FENCE_ERROR", "FFMessageRouter", "ff_is_server_fault"]

Sleep = Callable[[float], Awaitable[None]]


FENCE_ERROR = "FFUserFrozenError"
"""The 503 a service answers for a user fenced by a move: an answer about the user, not a fault of the endpoint."""


def ff_is_server_fault(reply: FFCrossSystemMessageDTO) -> bool:
    """An error reply that says the server failed (5xx), not that the request was wrong.

    A fenced user's 503 (``FFUserFrozenError``) is not one: the endpoint is fine, so it is
    neither failed over nor counted against the endpoint; the caller retries after ``retry_after``."""
    if reply.message_type != "error" or not isinstance(reply.payload, dict):
        return False
    status = reply.payload.get("status")
    return isinstance(status, int) and status >= 500 and reply.payload.get("error") != FENCE_ERROR


def _is_expiry(reply: FFCrossSystemMessageDTO) -> bool:
    return isinstance(reply.payload, dict) and reply.payload.get("error") == FFMessageExpiredError.__name__


@dataclass(slots=True)
class _Plan:
    """What the rule needs to know about a message before its first attempt."""

    retryable: bool
    key: str | None  # the balancing key (user_id) for consistent_hash


class FFMessageRouter:
    def __init__(self, directory: FFEndpointDirectory, metrics: FFCommMetrics, budget: FFRetryBudget, *,
                 clock: Clock, monotonic: Callable[[], float] = time.monotonic, sleep: Sleep = asyncio.sleep,
                 rng: random.Random | None = None) -> None:  # fmt: skip
        self.directory = directory
        self.metrics = metrics
        self.budget = budget
        self.clock, self.monotonic, self.sleep = clock, monotonic, sleep
        self.rng = rng or random.Random()
        self.expired_before_send = 0

    # -- rules (a planted-defect variant overrides retry_allowed) ---------------------------------

    def retry_allowed(self, *, idempotent: bool, idempotency_key: str | None) -> bool:
        return ff_retry_allowed(idempotent=idempotent, idempotency_key=idempotency_key)

    def is_expired(self, message: FFCrossSystemMessageDTO) -> bool:
        """The TTL check every step makes (before sending, after queueing, when the reply comes)."""
        return ff_is_expired(message, self.clock())

    def _plan(self, message: FFCrossSystemMessageDTO) -> _Plan:
        payload = message.payload if isinstance(message.payload, dict) else {}
        user = payload.get("user_id")
        key = str(user) if user is not None else None
        catalogue = self.directory.context.catalogue
        if message.operation is None or message.operation not in catalogue:
            return _Plan(retryable=False, key=key)
        route = catalogue.get(message.operation)
        params = dict(payload)
        if route.idempotency_field and params.get(route.idempotency_field) in (None, ""):
            params[route.idempotency_field] = message.message_id  # what the handler will send
        return _Plan(self.retry_allowed(idempotent=route.idempotent, idempotency_key=ff_idempotency_key(params, route)), key)

    def _expired_reply(self, message: FFCrossSystemMessageDTO, where: str, endpoint: FFEndpointDTO | None = None) -> FFCrossSystemMessageDTO:
        error = FFMessageExpiredError(f"message {message.message_id} expired {where} (ttl {message.ttl_s}s)")
        if endpoint is not None:
            self.metrics.count("expired", endpoint.system_id, endpoint.protocol)
        return ff_error_reply(message, ff_problem_of(error, 504), now=self.clock(), endpoint=endpoint)

    # -- one attempt ------------------------------------------------------------------------------

    async def attempt(self, endpoint: FFEndpointDTO, message: FFCrossSystemMessageDTO) -> FFCrossSystemMessageDTO:
        """Queue, send and time one attempt on ``endpoint``; the reply, or FFTransportError/FFQueueFullError."""
        directory, pool = self.directory, self.directory.resolve(endpoint.system_id)[0]
        handler, queue = directory.handler(endpoint), directory.queue(endpoint)
        sid, protocol = endpoint.system_id, endpoint.protocol
        remaining = ff_remaining_s(message, self.clock())
        try:
            async with asyncio.timeout(None if remaining is None else max(0.0, remaining)):
                await queue.acquire(message.priority)
        except TimeoutError:
            pool.on_abandon(sid)
            return self._expired_reply(message, "in the send queue, never sent", endpoint)
        except FFQueueFullError:
            pool.on_abandon(sid)
            self.metrics.count("refused", sid, protocol)
            raise
        try:
            remaining = ff_remaining_s(message, self.clock())
            if self.is_expired(message):
                pool.on_abandon(sid)
                return self._expired_reply(message, "in the send queue, never sent", endpoint)
            limit = self.directory.config.request_timeout_s
            timeout = limit if remaining is None or remaining <= 0 else min(limit, remaining)
            pool.on_start(sid)
            self.metrics.count("sent", sid, protocol)
            started = self.monotonic()
            try:
                reply = await handler.send(message, timeout_s=timeout)
            except FFTransportError:
                if self.is_expired(message):  # the TTL, not the endpoint, ran out
                    pool.on_abandon(sid)
                    return self._expired_reply(message, "before its reply arrived", endpoint)
                pool.on_failure(sid)
                self.metrics.count("failures", sid, protocol)
                raise
            except BaseException:
                pool.on_abandon(sid)
                raise
            elapsed = self.monotonic() - started
            if message.ttl_s is not None and reply.message_type == "error" and isinstance(reply.payload, dict) \
                    and reply.payload.get("status") == 504:  # fmt: skip
                pool.on_abandon(sid)  # the receiver refused it as expired: the TTL's end, not the endpoint's fault
                return self._expired_reply(message, "at the receiving service, which did not run it", endpoint)
            if ff_is_server_fault(reply):
                pool.on_failure(sid)
                self.metrics.count("failures", sid, protocol)
            else:
                pool.on_success(sid, elapsed)
            self.metrics.count("received", sid, protocol)
            self.metrics.latency(sid, protocol, elapsed)
            if reply.message_type == "error":
                self.metrics.count("errors", sid, protocol)
            if self.is_expired(message):
                return self._expired_reply(message, "before its reply arrived (the late reply was dropped)", endpoint)
            return reply
        finally:
            queue.release()

    # -- the message ------------------------------------------------------------------------------

    async def send(self, message: FFCrossSystemMessageDTO) -> FFCrossSystemMessageDTO:
        if self.is_expired(message):
            self.expired_before_send += 1
            return self._expired_reply(message, "before it was sent; it was never sent")
        if message.message_type == "heartbeat" and message.operation is None:
            return await self.heartbeat(message)
        pool, pinned = self.directory.resolve(message.target_system)
        plan = self._plan(message)
        others = {e.system_id for e in pool.endpoints() if e.system_id != pinned} if pinned else set()
        others |= self.directory.disconnected
        self.budget.on_request()
        tried: list[str] = []
        last_reply: FFCrossSystemMessageDTO | None = None
        last_error: FFError | None = None
        for attempt in range(1 + message.max_retries):
            endpoint = pool.choose(key=plan.key, exclude=others | set(tried))
            if endpoint is None and tried and not isinstance(last_error, FFQueueFullError):
                endpoint = pool.choose(key=plan.key, exclude=others)  # every one tried: the best again
            if endpoint is None:
                break
            tried.append(endpoint.system_id)
            current = message if attempt == 0 else message.model_copy(update={"retry_count": message.retry_count + attempt})
            try:
                reply = await self.attempt(endpoint, current)
            except FFTransportError as exc:
                last_error, last_reply, safe = exc, None, not exc.sent
            except FFQueueFullError as exc:
                last_error, last_reply, safe = exc, None, True  # refused before sending
            except FFError as exc:  # the message cannot be sent at all (no such operation, bad payload)
                return ff_error_reply(message, ff_problem_of(exc, 404 if "NotFound" in type(exc).__name__ else 422), now=self.clock())
            else:
                if not ff_is_server_fault(reply) or _is_expiry(reply):
                    return reply  # an answer, or the TTL's end: nothing to retry
                last_reply, last_error, safe = reply, None, False
            if not (safe or plan.retryable) or attempt >= message.max_retries:
                break
            if not self.budget.try_spend():
                break
            self.metrics.count("retries", endpoint.system_id, endpoint.protocol)
            if not await self._backoff(message, attempt):
                return self._expired_reply(message, "while waiting to retry")
        if last_reply is not None:
            return last_reply
        if isinstance(last_error, FFQueueFullError):
            raise last_error  # every endpoint tried was full: the message is refused, typed
        if self.is_expired(message):
            return self._expired_reply(message, "before any endpoint answered")
        detail = f"{type(last_error).__name__}: {last_error}" if last_error else "no endpoint available"
        raise FFCommUnavailableError(f"no endpoint of {message.target_system!r} answered {message.operation or message.message_type} "
                                     f"({len(tried)} attempt(s); {detail})", tried=tried,
                                     maybe_applied=isinstance(last_error, FFTransportError) and last_error.sent)  # fmt: skip

    async def heartbeat(self, message: FFCrossSystemMessageDTO) -> FFCrossSystemMessageDTO:
        """A ``heartbeat`` without an operation: one health check of the endpoint the pool picks
        (or the pinned one); the reply's payload is ``{"healthy": bool}``. The verdict is the
        caller's: the pool's health comes from the active checker (with its thresholds)."""
        pool, pinned = self.directory.resolve(message.target_system)
        others = {e.system_id for e in pool.endpoints() if pinned and e.system_id != pinned} | self.directory.disconnected
        endpoint = pool.choose(exclude=others)
        if endpoint is None:
            raise FFCommUnavailableError(f"no endpoint of {message.target_system!r} is available for a heartbeat")
        pool.on_start(endpoint.system_id)  # choose() may have taken a half-open trial: a heartbeat gives it back
        pool.on_abandon(endpoint.system_id)
        try:
            async with asyncio.timeout(self.directory.config.request_timeout_s):
                healthy = bool(await self.directory.handler(endpoint).health())
        except (FFError, OSError, TimeoutError):
            healthy = False
        return ff_response_reply(message, {"healthy": healthy}, endpoint=endpoint, status=None, now=self.clock())

    async def _backoff(self, message: FFCrossSystemMessageDTO, attempt: int) -> bool:
        """Sleep a jittered exponential back-off; False when the TTL would run out meanwhile."""
        base = self.directory.config.retry_backoff_base_s
        delay = self.rng.uniform(0, base * (2**attempt)) if base > 0 else 0.0
        remaining = ff_remaining_s(message, self.clock())
        if remaining is not None and remaining <= delay:
            return False
        if delay > 0:
            await self.sleep(delay)
        return True

    async def broadcast(self, message: FFCrossSystemMessageDTO) -> list[FFCrossSystemMessageDTO]:
        """The message to every connected endpoint of the target group, each answer (or error) in order."""
        pool, pinned = self.directory.resolve(message.target_system)
        targets = [e for e in pool.endpoints() if e.system_id not in self.directory.disconnected and (pinned is None or e.system_id == pinned)]

        async def one(endpoint: FFEndpointDTO) -> FFCrossSystemMessageDTO:
            copy = message.model_copy(update={"target_system": endpoint.system_id})
            try:
                return await self.send(copy)
            except FFError as exc:
                return ff_error_reply(copy, ff_problem_of(exc, 503), now=self.clock(), endpoint=endpoint)

        return list(await asyncio.gather(*(one(e) for e in targets)))

    def snapshot_extra(self) -> dict[str, Any]:
        return {"retry_budget": {"requests": self.budget.requests, "retries": self.budget.retries},
                "expired_before_send": self.expired_before_send}  # fmt: skip
