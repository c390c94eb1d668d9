"""FFTestContext: the five managers wired to one event bus on one test data root.

Tests receive this object. It hands out fresh user ids (so concurrent tests never share a user),
and can restart a manager (shut down, build a new instance on the same root), which is how tests
prove that data survives a restart.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_test_result_dtos import FFPerformanceSummaryDTO
from ff_managers import (
    FFEventBus,
    FFKnowledgeBaseManager,
    FFMemoryLayerManager,
    FFMetricsCollectionManager,
    FFPanelSessionManager,
    FFToolExecutionManager,
)
from ff_managers.ff_component_base import Clock, FFComponentBase
from testing._synthetic_data import FFSyntheticData

__all__ = ["FFTestContext", "MANAGER_NAMES"]

MANAGER_NAMES = ("memory", "panel", "knowledge", "tools", "metrics")
_CLASSES: dict[str, type[FFComponentBase]] = {
    "memory": FFMemoryLayerManager,
    "panel": FFPanelSessionManager,
    "knowledge": FFKnowledgeBaseManager,
    "tools": FFToolExecutionManager,
    "metrics": FFMetricsCollectionManager,
}


@dataclass
class FFTestContext:
    """Everything a test may touch; built by :meth:`create`."""

    config: FFConfigurationManagerConfigDTO
    run_dir: Path
    data: FFSyntheticData
    bus: FFEventBus
    managers: dict[str, Any]
    clock: Clock | None = None
    baseline: tuple[str, FFPerformanceSummaryDTO] | None = None
    """(run id, performance summary) of the previous run, for regression checks."""
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    @classmethod
    async def create(
        cls, config: FFConfigurationManagerConfigDTO, run_dir: Path, data: FFSyntheticData, *, clock: Clock | None = None
    ) -> FFTestContext:
        bus = FFEventBus(dead_letter_path=Path(config.storage.base_path) / "system" / "dead_letters.jsonl")
        managers = {name: _CLASSES[name](config, bus=bus, clock=clock) for name in MANAGER_NAMES}
        context = cls(config=config, run_dir=run_dir, data=data, bus=bus, managers=managers, clock=clock)
        for manager in managers.values():
            await manager.initialize()
        return context

    @property
    def root(self) -> Path:
        return Path(self.config.storage.base_path).resolve()

    @property
    def memory(self) -> FFMemoryLayerManager:
        return self.managers["memory"]

    @property
    def panel(self) -> FFPanelSessionManager:
        return self.managers["panel"]

    @property
    def knowledge(self) -> FFKnowledgeBaseManager:
        return self.managers["knowledge"]

    @property
    def tools(self) -> FFToolExecutionManager:
        return self.managers["tools"]

    @property
    def metrics(self) -> FFMetricsCollectionManager:
        return self.managers["metrics"]

    def new_user(self, prefix: str = "user") -> str:
        """A user id no other test of this run uses."""
        return f"{prefix}_{next(self._ids):04d}"

    async def restart(self, name: str) -> Any:
        """Shut a manager down and replace it with a new instance on the same data root."""
        old = self.managers[name]
        await old.shutdown()
        fresh = _CLASSES[name](self.config, bus=self.bus, clock=self.clock)
        await fresh.initialize()
        self.managers[name] = fresh
        return fresh

    def fresh_manager(self, name: str, *, bus: FFEventBus | None = None) -> Any:
        """A second, independent instance (as another process would have) on the same root."""
        return _CLASSES[name](self.config, bus=bus or FFEventBus(), clock=self.clock)

    async def close(self) -> None:
        for manager in self.managers.values():
            await manager.shutdown()
