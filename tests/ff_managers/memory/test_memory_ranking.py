"""Tests of ff_managers._memory.ranking: tokenising, BM25 and the tie-breaker (pure, no disk)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from ff_class_configs.ff_memory_dtos import FFMemoryEntryDTO
from ff_managers._memory.ranking import bm25_scores, rank_entries, tokenize

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def entry(memory_id: str, content: str, *, importance: float = 0.5, age_hours: float = 1.0) -> FFMemoryEntryDTO:
    created = NOW - timedelta(hours=age_hours)
    return FFMemoryEntryDTO(
        memory_id=memory_id,
        user_id="u",
        layer="short_term",
        content=content,
        importance=importance,
        created_at=created,
        layer_entered_at=created,
    )


def test_tokenize_casefolds_drops_stop_words_and_folds_plurals() -> None:
    assert tokenize("The TEAS and Berries, of course!") == ["tea", "berry", "course"]
    assert tokenize("glass bus analysis") == ["glass", "bus", "analysis"]  # not plurals
    assert tokenize("Straße café") == ["strasse", "café"]


def test_bm25_matches_the_textbook_formula() -> None:
    docs = [["tea", "green"], ["coffee"], ["tea", "tea", "black", "strong"]]
    k1, b = 1.2, 0.75
    scores = bm25_scores(["tea"], docs, k1=k1, b=b)
    avg = (2 + 1 + 4) / 3
    idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))
    expected0 = idf * 1 * (k1 + 1) / (1 + k1 * (1 - b + b * 2 / avg))
    expected2 = idf * 2 * (k1 + 1) / (2 + k1 * (1 - b + b * 4 / avg))
    assert math.isclose(scores[0], expected0)
    assert scores[1] == 0.0
    assert math.isclose(scores[2], expected2)


def test_rare_terms_weigh_more_than_common_ones() -> None:
    docs = [["tea", "kyoto"], ["tea", "london"], ["tea", "paris"], ["coffee", "rome"]]
    scores = bm25_scores(["tea", "kyoto"], docs)
    assert scores[0] > scores[1] == scores[2] > scores[3] == 0.0


def test_the_right_memory_comes_first_among_distractors() -> None:
    entries = [
        entry("m1", "The quarterly team meeting moved to Tuesday afternoon", importance=0.9, age_hours=0.1),
        entry("m2", "Alice prefers green tea without sugar", importance=0.3, age_hours=200),
        entry("m3", "Green is the colour of the new office walls", importance=0.9, age_hours=0.1),
        entry("m4", "Bought a tea kettle for the office kitchen", importance=0.9, age_hours=0.1),
        entry("m5", "Alice is allergic to peanuts", importance=0.9, age_hours=0.1),
    ]
    ranked = rank_entries(entries, "what green tea does Alice prefer", now=NOW)
    assert [r.entry.memory_id for r in ranked][0] == "m2"
    assert {r.entry.memory_id for r in ranked} == {"m2", "m3", "m4", "m5"}  # m1 shares no term
    assert ranked[0].matched_terms == ("green", "tea", "alice", "prefer")


def test_importance_and_recency_only_break_near_ties() -> None:
    same = "user lives in Lisbon"
    entries = [
        entry("old", same, importance=0.5, age_hours=1000),
        entry("new", same, importance=0.5, age_hours=1),
        entry("vital", same, importance=1.0, age_hours=1000),
    ]
    order = [r.entry.memory_id for r in rank_entries(entries, "Lisbon", now=NOW)]
    assert order.index("new") < order.index("old")
    assert order.index("vital") < order.index("old")
    # a strong match with no boost still beats a weak match with the full boost
    strong = entry("strong", "Lisbon Lisbon trip to Lisbon", importance=0.0, age_hours=10_000)
    weak = entry("weak", "a very long note about many cities including Lisbon, Porto, Faro and Braga", importance=1.0, age_hours=0)
    order = [r.entry.memory_id for r in rank_entries([weak, strong], "Lisbon", now=NOW)]
    assert order == ["strong", "weak"]


def test_equal_scores_are_ordered_newest_first_then_by_id() -> None:
    entries = [entry("b", "tea"), entry("a", "tea"), entry("c", "tea", age_hours=0.5)]
    order = [r.entry.memory_id for r in rank_entries(entries, "tea", now=NOW, recency_weight=0.0)]
    assert order == ["c", "a", "b"]


def test_no_query_terms_means_no_hits() -> None:
    assert rank_entries([entry("a", "tea")], "the of and", now=NOW) == []
