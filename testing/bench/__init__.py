"""Benchmarks against named peers (issue 8): ``python main.py bench`` or :func:`run_benchmarks`.

One module per workload (durable append, recent history, knowledge search, manifest hashing,
peak memory); the runner alternates ours and the peers over at least five repetitions and
returns one :class:`FFBenchReportDTO` of medians, minima, maxima and ratios.
"""

from testing.bench._core import FULL, QUICK, FFBenchSizes
from testing.bench._render import cases_table, comparisons_table
from testing.bench._runner import MIN_REPETITIONS, WORKLOADS, run_benchmarks, write_report

__all__ = [
    "FULL",
    "QUICK",
    "FFBenchSizes",
    "MIN_REPETITIONS",
    "WORKLOADS",
    "run_benchmarks",
    "write_report",
    "cases_table",
    "comparisons_table",
]
