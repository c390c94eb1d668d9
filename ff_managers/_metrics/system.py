"""A psutil sample of this process, the machine, and the data root (its file system and size).

CPU percentages are "since the previous sample"; the manager primes them when it starts, so the
first sample it returns already covers a real interval instead of reading 0.0. The process figure
comes from ``Process.cpu_percent`` (its state lives on the Process object). The machine figure is
computed here from ``psutil.cpu_times()`` deltas, because ``psutil.cpu_percent(None)`` keeps its
previous sample per calling thread, and samples are taken on whichever worker thread is free
(the first call on each thread would read 0.0). The data root's size is a walk with ``os.scandir`` that never follows
symlinks and tolerates files vanishing mid-walk (other writers replace temp files all the time).
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path

import psutil

from ff_class_configs.ff_metrics_dtos import FFSystemMetricsDTO
from ff_managers._core.errors import translate_errors
from ff_utils.ff_errors import FFPermissionError, FFStorageError

__all__ = ["FFCpuMeter", "busy_percent", "tree_usage", "sample_system_metrics"]

_NOT_IN_TOTAL = ("guest", "guest_nice")  # already counted in user / nice on Linux
_IDLE = ("idle", "iowait")


def busy_percent(before: object, after: object) -> float:
    """Share of CPU time not idle between two ``psutil.cpu_times()`` samples, 0..100 (psutil's formula)."""

    def split(times: object) -> tuple[float, float]:
        fields = times._asdict()  # type: ignore[attr-defined]
        total = sum(value for name, value in fields.items() if name not in _NOT_IN_TOTAL)
        idle = sum(fields.get(name, 0.0) for name in _IDLE)
        return total, total - idle

    total_before, busy_before = split(before)
    total_after, busy_after = split(after)
    elapsed = total_after - total_before
    if elapsed <= 0:
        return 0.0
    return round(min(100.0, max(0.0, (busy_after - busy_before) / elapsed * 100)), 1)


class FFCpuMeter:
    """CPU use of the process and the machine between successive reads, from any thread."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self._guard = threading.Lock()
        self._last_times = psutil.cpu_times()
        process.cpu_percent(interval=None)  # starts the process interval

    def read(self) -> tuple[float, float]:
        """``(process percent, machine percent)`` since the previous read (or construction)."""
        with self._guard:
            now = psutil.cpu_times()
            before, self._last_times = self._last_times, now
            return self.process.cpu_percent(interval=None), busy_percent(before, now)


def tree_usage(root: Path) -> tuple[int, int]:
    """``(bytes, files)`` of regular files under ``root``; symlinks are not followed or counted."""
    total = files = 0
    pending = [root]
    while pending:
        directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            continue  # removed while we walked
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
                    files += 1
            except FileNotFoundError:
                continue
    return total, files


def sample_system_metrics(meter: FFCpuMeter, root: Path, now: datetime) -> FFSystemMetricsDTO:
    """One sample. Raises FFPermissionError if psutil may not inspect the process, FFStorageError
    if the data root's file system cannot be read."""
    process = meter.process
    try:
        with process.oneshot():
            cpu, system_cpu = meter.read()
            rss = process.memory_info().rss
            open_files = len(process.open_files())
            threads = process.num_threads()
    except psutil.AccessDenied as exc:
        raise FFPermissionError(f"psutil may not inspect process {process.pid}: {exc}") from exc
    except psutil.Error as exc:
        raise FFStorageError(f"psutil failed to sample process {process.pid}: {exc}") from exc
    with translate_errors("measure the data root", root):
        disk = psutil.disk_usage(str(root))
        root_bytes, root_files = tree_usage(root)
    return FFSystemMetricsDTO(
        sampled_at=now,
        process_id=process.pid,
        process_cpu_percent=cpu,
        process_rss_bytes=rss,
        process_open_files=open_files,
        process_threads=threads,
        system_cpu_percent=system_cpu,
        system_memory_percent=psutil.virtual_memory().percent,
        disk_total_bytes=disk.total,
        disk_used_bytes=disk.used,
        disk_free_bytes=disk.free,
        disk_percent=disk.percent,
        data_root=str(root),
        data_root_bytes=root_bytes,
        data_root_files=root_files,
    )
