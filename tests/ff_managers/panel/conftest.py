"""The panel tests' shared fixture ``panels``: a manager on the test's config whose clock stands still
at ``T0`` (a module that needs another manager defines its own ``panels``, which wins)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from ff_managers import FFPanelSessionManager
from tests._fakes import FakeClock
from tests.ff_managers.panel._exact import T0


@pytest.fixture
async def panels(config: Any) -> AsyncIterator[FFPanelSessionManager]:
    async with FFPanelSessionManager(config, clock=FakeClock(T0)) as manager:
        yield manager
