"""`schedule --cron EXPR -- COMMAND ...`: run a main.py command on a cron schedule, in the foreground.

A thin layer over :class:`testing.schedule.FFScheduler`: the child is ``main.py COMMAND ...`` (with
this invocation's ``--config``/``--environment``), so a scheduled ``run-all`` writes its report and
history exactly as a manual one. SIGINT and SIGTERM stop the scheduler and end the running child's
process group. The schedule log (one JSON line per start, finish, skip, interruption) defaults to
``<the child's --output, else ./ff_reports>/schedule.jsonl``.

Exit codes: 0 stopped by a signal, or ``--max-runs`` runs all exited 0; 1 a run failed or was
interrupted with ``--max-runs``; 2 bad usage (cron, time zone, unknown command).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

from rich.console import Console

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_utils.ff_errors import FFValidationError

from ._registry import COMMANDS, EXIT_CHECK_FAILED, EXIT_OK, command

__all__ = ["child_output_dir", "cmd_schedule"]


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return int(text)


def _schedule_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cron", required=True,
                        help='when to run: a crontab expression ("0 3 * * *": 03:00 daily; 0 and 7 are Sunday), '
                        '6 fields with seconds first ("*/30 * * * * *"), or @hourly/@daily/@weekly')  # fmt: skip
    parser.add_argument("--timezone", help="IANA zone the cron expression is read in (default: the machine's local zone)")
    parser.add_argument("--max-runs", type=_positive, help="stop after this many runs have finished (default: run until stopped)")
    parser.add_argument("--log", type=Path, help="the schedule log, JSON lines (default: <child --output or ./ff_reports>/schedule.jsonl)")
    parser.add_argument("--grace", type=float, default=30.0, help="seconds a running child gets after SIGTERM before SIGKILL when the scheduler stops (default 30)")
    parser.add_argument("child", nargs=argparse.REMAINDER, metavar="-- COMMAND ...", help="the main.py command to run, after --")


def child_output_dir(child: list[str]) -> Path:
    """The child's ``--output`` folder (``--output X`` or ``--output=X``), else ./ff_reports."""
    for i, word in enumerate(child):
        if word == "--output" and i + 1 < len(child):
            return Path(child[i + 1])
        if word.startswith("--output="):
            return Path(word.partition("=")[2])
    return Path("ff_reports")


@command("schedule", "run a command (e.g. run-all) on a cron schedule in the foreground, never two runs at once", _schedule_arguments)
def cmd_schedule(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    from testing.schedule import (
        FFCronTrigger,
        FFScheduler,
        main_py_argv,
        parse_timezone,
    )

    child = args.child[1:] if args.child[:1] == ["--"] else list(args.child)
    if not child:
        raise FFValidationError("no command to schedule: put it after --, e.g. schedule --cron '0 3 * * *' -- run-all", field="command")
    if child[0] not in COMMANDS or child[0] == "schedule":
        raise FFValidationError(f"not a command that can be scheduled: {child[0]!r}", field="command")
    if not args.grace > 0:
        raise FFValidationError(f"--grace must be more than 0 seconds, got {args.grace}", field="grace")
    trigger = FFCronTrigger(args.cron, parse_timezone(args.timezone))  # validated before anything is written
    log_path = args.log or child_output_dir(child) / "schedule.jsonl"
    scheduler = FFScheduler(trigger, main_py_argv(child, config=args.config, environment=args.environment), log_path,
                            max_runs=args.max_runs, grace_s=args.grace)  # fmt: skip
    console.print(f"scheduling `{' '.join(child)}` at {args.cron!r} ({trigger.timezone}); log {log_path} "
                  "(SIGTERM or Ctrl+C stops)", markup=False, highlight=False)  # fmt: skip
    outcome = asyncio.run(_run_until_signalled(scheduler))
    console.print(f"{outcome.started} run(s) started, {outcome.skipped} skipped (previous run still going), "
                  f"exit codes {outcome.exit_codes}{', last one interrupted' if outcome.interrupted else ''}", highlight=False)  # fmt: skip
    if args.max_runs is None:
        return EXIT_OK  # stopped by a signal: the runs' own verdicts are in their reports
    return EXIT_OK if outcome.all_succeeded else EXIT_CHECK_FAILED


async def _run_until_signalled(scheduler):
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        return await scheduler.run(stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
