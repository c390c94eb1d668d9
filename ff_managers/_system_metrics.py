"""A psutil sample of this process, the machine, and the data root (its file system and size).

CPU percentages from psutil are "since the previous call" (``interval=None``); the manager
primes them when it starts, so the first sample it returns already covers a real interval
instead of reading 0.0. The data root's size is a walk with ``os.scandir`` that never follows
symlinks and tolerates files vanishing mid-walk (other writers replace temp files all the time).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import psutil

from ff_class_configs.ff_metrics_dtos import FFSystemMetricsDTO
from ff_utils.ff_errors import FFPermissionError, FFStorageError, ff_translate_errors

__all__ = ["prime_cpu_counters", "tree_usage", "sample_system_metrics"]


def prime_cpu_counters(process: psutil.Process) -> None:
    """Start the CPU-percent intervals so the next sample measures from now."""
    process.cpu_percent(interval=None)
    psutil.cpu_percent(interval=None)


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


def sample_system_metrics(process: psutil.Process, root: Path, now: datetime) -> FFSystemMetricsDTO:
    """One sample. Raises FFPermissionError if psutil may not inspect the process, FFStorageError
    if the data root's file system cannot be read."""
    try:
        with process.oneshot():
            cpu = process.cpu_percent(interval=None)
            rss = process.memory_info().rss
            open_files = len(process.open_files())
            threads = process.num_threads()
    except psutil.AccessDenied as exc:
        raise FFPermissionError(f"psutil may not inspect process {process.pid}: {exc}") from exc
    except psutil.Error as exc:
        raise FFStorageError(f"psutil failed to sample process {process.pid}: {exc}") from exc
    with ff_translate_errors("measure the data root", root):
        disk = psutil.disk_usage(str(root))
        root_bytes, root_files = tree_usage(root)
    return FFSystemMetricsDTO(
        sampled_at=now,
        process_id=process.pid,
        process_cpu_percent=cpu,
        process_rss_bytes=rss,
        process_open_files=open_files,
        process_threads=threads,
        system_cpu_percent=psutil.cpu_percent(interval=None),
        system_memory_percent=psutil.virtual_memory().percent,
        disk_total_bytes=disk.total,
        disk_used_bytes=disk.used,
        disk_free_bytes=disk.free,
        disk_percent=disk.percent,
        data_root=str(root),
        data_root_bytes=root_bytes,
        data_root_files=root_files,
    )
