"""FFTestContext: the five managers wired to one event bus on one test data root.

Tests receive this object. It hands out fresh user ids (so concurrent tests never share a user),
and can restart a manager (shut down, build a new instance on the same root), which is how tests
prove that data survives a restart.

Every manager of a run is built here, so the parts it is made of can be swapped in one place:
``store_factory(config) -> FFStore`` (default :meth:`FFStore.from_config`), ``bus_factory(
dead_letter_path) -> FFEventBus`` (``None`` for a private bus with no dead-letter file; default
:class:`FFEventBus`) and ``manager_classes`` (a name -> class mapping, e.g. ``{"memory": MySubclass}``;
the others keep the real class). They reach the managers made at creation, by :meth:`restart` and
by :meth:`fresh_manager` (which suites use for second instances, private stacks and sandboxes).
This is the seam the pytest suite uses to plant a defect (an ``FFStore`` subclass that leaks, a bus
that drops events) and prove the suite meant to catch it turns red, without patching classes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

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
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_store import FFStore
from testing._synthetic_data import FFSyntheticData

__all__ = ["FFTestContext", "MANAGER_NAMES", "MANAGER_CLASSES", "StoreFactory", "BusFactory", "default_bus"]

MANAGER_NAMES = ("memory", "panel", "knowledge", "tools", "metrics")
MANAGER_CLASSES: dict[str, type[FFComponentBase]] = {
    "memory": FFMemoryLayerManager,
    "panel": FFPanelSessionManager,
    "knowledge": FFKnowledgeBaseManager,
    "tools": FFToolExecutionManager,
    "metrics": FFMetricsCollectionManager,
}

StoreFactory: TypeAlias = Callable[[FFConfigurationManagerConfigDTO], FFStore]
"""Builds a manager's store from the config it runs on (the default is ``FFStore.from_config``)."""
BusFactory: TypeAlias = Callable[[Path | None], FFEventBus]
"""Builds an event bus; the argument is its dead-letter file (``None``: in memory only)."""


def default_bus(dead_letter_path: Path | None) -> FFEventBus:
    """The bus a run uses unless a ``bus_factory`` is given."""
    return FFEventBus(dead_letter_path=dead_letter_path)


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
    cluster_run_dir: Path | None = None
    """The run dir of a cluster already running (``main.py cluster test``): the cross-system suite
    attaches to it (``FFLocalCluster.attach``) instead of starting instances of its own."""
    store_factory: StoreFactory = FFStore.from_config
    bus_factory: BusFactory = default_bus
    comm_factory: Callable[..., Any] | None = None
    """Builds the cross-system suite's communication manager (``factory(config)``); None: the real
    ``FFCrossSystemCommunicationManager``. The seam tests use to plant a defective balancer."""
    suite_state: dict[str, Any] = field(default_factory=dict)
    """What a suite keeps between its tests (the cross-system suite's cluster, load and evidence)."""
    manager_classes: dict[str, type[FFComponentBase]] = field(default_factory=lambda: dict(MANAGER_CLASSES))
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    @classmethod
    async def create(
        cls,
        config: FFConfigurationManagerConfigDTO,
        run_dir: Path,
        data: FFSyntheticData,
        *,
        clock: Clock | None = None,
        store_factory: StoreFactory | None = None,
        bus_factory: BusFactory | None = None,
        manager_classes: Mapping[str, type[FFComponentBase]] | None = None,
        cluster_run_dir: Path | None = None,
        comm_factory: Callable[..., Any] | None = None,
    ) -> FFTestContext:
        """Wire the five managers to one bus on ``config``'s data root and start them.

        ``store_factory``, ``bus_factory`` and ``manager_classes`` replace the parts every manager
        of this context is built from (see the module docstring); ``None`` keeps the real ones.
        """
        unknown = set(manager_classes or ()) - set(MANAGER_NAMES)
        if unknown:
            raise FFValidationError(f"unknown manager name(s): {', '.join(sorted(unknown))}", field="manager_classes")
        bus_factory = bus_factory or default_bus
        context = cls(
            config=config,
            run_dir=run_dir,
            data=data,
            bus=bus_factory(Path(config.storage.base_path) / "system" / "dead_letters.jsonl"),
            managers={},
            clock=clock,
            store_factory=store_factory or FFStore.from_config,
            bus_factory=bus_factory,
            manager_classes={**MANAGER_CLASSES, **(manager_classes or {})},
            cluster_run_dir=cluster_run_dir,
            comm_factory=comm_factory,
        )
        context.managers = {name: context._build(name, context.config, context.bus) for name in MANAGER_NAMES}
        for manager in context.managers.values():
            await manager.initialize()
        return context

    def _build(self, name: str, config: FFConfigurationManagerConfigDTO, bus: FFEventBus, clock: Clock | None = None) -> Any:
        return self.manager_classes[name](config, bus=bus, clock=clock or self.clock, store=self.store_factory(config))

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
        fresh = self._build(name, self.config, self.bus)
        await fresh.initialize()
        self.managers[name] = fresh
        return fresh

    def fresh_manager(
        self,
        name: str,
        *,
        bus: FFEventBus | None = None,
        config: FFConfigurationManagerConfigDTO | None = None,
        clock: Clock | None = None,
    ) -> Any:
        """A second, independent instance (as another process would have), not started.

        It runs on this context's root unless ``config`` says otherwise (a sandbox root, other
        durability), on ``bus`` or a private one from ``bus_factory``, on ``clock`` or the run's
        (a check of exact time edges sets its own), and is built from the same parts as the
        context's own managers, so an injected store or class reaches it too.
        """
        return self._build(name, config or self.config, bus or self.bus_factory(None), clock)

    async def close(self) -> None:
        for manager in self.managers.values():
            await manager.shutdown()
