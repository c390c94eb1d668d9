"""Tests of ff_managers._memory.summary: deterministic extractive (SumBasic) summaries."""

from __future__ import annotations

import pytest

from ff_managers._memory.summary import extractive_summary, split_sentences

TEXTS = [
    "Alice likes green tea. She drinks green tea every morning.",
    "Green tea helps Alice focus! The office kettle is broken.",
    "Bob plays chess on Fridays.",
    "Alice drinks green tea with honey.",
]


def test_split_sentences() -> None:
    assert split_sentences("One. Two!  Three?\nFour") == ["One.", "Two!", "Three?", "Four"]


def test_summary_is_verbatim_sentences_in_original_order_and_deterministic() -> None:
    summary = extractive_summary(TEXTS, max_sentences=3, max_chars=1000)
    assert summary == extractive_summary(TEXTS, max_sentences=3, max_chars=1000)
    all_sentences = [s for text in TEXTS for s in split_sentences(text)]
    picked = [s for s in all_sentences if s in summary]
    assert len(picked) == 3
    assert summary == " ".join(picked)  # original order, nothing invented


def test_summary_prefers_the_central_topic_then_diversifies() -> None:
    summary = extractive_summary(TEXTS, max_sentences=2, max_chars=1000)
    assert "green tea" in summary.casefold()
    # SumBasic squares covered term weights, so the two picks are not both about the same words
    first, second = split_sentences(summary)
    assert first != second


def test_duplicate_sentences_count_once_and_budget_holds() -> None:
    summary = extractive_summary(["Same fact.", "same   FACT.", "Other fact here."], max_sentences=5, max_chars=1000)
    assert summary == "Same fact. Other fact here."
    short = extractive_summary(TEXTS, max_sentences=5, max_chars=40)
    assert 0 < len(short) <= 40


def test_a_single_overlong_sentence_is_cut_not_dropped() -> None:
    summary = extractive_summary(["word " * 100], max_sentences=1, max_chars=20)
    assert len(summary) <= 20 and summary.endswith("…")


def test_empty_input_and_bad_limits() -> None:
    assert extractive_summary([], max_sentences=3, max_chars=100) == ""
    with pytest.raises(ValueError):
        extractive_summary(TEXTS, max_sentences=0, max_chars=100)
