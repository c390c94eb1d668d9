"""Under a mutmut worker only: run a mutant's tests fastest first.

mutmut runs every test that reaches a mutated function, with ``-x``, in the order of a set (so,
arbitrary), and a ``_tools`` function is reached by up to a hundred tests, most of which start
sandboxed runs (0.3 to 3 s each). A mutant that a pure unit test kills in milliseconds then
often waits for tens of seconds of sandbox runs first. Sorted by the clean-run durations mutmut
recorded (``mutmut-stats.json`` in its working directory), the focused tests run first and the
verdict is the same: a mutant is killed when any of its tests fails, whatever their order.

Nothing changes outside a mutant's run (``MUTANT_UNDER_TEST`` names a mutant only there); the
tests do not depend on their order (they run in random order otherwise).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", ""):
        return
    try:
        durations = json.loads(Path("mutmut-stats.json").read_text(encoding="utf-8"))["duration_by_test"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    if isinstance(durations, dict):
        items.sort(key=lambda item: float(durations.get(item.nodeid) or 0.0))
