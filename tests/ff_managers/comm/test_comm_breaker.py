"""The per-endpoint breaker: the shared state machine, and its transitions as the pool drives them."""

from __future__ import annotations

from collections import Counter

from ff_class_configs.ff_comm_config import FFCommConfigDTO
from ff_managers._comm.breaker import FFBreakerState, ff_endpoint_breaker
from ff_managers._core.circuit_breaker import FFCircuitBreaker
from tests.ff_managers.comm._balance_fakes import Events, Seconds, counts, make_pool

# the breaker opens before ejection would, so these tests see the breaker alone
SETTINGS = {"breaker_failure_threshold": 2, "breaker_cooldown_s": 5.0, "eject_consecutive_failures": 100}


def test_the_endpoint_breaker_takes_the_comm_settings() -> None:
    breaker = ff_endpoint_breaker(FFCommConfigDTO(breaker_failure_threshold=4, breaker_cooldown_s=3.0), now=Seconds())
    assert (breaker.threshold, breaker.cooldown) == (4, 3.0)


def test_would_allow_does_not_take_the_half_open_trial() -> None:
    clock = Seconds()
    breaker = FFCircuitBreaker(threshold=1, cooldown=5.0, now=clock)
    breaker.record_failure()
    assert not breaker.would_allow()
    clock.advance(5.0)
    assert breaker.would_allow() and breaker.would_allow()  # asking twice takes nothing
    assert breaker.allow()
    assert not breaker.would_allow() and not breaker.allow()


def test_pool_breaker_closed_open_half_open_closed() -> None:
    clock, events = Seconds(), Events()
    pool = make_pool("round_robin", ["a", "b"], clock=clock, events=events, **SETTINGS)
    pool.on_failure("b")
    assert pool.status()[1].breaker == "closed"
    pool.on_failure("b")
    assert events.seen == [("breaker_open", "b")] and pool.status()[1].breaker == "open"
    assert counts(pool, 10) == Counter({"a": 10})
    clock.advance(5.0)
    assert pool.status()[1].breaker == "half_open"
    assert pool.choose(exclude={"a"}).system_id == "b"  # type: ignore[union-attr]  # the one trial
    assert pool.choose(exclude={"a"}) is None  # no second trial while the first runs
    pool.on_start("b")
    pool.on_success("b", 0.01)
    assert events.seen[-1] == ("breaker_closed", "b") and pool.status()[1].breaker == "closed"
    assert counts(pool, 10) == Counter({"a": 5, "b": 5})


def test_failed_trial_reopens_for_a_full_cool_down() -> None:
    clock, events = Seconds(), Events()
    pool = make_pool("round_robin", ["a", "b"], clock=clock, events=events, **SETTINGS)
    pool.on_failure("b")
    pool.on_failure("b")
    clock.advance(5.0)
    assert pool.choose(exclude={"a"}).system_id == "b"  # type: ignore[union-attr]
    pool.on_start("b")
    pool.on_failure("b")
    assert events.seen == [("breaker_open", "b"), ("breaker_open", "b")]
    clock.advance(4.999)
    assert pool.choose(exclude={"a"}) is None
    clock.advance(0.001)
    assert pool.status()[1].breaker == FFBreakerState.HALF_OPEN.value


def test_abandoned_trial_frees_the_slot() -> None:
    clock = Seconds()
    pool = make_pool("round_robin", ["a"], clock=clock, **SETTINGS)
    pool.on_failure("a")
    pool.on_failure("a")
    clock.advance(5.0)
    assert pool.choose() is not None and pool.choose() is None
    pool.on_abandon("a")
    assert pool.choose() is not None
