"""How one endpoint of a group is picked: round robin, weighted, least outstanding (P2C), consistent hash.

Each policy is a small class with one job, behind :class:`FFBalancer`. A policy never decides what
is *available* (health, ejection, breaker: :mod:`.endpoint_pool` does that); it is handed the
candidates that are, each with its effective weight (configured weight × slow-start ramp), and
returns one ``system_id``.

* **Round robin** and **weighted** are both nginx's *smooth weighted round robin*: every pick adds
  each candidate's weight to its running score, takes the highest (the first on a tie) and
  subtracts the total from the winner. With equal weights this is exact round robin in insertion
  order; with weights 5:1:1 it gives ``a a b a c a a`` rather than ``a a a a a b c``, and over one
  cycle (sum of weights picks) each endpoint gets exactly its weight. Round robin uses weight 1 for
  every endpoint, so only the slow-start ramp changes its share.
* **Least outstanding** is the power of two choices (Mitzenmacher; Envoy's LEAST_REQUEST): two
  distinct candidates drawn with the injected (seeded) ``random.Random``, the one with the higher
  ``weight / (outstanding + 1)`` wins. Two random draws avoid the herd that "always the least
  loaded" causes when several clients see the same stale counts.
* **Consistent hash** by key (``user_id``) on a ketama-compatible continuum from ``uhashring``
  (``hash_fn="ketama"``: MD5, 4 points per virtual node, ``hash_replicas / 4`` virtual nodes per
  endpoint scaled by its share of the total weight, so the default 160 gives libketama's
  continuum exactly: ``floor(40 · servers · weight / total)`` virtual nodes each). Chosen over writing a
  ring: it is maintained (releases through 2026, packaged by Debian), pure Python, and tests its
  ketama compatibility and distribution itself. The ring holds every endpoint of the group,
  available or not, so ownership does not move when an endpoint is briefly out: ``pick`` walks
  the ring from the key's point and returns the first *available* endpoint (the owner when it is
  up). With ``strict`` it returns the owner or nothing, for the sharded mode where a write must
  never reach a non-owner. A pick without a key falls back to least outstanding.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from uhashring import HashRing

from ff_class_configs.ff_comm_config import FFBalancePolicy

__all__ = [
    "FFBalancer",
    "FFCandidate",
    "FFConsistentHashBalancer",
    "FFLeastOutstandingBalancer",
    "FFRoundRobinBalancer",
    "FFWeightedBalancer",
    "ff_make_balancer",
]


@dataclass(frozen=True, slots=True)
class FFCandidate:
    """An available endpoint as a policy sees it."""

    system_id: str
    weight: float
    """configured weight × slow-start ramp (> 0)"""
    ramp: float = 1.0
    """the slow-start ramp alone, in (0, 1]"""
    outstanding: int = 0
    """requests sent to it and not finished"""


class FFBalancer(Protocol):
    """One policy: told the group's members, asked for one of the available candidates."""

    def set_members(self, weights: Mapping[str, int]) -> None:
        """Every endpoint of the group (available or not) with its configured weight, in order."""

    def pick(self, candidates: Sequence[FFCandidate], *, key: str | None = None) -> str | None:
        """A ``system_id`` among ``candidates``, or None when none fits."""


class _SmoothWeighted:
    """nginx's smooth weighted round robin over the candidates' weights (see the module doc)."""

    def __init__(self) -> None:
        self._current: dict[str, float] = {}

    def set_members(self, weights: Mapping[str, int]) -> None:
        self._current = {sid: self._current.get(sid, 0.0) for sid in weights}

    def _weight(self, candidate: FFCandidate) -> float:
        return candidate.weight

    def pick(self, candidates: Sequence[FFCandidate], *, key: str | None = None) -> str | None:
        weighted = [(c.system_id, self._weight(c)) for c in candidates]
        weighted = [(sid, w) for sid, w in weighted if w > 0]
        if not weighted:
            return None
        total = 0.0
        best: str | None = None
        best_score = 0.0
        for sid, w in weighted:
            score = self._current.get(sid, 0.0) + w
            self._current[sid] = score
            total += w
            if best is None or score > best_score:
                best, best_score = sid, score
        assert best is not None
        self._current[best] -= total
        return best


class FFWeightedBalancer(_SmoothWeighted):
    """Smooth weighted round robin on configured weight × slow-start ramp."""


class FFRoundRobinBalancer(_SmoothWeighted):
    """Round robin in insertion order; every endpoint weighs 1 (× its slow-start ramp)."""

    def _weight(self, candidate: FFCandidate) -> float:
        return candidate.ramp if candidate.weight > 0 else 0.0


class FFLeastOutstandingBalancer:
    """Power of two choices on ``weight / (outstanding + 1)``, drawn with a seeded rng."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def set_members(self, weights: Mapping[str, int]) -> None:
        return None

    @staticmethod
    def _score(candidate: FFCandidate) -> float:
        return candidate.weight / (candidate.outstanding + 1)

    def pick(self, candidates: Sequence[FFCandidate], *, key: str | None = None) -> str | None:
        usable = [c for c in candidates if c.weight > 0]
        if not usable:
            return None
        if len(usable) == 1:
            return usable[0].system_id
        first, second = self._rng.sample(usable, 2)
        a, b = self._score(first), self._score(second)
        if a == b:  # equal scores: the less loaded, then the first drawn (random)
            return second.system_id if second.outstanding < first.outstanding else first.system_id
        return first.system_id if a > b else second.system_id


class FFConsistentHashBalancer:
    """A ketama continuum by key; the next available endpoint on the ring when the owner is out.

    ``strict``: the owner or None, never another endpoint (sharded writes).
    """

    def __init__(self, *, replicas: int, rng: random.Random, strict: bool = False) -> None:
        self.strict = strict
        # ketama: each virtual node gives 4 points (one per 4 bytes of its MD5)
        self._vnodes = max(1, replicas // 4)
        self._ring = self._new_ring({})
        self._fallback = FFLeastOutstandingBalancer(rng)

    def _new_ring(self, weights: Mapping[str, int]) -> HashRing:
        nodes = {sid: {"weight": w} for sid, w in weights.items() if w > 0}
        return HashRing(nodes, hash_fn="ketama", vnodes=self._vnodes)

    def set_members(self, weights: Mapping[str, int]) -> None:
        self._ring = self._new_ring(weights)

    def owner(self, key: str) -> str | None:
        """The endpoint the key belongs to, available or not (None: empty ring)."""
        owner = self._ring.get_node(key)
        return str(owner) if owner is not None else None

    def ring_order(self, key: str) -> list[str]:
        """Every endpoint in ring order from the key's point: the owner first, then its successors."""
        if not self._ring.size:
            return []
        return [str(node) for node in self._ring.iterate_nodes(key)]

    def points(self) -> list[tuple[int, str]]:
        """The continuum as ketama prints it: sorted ``(point, system_id)``."""
        return [(int(point), str(node)) for point, node in self._ring.get_points()]

    def pick(self, candidates: Sequence[FFCandidate], *, key: str | None = None) -> str | None:
        if key is None:
            return None if self.strict else self._fallback.pick(candidates)
        available = {c.system_id for c in candidates if c.weight > 0}
        for sid in self.ring_order(key):
            if sid in available:
                return sid
            if self.strict:
                return None
        return None


def ff_make_balancer(policy: FFBalancePolicy, *, replicas: int, rng: random.Random, strict: bool = False) -> FFBalancer:
    """The balancer a policy name stands for (``strict`` matters to consistent_hash only)."""
    if policy == "round_robin":
        return FFRoundRobinBalancer()
    if policy == "weighted":
        return FFWeightedBalancer()
    if policy == "least_outstanding":
        return FFLeastOutstandingBalancer(rng)
    if policy == "consistent_hash":
        return FFConsistentHashBalancer(replicas=replicas, rng=rng, strict=strict)
    raise ValueError(f"unknown balance policy {policy!r}")
