"""Which data files a stopped process holds locked, read from ``/proc/locks``.

A process frozen by SIGSTOP in the middle of an append keeps that file's ``flock`` until it is
continued: a live process's lock cannot be broken safely (it may resume and finish its write).
Writes that need the same file (that user's session log) must wait for it, on every instance,
and no failover can change that. The other users' writes, every read, and the root-wide files
(samples, analytics, the readiness probe) must not wait; see ``FFIOThread``'s slow lane and
``FFAppendFiles.append``. The SIGSTOP check reads the frozen process's locks once it is
stopped (they cannot change until SIGCONT) and counts the requests stalled behind them apart.
"""

from __future__ import annotations

import os
from pathlib import Path

from ff_utils.ff_locks import FF_LOCK_SUFFIX

__all__ = ["held_data_files", "parse_proc_locks"]

_PROC_LOCKS = Path("/proc/locks")


def parse_proc_locks(text: str, pid: int) -> set[tuple[int, int]]:
    """``(device, inode)`` of every flock ``pid`` holds (not waits for) in ``/proc/locks`` text."""
    held: set[tuple[int, int]] = set()
    for line in text.splitlines():
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 24784 fe:00:2701105 0 EOF"; a waiter's line has "->" after the number.
        if len(fields) < 6 or fields[1] != "FLOCK":
            continue
        try:
            owner = int(fields[4])
            major, minor, inode = fields[5].split(":")
        except ValueError:
            continue
        if owner == pid:
            held.add((os.makedev(int(major, 16), int(minor, 16)), int(inode)))
    return held


def held_data_files(pid: int, root: Path, proc_locks: Path = _PROC_LOCKS) -> set[Path]:
    """The data files under ``root`` whose lock (``.<name>.lock``) process ``pid`` holds.

    Empty where ``/proc/locks`` cannot be read (not Linux): then nothing is counted apart.
    """
    try:
        held = parse_proc_locks(proc_locks.read_text(), pid)
    except OSError:
        return set()
    files: set[Path] = set()
    if not held:
        return files
    for folder, _dirs, names in os.walk(root):
        for name in names:
            if name.startswith(".") and name.endswith(FF_LOCK_SUFFIX):
                lock_file = Path(folder) / name
                try:
                    stat = lock_file.lstat()
                except OSError:
                    continue
                if (stat.st_dev, stat.st_ino) in held:
                    files.add(lock_file.with_name(name[1 : -len(FF_LOCK_SUFFIX)]))
    return files
