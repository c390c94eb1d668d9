"""How many lock files of one folder this process holds open (read from /proc/self/fd): the
lock-handle cache's bound is judged by it (test_ff_utils_*_kills_b.py)."""

from __future__ import annotations

import os
from pathlib import Path


def open_lock_handles(folder: Path) -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(f"{folder}/") and target.endswith(".lock"):
            count += 1
    return count
