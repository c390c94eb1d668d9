"""Ranking and prompt context pinned exactly (issue 20: ``ranking``, ``layers.ranked`` and
``layers.context`` survivors of the run at 2bdeb26).

Scores are compared with the formulas of ``ranking.py``'s docstring written out independently:
the documented defaults (k1 1.2, b 0.75, weights 0.1, half-life 168 h), ages in hours (an entry
younger than an hour is not rounded up), the configured policy reaching the ranking, and the
clock's time taken as UTC when naive and as its instant when aware. The context budget is
pinned at its edges: a line that fills it exactly, a budget of 2, several omitted lines, and a
shorter line still taken after a longer one was left out.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from ff_class_configs import load_config
from ff_class_configs.ff_memory_dtos import FFMemoryEntryDTO
from ff_managers._memory.layers import MemoryLayers
from ff_managers._memory.layout import MemoryLayout
from ff_managers._memory.ranking import bm25_scores, rank_entries, tokenize
from ff_utils.ff_store import FFStore

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
DEFAULTS = {"k1": 1.2, "b": 0.75, "importance_weight": 0.1, "recency_weight": 0.1, "recency_half_life_hours": 168.0}


def reference_bm25(query: list[str], docs: list[list[str]], k1: float, b: float) -> list[float]:
    n = len(docs)
    avg = sum(len(d) for d in docs) / n
    scores = []
    for doc in docs:
        score = 0.0
        for term in query:
            tf = doc.count(term)
            if tf:
                df = sum(1 for d in docs if term in d)
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(doc) / avg))
        scores.append(score)
    return scores


def reference_scores(entries: list[FFMemoryEntryDTO], query: str, now: datetime, **weights: float) -> dict[str, float]:
    """``bm25 * (1 + wi * importance + wr * 0.5 ** (age_hours / half_life))`` per matching entry."""
    w = {**DEFAULTS, **weights}
    docs = [tokenize(e.content) + [t for tag in e.tags for t in tokenize(tag)] for e in entries]
    bm25 = reference_bm25(tokenize(query), docs, w["k1"], w["b"])
    out = {}
    for e, score in zip(entries, bm25, strict=True):
        if score > 0:
            age_hours = max(0.0, (now - e.created_at).total_seconds()) / 3600
            recency = 0.5 ** (age_hours / w["recency_half_life_hours"])
            out[e.memory_id] = score * (1 + w["importance_weight"] * e.importance + w["recency_weight"] * recency)
    return out


def entry(memory_id: str, content: str, *, importance: float, age: timedelta, tags: list[str] | None = None) -> FFMemoryEntryDTO:
    created = NOW - age
    return FFMemoryEntryDTO(
        memory_id=memory_id, user_id="alice", layer="short_term", content=content, importance=importance,
        created_at=created, layer_entered_at=created, tags=tags or [],
    )


ENTRIES = [
    entry("m1", "green tea in the morning", importance=0.9, age=timedelta(minutes=30)),
    entry("m2", "black tea with milk and a long story about tea", importance=0.2, age=timedelta(hours=10)),
    entry("m3", "coffee at noon", importance=0.5, age=timedelta(hours=300), tags=["green tea"]),
    entry("m4", "nothing to do with it", importance=1.0, age=timedelta(hours=1)),
    entry("m5", "tea", importance=0.0, age=timedelta(hours=-2)),  # stored "in the future": age 0
]
QUERY = "green tea tea"


def assert_scores(got: dict[str, float], expected: dict[str, float]) -> None:
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert math.isclose(got[key], value, rel_tol=1e-12), (key, got[key], value)


def test_bm25_defaults_are_the_documented_ones() -> None:
    docs = [["tea", "green"], ["coffee"], ["tea", "tea", "black", "strong", "long"], []]
    for k1, b in ((1.2, 0.75), (2.0, 0.3)):
        expected = reference_bm25(["tea", "green"], docs, k1, b)
        assert bm25_scores(["tea", "green"], docs, k1=k1, b=b) == [expected[i] for i in range(4)]
    assert bm25_scores(["tea", "green"], docs) == reference_bm25(["tea", "green"], docs, 1.2, 0.75)


def test_rank_entries_with_its_defaults_follows_the_formula() -> None:
    ranked = rank_entries(ENTRIES, QUERY, now=NOW)
    assert_scores({r.entry.memory_id: r.score for r in ranked}, reference_scores(ENTRIES, QUERY, NOW))
    assert [r.entry.memory_id for r in ranked] == sorted(
        (r.entry.memory_id for r in ranked), key=lambda m: -reference_scores(ENTRIES, QUERY, NOW)[m]
    )


def test_rank_entries_uses_every_weight_it_is_given() -> None:
    weights = {"k1": 2.5, "b": 0.2, "importance_weight": 0.7, "recency_weight": 0.4, "recency_half_life_hours": 5.0}
    ranked = rank_entries(ENTRIES, QUERY, now=NOW, **weights)
    assert_scores({r.entry.memory_id: r.score for r in ranked}, reference_scores(ENTRIES, QUERY, NOW, **weights))
    bm25 = reference_bm25(tokenize(QUERY), [tokenize(e.content) + [t for g in e.tags for t in tokenize(g)] for e in ENTRIES], 2.5, 0.2)
    assert_scores({r.entry.memory_id: r.bm25 for r in ranked}, {e.memory_id: s for e, s in zip(ENTRIES, bm25, strict=True) if s})


def layers_for(tmp_path: Path, clock_now: datetime, **policy: float) -> MemoryLayers:
    (tmp_path / "data").mkdir(parents=True)
    config = load_config(base_path=tmp_path / "data", environ={})
    store = FFStore.from_config(config)
    layers = MemoryLayers(store, MemoryLayout(store), config.memory.model_copy(update=policy), lambda: clock_now)
    for e in ENTRIES:
        layers.add(e, keep_id=True)
    return layers


def test_ranked_uses_the_configured_policy(tmp_path: Path) -> None:
    policy = {
        "bm25_k1": 2.5, "bm25_b": 0.2, "search_importance_weight": 0.7,
        "search_recency_weight": 0.4, "search_recency_half_life_hours": 5.0,
    }
    ranked = layers_for(tmp_path, NOW, **policy).ranked("alice", ("short_term",), QUERY)
    expected = reference_scores(
        ENTRIES, QUERY, NOW, k1=2.5, b=0.2, importance_weight=0.7, recency_weight=0.4, recency_half_life_hours=5.0
    )
    assert_scores({r.entry.memory_id: r.score for r in ranked}, expected)


def test_ranked_reads_a_naive_clock_as_utc_and_an_aware_one_as_its_instant(tmp_path: Path) -> None:
    expected = reference_scores(ENTRIES, QUERY, NOW, recency_half_life_hours=5.0)
    east = NOW.astimezone(timezone(timedelta(hours=5)))
    for clock_now in (NOW.replace(tzinfo=None), east, NOW):
        layers = layers_for(tmp_path / clock_now.isoformat().replace(":", "-"), clock_now, search_recency_half_life_hours=5.0)
        ranked = layers.ranked("alice", ("short_term",), QUERY)
        assert_scores({r.entry.memory_id: r.score for r in ranked}, expected)


def context_layers(tmp_path: Path, contents: list[str]) -> MemoryLayers:
    """Entries whose rank follows ``contents``' order (same terms; importance falls)."""
    (tmp_path / "data").mkdir(parents=True)
    config = load_config(base_path=tmp_path / "data", environ={})
    store = FFStore.from_config(config)
    layers = MemoryLayers(store, MemoryLayout(store), config.memory, lambda: NOW)
    for i, content in enumerate(contents):
        layers.add(entry(f"c{i}", content, importance=1.0 - i / 10, age=timedelta(hours=1)), keep_id=True)
    assert [r.entry.memory_id for r in layers.ranked("alice", ("short_term",), "tea")] == [f"c{i}" for i in range(len(contents))]
    return layers


def test_context_budget_edges(tmp_path: Path) -> None:
    contents = ["tea", "the tea", "tea and the of the and the of the", "tea of the"]  # one term each: stop words
    layers = context_layers(tmp_path, contents)
    lines = [f"- [short_term] {content}" for content in contents]
    exact = layers.context("alice", ("short_term",), "tea", len(lines[0]))  # the best line fills the budget exactly
    assert (exact.text, exact.used_chars, exact.omitted) == (lines[0], len(lines[0]), 3)
    two = layers.context("alice", ("short_term",), "tea", 2)  # the best memory cut, not dropped
    assert (two.text, two.used_chars, two.omitted, len(two.hits)) == ("-…", 2, 3, 1)
    one = layers.context("alice", ("short_term",), "tea", 1)
    assert (one.text, one.used_chars, one.omitted, len(one.hits)) == ("", 0, 4, 0)
    # first two lines fit (with one separator), the long third is left out, the shorter fourth still fits
    budget = len(lines[0]) + 1 + len(lines[1]) + 1 + len(lines[3])
    ctx = layers.context("alice", ("short_term",), "tea", budget)
    assert ctx.text == "\n".join([lines[0], lines[1], lines[3]])
    assert (ctx.used_chars, ctx.omitted) == (budget, 1)
    assert [h.entry.memory_id for h in ctx.hits] == ["c0", "c1", "c3"]
