"""Another process holding a data file's lock, as a frozen or stalled instance would.

``held_by_another_process(path)`` starts a child that takes ``path``'s cross-process lock (the
same ``flock`` on the same hidden lock file ``ff_file_lock`` uses) and keeps it until the
``with`` block ends; the child is reaped even when the test fails.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from ff_utils.ff_locks import ff_lock_path

_HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""


@contextlib.contextmanager
def held_by_another_process(path: Path) -> Iterator[int]:
    """Hold ``path``'s lock in a child process for the ``with`` body (which gets its pid)."""
    lock_file = ff_lock_path(path)
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    child = subprocess.Popen([sys.executable, "-c", _HOLDER, str(lock_file)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == b"locked", "the holder did not lock"
        yield child.pid
    finally:
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()
