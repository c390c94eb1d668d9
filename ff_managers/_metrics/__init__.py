"""The metrics manager's implementation; the public door is ``ff_managers.FFMetricsCollectionManager``.

Private: nothing outside ``ff_managers/`` imports this package (its own unit tests in
``tests/ff_managers/metrics/`` excepted).
"""

from __future__ import annotations

__all__: list[str] = []
