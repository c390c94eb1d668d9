"""The endpoints of one group and what is known of each: the one place that says who is available.

An endpoint is *available* when all three hold:

1. **healthy**: its last active health check passed (:mod:`.health_checker` reports through
   :meth:`FFEndpointPool.on_health`; a new endpoint counts as healthy until a check says no;
   a pass after a failed check ends a passive ejection too);
2. **not ejected**: passive outlier ejection (:mod:`.outlier`) after failures of real requests;
3. **its breaker allows** (:mod:`.breaker`): closed, or half-open with its one trial free.

:meth:`FFEndpointPool.choose` hands the available endpoints, minus the caller's ``exclude`` (the
ones a retry already tried), to the configured policy (:mod:`.balancing`) with their effective
weights (configured weight × slow-start ramp after a return). The caller reports each attempt:
:meth:`on_start` when it is sent, then exactly one of :meth:`on_success` (any answer that is not a
server fault, a 4xx included), :meth:`on_failure` (connect error, reset, timeout, 5xx) or
:meth:`on_abandon` (cancelled, no verdict). Reports about an endpoint that was removed meanwhile
are dropped: in-flight requests finish after a deregistration.

State changes are reported to ``on_event(kind, system_id)`` as they happen: ``ejected``,
``returned`` (the ejection ran out; seen at the next call on the pool), ``breaker_open``,
``breaker_closed``, ``unhealthy``, ``healthy``. The façade turns them into metrics and logs.
Everything is synchronous and reads time only from ``now``; one event loop owns a pool.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from ff_class_configs.ff_comm_config import FFCommConfigDTO
from ff_class_configs.ff_comm_dtos import FFEndpointDTO, FFEndpointStatusDTO
from ff_managers._comm.balancing import FFBalancer, FFCandidate, FFConsistentHashBalancer, ff_make_balancer
from ff_managers._comm.breaker import FFBreakerState, FFCircuitBreaker, ff_endpoint_breaker
from ff_managers._comm.outlier import FFOutlierDetector, ff_slow_start_ramp
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_logging import get_logger

__all__ = ["FFEndpointPool"]

_log = get_logger("comm.pool")

Seconds = Callable[[], float]
EventSink = Callable[[str, str], None]

_LATENCY_ALPHA = 0.2  # weight of the newest sample in the latency EWMA


@dataclass(slots=True)
class _Member:
    endpoint: FFEndpointDTO
    breaker: FFCircuitBreaker
    outlier: FFOutlierDetector
    healthy: bool = True
    healthy_since: float | None = None  # when a failed active check was followed by a pass
    outstanding: int = 0
    latency_ewma_s: float | None = None


class FFEndpointPool:
    """Balancing and failover state of the endpoints of one group (see the module doc)."""

    def __init__(
        self,
        group: str,
        config: FFCommConfigDTO,
        *,
        now: Seconds = time.monotonic,
        rng: random.Random | None = None,
        on_event: EventSink | None = None,
        strict: bool = False,
    ) -> None:
        """``strict`` (consistent_hash only): ``choose(key=...)`` returns the key's owner or None."""
        self.group = group
        self.config = config
        self._now = now
        self._rng = rng if rng is not None else random.Random()
        self._on_event = on_event
        self._members: dict[str, _Member] = {}
        self._balancer: FFBalancer = ff_make_balancer(config.balance_policy, replicas=config.hash_replicas, rng=self._rng, strict=strict)

    # -- membership -------------------------------------------------------------------------

    def add(self, endpoint: FFEndpointDTO) -> None:
        """Add an endpoint, or update one already here (address, weight) keeping what is known of it.

        Raises FFValidationError when the endpoint names another group.
        """
        if endpoint.group is not None and endpoint.group != self.group:
            raise FFValidationError(
                f"endpoint {endpoint.system_id!r} belongs to group {endpoint.group!r}, not {self.group!r}",
                field="group",
                value=endpoint.group,
            )
        member = self._members.get(endpoint.system_id)
        if member is not None:
            member.endpoint = endpoint
        else:
            self._members[endpoint.system_id] = _Member(
                endpoint=endpoint,
                breaker=ff_endpoint_breaker(self.config, now=self._now),
                outlier=FFOutlierDetector(
                    consecutive=self.config.eject_consecutive_failures,
                    base_s=self.config.eject_base_s,
                    max_s=self.config.eject_max_s,
                    now=self._now,
                ),
            )
        self._balancer.set_members({sid: m.endpoint.weight for sid, m in self._members.items()})

    def remove(self, system_id: str) -> None:
        """Forget an endpoint (nothing happens when it is not here)."""
        if self._members.pop(system_id, None) is not None:
            self._balancer.set_members({sid: m.endpoint.weight for sid, m in self._members.items()})

    def endpoints(self) -> list[FFEndpointDTO]:
        """Every endpoint of the group, available or not, in the order they were added."""
        return [m.endpoint for m in self._members.values()]

    # -- choosing ---------------------------------------------------------------------------

    def _emit(self, kind: str, system_id: str) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(kind, system_id)
        except Exception:  # a broken metrics sink must not stop routing
            _log.exception("on_event(%s, %s) failed", kind, system_id)

    def _poll(self) -> None:
        """Return the endpoints whose ejection ran out (and say so)."""
        for sid, member in self._members.items():
            if member.outlier.poll():
                self._emit("returned", sid)

    def _ramp(self, member: _Member) -> float:
        now = self._now()
        returned = [t for t in (member.outlier.returned_at, member.healthy_since) if t is not None]
        return ff_slow_start_ramp(max(returned) if returned else None, now, self.config.slow_start_s)

    def _available(self, member: _Member) -> bool:
        return member.healthy and not member.outlier.is_ejected and member.breaker.would_allow()

    def available(self, system_id: str) -> bool:
        """True if ``choose`` may return this endpoint now."""
        self._poll()
        member = self._members.get(system_id)
        return member is not None and self._available(member)

    def choose(self, *, key: str | None = None, exclude: Collection[str] = ()) -> FFEndpointDTO | None:
        """One available endpoint not in ``exclude``, by the configured policy; None when there is none.

        ``key`` is the ``user_id`` for consistent_hash (other policies ignore it). A half-open
        breaker's one trial is taken by the endpoint returned here.
        """
        self._poll()
        candidates = []
        for sid, member in self._members.items():
            if sid in exclude or not self._available(member):
                continue
            ramp = self._ramp(member)
            candidates.append(FFCandidate(sid, member.endpoint.weight * ramp, ramp, member.outstanding))
        chosen = self._balancer.pick(candidates, key=key)
        if chosen is None:
            return None
        member = self._members[chosen]
        member.breaker.allow()  # takes the half-open trial slot, if that is the state
        return member.endpoint

    def owner(self, key: str) -> FFEndpointDTO | None:
        """consistent_hash: the endpoint that owns ``key``, available or not (None for other policies)."""
        if not isinstance(self._balancer, FFConsistentHashBalancer):
            return None
        sid = self._balancer.owner(key)
        return self._members[sid].endpoint if sid is not None else None

    # -- reports ----------------------------------------------------------------------------

    def on_start(self, system_id: str) -> None:
        """One more request outstanding on this endpoint."""
        member = self._members.get(system_id)
        if member is not None:
            member.outstanding += 1

    def _finish(self, member: _Member) -> None:
        member.outstanding = max(0, member.outstanding - 1)

    def on_success(self, system_id: str, latency_s: float) -> None:
        """The endpoint answered (any answer that is not a server fault; a 4xx counts here)."""
        self._poll()
        member = self._members.get(system_id)
        if member is None:
            return
        self._finish(member)
        member.outlier.record_success()
        was = member.breaker.state
        member.breaker.record_success()
        if was != FFBreakerState.CLOSED:
            self._emit("breaker_closed", system_id)
        sample = max(0.0, latency_s)
        ewma = member.latency_ewma_s
        member.latency_ewma_s = sample if ewma is None else ewma + _LATENCY_ALPHA * (sample - ewma)

    def on_failure(self, system_id: str) -> None:
        """The attempt failed at the server or on the way: connect error, reset, timeout, 5xx/503."""
        self._poll()
        member = self._members.get(system_id)
        if member is None:
            return
        self._finish(member)
        if member.outlier.record_failure():
            self._emit("ejected", system_id)
        was = member.breaker.state
        member.breaker.record_failure()
        if was != FFBreakerState.OPEN and member.breaker.state == FFBreakerState.OPEN:
            self._emit("breaker_open", system_id)

    def on_abandon(self, system_id: str) -> None:
        """The attempt ended without a verdict (cancelled): no longer outstanding, trial slot freed."""
        member = self._members.get(system_id)
        if member is not None:
            self._finish(member)
            member.breaker.release_trial()

    def on_health(self, system_id: str, healthy: bool) -> None:
        """An active health check's result; a pass after a failure starts the slow-start ramp.

        A pass after a failed check also ends a passive ejection at once: the instance was down
        (refused, timed out) and is back, typically restarted, so waiting out an ejection that
        may have grown to ``eject_max_s`` would only delay recovery. An endpoint that passes its
        checks all along but fails real requests (overloaded, a broken dependency) is not
        un-ejected by them: its ejections keep growing.
        """
        self._poll()
        member = self._members.get(system_id)
        if member is None or member.healthy == healthy:
            return
        member.healthy = healthy
        if healthy:
            member.healthy_since = self._now()
            self._emit("healthy", system_id)
            if member.outlier.end_ejection():
                self._emit("returned", system_id)
        else:
            self._emit("unhealthy", system_id)

    # -- status -----------------------------------------------------------------------------

    def status(self) -> list[FFEndpointStatusDTO]:
        """What is known of every endpoint now, in the order they were added."""
        self._poll()
        result = []
        for sid, member in self._members.items():
            if not member.healthy:
                state = "unhealthy"
            elif member.outlier.is_ejected:
                state = "ejected"
            elif self._ramp(member) < 1.0:
                state = "slow_start"
            else:
                state = "healthy"
            result.append(
                FFEndpointStatusDTO(
                    system_id=sid,
                    group=self.group,
                    protocol=member.endpoint.protocol,
                    state=state,
                    breaker=member.breaker.state.value,
                    outstanding=member.outstanding,
                    ejections=member.outlier.ejections,
                    consecutive_failures=member.outlier.consecutive_failures,
                    ejected_until=member.outlier.ejected_until,
                )
            )
        return result

    def latency_ewma_s(self, system_id: str) -> float | None:
        """The endpoint's smoothed latency of successful attempts (None: none yet or unknown)."""
        member = self._members.get(system_id)
        return member.latency_ewma_s if member is not None else None
