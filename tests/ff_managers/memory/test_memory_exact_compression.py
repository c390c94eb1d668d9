"""Compression's summary entry pinned field by field (issue 20: survivors of ``retention._compress``
and ``_compression_order`` in the run at 13dc191): a layer at its limit is left alone, the summary's
tags, metadata and source ids, and an entry exactly at the keep threshold compressed last."""

from __future__ import annotations

from datetime import timedelta

from ff_class_configs.ff_memory_config import FFMemoryConfigDTO
from tests.ff_managers.memory.test_memory_retention import T0, entry, layers_of, plan

POLICY = FFMemoryConfigDTO(layer_max_entries={"short_term": 3}, compression_batch=2)
MIN = timedelta(minutes=1)


def test_a_layer_at_its_limit_is_not_compressed() -> None:
    result = plan(layers_of(*(entry(f"m{i}", "short_term", at=T0 + i * MIN) for i in range(3))), T0 + 5 * MIN, POLICY)
    assert "short_term" not in result.changed and not result.compressed


def test_the_summary_entry_field_by_field() -> None:
    a = entry("a", "short_term", at=T0).model_copy(update={"tags": ["x", "b"]})
    b = entry("b", "short_term", at=T0 + MIN, importance=0.7).model_copy(update={"tags": ["a", "x"]})
    c, d = (entry(name, "short_term", at=T0 + i * MIN) for i, name in ((2, "c"), (3, "d")))
    now = T0 + 10 * MIN
    result = plan(layers_of(c, a, d, b), now, POLICY)
    [summary] = result.summaries
    assert (summary.memory_id, summary.user_id, summary.layer, summary.kind) == ("sum1", "u", "short_term", "summary")
    assert (summary.source_ids, summary.tags, summary.importance) == (["a", "b"], ["a", "b", "x"], 0.7)
    assert summary.metadata == {"compressed_count": 2, "first_source_at": T0.isoformat()}
    assert (summary.created_at, summary.layer_entered_at) == (now, T0 + MIN)
    assert summary.content == "fact number a. fact number b."
    assert [e.memory_id for e in result.layers["short_term"]] == ["c", "d", "sum1"]


def test_an_entry_exactly_at_the_keep_threshold_is_compressed_last() -> None:
    keep = entry("k", "short_term", at=T0, importance=POLICY.importance_keep_threshold)
    others = [entry(name, "short_term", at=T0 + i * MIN) for i, name in ((1, "a"), (2, "b"), (3, "c"))]
    result = plan(layers_of(keep, *others), T0 + 10 * MIN, POLICY)
    [compressed] = result.compressed
    assert compressed.source_ids == ["a", "b"]
