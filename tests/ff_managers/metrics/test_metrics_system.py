"""_metrics/system.py: CPU percentages between samples (from any thread) and data-root size."""

from __future__ import annotations

import os
import threading
import time
from collections import namedtuple
from pathlib import Path

import psutil

from ff_managers._metrics.system import FFCpuMeter, busy_percent, tree_usage

Times = namedtuple("Times", "user nice system idle iowait guest guest_nice")


def test_busy_percent_formula() -> None:
    before = Times(10, 0, 5, 80, 5, 0, 0)
    after = Times(40, 0, 15, 120, 5, 7, 0)  # +40 busy, +40 idle; guest time is already in user
    assert busy_percent(before, after) == 50.0
    assert busy_percent(after, after) == 0.0


def burn(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_meter_reads_real_cpu_use_from_another_thread() -> None:
    # psutil.cpu_percent(None) keeps its last sample per thread, so a first read on a new thread
    # says 0.0; the meter must not.
    meter = FFCpuMeter(psutil.Process())
    start = time.process_time()
    while time.process_time() - start < 0.2:  # CPU time, not wall time: a loaded machine starves us
        sum(range(10_000))
    result: list[tuple[float, float]] = []
    reader = threading.Thread(target=lambda: result.append(meter.read()))
    reader.start()
    reader.join()
    process_percent, machine_percent = result[0]
    assert process_percent > 0 and machine_percent > 0  # the bug read exactly 0.0


def test_tree_usage_counts_files_not_symlinks(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.bin").write_bytes(b"x" * 100)
    (tmp_path / "two.bin").write_bytes(b"y" * 23)
    os.symlink(tmp_path / "two.bin", tmp_path / "link")
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "big.bin").write_bytes(b"z" * 10_000)
    os.symlink(outside, tmp_path / "dirlink")
    assert tree_usage(tmp_path) == (123, 2)
    assert tree_usage(tmp_path / "missing") == (0, 0)
