"""Running a validation suite from pytest: the whole suite, or one test with what it depends on.

Defect tests break a manager with monkeypatch and run only the suite test meant to catch the
defect (plus the tests it depends on), so each stays a few seconds long.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import testing.ff_integration_test_manager as manager_module
from ff_class_configs import load_config
from ff_class_configs.ff_test_result_dtos import FFIntegrationTestResultDTO, FFTestStatus
from testing.ff_integration_test_manager import FFIntegrationTestManager
from testing.runner import FFTestSpec

__all__ = ["run_suite", "only_tests", "BROKEN"]

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
