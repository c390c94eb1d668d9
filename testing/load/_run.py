"""One ``load`` run: our open loop, then Locust (master + workers), then the report.

The two drivers run one after the other against the same target with the same users, rate and
run time, so neither steals the other's CPU or the target's. The open loop goes first; Locust's
``read_history`` then reads sessions of its own (new ones), so the order does not lengthen what
either reads. Locust's files (CSV, logs) stay in ``<output>/<report id>/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from ff_class_configs.ff_load_dtos import FFDistributedLoadReportDTO
from ff_utils.ff_errors import FFNotFoundError

from ._locust_csv import read_locust_summary
from ._locust_run import FFLocustSpec, free_port, locust_version, run_local, run_master
from ._open_loop import run_open_loop
from ._report import judge

__all__ = ["FFLoadOptions", "run_distributed_load"]


@dataclass(frozen=True, slots=True)
class FFLoadOptions:
    """What ``python main.py load`` was asked for (validated by the CLI)."""

    targets: tuple[str, ...]
    users: int
    rate: float
    duration: int
    api_key: str
    user_id: str
    output_dir: Path
    mode: Literal["local", "master"] = "local"
    workers: int = 1
    master_host: str = "127.0.0.1"
    master_port: int | None = None
    """None: a free port (local mode); Locust's 5557 for a master that remote workers find."""
    open_loop: bool = True
    seed: int = 0


async def run_distributed_load(options: FFLoadOptions) -> FFDistributedLoadReportDTO:
    """Run both drivers and return the judged report (not yet written)."""
    version = locust_version()  # FFNotFoundError before anything starts when Locust is missing
    started = datetime.now(UTC)
    report_id = f"load_{started.strftime('%Y%m%dT%H%M%SZ')}_{started.microsecond:06d}"
    run_dir = options.output_dir / report_id
    run_dir.mkdir(parents=True, exist_ok=True)
    open_loop, open_loop_errors = None, []
    if options.open_loop:
        open_loop, open_loop_errors = await run_open_loop(options.targets, options.api_key, options.user_id, users=options.users,
                                                          rate=options.rate, duration=options.duration, seed=options.seed)  # fmt: skip
    port = options.master_port or (free_port(options.master_host) if options.mode == "local" else 5557)
    spec = FFLocustSpec(targets=options.targets, users=options.users, rate=options.rate, duration=options.duration, workers=options.workers,
                        csv_prefix=run_dir / "locust", master_host=options.master_host, master_port=port)  # fmt: skip
    env = {"FFLOAD_API_KEY": options.api_key, "FFLOAD_USER_ID": options.user_id}
    runner = run_local if options.mode == "local" else run_master
    code = await runner(spec, run_dir, env)
    try:
        locust, failures = read_locust_summary(spec.csv_prefix, users=options.users, rate=options.rate, duration_seconds=options.duration)
    except FFNotFoundError:
        locust, failures = None, []
    report = FFDistributedLoadReportDTO(
        report_id=report_id, generated_at=datetime.now(UTC), targets=list(options.targets), mode=options.mode, users=options.users,
        rate=options.rate, duration_seconds=options.duration, workers=options.workers, locust_version=version, locust_exit_code=code,
        locust=locust, failures=failures, open_loop=open_loop, open_loop_errors=open_loop_errors,
    )  # fmt: skip
    report.problems = judge(report)
    return report
