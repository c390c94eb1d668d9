"""The four policies' distributions, exact where the policy is deterministic (seeded rng elsewhere)."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
from bisect import bisect_left
from collections import Counter
from pathlib import Path

import pytest

from ff_managers._comm.balancing import (
    FFCandidate,
    FFConsistentHashBalancer,
    FFLeastOutstandingBalancer,
    FFRoundRobinBalancer,
    FFWeightedBalancer,
)
from tests.ff_managers.comm._balance_fakes import counts, make_pool, picks

KEYS = [f"user-{i}" for i in range(10_000)]
ROOT = Path(__file__).resolve().parents[3]


# -- round robin and weighted --------------------------------------------------------------


def test_round_robin_is_exact_insertion_order() -> None:
    pool = make_pool("round_robin", {"a": 5, "b": 1, "c": 1})  # round robin ignores weights
    assert picks(pool, 9) == ["a", "b", "c"] * 3


def test_round_robin_skips_excluded_and_keeps_the_cycle() -> None:
    pool = make_pool("round_robin", ["a", "b", "c"])
    assert picks(pool, 4, exclude={"b"}) == ["a", "c", "a", "c"]
    assert set(picks(pool, 3)) == {"a", "b", "c"}


def test_weighted_is_nginx_smooth_and_exact_over_a_cycle() -> None:
    pool = make_pool("weighted", {"a": 5, "b": 1, "c": 1})
    assert picks(pool, 7) == ["a", "a", "b", "a", "c", "a", "a"]  # nginx's documented sequence
    assert counts(pool, 7 * 10) == Counter({"a": 50, "b": 10, "c": 10})


@pytest.mark.parametrize("weights", [{"a": 3, "b": 2}, {"a": 1, "b": 7, "c": 2}, {"a": 10, "b": 10, "c": 1, "d": 4}])
def test_weighted_proportions_are_exact_over_every_cycle(weights: dict[str, int]) -> None:
    pool = make_pool("weighted", weights)
    cycle = sum(weights.values())
    for _ in range(5):
        assert counts(pool, cycle) == Counter(weights)


def test_weight_zero_is_drained_by_every_policy() -> None:
    for policy in ("round_robin", "weighted", "least_outstanding", "consistent_hash"):
        pool = make_pool(policy, {"a": 1, "drained": 0})
        assert {pool.choose(key=k).system_id for k in KEYS[:200]} == {"a"}, policy  # type: ignore[union-attr]


# -- least outstanding (power of two choices) ------------------------------------------------


def test_p2c_prefers_the_less_loaded_of_two() -> None:
    pool = make_pool("least_outstanding", ["busy", "idle"])
    for _ in range(5):
        pool.on_start("busy")
    assert counts(pool, 200) == Counter({"idle": 200})  # with two endpoints both are always drawn


def test_p2c_never_picks_the_most_loaded_of_many_and_spreads_the_rest() -> None:
    pool = make_pool("least_outstanding", ["a", "b", "c", "d"])
    for _ in range(3):
        pool.on_start("d")
    seen = counts(pool, 3000)
    assert seen["d"] == 0  # it loses every pair it is drawn into
    assert all(900 <= seen[name] <= 1100 for name in "abc"), seen


def test_p2c_follows_load_as_requests_start_and_finish() -> None:
    pool = make_pool("least_outstanding", ["a", "b", "c"])
    outstanding: Counter[str] = Counter()
    for _ in range(300):  # every request stays outstanding: the counts must stay level
        chosen = pool.choose()
        assert chosen is not None
        pool.on_start(chosen.system_id)
        outstanding[chosen.system_id] += 1
    assert max(outstanding.values()) - min(outstanding.values()) <= 2, outstanding


def test_p2c_is_reproducible_with_a_seed_and_weighs_by_weight() -> None:
    assert picks(make_pool("least_outstanding", ["a", "b", "c"], seed=3), 50) == picks(
        make_pool("least_outstanding", ["a", "b", "c"], seed=3), 50
    )
    balancer = FFLeastOutstandingBalancer(random.Random(1))
    heavy, light = FFCandidate("heavy", weight=4.0, outstanding=2), FFCandidate("light", weight=1.0, outstanding=0)
    assert balancer.pick([heavy, light]) == "heavy"  # 4/3 beats 1/1


# -- consistent hash ---------------------------------------------------------------------------


def _owners(pool_names: list[str], keys: list[str] = KEYS) -> dict[str, str]:
    pool = make_pool("consistent_hash", pool_names)
    return {k: pool.choose(key=k).system_id for k in keys}  # type: ignore[union-attr]


def test_same_key_same_endpoint_across_pools_and_processes() -> None:
    first, second = _owners(["a", "b", "c", "d"]), _owners(["a", "b", "c", "d"])
    assert first == second
    share = Counter(first.values())
    assert all(1800 <= share[n] <= 3200 for n in "abcd"), share  # near 1/4 (160 points: about ±10 %)
    # MD5, not Python's salted hash(): another process with another hash seed agrees
    script = (
        "import random, sys\n"
        "from ff_class_configs.ff_comm_config import FFCommConfigDTO\n"
        "from ff_class_configs.ff_comm_dtos import FFEndpointDTO\n"
        "from ff_managers._comm.endpoint_pool import FFEndpointPool\n"
        "pool = FFEndpointPool('g', FFCommConfigDTO(balance_policy='consistent_hash'), rng=random.Random(0))\n"
        "for i, n in enumerate('abcd'): pool.add(FFEndpointDTO(system_id=n, port=9000 + i))\n"
        "print(''.join(pool.choose(key=f'user-{i}').system_id for i in range(500)))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "".join(first[k] for k in KEYS[:500])


def test_adding_a_node_moves_about_one_nth_of_the_keys_and_only_to_it() -> None:
    before, after = _owners(["a", "b", "c", "d"]), _owners(["a", "b", "c", "d", "e"])
    moved = [k for k in KEYS if before[k] != after[k]]
    assert all(after[k] == "e" for k in moved)  # nothing reshuffles between old nodes
    assert 0.12 <= len(moved) / len(KEYS) <= 0.28, len(moved)  # ~1/5


def _ketama_reference(weights: dict[str, int]) -> list[tuple[int, str]]:
    """libketama's continuum written from its C source: floor(40 · servers · weight / total) virtual
    nodes per server, each the MD5 of "name-i" giving 4 little-endian 32-bit points."""
    points = []
    total = sum(weights.values())
    for name, weight in weights.items():
        for i in range(40 * len(weights) * weight // total):
            digest = hashlib.md5(f"{name}-{i}".encode()).digest()
            for r in range(4):
                points.append((int.from_bytes(digest[4 * r : 4 * r + 4], "little"), name))
    return sorted(points)


def _ketama_owner(points: list[tuple[int, str]], key: str) -> str:
    h = int.from_bytes(hashlib.md5(key.encode()).digest()[:4], "little")
    i = bisect_left([p for p, _ in points], h)  # first point >= hash, wrapping
    return points[i % len(points)][1]


@pytest.mark.parametrize(
    "weights",
    [
        {"10.0.0.1:11211": 1, "10.0.0.2:11211": 1, "10.0.0.3:11211": 1},
        {"10.0.0.1:11211": 1, "10.0.0.2:11211": 2, "10.0.0.3:11211": 1},
    ],
)
def test_the_ring_is_ketama_compatible(weights: dict[str, int]) -> None:
    balancer = FFConsistentHashBalancer(replicas=160, rng=random.Random(0))
    balancer.set_members(weights)
    reference = _ketama_reference(weights)
    assert balancer.points() == reference and len(reference) == 3 * 160
    for key in KEYS[:2000]:
        assert balancer.owner(key) == _ketama_owner(reference, key)


def test_a_heavier_endpoint_owns_more_keys() -> None:
    pool = make_pool("consistent_hash", {"a": 1, "b": 2, "c": 1})
    share = Counter(pool.choose(key=k).system_id for k in KEYS)  # type: ignore[union-attr]
    assert 0.4 <= share["b"] / len(KEYS) <= 0.6 and all(0.17 <= share[n] / len(KEYS) <= 0.33 for n in "ac"), share


def test_owner_out_goes_to_the_next_node_on_the_ring_and_comes_back() -> None:
    pool = make_pool("consistent_hash", ["a", "b", "c"])
    balancer = FFConsistentHashBalancer(replicas=160, rng=random.Random(0))
    balancer.set_members({"a": 1, "b": 1, "c": 1})
    for key in KEYS[:300]:
        order = balancer.ring_order(key)
        owner = pool.choose(key=key)
        assert owner is not None and owner.system_id == order[0] == pool.owner(key).system_id  # type: ignore[union-attr]
        fallback = pool.choose(key=key, exclude={order[0]})
        assert fallback is not None and fallback.system_id == order[1]
        assert pool.choose(key=key, exclude=set(order)) is None


def test_strict_returns_the_owner_or_nothing() -> None:
    pool = make_pool("consistent_hash", ["a", "b", "c"], strict=True)
    for key in KEYS[:300]:
        owner = pool.owner(key)
        assert owner is not None
        assert pool.choose(key=key).system_id == owner.system_id  # type: ignore[union-attr]
        assert pool.choose(key=key, exclude={owner.system_id}) is None
    assert pool.choose() is None  # no key, no owner: strict never guesses


def test_consistent_hash_without_key_still_balances() -> None:
    pool = make_pool("consistent_hash", ["a", "b"])
    assert set(picks(pool, 50)) == {"a", "b"}


def test_policies_return_none_without_candidates() -> None:
    for balancer in (
        FFRoundRobinBalancer(),
        FFWeightedBalancer(),
        FFLeastOutstandingBalancer(random.Random(0)),
        FFConsistentHashBalancer(replicas=160, rng=random.Random(0)),
    ):
        assert balancer.pick([], key="k") is None
