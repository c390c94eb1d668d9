"""Test doubles shared by every test module: a clock moved by hand and a whole-tree snapshot.

Kept here (not in each test file) so there is one fake clock and one way to prove that a refused
call wrote nothing. ``tests/conftest.py`` exposes them as fixtures; import them directly
(``from tests._fakes import FakeClock``) where a module needs them outside a fixture.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from testing._snapshots import Snapshot, snapshot_tree

__all__ = ["FakeClock", "T0", "tree_snapshot"]

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """An injectable clock (``Manager(config, clock=FakeClock())``) that only moves when told to,
    so retention, TTLs and timestamps are exact without sleeping."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0.0, **delta: float) -> datetime:
        """Move forward by ``seconds`` and/or ``timedelta`` keywords (``days=1``); return the new now."""
        self.now += timedelta(seconds=seconds, **delta)
        return self.now


def tree_snapshot(top: Path) -> Snapshot:
    """Every entry under ``top`` with kind, size and hash (see testing._snapshots.snapshot_tree)."""
    return snapshot_tree(top)
