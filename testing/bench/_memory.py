"""Workload 5, peak memory: resident set size while hashing and while migrating, at two sizes.

Each measurement runs in a child process that reports its own peak RSS (``VmHWM``), so the
benchmark's own memory does not count. Hashing: the manifest of a quarter of the tree, then of
all of it (the hashing workload's tree). Migration: a generated legacy dataset of a quarter of
``migrate_bytes`` and of all of it, migrated by the migration validator's engine
(:func:`testing.migration._benchmark.run_migration_benchmark`: scan, backup, import through the
managers, comparison, manifests, swap). Streaming means the peak stays flat as the data grows:
the comparisons hold the larger run under 150 MB and within 1.25x of the smaller one.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import orjson

from ff_class_configs import load_config
from testing.bench._core import FFBenchCase, FFBenchSizes, FFComparisonSpec, FFMetric
from testing.bench._hashing import PARTS, make_tree
from testing.migration._benchmark import run_migration_benchmark

__all__ = ["NAME", "COMPARISONS", "workload"]

NAME = "peak_memory"
_RSS = FFMetric("peak_rss_mb", "MB", False)
_PROJECT_ROOT = Path(__file__).resolve().parents[2]
COMPARISONS = (
    FFComparisonSpec("peak_rss_mb", "hash_full", None, "<=", 150.0),
    FFComparisonSpec("peak_rss_mb", "hash_full", "hash_quarter", "<=", 1.25),
    FFComparisonSpec("peak_rss_mb", "migrate_full", None, "<=", 150.0),
    FFComparisonSpec("peak_rss_mb", "migrate_full", "migrate_quarter", "<=", 1.25),
)
_MIB = 1024 * 1024


def _hash_child(directory: Path, expected: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-m", "testing.bench._hash_child", str(directory)],
                          cwd=_PROJECT_ROOT, capture_output=True, check=True)
    report = orjson.loads(done.stdout)
    if report["bytes"] != expected:
        raise RuntimeError(f"the child hashed {report['bytes']} bytes, expected {expected}")
    return {"peak_rss_mb": float(report["peak_rss_mb"])}


def _migrate(work: Path, target_bytes: int) -> dict[str, float]:
    run_dir = Path(tempfile.mkdtemp(prefix="migrate_", dir=work))
    try:
        result = run_migration_benchmark(run_dir, load_config(base_path=run_dir / "unused", environ={}), target_bytes=target_bytes)
        if result.exit_code != 0 or result.peak_rss_mb <= 0:
            raise RuntimeError(f"migration of {target_bytes} bytes failed (exit {result.exit_code})")
        return {"peak_rss_mb": result.peak_rss_mb}
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


@contextlib.contextmanager
def workload(sizes: FFBenchSizes, work: Path, *, migrate_repetitions: int = 1) -> Iterator[list[FFBenchCase]]:
    root = work / "memory_tree"
    paths = make_tree(root, sizes.hash_files, sizes.hash_bytes)
    quarter = sum(p.stat().st_size for p in paths if p.parent.name == "part0")
    total = sizes.hash_bytes
    small = sizes.migrate_bytes // PARTS
    try:
        yield [
            FFBenchCase("hash_quarter", "ours", (_RSS,), lambda: _hash_child(root / "part0", quarter), f"manifest of {quarter / _MIB:.0f} MiB"),
            FFBenchCase("hash_full", "ours", (_RSS,), lambda: _hash_child(root, total), f"manifest of {total / _MIB:.0f} MiB"),
            FFBenchCase("migrate_quarter", "ours", (_RSS,), lambda: _migrate(work, small),
                        f"migrate {small / _MIB:.0f} MiB legacy", max_repetitions=migrate_repetitions),
            FFBenchCase("migrate_full", "ours", (_RSS,), lambda: _migrate(work, sizes.migrate_bytes),
                        f"migrate {sizes.migrate_bytes / _MIB:.0f} MiB legacy", max_repetitions=migrate_repetitions),
        ]
    finally:
        shutil.rmtree(root, ignore_errors=True)
