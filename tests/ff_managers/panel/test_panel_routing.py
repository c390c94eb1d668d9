"""Expert routing by expertise words (pure)."""

from __future__ import annotations

from ff_managers._panel.routing import ff_rank_experts, ff_topic_words


def test_topic_words_normalise_case_separators_plurals_and_stop_words():
    assert ff_topic_words("What are the Quantum_Physics Lectures?") == {"quantum", "physic", "lecture"}
    assert ff_topic_words("class glass") == {"class", "glass"}  # "ss" is not a plural


def test_ranking_sums_area_shares_and_breaks_ties_by_order():
    candidates = [
        ("generalist", ["science"]),
        ("physicist", ["quantum physics", "optics"]),
        ("chemist", ["physical chemistry"]),
    ]
    ranked = ff_rank_experts("quantum physics of optics", candidates)
    assert [(r.participant_id, r.score) for r in ranked] == [("physicist", 2.0)]
    assert ranked[0].matched == ("quantum physics", "optics")
    tie = ff_rank_experts("science", [("a", ["science"]), ("b", ["science"])])
    assert [r.participant_id for r in tie] == ["a", "b"]
    half = ff_rank_experts("physics basics", [("q", ["quantum physics"])])
    assert half[0].score == 0.5


def test_no_match_and_empty_areas():
    assert ff_rank_experts("cooking pasta", [("x", ["tax law"]), ("y", ["", "the"])]) == []
