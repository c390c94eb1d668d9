"""Tests of ff_managers._memory.retention: the retention plan, exact to the microsecond, no disk."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ff_class_configs.ff_memory_config import MEMORY_LAYERS, FFMemoryConfigDTO
from ff_class_configs.ff_memory_dtos import FFMemoryEntryDTO
from ff_managers._memory.retention import dedupe_layers, plan_retention

T0 = datetime(2025, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
POLICY = FFMemoryConfigDTO()


def entry(memory_id: str, layer: str = "immediate", *, importance: float = 0.5, at: datetime = T0, content: str = "") -> FFMemoryEntryDTO:
    return FFMemoryEntryDTO(
        memory_id=memory_id,
        user_id="u",
        layer=layer,
        content=content or f"fact number {memory_id}.",
        importance=importance,
        created_at=at,
        layer_entered_at=at,
    )


def layers_of(*entries: FFMemoryEntryDTO) -> dict:
    layers: dict = {layer: [] for layer in MEMORY_LAYERS}
    for e in entries:
        layers[e.layer].append(e)
    return layers


def ids(plan, layer: str) -> list[str]:
    return [e.memory_id for e in plan.layers[layer]]


def plan(layers: dict, now: datetime, policy: FFMemoryConfigDTO = POLICY):
    counter = itertools.count(1)
    return plan_retention(layers, now, policy, max_content_chars=10_000, new_id=lambda: f"sum{next(counter)}")


def test_nothing_happens_one_microsecond_before_expiry() -> None:
    result = plan(layers_of(entry("a")), T0 + timedelta(hours=2) - US)
    assert ids(result, "immediate") == ["a"] and not result.changed and not result.moved and not result.archived


def test_expiry_moves_down_at_exactly_the_retention_and_enters_at_the_expiry_moment() -> None:
    result = plan(layers_of(entry("a")), T0 + timedelta(hours=2))
    assert ids(result, "immediate") == [] and ids(result, "short_term") == ["a"]
    moved = result.layers["short_term"][0]
    assert moved.layer == "short_term" and moved.layer_entered_at == T0 + timedelta(hours=2)
    assert moved.created_at == T0
    assert [(m.memory_id, m.from_layer, m.to_layer) for m in result.moved] == [("a", "immediate", "short_term")]
    assert result.changed == {"immediate", "short_term"}


def test_unimportant_entries_are_archived_instead_of_moved() -> None:
    result = plan(layers_of(entry("low", importance=0.1)), T0 + timedelta(hours=2))
    assert all(not ids(result, layer) for layer in MEMORY_LAYERS)
    [record] = result.archived
    assert (record.entry.memory_id, record.reason, record.from_layer, record.archived_at) == (
        "low",
        "expired",
        "immediate",
        T0 + timedelta(hours=2),
    )


def test_old_entries_cascade_through_every_layer_they_outlived_in_one_pass() -> None:
    # 0.5: moves immediate->short (>=0.2), short->medium (>=0.4), then is archived from medium (<0.6)
    medium_expiry = T0 + timedelta(hours=2 + 24 + 24 * 7)
    just_before = plan(layers_of(entry("a")), medium_expiry - US)
    assert ids(just_before, "medium_term") == ["a"]
    assert [m.to_layer for m in just_before.moved] == ["short_term", "medium_term"]
    result = plan(layers_of(entry("a")), medium_expiry)
    assert [r.from_layer for r in result.archived] == ["medium_term"]
    assert result.archived[0].entry.layer_entered_at == T0 + timedelta(hours=26)


def test_important_entries_stay_longer_and_reach_long_term() -> None:
    vital = entry("v", importance=0.9)
    assert ids(plan(layers_of(vital), T0 + timedelta(hours=4) - US), "immediate") == ["v"]  # 2 h x factor 2
    assert ids(plan(layers_of(vital), T0 + timedelta(hours=4)), "short_term") == ["v"]
    reach_long = T0 + timedelta(hours=2 * (2 + 24 + 24 * 7))
    assert ids(plan(layers_of(vital), reach_long), "long_term") == ["v"]
    gone = plan(layers_of(vital), reach_long + timedelta(hours=2 * 24 * 365))
    assert [(r.entry.memory_id, r.from_layer) for r in gone.archived] == [("v", "long_term")]


def test_permanent_never_expires() -> None:
    result = plan(layers_of(entry("p", "permanent", importance=0.0)), T0 + timedelta(days=365 * 200))
    assert ids(result, "permanent") == ["p"] and not result.archived and not result.changed


def test_full_layer_is_compressed_into_summaries_that_keep_source_ids() -> None:
    policy = FFMemoryConfigDTO(layer_max_entries={"short_term": 10}, compression_batch=5)
    entries = [entry(f"m{i:02d}", "short_term", at=T0 + timedelta(minutes=i), content=f"Fact {i} about tea.") for i in range(14)]
    entries.append(entry("vip", "short_term", importance=0.95, at=T0 - timedelta(hours=1)))
    result = plan(layers_of(*entries), T0 + timedelta(hours=1), policy)
    layer = result.layers["short_term"]
    assert len(layer) <= 10
    first, second = result.compressed
    # unimportant oldest first; the older but important entry is kept verbatim
    assert first.source_ids == ["m00", "m01", "m02", "m03", "m04"]
    assert second.source_ids == ["m05", "m06", "m07", "m08", "m09"]
    assert "vip" in ids(result, "short_term")
    summary = next(e for e in layer if e.memory_id == "sum1")
    assert summary.kind == "summary" and summary.source_ids == first.source_ids
    assert summary.layer_entered_at == T0 + timedelta(minutes=4)  # lives as long as its youngest source
    assert summary.content and all(part.startswith("Fact") for part in summary.content.split(". ") if part)
    archived = {r.entry.memory_id: r for r in result.archived}
    assert set(archived) == set(first.source_ids) | set(second.source_ids)
    assert {r.reason for r in archived.values()} == {"compressed"}
    assert archived["m00"].summary_id == "sum1" and archived["m07"].summary_id == "sum2"


def test_compression_far_over_the_limit_nests_summaries_and_loses_nothing() -> None:
    policy = FFMemoryConfigDTO(layer_max_entries={"immediate": 1}, compression_batch=3)
    entries = [entry(f"m{i}", at=T0 + timedelta(seconds=i)) for i in range(10)]
    result = plan(layers_of(*entries), T0 + timedelta(minutes=1), policy)
    assert len(result.layers["immediate"]) == 1
    active = {e.memory_id for e in result.layers["immediate"]}
    archived = {r.entry.memory_id for r in result.archived}
    assert {e.memory_id for e in entries} <= active | archived
    # every summary that was itself compressed is archived, so every source id is resolvable
    everything = active | archived
    assert all(set(c.source_ids) <= everything for c in result.compressed)


def test_duplicates_from_an_interrupted_pass_are_kept_furthest_down_the_chain() -> None:
    a_src = entry("a", "immediate")
    a_dst = entry("a", "short_term")
    cleaned, changed, dropped = dedupe_layers(layers_of(a_src, a_dst, entry("b"), entry("b")))
    assert [e.memory_id for e in cleaned["short_term"]] == ["a"]
    assert [e.memory_id for e in cleaned["immediate"]] == ["b"]
    assert changed == {"immediate"} and dropped == 2


@settings(max_examples=60, deadline=None)
@given(
    specs=st.lists(
        st.tuples(
            st.sampled_from(MEMORY_LAYERS),
            st.floats(min_value=0, max_value=1),
            st.integers(min_value=0, max_value=24 * 800),
        ),
        max_size=40,
    ),
    hours=st.integers(min_value=0, max_value=24 * 1200),
    limit=st.integers(min_value=1, max_value=8),
)
def test_every_entry_is_active_or_archived_exactly_once(specs: list, hours: int, limit: int) -> None:
    policy = FFMemoryConfigDTO(layer_max_entries={layer: limit for layer in MEMORY_LAYERS}, compression_batch=3)
    entries = [entry(f"e{i}", layer, importance=imp, at=T0 + timedelta(hours=h)) for i, (layer, imp, h) in enumerate(specs)]
    result = plan(layers_of(*entries), T0 + timedelta(hours=hours), policy)
    active = [e.memory_id for layer in MEMORY_LAYERS for e in result.layers[layer]]
    archived = [r.entry.memory_id for r in result.archived]
    assert len(active) == len(set(active)) and len(archived) == len(set(archived))
    assert not set(active) & set(archived)
    summaries = {s.memory_id for s in result.summaries}
    assert set(active) | set(archived) == {e.memory_id for e in entries} | summaries
    assert all(len(result.layers[layer]) <= limit for layer in MEMORY_LAYERS)
    assert all(e.layer == layer for layer in MEMORY_LAYERS for e in result.layers[layer])
