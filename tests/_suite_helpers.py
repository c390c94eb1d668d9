"""Running a validation suite from pytest: the whole suite, or one test with what it depends on.

Defect tests break a manager with monkeypatch and run only the suite test meant to catch the
defect (``run_suite(tmp_path, suite, name)``; the manager adds what it depends on), so each stays
a few seconds long.
"""

from __future__ import annotations

import shutil
import weakref
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager
from ff_class_configs.ff_test_result_dtos import FFIntegrationTestResultDTO, FFTestStatus
from testing.ff_integration_test_manager import FFIntegrationTestManager

__all__ = ["run_suite", "plant_sessions_lost_on_restart", "BROKEN"]

BROKEN = (FFTestStatus.FAILED, FFTestStatus.ERROR)


async def run_suite(tmp_path: Path, suite: str, *names: str) -> dict[str, FFIntegrationTestResultDTO]:
    """Run ``suite`` (or only ``names``, short ids, with their dependencies); results by short test id."""
    tm = FFIntegrationTestManager(load_config(environ={}), output_dir=tmp_path)
    try:
        outcome = await tm.run_suite(suite, only=names or None)
    finally:
        await tm.close()
    return {result.test_id.split(".", 1)[1]: result for result in outcome.results}


def plant_sessions_lost_on_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    """A write-back cache that never persisted: sessions an instance created vanish when it stops."""
    unsaved: weakref.WeakKeyDictionary[FFMemoryLayerManager, list[Path]] = weakref.WeakKeyDictionary()
    create = FFMemoryLayerManager.create_session

    async def create_session(self: FFMemoryLayerManager, user_id: str, title: str = "", **kwargs: Any) -> Any:
        session = await create(self, user_id, title, **kwargs)
        unsaved.setdefault(self, []).append(self.root / "users" / user_id / "sessions" / session.session_id)
        return session

    async def on_shutdown(self: FFMemoryLayerManager) -> None:
        for folder in unsaved.pop(self, []):
            shutil.rmtree(folder, ignore_errors=True)

    monkeypatch.setattr(FFMemoryLayerManager, "create_session", create_session)
    monkeypatch.setattr(FFMemoryLayerManager, "_on_shutdown", on_shutdown)
