"""FFTestContext's seams: injected store, bus and manager classes reach every manager it builds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_managers import FFEventBus, FFMemoryLayerManager
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_store import FFStore
from testing._context import MANAGER_NAMES, FFTestContext
from testing._synthetic_data import generate_synthetic_data


class TaggedStore(FFStore):
    """A real store that says it was injected."""


class TaggedBus(FFEventBus):
    """A real bus that remembers its dead-letter file."""

    def __init__(self, dead_letter_path: Path | None) -> None:
        super().__init__(dead_letter_path=dead_letter_path)
        self.dead_letter_file = dead_letter_path


class TaggedMemory(FFMemoryLayerManager):
    """The real memory manager under another name."""


async def _context(config: FFConfigurationManagerConfigDTO, tmp_path: Path, **parts: Any) -> FFTestContext:
    return await FFTestContext.create(config, tmp_path / "run", generate_synthetic_data(1), **parts)


async def test_injected_parts_reach_creation_restart_and_fresh_managers(config: FFConfigurationManagerConfigDTO, tmp_path: Path) -> None:
    ctx = await _context(config, tmp_path, store_factory=TaggedStore.from_config, bus_factory=TaggedBus, manager_classes={"memory": TaggedMemory})
    try:
        assert isinstance(ctx.bus, TaggedBus) and ctx.bus.dead_letter_file == Path(config.storage.base_path) / "system" / "dead_letters.jsonl"
        assert all(isinstance(ctx.managers[name].store, TaggedStore) and ctx.managers[name].bus is ctx.bus for name in MANAGER_NAMES)
        assert type(ctx.memory) is TaggedMemory and type(ctx.panel).__name__ == "FFPanelSessionManager"
        restarted = await ctx.restart("memory")
        assert type(restarted) is TaggedMemory and isinstance(restarted.store, TaggedStore) and restarted.bus is ctx.bus
        other_root = config.with_base_path(tmp_path / "elsewhere")
        fresh = ctx.fresh_manager("memory", config=other_root)
        assert type(fresh) is TaggedMemory and isinstance(fresh.store, TaggedStore)
        assert fresh.store.root == (tmp_path / "elsewhere").resolve()
        assert isinstance(fresh.bus, TaggedBus) and fresh.bus is not ctx.bus and fresh.bus.dead_letter_file is None
    finally:
        await ctx.close()


async def test_the_real_parts_by_default(config: FFConfigurationManagerConfigDTO, tmp_path: Path) -> None:
    ctx = await _context(config, tmp_path)
    try:
        assert type(ctx.bus) is FFEventBus and type(ctx.memory) is FFMemoryLayerManager
        assert all(type(m.store) is FFStore for m in ctx.managers.values())
        assert type(ctx.fresh_manager("tools").store) is FFStore
    finally:
        await ctx.close()


async def test_an_unknown_manager_name_is_refused(config: FFConfigurationManagerConfigDTO, tmp_path: Path) -> None:
    with pytest.raises(FFValidationError, match="memroy"):
        await _context(config, tmp_path, manager_classes={"memroy": TaggedMemory})
