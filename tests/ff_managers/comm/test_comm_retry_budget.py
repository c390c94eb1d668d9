"""The retry budget (exhaustion, refill as the window slides) and who may be retried at all."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from ff_class_configs.ff_comm_config import FFCommConfigDTO
from ff_managers._comm.retry_budget import FFRetryBudget, ff_retry_allowed, ff_retry_backoff_s
from tests.ff_managers.comm._balance_fakes import Seconds


def _budget(clock: Seconds, *, ratio: float = 0.2, min_per_s: float = 0.0) -> FFRetryBudget:
    config = FFCommConfigDTO(retry_budget_ratio=ratio, retry_budget_min_per_s=min_per_s)
    return FFRetryBudget(config, now=clock, window_s=10.0, buckets=10)


def _spend_all(budget: FFRetryBudget, limit: int = 10_000) -> int:
    spent = 0
    while spent < limit and budget.try_spend():
        spent += 1
    return spent


def test_retries_are_a_share_of_requests() -> None:
    budget = _budget(Seconds())
    for _ in range(50):
        budget.on_request()
    assert _spend_all(budget) == 10  # 20 % of 50
    assert not budget.try_spend() and budget.retries == 10  # a refusal takes nothing


def test_the_floor_allows_retries_without_traffic() -> None:
    budget = _budget(Seconds(), min_per_s=0.5)  # 0.5/s over a 10 s window
    assert _spend_all(budget) == 5


def test_the_budget_refills_as_the_window_slides() -> None:
    clock = Seconds(0.0)
    budget = _budget(clock)
    for _ in range(50):
        budget.on_request()
    assert _spend_all(budget) == 10
    clock.advance(5.0)
    for _ in range(50):
        budget.on_request()
    assert _spend_all(budget) == 10  # 100 requests allow 20, 10 spent
    clock.advance(5.0)  # the first slice (50 requests, 10 retries) left the window
    assert (budget.requests, budget.retries) == (50, 10)
    assert not budget.try_spend()
    for _ in range(5):
        budget.on_request()
    assert _spend_all(budget) == 1  # 55 requests allow 11
    clock.advance(10.0)
    assert (budget.requests, budget.retries) == (0, 0)


def test_a_storm_of_failures_is_capped() -> None:
    """Every request failing: attempts stay within (1 + ratio) × requests, not (1 + max_retries)×."""
    clock = Seconds(0.0)
    budget = _budget(clock)
    attempts = 0
    for _ in range(1000):
        budget.on_request()
        attempts += 1
        for _ in range(3):  # max_retries 3, each fails
            if not budget.try_spend():
                break
            attempts += 1
        clock.advance(0.005)
    assert attempts <= 1.2 * 1000 + 3


RETRY_CASES = [
    (True, None, True),
    (True, "k-1", True),
    (False, "k-1", True),
    (False, None, False),
    (False, "", False),
    (False, "   ", False),
]


def retry_rule_violations(rule: Callable[..., bool]) -> list[tuple[bool, str | None]]:
    return [(idem, key) for idem, key, expected in RETRY_CASES if rule(idempotent=idem, idempotency_key=key) != expected]


def test_only_idempotent_operations_or_keyed_writes_are_retried() -> None:
    assert retry_rule_violations(ff_retry_allowed) == []


@pytest.mark.parametrize(
    "defect",
    [
        lambda *, idempotent, idempotency_key: True,  # retries everything
        lambda *, idempotent, idempotency_key: idempotent or idempotency_key is not None,  # "" counts as a key
    ],
)
def test_planted_retry_of_a_non_idempotent_write_shows_red(defect: Callable[..., bool]) -> None:
    assert (False, None) in retry_rule_violations(defect) or (False, "") in retry_rule_violations(defect)


def test_backoff_is_full_jitter_under_a_doubling_cap() -> None:
    rng = random.Random(5)
    for retry, ceiling in [(1, 0.05), (2, 0.1), (3, 0.2), (8, 1.0), (30, 1.0)]:
        waits = [ff_retry_backoff_s(retry, base_s=0.05, cap_s=1.0, rng=rng) for _ in range(200)]
        assert all(0.0 <= w <= ceiling for w in waits)
        assert max(waits) > 0.8 * ceiling and min(waits) < 0.2 * ceiling  # spread over the range
    with pytest.raises(ValueError):
        ff_retry_backoff_s(0, base_s=0.05, cap_s=1.0, rng=rng)
