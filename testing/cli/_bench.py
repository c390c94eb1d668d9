"""`bench`: our storage, search and hashing against named peers measured in the same run."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from ff_class_configs import FFConfigurationManagerConfigDTO

from ._registry import EXIT_OK, command
from ._runs import output_location

__all__ = ["cmd_bench"]


def _bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="smaller workloads (a few minutes instead of ~20)")
    parser.add_argument("--output", type=output_location,
                        help="also write the results as JSON to this file, or to an object store URL such as "
                        "s3://bucket/prefix/bench.json (written once, with its SHA-256)")
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
    if isinstance(args.output, str):  # an object store URL: write locally, upload once, verified
        console.print(f"json: {_upload(report, args.output, config, write_report)}", markup=False, highlight=False)
    elif args.output:
        console.print(f"json: {write_report(report, args.output)}")
    return EXIT_OK


def _upload(report, url: str, config: FFConfigurationManagerConfigDTO, write_report) -> str:
    import tempfile

    from ff_utils.ff_artifact_store import FFArtifactStore

    base, _, name = url.rstrip("/").rpartition("/")
    store = FFArtifactStore(base, config.storage.artifacts_options)
    with tempfile.TemporaryDirectory(prefix="ff_bench_") as folder:
        return store.put_file(name, write_report(report, Path(folder) / name)).url
