"""A planted defect: a named, plausible bug, planted in one run's managers, that a suite must catch.

The type and the runner of the catalogue (``tests/planted_defects``). An entry carries its bug as
a manager subclass (``manager_classes``, the validation platform's seam: it reaches only that
run's managers) or as replacements of functions in a module for the length of the run
(``patches``: ``(module, attribute, replacement)``). Replacements of private code are declared
beside that package's unit tests (``tests/ff_managers/<name>/planted_defects.py``), the one place
allowed to import it.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from ff_class_configs.ff_test_result_dtos import FFTestStatus

__all__ = ["PlantedDefect", "caught", "planted", "run_defect"]


@dataclass(frozen=True)
class PlantedDefect:
    name: str
    what: str
    origin: str
    suite: str
    test: str
    manager_classes: Mapping[str, type] = field(default_factory=dict)
    patches: tuple[tuple[ModuleType, str, Any], ...] = ()


@contextlib.contextmanager
def planted(defect: PlantedDefect) -> Iterator[None]:
    """Apply the defect's function replacements for the block, and always put the originals back."""
    undo: list[tuple[Any, str, Any]] = []
    try:
        for module, attribute, replacement in defect.patches:
            # getattr_static: a class's staticmethod is saved as the staticmethod object, not the bare
            # function getattr gives (which, put back, would become a method taking self)
            undo.append((module, attribute, inspect.getattr_static(module, attribute)))
            setattr(module, attribute, replacement)
        yield
    finally:
        for module, attribute, original in reversed(undo):
            setattr(module, attribute, original)


async def run_defect(defect: PlantedDefect, tmp_path: Path) -> dict[str, FFTestStatus]:
    """Run the suite test meant to catch ``defect``, with the tests it depends on, on a run
    carrying the defect; the status of every test that ran. The defect is caught when any of them
    failed or errored (a dependency that fails first skips the test meant for it: still red)."""
    from tests._suite_helpers import run_suite

    with planted(defect):
        results = await run_suite(tmp_path, defect.suite, defect.test, manager_classes=dict(defect.manager_classes))
    # A replacement written against an older signature of the code it replaces crashes with a
    # TypeError before it can show its bug: that is red for the wrong reason, not a catch.
    stale = [f"{name}: {r.error_message}" for name, r in results.items()
             if r.status == FFTestStatus.ERROR and r.error_type == "TypeError" and "argument" in r.error_message]  # fmt: skip
    if stale:
        raise AssertionError(f"{defect.name}: the planted code crashed on its own call (out of date with the code it replaces?): {stale}")
    return {name: result.status for name, result in results.items()}


def caught(statuses: Mapping[str, FFTestStatus]) -> list[str]:
    """The tests that turned red."""
    return sorted(name for name, status in statuses.items() if status in (FFTestStatus.FAILED, FFTestStatus.ERROR))
