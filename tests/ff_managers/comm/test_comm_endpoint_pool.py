"""The pool: membership, availability from health + ejection + breaker, reports, status, defects."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence

import pytest

from ff_managers._comm.balancing import FFBalancer, FFCandidate, FFConsistentHashBalancer
from ff_managers._comm.endpoint_pool import FFEndpointPool
from ff_utils.ff_errors import FFValidationError
from tests.ff_managers.comm._balance_fakes import Events, Seconds, counts, endpoint, make_pool

POLICIES = ["round_robin", "weighted", "least_outstanding", "consistent_hash"]
KEYS = [f"user-{i}" for i in range(200)]


class DeadEndpointPool(FFEndpointPool):
    """Planted defect: availability forgets health and ejection (only the breaker is asked)."""

    def _available(self, member):  # type: ignore[no-untyped-def]
        return member.breaker.would_allow()


class MemberCyclingBalancer:
    """Planted defect at the policy level: cycles over every member, ignoring the candidates."""

    def __init__(self) -> None:
        self._members: list[str] = []
        self._next = 0

    def set_members(self, weights: Mapping[str, int]) -> None:
        self._members = list(weights)

    def pick(self, candidates: Sequence[FFCandidate], *, key: str | None = None) -> str | None:
        self._next += 1
        return self._members[self._next % len(self._members)] if self._members else None


class OwnerAlwaysBalancer(FFConsistentHashBalancer):
    """Planted defect: consistent hash that sends a key to its owner even when the owner is out."""

    def pick(self, candidates: Sequence[FFCandidate], *, key: str | None = None) -> str | None:
        return self.owner(key) if key is not None else None


def dead_endpoint_chosen(pool_class: type[FFEndpointPool], policy: str, balancer: FFBalancer | None = None) -> list[str]:
    """Route 400 requests after one endpoint was ejected and one failed its health check;
    return the dead endpoints that were chosen (the property: none)."""
    clock = Seconds()
    pool = make_pool(policy, [], clock=clock, pool_class=pool_class, eject_consecutive_failures=1)
    if balancer is not None:
        pool._balancer = balancer
    for port, name in enumerate(["a", "ejected", "unhealthy", "b"], start=9000):
        pool.add(endpoint(name, port))
    pool.on_failure("ejected")
    pool.on_health("unhealthy", False)
    chosen = [pool.choose(key=key) for key in KEYS * 2]
    return sorted({c.system_id for c in chosen if c is not None} & {"ejected", "unhealthy"})


@pytest.mark.parametrize("policy", POLICIES)
def test_dead_endpoints_are_never_chosen(policy: str) -> None:
    assert dead_endpoint_chosen(FFEndpointPool, policy) == []


@pytest.mark.parametrize("policy", POLICIES)
def test_planted_balancer_that_keeps_choosing_a_dead_endpoint_shows_red(policy: str) -> None:
    assert dead_endpoint_chosen(DeadEndpointPool, policy) == ["ejected", "unhealthy"]


@pytest.mark.parametrize(
    "balancer",
    [MemberCyclingBalancer(), OwnerAlwaysBalancer(replicas=160, rng=random.Random(0))],
    ids=["cycles-members", "owner-always"],
)
def test_planted_policy_that_ignores_availability_shows_red(balancer: FFBalancer) -> None:
    assert dead_endpoint_chosen(FFEndpointPool, "consistent_hash", balancer) == ["ejected", "unhealthy"]


def test_health_flips_availability_and_return_starts_slow_start() -> None:
    clock, events = Seconds(), Events()
    pool = make_pool("weighted", ["a", "b"], clock=clock, events=events, slow_start_s=2.0)
    pool.on_health("b", False)
    pool.on_health("b", False)  # no change, no event
    assert events.seen == [("unhealthy", "b")] and not pool.available("b")
    assert counts(pool, 10) == Counter({"a": 10})
    pool.on_health("b", True)
    assert events.seen[-1] == ("healthy", "b") and pool.available("b")
    assert [s.state for s in pool.status()] == ["healthy", "slow_start"]
    clock.advance(2.0)
    assert [s.state for s in pool.status()] == ["healthy", "healthy"]


def test_none_when_every_endpoint_is_out() -> None:
    pool = make_pool("least_outstanding", ["a", "b"], eject_consecutive_failures=1)
    pool.on_failure("a")
    pool.on_health("b", False)
    assert pool.choose() is None
    assert make_pool("round_robin", []).choose() is None


def test_outstanding_is_counted_and_finished_once() -> None:
    pool = make_pool("least_outstanding", ["a", "b"])
    pool.on_start("a")
    pool.on_start("a")
    pool.on_start("b")
    assert [s.outstanding for s in pool.status()] == [2, 1]
    pool.on_success("a", 0.02)
    pool.on_failure("b")
    pool.on_abandon("a")
    pool.on_abandon("a")  # never below zero
    assert [s.outstanding for s in pool.status()] == [0, 0]
    assert pool.latency_ewma_s("a") == pytest.approx(0.02)


def test_status_reports_every_field() -> None:
    clock = Seconds(100.0)
    pool = make_pool("round_robin", ["a", "b"], clock=clock, eject_consecutive_failures=2, eject_base_s=3.0)
    pool.on_failure("b")
    first = pool.status()[1]
    assert (first.consecutive_failures, first.state, first.ejections) == (1, "healthy", 0)
    pool.on_failure("b")
    status = pool.status()[1]
    assert (status.system_id, status.group, status.protocol, status.state) == ("b", "g", "http", "ejected")
    assert (status.ejections, status.ejected_until, status.breaker) == (1, 103.0, "closed")


def test_add_updates_in_place_and_refuses_another_group() -> None:
    pool = make_pool("weighted", {"a": 1, "b": 1}, eject_consecutive_failures=1)
    pool.on_failure("b")
    pool.add(endpoint("b", 9100, weight=3))
    assert [e.port for e in pool.endpoints()] == [9000, 9100]
    assert pool.status()[1].state == "ejected"  # what was known is kept
    with pytest.raises(FFValidationError) as caught:
        pool.add(endpoint("c", 9200, group="other"))
    assert caught.value.field == "group" and [e.system_id for e in pool.endpoints()] == ["a", "b"]


def test_remove_forgets_and_late_reports_are_dropped() -> None:
    events = Events()
    pool = make_pool("consistent_hash", ["a", "b"], events=events)
    pool.remove("b")
    pool.remove("b")  # idempotent
    for report in (lambda: pool.on_start("b"), lambda: pool.on_success("b", 0.1), lambda: pool.on_failure("b"), lambda: pool.on_health("b", False)):
        report()
    assert events.seen == [] and [e.system_id for e in pool.endpoints()] == ["a"]
    assert {pool.choose(key=k).system_id for k in KEYS} == {"a"}  # type: ignore[union-attr]


def test_a_broken_event_sink_does_not_stop_routing() -> None:
    def sink(kind: str, system_id: str) -> None:
        raise RuntimeError("metrics down")

    pool = make_pool("round_robin", ["a", "b"], events=sink, eject_consecutive_failures=1)  # type: ignore[arg-type]
    pool.on_failure("a")
    assert pool.choose().system_id == "b"  # type: ignore[union-attr]


def test_the_configured_policy_is_used() -> None:
    assert [make_pool("round_robin", ["a", "b"]).choose().system_id for _ in range(2)] == ["a", "a"]  # type: ignore[union-attr]
    pool = make_pool("consistent_hash", ["a", "b", "c"])
    assert pool.owner("user-1") is not None and make_pool("round_robin", ["a"]).owner("user-1") is None


def test_a_recovered_health_check_ends_an_ejection_but_steady_passes_do_not() -> None:
    clock, events = Seconds(), Events()
    pool = make_pool("round_robin", ["a", "b"], clock=clock, events=events, eject_consecutive_failures=1, eject_base_s=30.0)
    pool.on_failure("b")  # overloaded: fails requests, passes checks
    pool.on_health("b", True)
    assert not pool.available("b")
    pool.on_health("b", False)  # crashed: refused
    pool.on_health("b", True)  # restarted
    assert events.seen == [("ejected", "b"), ("unhealthy", "b"), ("healthy", "b"), ("returned", "b")]
    assert pool.available("b") and pool.status()[1].state == "slow_start"
