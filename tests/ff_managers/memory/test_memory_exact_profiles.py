"""A profile update read back field by field (issue 20: ``profiles.update`` 83, 84 in the run at
13dc191: a new username written under another key went unnoticed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager
from tests._fakes import FakeClock

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


async def test_an_update_replaces_the_username_and_keeps_the_rest(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    mem = FFMemoryLayerManager(load_config(base_path=tmp_path / "data", environ={}), clock=clock)
    await mem.create_profile("alice", username="Ada", preferences={"tone": "brief"}, metadata={"m": 1})
    clock.advance(minutes=5)
    updated = await mem.update_profile("alice", username="Ada L.")
    back = await mem.get_profile("alice")
    for profile in (updated, back):
        assert (profile.username, profile.preferences, profile.metadata) == ("Ada L.", {"tone": "brief"}, {"m": 1})
        assert (profile.created_at, profile.updated_at) == (T0, T0 + timedelta(minutes=5))
    assert set(back.model_dump()) == set(updated.model_dump())
    cleared = await mem.update_profile("alice", username="")
    assert (cleared.username, (await mem.get_profile("alice")).username) == ("", "")
    await mem.shutdown()
