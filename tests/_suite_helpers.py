"""Running a validation suite from pytest: the whole suite, or one test with what it depends on.

Defect tests break a manager with monkeypatch and run only the suite test meant to catch the
defect (plus the tests it depends on), so each stays a few seconds long.
"""

from __future__ import annotations

import shutil
import weakref
from pathlib import Path
from typing import Any

import pytest

import testing.ff_integration_test_manager as manager_module
from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager
from ff_class_configs.ff_test_result_dtos import FFIntegrationTestResultDTO, FFTestStatus
from testing.ff_integration_test_manager import FFIntegrationTestManager
from testing.runner import FFTestSpec

__all__ = ["run_suite", "only_tests", "plant_sessions_lost_on_restart", "BROKEN"]

BROKEN = (FFTestStatus.FAILED, FFTestStatus.ERROR)


def only_tests(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Make the test manager load only ``names`` (short ids) and, transitively, their dependencies."""
    load = manager_module._suite_specs

    def selected(suite: str) -> list[FFTestSpec]:
        specs = load(suite)
        by_id = {spec.test_id: spec for spec in specs}
        wanted = {f"{suite}.{name}" for name in names}
        missing = wanted - set(by_id)
        if missing:
            raise KeyError(f"no such tests in {suite}: {sorted(missing)}")
        stack = list(wanted)
        while stack:
            for dependency in by_id[stack.pop()].depends_on:
                if dependency not in wanted:
                    wanted.add(dependency)
                    stack.append(dependency)
        return [spec for spec in specs if spec.test_id in wanted]

    monkeypatch.setattr(manager_module, "_suite_specs", selected)


async def run_suite(tmp_path: Path, suite: str) -> dict[str, FFIntegrationTestResultDTO]:
    """Run ``suite`` through FFIntegrationTestManager; results by short test id."""
    tm = FFIntegrationTestManager(load_config(environ={}), output_dir=tmp_path)
    try:
        outcome = await tm.run_suite(suite)
    finally:
        await tm.close()
    return {result.test_id.split(".", 1)[1]: result for result in outcome.results}


def plant_sessions_lost_on_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    """A write-back cache that never persisted: sessions an instance created vanish when it stops."""
    unsaved: weakref.WeakKeyDictionary[FFMemoryLayerManager, list[Path]] = weakref.WeakKeyDictionary()
    create = FFMemoryLayerManager.create_session

    async def create_session(self: FFMemoryLayerManager, user_id: str, title: str = "", **kwargs: Any) -> Any:
        session = await create(self, user_id, title, **kwargs)
        unsaved.setdefault(self, []).append(self._session_dir(user_id, session.session_id))
        return session

    async def on_shutdown(self: FFMemoryLayerManager) -> None:
        for folder in unsaved.pop(self, []):
            shutil.rmtree(folder, ignore_errors=True)

    monkeypatch.setattr(FFMemoryLayerManager, "create_session", create_session)
    monkeypatch.setattr(FFMemoryLayerManager, "_on_shutdown", on_shutdown)
