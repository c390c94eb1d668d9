"""`load`: drive load against `serve` instances with Locust's master/worker mode, beside our open loop.

Targets: ``--target URL`` (repeatable) and/or ``--cluster-run-dir DIR`` (every instance of a running
``cluster``, with its admin key unless a key is given). Modes: ``--workers K`` (default 1): a master and K workers on this machine; ``--master``: only the
master, which waits for ``--expect-workers`` workers from other machines; ``--worker
--master-host H``: one worker for a master elsewhere. Locust runs as a subprocess only (see
``testing.load``). The API key comes from ``--api-key-file`` or the FFLOAD_API_KEY variable, never
from the command line (``ps`` shows command lines).

Exit codes: 0 every request served; 1 a request failed, none was sent, or Locust exited non-zero;
2 bad usage, Locust not installed, or no key.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_utils.ff_errors import FFValidationError

from ._registry import EXIT_CHECK_FAILED, EXIT_OK, command
from ._serve import port

__all__ = ["cmd_load"]


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return int(text)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text!r}")
    return value


def _load_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", action="append", help="base URL of a serve instance, e.g. http://127.0.0.1:8080 (repeatable: users are spread over them)")
    parser.add_argument("--cluster-run-dir", type=Path, help="load every instance of a running `cluster` (its run dir); its admin key is used")
    parser.add_argument("--users", type=_positive_int, help="simulated users over all workers")
    parser.add_argument("--rate", type=_positive_float, help="target requests per second over all users")
    parser.add_argument("--duration", type=_positive_int, help="seconds of load (each driver)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--workers", type=_positive_int, help="local mode: a master and this many workers here (default 1)")
    mode.add_argument("--master", action="store_true", help="only the master; workers on other machines connect to it")
    mode.add_argument("--worker", action="store_true", help="only a worker, for the master at --master-host")
    parser.add_argument("--master-host", default="127.0.0.1", help="--master: address to bind (default 127.0.0.1; 0.0.0.0 for all); --worker: the master's address")
    parser.add_argument("--master-port", type=port, help="the master's port (default: a free one locally, 5557 otherwise)")
    parser.add_argument("--expect-workers", type=_positive_int, default=1, help="--master: workers to wait for (default 1)")
    parser.add_argument("--api-key-file", type=Path, help="file holding the API key (default: the FFLOAD_API_KEY variable)")
    parser.add_argument("--user-id", default="load", help="the user whose sessions the load writes (the key must act for it; default: load)")
    parser.add_argument("--output", type=Path, default=Path("ff_reports") / "load", help="folder for the report and Locust's files (default ./ff_reports/load)")
    parser.add_argument("--no-open-loop", action="store_true", help="skip our own open-loop run (Locust only)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the open loop's request plan")
    parser.add_argument("--timeout", type=_positive_float, default=3600.0, help="--worker: seconds before the worker is ended (default 3600)")


def _targets(args: argparse.Namespace) -> tuple[tuple[str, ...], str | None]:
    """The base URLs to load and, for a cluster, its admin key. Raises FFValidationError for none or a
    non-HTTP URL, FFNotFoundError when no cluster runs in ``--cluster-run-dir``."""
    targets = [t.rstrip("/") for t in args.target or []]
    key = None
    if args.cluster_run_dir is not None:
        from testing.cluster import FFLocalCluster

        cluster = FFLocalCluster.attach(args.cluster_run_dir)
        targets += [f"{'https' if i.tls else 'http'}://{i.host}:{i.http_port}" for i in cluster.instances]
        key = cluster.token() if args.api_key_file is None and not os.environ.get("FFLOAD_API_KEY") else None
    if not targets:
        raise FFValidationError("missing --target (or --cluster-run-dir); needed unless --worker", field="target")
    for target in targets:
        if not target.startswith(("http://", "https://")):
            raise FFValidationError(f"--target must be an http:// or https:// URL, got {target!r}", field="target")
    return tuple(dict.fromkeys(targets)), key


def _api_key(args: argparse.Namespace) -> str:
    if args.api_key_file is not None:
        try:
            key = args.api_key_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise FFValidationError(f"cannot read the API key file: {exc}", field="api_key_file") from exc
    else:
        key = os.environ.get("FFLOAD_API_KEY", "").strip()
    if not key:
        raise FFValidationError("no API key: pass --api-key-file or set FFLOAD_API_KEY (create one with `apikey create`)", field="api_key")
    return key


@command("load", "drive load against serve instances with Locust (master/worker), beside our open loop", _load_arguments)
def cmd_load(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    from testing.load import (
        FFLoadOptions,
        locust_version,
        run_distributed_load,
        run_worker,
        write_load_report,
    )

    if args.worker:
        locust_version()
        console.print(f"Locust worker for {args.master_host}:{args.master_port or 5557} (logs in {args.output})", highlight=False)
        code = asyncio.run(run_worker(args.master_host, args.master_port or 5557, args.output, args.timeout))
        return EXIT_OK if code == 0 else EXIT_CHECK_FAILED
    targets, cluster_key = _targets(args)
    missing = [f"--{name}" for name in ("users", "rate", "duration") if getattr(args, name) is None]
    if missing:
        raise FFValidationError(f"missing {', '.join(missing)} (needed unless --worker)", field=missing[0].lstrip("-"))
    options = FFLoadOptions(
        targets=targets, users=args.users, rate=args.rate, duration=args.duration, api_key=cluster_key or _api_key(args),
        user_id=args.user_id, output_dir=args.output, mode="master" if args.master else "local",
        workers=args.expect_workers if args.master else (args.workers or 1), master_host=args.master_host,
        master_port=args.master_port, open_loop=not args.no_open_loop, seed=args.seed,
    )  # fmt: skip
    with console.status(f"load on {', '.join(options.targets)}: {options.users} users, {options.rate:g}/s, {options.duration}s per driver"):
        report = asyncio.run(run_distributed_load(options))
    console.print(_table(report))
    for problem in report.problems:
        console.print(f"problem: {problem}", markup=False, highlight=False)
    for kind, path in write_load_report(report, args.output).items():
        console.print(f"{kind:>5}: {path}", markup=False, highlight=False)
    return EXIT_OK if report.passed else EXIT_CHECK_FAILED


def _table(report) -> Table:
    table = Table(title=f"{report.report_id}: {'passed' if report.passed else 'FAILED'}")
    for column in ("driver", "operation", "ok", "errors", "p50 ms", "p95 ms", "p99 ms", "ok/s"):
        table.add_column(column, justify="left" if column in ("driver", "operation") else "right")
    for label, summary in (("Locust", report.locust), ("open loop", report.open_loop)):
        if summary is None:
            continue
        for op in [*summary.operations, *([summary.overall] if summary.overall else [])]:
            table.add_row(label, "all" if op.operation == "*" else op.operation, str(op.count), str(op.errors), f"{op.p50_ms:.1f}",
                          f"{op.p95_ms:.1f}", f"{op.p99_ms:.1f}", f"{op.throughput_ops:.1f}")  # fmt: skip
    return table
