"""`bench`: our storage, search and hashing against named peers measured in the same run."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from ff_class_configs import FFConfigurationManagerConfigDTO

from ._registry import EXIT_OK, command

__all__ = ["cmd_bench"]


def _bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="smaller workloads (a few minutes instead of ~20)")
    parser.add_argument("--output", type=Path, help="also write the results as JSON to this file")
    parser.add_argument("--workloads", help="comma-separated subset (default: all)")
    parser.add_argument("--work-dir", type=Path, help="where scratch data goes (default: the system temp folder)")



@command("bench", "benchmark ours against SQLite, TinyDB, rank_bm25 and sha256sum (issue 8)", _bench_arguments)
def cmd_bench(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    from testing.bench import cases_table, comparisons_table, run_benchmarks, write_report

    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()] if args.workloads else None
    with console.status("benchmarking") as status:
        report = run_benchmarks(quick=args.quick, workloads=workloads, work_dir=args.work_dir, progress=status.update)
    console.print(cases_table(report))
    console.print(comparisons_table(report))
    if args.output:
        console.print(f"json: {write_report(report, args.output)}")
    return EXIT_OK
