"""Lookups and refusals pinned exactly (issue 20: survivors among the mutants the run at acaf38b
reached first): a missing attachment names itself, a stored attachment over the configured limit
is not read, a repeated memory id, tags that are not a list and one tag too many are refused with their message and
field, dedupe works on any subset of the layers, and discarding a file already gone is quiet."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_memory_dtos import FFMemoryEntryDTO
from ff_managers import FFMemoryLayerManager
from ff_managers._memory.remote_attachments import RemoteAttachments
from ff_managers._memory.retention import dedupe_layers
from ff_utils.ff_errors import FFConflictError, FFError, FFNotFoundError, FFValidationError
from tests._fakes import FakeClock

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def make(root: Path, **memory: object) -> FFMemoryLayerManager:
    config = load_config(base_path=root, environ={})
    for key, value in memory.items():
        setattr(config.memory, key, value)
    return FFMemoryLayerManager(config, clock=FakeClock(T0))


async def test_attachments_missing_or_over_the_limit(tmp_path: Path) -> None:
    root = tmp_path / "data"
    mem = make(root)
    session = await mem.create_session("alice", "s")
    sent = await mem.add_message("alice", session.session_id, "user", "file", attachments=[{"name": "a.bin", "data": b"x" * 100}])
    [att] = sent.attachments
    assert await mem.get_attachment("alice", session.session_id, att.attachment_id) == b"x" * 100
    with pytest.raises(FFNotFoundError) as missing:
        await mem.get_attachment("alice", session.session_id, "att_nope")
    assert (missing.value.message, missing.value.kind, missing.value.key) == ("attachment 'att_nope' not found", "attachment", "att_nope")
    await mem.shutdown()
    strict = make(root, max_attachment_bytes=99)  # the limit lowered after the bytes were stored
    with pytest.raises(FFError) as over:
        await strict.get_attachment("alice", session.session_id, att.attachment_id)
    assert not isinstance(over.value, FFNotFoundError)
    assert "exceeds the limit of 99" in over.value.message
    await strict.shutdown()


async def test_store_memory_refusals_name_the_memory_and_the_field(tmp_path: Path) -> None:
    mem = make(tmp_path / "data")
    await mem.store_memory("alice", "a fact", memory_id="m1")
    with pytest.raises(FFConflictError) as repeated:
        await mem.store_memory("alice", "another fact", memory_id="m1")
    assert repeated.value.message == "memory 'm1' already exists"
    for tags in ("tea", 5):
        with pytest.raises(FFValidationError) as caught:
            await mem.store_memory("alice", "a fact", tags=tags)
        assert (caught.value.message, caught.value.field) == ("tags must be a list of strings", "tags")
    at_limit = await mem.store_memory("alice", "many tags", tags=[f"t{i}" for i in range(32)])
    assert len(at_limit.tags) == 32  # "at most 32"
    with pytest.raises(FFValidationError) as over:
        await mem.store_memory("alice", "too many tags", tags=[f"t{i}" for i in range(33)])
    assert (over.value.message, over.value.field) == ("at most 32 tags", "tags")
    await mem.shutdown()


def entry(memory_id: str, layer: str) -> FFMemoryEntryDTO:
    return FFMemoryEntryDTO(memory_id=memory_id, user_id="alice", layer=layer, content=memory_id, importance=0.5,
                            created_at=T0, layer_entered_at=T0)


def test_dedupe_takes_any_subset_of_the_layers() -> None:
    a_short, a_long, b_long = entry("a", "short_term"), entry("a", "long_term"), entry("b", "long_term")
    cleaned, changed, dropped = dedupe_layers({"short_term": [a_short], "long_term": [a_long, b_long, b_long]})
    assert cleaned == {"immediate": [], "short_term": [], "medium_term": [], "long_term": [a_long, b_long], "permanent": []}
    assert (changed, dropped) == ({"short_term", "long_term"}, 2)


def test_discarding_a_file_already_gone_is_quiet(tmp_path: Path) -> None:
    kept, gone = tmp_path / "kept.bin", tmp_path / "gone.bin"
    kept.write_bytes(b"x")
    RemoteAttachments.discard([gone, kept])
    assert not kept.exists()


async def test_store_memory_names_each_bad_argument(tmp_path: Path) -> None:
    mem = make(tmp_path / "data")
    cases = (
        ({"user_id": "../x"}, "user_id"), ({"importance": 2}, "importance"), ({"importance": "high"}, "importance"),
        ({"session_id": "a b"}, "session_id"), ({"message_id": "a/b"}, "message_id"), ({"tags": ["ok", "a\nb"]}, "tags"),
        ({"tags": ["x" * 65]}, "tags"), ({"layer": "attic"}, "layer"), ({"metadata": "x"}, "metadata"),
    )
    for kwargs, field in cases:
        args = {"user_id": "alice", "content": "a fact", **kwargs}
        with pytest.raises(FFValidationError) as caught:
            await mem.store_memory(**args)
        assert caught.value.field == field, kwargs
    with pytest.raises(FFValidationError) as layer:
        await mem.store_memory("alice", "a fact", layer="attic")
    assert layer.value.message == "unknown memory layer 'attic'; expected one of immediate, short_term, medium_term, long_term, permanent"
    assert layer.value.value == "attic"
    stored = await mem.store_memory("alice", "a fact")
    assert stored.memory_id.startswith("mem_")
    await mem.shutdown()
