"""The POSIX fast path takes the very lock portalocker takes, so the two exclude each other."""

from __future__ import annotations

import sys
from pathlib import Path

import portalocker
import pytest

from ff_utils.ff_errors import FFStorageError
from ff_utils.ff_locks import ff_file_lock, ff_lock_path

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock fast path is POSIX only")


def test_lock_held_by_portalocker_elsewhere_blocks_us(tmp_path: Path) -> None:
    target = tmp_path / "doc.json"
    lock_file = ff_lock_path(target)
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("ab") as other:  # another open file description: another process's view
        portalocker.lock(other, portalocker.LOCK_EX | portalocker.LOCK_NB)
        with pytest.raises(FFStorageError), ff_file_lock(target, timeout=0.05):
            pass
        portalocker.unlock(other)
    with ff_file_lock(target, timeout=0.5):
        pass


def test_our_lock_blocks_portalocker_elsewhere(tmp_path: Path) -> None:
    target = tmp_path / "doc.json"
    with ff_file_lock(target), ff_lock_path(target).open("ab") as other:
        with pytest.raises(portalocker.AlreadyLocked):
            portalocker.lock(other, portalocker.LOCK_EX | portalocker.LOCK_NB)
    with ff_lock_path(target).open("ab") as other:  # released: free for anyone
        portalocker.lock(other, portalocker.LOCK_EX | portalocker.LOCK_NB)
        portalocker.unlock(other)
