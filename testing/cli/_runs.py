"""Validation runs: `run-all`, `run SUITE` and `report RUN_ID` (re-render a stored run)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import shutil
from pathlib import Path

from rich.console import Console

from ff_class_configs import FFConfigurationManagerConfigDTO

from ._registry import EXIT_OK, command

__all__ = ["cmd_report", "cmd_run", "cmd_run_all"]

_SUITE_ALIASES = {"use-cases": "use_cases", "use_cases": "use_cases", "cross-system": "cross_system", "cross_system": "cross_system"}


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, help="folder for the run's fresh test data (default: inside the run folder)")
    parser.add_argument("--output", type=output_location, default=Path("ff_reports"),
                        help="where reports and history go: a folder (default ./ff_reports) or an object store URL such as "
                        "s3://bucket/prefix (the `scale` extra; credentials from the AWS variables, endpoint from "
                        "FF_S3_ENDPOINT_URL or storage.artifacts_options)")
    parser.add_argument("--profile", choices=["quick", "full"], help="performance profile (quick: ~10 s load)")
    parser.add_argument("--formats", help="comma-separated: json,html,pdf,junit (default: all)")
    parser.add_argument("--parallel", type=int, help="tests run at once (max_parallel_tests)")
    parser.add_argument("--seed", type=int, help="seed of the synthetic test data (recorded in the report)")
    parser.add_argument("--stop-on-first-failure", action="store_true",
                        help="after the first failed test, start no more: the rest are reported as skipped "
                        "(tests already running finish; exit code 1)")
    parser.add_argument("--keep-runs", type=_at_least_one, default=10, metavar="N",
                        help="keep the newest N run folders under OUTPUT/runs/ (test data, results log) and delete "
                        "older ones; the current run is always kept, every report stays in OUTPUT/history/, and "
                        "test data put elsewhere with --data-dir is not touched (default 10)")
    _distributed_arguments(parser)


def _distributed_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("distributed runs (Dask; needs the 'scale' extra)")
    group.add_argument("--distributed", metavar="local|tls://HOST:PORT",
                       help="run the suites on Dask workers: 'local' starts a LocalCluster of worker processes on "
                       "127.0.0.1 (closed when the run ends); tls://HOST:PORT uses a running scheduler")
    group.add_argument("--workers", type=_at_least_one, default=2, metavar="N", help="workers of --distributed local (default 2)")
    group.add_argument("--tls-ca", type=Path, help="CA file that signed the scheduler's and workers' certificates")
    group.add_argument("--tls-cert", type=Path, help="this client's certificate (PEM)")
    group.add_argument("--tls-key", type=Path, help="this client's private key (PEM; may be inside --tls-cert)")
    group.add_argument("--allow-insecure-tcp", action="store_true",
                       help="accept a tcp:// scheduler: unauthenticated and unencrypted, for a network you trust")


def output_location(text: str) -> Path | str:
    """A folder as a Path; an object store URL kept as text (a Path would fold its ``//``)."""
    from ff_utils.ff_artifact_store import is_store_url

    return text if is_store_url(text) else Path(text)


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (the current run is always kept), got {value}")
    return value


def _run_options(args: argparse.Namespace, suites: tuple[str, ...] | None = None):
    from testing.ff_run_all import FFRunOptions

    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip()) if args.formats else None
    chosen = {"suites": suites} if suites else {}
    return FFRunOptions(output_dir=args.output, data_dir=args.data_dir, profile=args.profile, formats=formats,
                        parallel=args.parallel, seed=args.seed, stop_on_first_failure=args.stop_on_first_failure,
                        distributed=_cluster_target(args), **chosen)


def _cluster_target(args: argparse.Namespace):
    """The --distributed choice, checked before anything starts (tcp:// without the flag is refused)."""
    if not getattr(args, "distributed", None):
        return None
    from testing.distributed import FFClusterTarget

    return FFClusterTarget(address=args.distributed, workers=args.workers, tls_ca=args.tls_ca, tls_cert=args.tls_cert,
                           tls_key=args.tls_key, allow_insecure_tcp=args.allow_insecure_tcp)


def _run_and_report(options, config: FFConfigurationManagerConfigDTO, console: Console, keep_runs: int) -> int:
    """Run, print, write the reports; with an object store URL as output, through a staging folder."""
    from testing._report_output import FFReportOutput

    testing = config.integration_testing
    with FFReportOutput(options.output_dir, config.storage.artifacts_options, history_runs=testing.history_runs_shown) as output:
        if not output.remote:
            return _run_and_print(options, config, console, keep_runs)
        return _run_and_print(dataclasses.replace(options, output_dir=output.local), config, console, keep_runs, output)


def _run_and_print(options, config: FFConfigurationManagerConfigDTO, console: Console, keep_runs: int, output=None) -> int:
    from testing._progress import FFRichProgress, gates_table, performance_table, summary_table
    from testing._run_retention import prune_run_folders
    from testing.ff_run_all import run_suites

    with FFRichProgress(console) as progress:
        outcome = asyncio.run(run_suites(config, options, progress))
    console.print(summary_table(outcome.report))
    if (load := performance_table(outcome.report)) is not None:
        console.print(load)
    console.print(gates_table(outcome.report))
    if output is not None:
        output.publish(outcome.report)
    for report_format, path in outcome.paths.items():
        shown = output.url_of(path) if output is not None else path
        console.print(f"{report_format:>5}: {shown}", markup=False, highlight=False)
    if output is not None:
        return outcome.exit_code
    pruned = prune_run_folders(options.output_dir, keep_runs, current=outcome.report.report_id)
    if pruned.removed:
        console.print(f"pruned {len(pruned.removed)} old run folder(s) under {options.output_dir / 'runs'} "
                      f"(kept the newest {keep_runs}; their reports stay in the history)", markup=False, highlight=False)
    return outcome.exit_code


@command("run-all", "run every suite on a fresh test data root and write the reports", _run_arguments)
def cmd_run_all(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    return _run_and_report(_run_options(args), config, console, args.keep_runs)


def _run_one_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suite", choices=["component", "use-cases", "performance", "security", "failure", "migration", "cross-system"],
                        help="the suite to run (the tests it depends on run too)")
    _run_arguments(parser)


@command("run", "run one suite and write its reports", _run_one_arguments)
def cmd_run(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    suite = _SUITE_ALIASES.get(args.suite, args.suite)
    return _run_and_report(_run_options(args, (suite,)), config, console, args.keep_runs)


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_id", help="a run id from the history (see the output folder's history/)")
    parser.add_argument("--formats", default="pdf", help="comma-separated: json,html,pdf,junit (default pdf)")
    parser.add_argument("--output", type=output_location, default=Path("ff_reports"),
                        help="the output folder of the run, or the object store URL it went to")
    parser.add_argument("--to", type=Path, default=Path(),
                        help="with an object store URL as --output: the local folder the re-rendered files go to (default .)")


@command("report", "re-render the reports of a stored run", _report_arguments)
def cmd_report(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    from testing._report_output import FFReportOutput
    from testing.reporting import rerender

    testing = config.integration_testing
    with FFReportOutput(args.output, config.storage.artifacts_options, history_runs=testing.history_runs_shown) as output:
        if output.remote:  # the run and the runs before it come from the store; the files land in --to
            output.pull_history(upto=args.run_id)
        for report_format, path in rerender(output.local, args.run_id, args.formats, history_runs=testing.history_runs_shown).items():
            if output.remote:
                os.makedirs(args.to, exist_ok=True)
                path = Path(shutil.move(path, args.to / path.name))
            console.print(f"{report_format:>5}: {path}")
    return EXIT_OK
