"""`cluster start|status|test|stop`: N `serve` processes on one data root, for the cross-system suite.

A thin layer over :class:`testing.cluster.FFLocalCluster`. ``start`` launches detached processes
(each in its own session and process group, logs under the run dir), waits for their ready files,
prints a table and exits 0, leaving them running. ``status``, ``test`` and ``stop`` find them
through ``<run dir>/cluster.json``. The run dir defaults to ``<data dir>/.cluster`` (the data dir
being ``--data-dir`` or the configured one, ./ff_data), so the same ``--data-dir`` finds the same
cluster.

Exit codes: 0 ok; 1 ``status`` found an instance not ready (or ``test`` failed a check); 2 bad
usage, no cluster in the run dir, or an instance that did not start.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_integration_testing_config import SUITE_NAMES
from ff_utils.ff_errors import FFNotFoundError, FFValidationError
from testing.cluster import MAX_INSTANCES, FFInstanceStatus, FFLocalCluster, default_run_dir

from ._registry import EXIT_CHECK_FAILED, EXIT_OK, command, data_dir_argument, program_name

__all__ = ["CROSS_SYSTEM_SUITE", "cmd_cluster"]

CROSS_SYSTEM_SUITE = "cross_system"


def _instances(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_INSTANCES:
        raise argparse.ArgumentTypeError(f"must be 1..{MAX_INSTANCES}, got {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 600 seconds, got {text!r}")
    return value


def _env_pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.startswith("FF_"):
        raise argparse.ArgumentTypeError(f"expected FF_NAME=VALUE, got {text!r}")
    return name, value


def _locate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-dir", type=Path, help="the cluster's pid, ready and log files (default: <data dir>/.cluster)")
    data_dir_argument(parser)


def _cluster_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True, help="start | status | test | stop")
    start = sub.add_parser("start", help="start N instances on one data root, wait until ready, print them")
    start.add_argument("--instances", type=_instances, required=True, help=f"how many `serve` processes (1..{MAX_INSTANCES})")
    _locate(start)
    start.add_argument("--timeout", type=_seconds, default=60.0, help="seconds to wait for every instance to be ready (default 60)")
    start.add_argument("--no-tcp", action="store_true", help="no JSON-RPC TCP listener")
    start.add_argument("--no-udp", action="store_true", help="no StatsD UDP listener")
    start.add_argument("--env", type=_env_pair, action="append", default=[], metavar="FF_NAME=VALUE",
                       help="a setting for every instance, e.g. FF_SERVICE__LEASE_SECONDS=3 (repeatable)")
    status = sub.add_parser("status", help="each instance's process, /health/ready and registry lease; exit 1 if one is not ready")
    _locate(status)
    status.add_argument("--timeout", type=_seconds, default=2.0, help="seconds to wait for each /health/ready (default 2)")
    test = sub.add_parser("test", help="run the cross-system suite against the running cluster")
    _locate(test)
    test.add_argument("--output", type=Path, default=Path("ff_reports"), help="where reports and history go (default ./ff_reports)")
    test.add_argument("--profile", choices=["quick", "full"], help="load profile of the suite")
    test.add_argument("--formats", help="comma-separated: json,html,pdf,junit (default: all)")
    test.add_argument("--seed", type=int, help="seed of the synthetic test data")
    stop = sub.add_parser("stop", help="stop every instance: SIGTERM, then SIGKILL after --grace seconds")
    _locate(stop)
    stop.add_argument("--grace", type=_seconds, default=15.0, help="seconds for a graceful stop before SIGKILL (default 15)")


def _run_dir(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO) -> Path:
    return args.run_dir or default_run_dir(Path(args.data_dir or config.storage.base_path))


@command("cluster", "start, check, test and stop N local `serve` instances on one data root", _cluster_arguments)
def cmd_cluster(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    run_dir = _run_dir(args, config)
    if args.action == "start":
        return _start(args, config, run_dir, console)
    if args.action == "test":
        return _test(args, config, run_dir, console)
    cluster = FFLocalCluster.attach(run_dir)
    if args.action == "status":
        rows = asyncio.run(cluster.status(timeout_s=args.timeout))
        console.print(_status_table(rows, run_dir))
        return EXIT_OK if all(row.ok for row in rows) else EXIT_CHECK_FAILED
    asyncio.run(cluster.stop(grace_s=args.grace))
    console.print(f"stopped {len(cluster.instances)} instance(s) of {run_dir}", highlight=False)
    return EXIT_OK


def _start(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, run_dir: Path, console: Console) -> int:
    cluster = FFLocalCluster(
        instances=args.instances, data_dir=Path(args.data_dir or config.storage.base_path), run_dir=run_dir,
        tcp=not args.no_tcp, udp=not args.no_udp, env=dict(args.env), config_file=args.config, environment=args.environment,
    )  # fmt: skip
    instances = asyncio.run(cluster.start(timeout_s=args.timeout))
    table = Table(title=f"cluster of {cluster.data_dir}")
    for column in ("instance", "pid", "http", "tcp", "udp", "log"):
        table.add_column(column, justify="right" if column in ("pid", "http", "tcp", "udp") else "left")
    for i in instances:
        table.add_row(i.instance_id, str(i.pid), str(i.http_port), str(i.tcp_port or "off"), str(i.udp_port or "off"), str(i.log_file))
    console.print(table)
    console.print(f"run dir {cluster.run_dir} (admin API key in {cluster.run_dir / 'api_key'}); "
                  f"stop with: {program_name()} cluster stop --run-dir {cluster.run_dir}", highlight=False, markup=False)  # fmt: skip
    return EXIT_OK


def _status_table(rows: list[FFInstanceStatus], run_dir: Path) -> Table:
    table = Table(title=f"cluster {run_dir}")
    for column in ("instance", "pid", "process", "ready", "http", "registry", "detail"):
        table.add_column(column)
    for row in rows:
        i = row.instance
        table.add_row(i.instance_id, str(i.pid), row.process, "yes" if row.ready else "NO", f"{i.host}:{i.http_port}",
                      "listed" if row.in_registry else "not listed", row.error)  # fmt: skip
    return table


def cross_system_suite_available() -> bool:
    """Whether this build has the cross-system suite (``testing/suites/cross_system.py``)."""
    return CROSS_SYSTEM_SUITE in SUITE_NAMES and importlib.util.find_spec(f"testing.suites.{CROSS_SYSTEM_SUITE}") is not None


def _test(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, run_dir: Path, console: Console) -> int:
    if not cross_system_suite_available():
        raise FFNotFoundError("the cross-system suite (testing/suites/cross_system.py) is not in this build", kind="suite", key=CROSS_SYSTEM_SUITE)
    from testing.ff_run_all import FFRunOptions  # the reporting stack: imported only when a run follows

    from ._runs import _run_and_report

    cluster = FFLocalCluster.attach(run_dir)  # FFNotFoundError when nothing runs there
    if not cluster.instances:
        raise FFValidationError(f"the cluster of {run_dir} has no instances", field="run_dir")
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip()) if args.formats else None
    options = FFRunOptions(output_dir=args.output, profile=args.profile, formats=formats, seed=args.seed,
                           suites=(CROSS_SYSTEM_SUITE,), cluster_run_dir=run_dir)  # fmt: skip
    return _run_and_report(options, config, console, keep_runs=10)
