"""Test doubles shared by every test module: a clock moved by hand and a whole-tree snapshot.

Kept here (not in each test file) so there is one fake clock and one way to prove that a refused
call wrote nothing. ``tests/conftest.py`` exposes them as fixtures; import them directly
(``from tests._fakes import FakeClock``) where a module needs them outside a fixture.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

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


def tree_snapshot(top: Path) -> dict[str, tuple[str, int, str]]:
    """Every entry under ``top`` with its kind, size and content hash; symlinks are recorded, not followed.

    Two snapshots compare equal exactly when nothing was created, removed, changed or re-linked,
    which is how tests show that bad input wrote nothing.
    """
    entries: dict[str, tuple[str, int, str]] = {}
    if not top.exists():
        return entries
    for directory, dirnames, filenames in os.walk(top, followlinks=False):
        for name in dirnames + filenames:
            full = Path(directory) / name
            relative = full.relative_to(top).as_posix()
            if full.is_symlink():
                entries[relative] = ("link", 0, os.readlink(full))
            elif full.is_dir():
                entries[relative] = ("dir", 0, "")
            else:
                entries[relative] = ("file", full.lstat().st_size, hashlib.sha256(full.read_bytes()).hexdigest())
    return entries
