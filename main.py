"""FF Platform command line: parse arguments, call the library, print one line per error.

Like sqlite-utils' CLI, every command opens the library, calls one function and turns
``FFError`` into ``Name: message`` on stderr with exit code 2. Nothing here that the library
lacks: commands are registered in ``COMMANDS`` and each is a few lines.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ff_class_configs import FFConfigurationManagerConfigDTO, load_config
from ff_managers import FFMigrationManager
from ff_managers.ff_data_root import ff_data_root_status, ff_ensure_data_root
from ff_utils.ff_errors import FFError

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2

Command = Callable[[argparse.Namespace, FFConfigurationManagerConfigDTO, Console], int]
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Command]] = {}


def command(name: str, help_text: str, arguments: Callable[[argparse.ArgumentParser], None] = lambda p: None):
    """Register a sub-command: its help, its arguments and the function that runs it."""

    def register(function: Command) -> Command:
        COMMANDS[name] = (help_text, arguments, function)
        return function

    return register


def _data_dir_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, help="data root (default: the configured one, ./ff_data)")


@command("init", "create a data root with ff_meta.json naming its schema version", _data_dir_argument)
def cmd_init(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    root = Path(args.data_dir or config.storage.base_path)
    meta = ff_ensure_data_root(root)
    console.print(f"data root ready: {root.resolve()} (schema version {meta.schema_version})")
    return EXIT_OK


@command("status", "show what a data root holds", _data_dir_argument)
def cmd_status(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    status = ff_data_root_status(Path(args.data_dir or config.storage.base_path))
    table = Table(title=f"data root {status.path}")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("schema version", str(status.schema_version) if status.schema_version is not None else "none (not initialised)")
    table.add_row("users", str(status.users))
    table.add_row("files", f"{status.files:,}")
    table.add_row("bytes", f"{status.bytes:,}")
    for area, count in sorted(status.areas.items()):
        table.add_row(f"  files in {area}/", f"{count:,}")
    console.print(table)
    return EXIT_OK


def _migrate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", type=Path, required=True, help="legacy (v1) or older data root to read")
    parser.add_argument("--target", type=Path, required=True, help="data root to write (the source itself: upgrade in place)")
    parser.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")


@command("migrate", "migrate a data root (or the legacy layout) to the current schema", _migrate_arguments)
def cmd_migrate(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    migrations = FFMigrationManager(config)
    if args.dry_run:
        plan = asyncio.run(migrations.dry_run(args.source, args.target))
        console.print(f"dry run {plan.source} -> {plan.target}: schema {plan.from_version} -> {plan.to_version} "
                      f"({', '.join(plan.migrations) or 'nothing to do'})")
        for name, count in plan.records.items():
            console.print(f"  {name}: {count:,}")
        console.print(f"  files to write: ~{plan.files_to_write:,}; bytes copied verbatim: {plan.bytes_to_copy:,}; "
                      f"irregular inputs: {len(plan.irregular)}; files written by this dry run: {plan.writes_performed}")
        return EXIT_OK if plan.writes_performed == 0 else EXIT_CHECK_FAILED
    run = asyncio.run(migrations.migrate(args.source, args.target))
    if run.already_current:
        console.print(f"{run.target}: already at schema {run.to_version}; nothing to do")
        return EXIT_OK
    console.print(f"migrated {run.source} -> {run.target}: schema {run.from_version} -> {run.to_version} in {run.duration_seconds:.1f}s")
    for name, count in run.counts.items():
        console.print(f"  {name}: {count:,}")
    for item in run.irregular:
        if item.action.value in ("skipped", "quarantined"):
            console.print(f"  {item.action.value}: {item.path}{f':{item.line_number}' if item.line_number else ''} ({item.kind}): {item.reason}")
    for line in run.comparison.differences:
        console.print(f"  DIFFERENCE: {line}")
    if not run.comparison.equivalent:
        console.print("verification failed: the target was not changed")
        return EXIT_CHECK_FAILED
    console.print(f"verified: {run.comparison.fields_compared:,} fields compared, 0 differences; backup: {run.backup_dir or 'none (new target)'}")
    return EXIT_OK


@command("verify", "recompute a data root's SHA-256 manifest and compare it with ff_manifest.json",
         lambda p: p.add_argument("dir", type=Path, help="data root"))
def cmd_verify(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    diff = FFMigrationManager.verify(args.dir)
    if diff.identical:
        console.print(f"{args.dir}: manifest verified")
        return EXIT_OK
    for kind, paths in (("added", diff.added), ("removed", diff.removed), ("changed", diff.changed)):
        for path in paths:
            console.print(f"{kind}: {path}")
    return EXIT_CHECK_FAILED


@command("rollback", "restore a data root from the backup taken by its last migration",
         lambda p: p.add_argument("dir", type=Path, help="data root"))
def cmd_rollback(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    manifest = FFMigrationManager.rollback(args.dir)
    if not Path(args.dir).exists():
        console.print(f"{args.dir}: removed (it did not exist before the migration)")
    else:
        console.print(f"{args.dir}: restored ({manifest.file_count:,} files, manifest identical to before the migration)")
    return EXIT_OK


_SUITE_ALIASES = {"use-cases": "use_cases", "use_cases": "use_cases"}


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, help="folder for the run's fresh test data (default: inside the run folder)")
    parser.add_argument("--output", type=Path, default=Path("ff_reports"), help="where reports and history go (default ./ff_reports)")
    parser.add_argument("--profile", choices=["quick", "full"], help="performance profile (quick: ~10 s load)")
    parser.add_argument("--formats", help="comma-separated: json,html,pdf,junit (default: all)")
    parser.add_argument("--parallel", type=int, help="tests run at once (max_parallel_tests)")
    parser.add_argument("--seed", type=int, help="seed of the synthetic test data (recorded in the report)")
    parser.add_argument("--stop-on-first-failure", action="store_true")


def _run_options(args: argparse.Namespace, suites: tuple[str, ...] | None = None):
    from testing.ff_run_all import FFRunOptions

    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip()) if args.formats else None
    chosen = {"suites": suites} if suites else {}
    return FFRunOptions(output_dir=args.output, data_dir=args.data_dir, profile=args.profile, formats=formats,
                        parallel=args.parallel, seed=args.seed, stop_on_first_failure=args.stop_on_first_failure, **chosen)


def _run_and_report(options, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    from testing._progress import FFRichProgress, gates_table, summary_table
    from testing.ff_run_all import run_suites

    with FFRichProgress(console) as progress:
        outcome = asyncio.run(run_suites(config, options, progress))
    console.print(summary_table(outcome.report))
    console.print(gates_table(outcome.report))
    for report_format, path in outcome.paths.items():
        console.print(f"{report_format:>5}: {path}")
    return outcome.exit_code


@command("run-all", "run every suite on a fresh test data root and write the reports", _run_arguments)
def cmd_run_all(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    return _run_and_report(_run_options(args), config, console)


def _run_one_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suite", choices=["component", "use-cases", "performance", "security", "failure", "migration"])
    _run_arguments(parser)


@command("run", "run one suite and write its reports", _run_one_arguments)
def cmd_run(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    suite = _SUITE_ALIASES.get(args.suite, args.suite)
    return _run_and_report(_run_options(args, (suite,)), config, console)


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_id", help="a run id from the history (see the output folder's history/)")
    parser.add_argument("--formats", default="pdf", help="comma-separated: json,html,pdf,junit (default pdf)")
    parser.add_argument("--output", type=Path, default=Path("ff_reports"), help="the output folder of the run")


@command("report", "re-render the reports of a stored run", _report_arguments)
def cmd_report(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    from testing.reporting import rerender

    for report_format, path in rerender(args.output, args.run_id, args.formats).items():
        console.print(f"{report_format:>5}: {path}")
    return EXIT_OK


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description="FF Platform: flat-file chat data and its validation platform")
    parser.add_argument("--config", type=Path, help="JSON config file")
    parser.add_argument("--environment", choices=["development", "staging", "production_like", "performance"])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (help_text, arguments, _function) in COMMANDS.items():
        arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser



def main(argv: Sequence[str] | None = None, *, console: Console | None = None) -> int:
    """Run one command; return the exit code (0 ok, 1 a check failed, 2 bad usage/config/input)."""
    out = console or Console()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its one line
        return int(exc.code or 0) and EXIT_USAGE
    try:
        config = load_config(args.config, environment=args.environment)
        return COMMANDS[args.command][2](args, config, out)
    except FFError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
