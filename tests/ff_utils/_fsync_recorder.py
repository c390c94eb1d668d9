"""A fixture recording every fsync of a regular file, for tests of when the logs are made durable."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

import pytest


@pytest.fixture
def fsynced(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Records each fsync of a regular file by the path the kernel names it by, then does it."""
    seen: list[str] = []
    real = os.fsync

    def recording(fd: int) -> None:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            seen.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", recording)
    yield seen
