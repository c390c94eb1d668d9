"""_cross_system/_frozen_locks.py: the files a stopped process holds locked, from /proc/locks."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from testing.suites._cross_system._frozen_locks import held_data_files, parse_proc_locks
from tests._lock_holder import held_by_another_process

_TEXT = """1: FLOCK  ADVISORY  WRITE 4242 fe:00:2701105 0 EOF
1: -> FLOCK  ADVISORY  WRITE 4242 fe:00:99 0 EOF
2: POSIX  ADVISORY  WRITE 4242 fe:00:77 0 EOF
3: FLOCK  ADVISORY  WRITE 17 08:01:12 0 EOF
garbage
"""


def test_only_the_flocks_the_process_holds_count() -> None:
    # The waiter line ("->") and the POSIX lock are not held flocks; pid 17's is another process's.
    assert parse_proc_locks(_TEXT, 4242) == {(os.makedev(0xFE, 0), 2701105)}
    assert parse_proc_locks(_TEXT, 17) == {(os.makedev(8, 1), 12)}
    assert parse_proc_locks(_TEXT, 5) == set()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/locks is Linux's")
def test_a_real_holder_is_found_by_its_data_file(tmp_path: Path) -> None:
    log = tmp_path / "users" / "alice" / "sessions" / "s1" / "messages.jsonl"
    other = tmp_path / "users" / "bob" / "sessions" / "s2" / "messages.jsonl"
    with held_by_another_process(other):
        with held_by_another_process(log) as pid:
            assert held_data_files(pid, tmp_path) == {log}
    assert held_data_files(pid, tmp_path) == set()  # released with the process


def test_no_proc_locks_means_nothing_counted_apart(tmp_path: Path) -> None:
    assert held_data_files(os.getpid(), tmp_path, proc_locks=tmp_path / "missing") == set()
