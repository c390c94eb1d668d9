"""Passive ejection: after N failures in a row, for a time that doubles up to a cap; slow start after."""

from __future__ import annotations

from collections import Counter

import pytest

from ff_managers._comm.outlier import SLOW_START_MIN, FFOutlierDetector, ff_slow_start_ramp
from tests.ff_managers.comm._balance_fakes import Events, Seconds, counts, make_pool


def _detector(clock: Seconds, *, consecutive: int = 3, base_s: float = 1.0, max_s: float = 30.0) -> FFOutlierDetector:
    return FFOutlierDetector(consecutive=consecutive, base_s=base_s, max_s=max_s, now=clock)


def _fail(detector: FFOutlierDetector, n: int) -> list[bool]:
    return [detector.record_failure() for _ in range(n)]


def test_ejects_after_n_consecutive_failures_only() -> None:
    clock = Seconds()
    detector = _detector(clock)
    assert _fail(detector, 2) == [False, False]
    detector.record_success()  # the run is broken
    assert _fail(detector, 2) == [False, False] and not detector.is_ejected
    assert detector.record_failure() and detector.is_ejected
    assert detector.ejected_until == clock() + 1.0 and detector.ejections == 1


def test_ejection_time_doubles_per_repeated_ejection_up_to_the_cap() -> None:
    clock = Seconds()
    detector = _detector(clock, consecutive=1, base_s=1.0, max_s=30.0)
    lengths = []
    for _ in range(7):
        assert detector.record_failure()
        start = clock()
        assert detector.ejected_until is not None
        lengths.append(detector.ejected_until - start)
        clock.advance(lengths[-1] - 0.001)
        assert detector.is_ejected  # not a moment early
        clock.advance(0.001)
        assert not detector.is_ejected
    assert lengths == [1, 2, 4, 8, 16, 30, 30]
    assert detector.ejections == 7


def test_failures_while_ejected_neither_extend_nor_repeat() -> None:
    clock = Seconds()
    detector = _detector(clock, consecutive=1)
    assert detector.record_failure()
    until = detector.ejected_until
    assert _fail(detector, 5) == [False] * 5  # in-flight requests failing late
    assert detector.ejected_until == until and detector.ejections == 1


def test_returning_resets_the_run_and_a_calm_period_decays_the_level() -> None:
    clock = Seconds()
    detector = _detector(clock, consecutive=2, base_s=1.0, max_s=8.0)
    _fail(detector, 2)
    clock.advance(1.0)
    _fail(detector, 2)
    assert detector.ejected_until == clock() + 2.0 and detector.level == 2
    clock.advance(2.0)
    assert detector.poll() and not detector.poll()  # "returned" exactly once
    assert detector.consecutive_failures == 0
    clock.advance(16.0)  # two calm max_s periods: the level drops by two
    _fail(detector, 2)
    assert detector.ejected_until == clock() + 1.0 and detector.level == 1


def test_slow_start_ramps_linearly_from_the_floor() -> None:
    assert ff_slow_start_ramp(None, 5.0, 2.0) == 1.0
    assert ff_slow_start_ramp(10.0, 10.0, 2.0) == pytest.approx(SLOW_START_MIN)
    assert ff_slow_start_ramp(10.0, 11.0, 2.0) == pytest.approx(SLOW_START_MIN + (1 - SLOW_START_MIN) / 2)
    assert ff_slow_start_ramp(10.0, 12.0, 2.0) == 1.0
    assert ff_slow_start_ramp(10.0, 10.0, 0.0) == 1.0  # slow start off


def test_pool_ejects_skips_returns_and_ramps_up() -> None:
    clock, events = Seconds(), Events()
    pool = make_pool(
        "weighted", {"a": 1, "b": 1}, clock=clock, events=events,
        eject_consecutive_failures=2, eject_base_s=1.0, slow_start_s=4.0, breaker_failure_threshold=100,
    )
    pool.on_failure("b")
    pool.on_failure("b")
    assert events.seen == [("ejected", "b")]
    assert counts(pool, 20) == Counter({"a": 20})
    assert [s.state for s in pool.status()] == ["healthy", "ejected"]
    clock.advance(1.0)
    assert pool.choose() is not None and events.seen[-1] == ("returned", "b")
    assert [s.state for s in pool.status()] == ["healthy", "slow_start"]
    early = counts(pool, 1000)["b"]  # weight 0.1 against 1: about 9 %
    clock.advance(2.0)
    middle = counts(pool, 1000)["b"]  # half way: 0.55 against 1, about 35 %
    clock.advance(2.0)
    late = counts(pool, 1000)["b"]  # full weight: half
    assert 85 <= early <= 97 and 345 <= middle <= 365 and late == 500, (early, middle, late)
    assert [s.state for s in pool.status()] == ["healthy", "healthy"]


def test_p2c_hands_a_slow_starting_endpoint_work_only_when_the_others_are_busy() -> None:
    clock = Seconds()
    pool = make_pool("least_outstanding", ["a", "b"], clock=clock, eject_consecutive_failures=1, eject_base_s=1.0, slow_start_s=10.0)
    pool.on_failure("b")
    clock.advance(1.0)  # b is back at 10 % of its weight
    assert counts(pool, 50) == Counter({"a": 50})  # 1/1 beats 0.1/1
    for _ in range(10):
        pool.on_start("a")
    assert counts(pool, 50) == Counter({"b": 50})  # 1/11 loses to 0.1/1
    clock.advance(10.0)
    assert counts(pool, 50) == Counter({"b": 50})  # full weight, idle: b until a catches up
