"""Running a validation suite from pytest: the whole suite, or one test with what it depends on.

Defect tests plant a bug in the managers a run builds and run only the suite test meant to catch
the defect (``run_suite(tmp_path, suite, name, store_factory=...)``; the manager adds what it
depends on), so each stays a few seconds long. The bug goes in through the validation platform's
seams (``store_factory``, ``bus_factory``, ``manager_classes`` of FFIntegrationTestManager), as a
small named ``FFStore`` / ``FFEventBus`` / manager subclass, so it reaches only the run's managers
and no class is patched for the whole process. The defects more than one suite must catch live here.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ff_class_configs import load_config
from ff_class_configs.ff_test_result_dtos import FFIntegrationTestResultDTO, FFTestStatus
from ff_managers import FFMemoryLayerManager
from ff_utils.ff_store import FFStore
from testing.ff_integration_test_manager import FFIntegrationTestManager

__all__ = ["run_suite", "SessionsLostOnRestart", "SharedMemoryFolderStore", "BROKEN"]

BROKEN = (FFTestStatus.FAILED, FFTestStatus.ERROR)


async def run_suite(tmp_path: Path, suite: str, *names: str, **parts: Any) -> dict[str, FFIntegrationTestResultDTO]:
    """Run ``suite`` (or only ``names``, short ids, with their dependencies); results by short test id.

    ``parts`` are FFIntegrationTestManager's seams (``store_factory``, ``bus_factory``,
    ``manager_classes``): how a test plants a defect in the managers of this run only.
    """
    tm = FFIntegrationTestManager(load_config(environ={}), output_dir=tmp_path, **parts)
    try:
        outcome = await tm.run_suite(suite, only=names or None)
    finally:
        await tm.close()
    return {result.test_id.split(".", 1)[1]: result for result in outcome.results}


class SharedMemoryFolderStore(FFStore):
    """Every user's memory folder is the same one: a memory search that ignores the user."""

    def path(self, *parts: str) -> Path:
        if parts[:1] == ("users",) and parts[2:3] == ("memory",):
            parts = ("users", "everyone", *parts[2:])
        return super().path(*parts)


class SessionsLostOnRestart(FFMemoryLayerManager):
    """A write-back cache that never persisted: sessions an instance created vanish when it stops."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unsaved: list[Path] = []

    async def create_session(self, user_id: str, title: str = "", **kwargs: Any) -> Any:
        session = await super().create_session(user_id, title, **kwargs)
        self.unsaved.append(self.root / "users" / user_id / "sessions" / session.session_id)
        return session

    async def shutdown(self) -> None:
        await super().shutdown()
        unsaved, self.unsaved = self.unsaved, []
        for folder in unsaved:
            shutil.rmtree(folder, ignore_errors=True)
