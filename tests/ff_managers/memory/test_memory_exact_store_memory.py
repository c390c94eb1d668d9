"""store_memory's explicit time and id, and the archive's tail, pinned exactly (issue 20:
``layers.new`` and ``stored.tail_records`` survivors of the run at 13dc191)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager
from ff_utils.ff_errors import FFValidationError
from tests._fakes import FakeClock

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
async def mem(tmp_path: Path) -> FFMemoryLayerManager:
    manager = FFMemoryLayerManager(load_config(base_path=tmp_path / "data", environ={}), clock=FakeClock(T0))
    yield manager
    await manager.shutdown()


async def test_created_at_as_text_and_naive_is_utc(mem: FFMemoryLayerManager) -> None:
    naive = await mem.store_memory("alice", "a fact", created_at="2026-01-02T03:04:05")
    assert naive.created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC) and naive.created_at.tzinfo is not None
    east = await mem.store_memory("alice", "b fact", created_at="2026-01-02T08:04:05+05:00")
    assert east.created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    back = await mem.get_memory("alice", naive.memory_id)
    assert back.created_at == naive.created_at


async def test_store_memory_refuses_by_field(mem: FFMemoryLayerManager) -> None:
    for kwargs, field in (({"created_at": "soon"}, "created_at"), ({"memory_id": "../m"}, "memory_id")):
        with pytest.raises(FFValidationError) as caught:
            await mem.store_memory("alice", "a fact", **kwargs)
        assert caught.value.field == field, kwargs


async def test_the_archive_tail_keeps_every_record_under_its_limit(mem: FFMemoryLayerManager) -> None:
    dropped = [await mem.store_memory("alice", f"passing fact {i}", layer="immediate", importance=0.1) for i in range(2)]
    await mem.process_retention(now=T0 + timedelta(hours=3))
    for limit, expected in ((3, dropped), (2, dropped), (1, dropped[1:])):
        archived = await mem.get_archived_memories("alice", limit=limit)
        assert [a.entry.memory_id for a in archived] == [m.memory_id for m in expected], limit
