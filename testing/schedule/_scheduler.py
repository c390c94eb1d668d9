"""The foreground scheduler: one child command per fire, never two at once, every child reaped.

The loop sleeps until the trigger's next fire time (waking every ``poll_s`` to notice a finished
child or a stop request). At a fire:

* a child still running means the fire is **skipped** (logged ``skipped: previous run still going``
  and counted), never queued: a run that outlasts its interval must not pile up runs behind it;
* otherwise the child starts in a session and process group of its own (so Ctrl+C on the
  terminal reaches the scheduler only, and a signal to the group reaches whatever the child
  started), with its output in a per-run log file.

Fires missed while the machine slept coalesce into the next one (no burst of catch-up runs).
Stopping (``stop`` set by SIGINT/SIGTERM in the CLI, or an exception, or cancellation) ends the
running child's group: SIGTERM, ``grace_s`` to exit, then SIGKILL; the run is logged as
``interrupted`` with its exit status. Each start, finish, skip and interruption is one JSON line
in the schedule log; the child itself writes its report and history as it always does.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ff_utils.ff_errors import ff_translate_errors
from testing.faults.process import group_members, signal_group

from ._trigger import FFTrigger

__all__ = ["FFScheduleOutcome", "FFScheduler", "main_py_argv"]

_REPO_ROOT = Path(__file__).resolve().parents[2]
SKIPPED_MESSAGE = "skipped: previous run still going"


def main_py_argv(command: Sequence[str], *, config: Path | None = None, environment: str | None = None) -> list[str]:
    """The argv that runs ``main.py <command>`` with this interpreter (``main.py`` of this checkout;
    an installed package without it runs the same CLI through ``testing.cli.main``)."""
    main_py = _REPO_ROOT / "main.py"
    program = [sys.executable, str(main_py)] if main_py.is_file() else [sys.executable, "-c", "import sys; from testing.cli import main; sys.exit(main())"]
    options = (["--config", str(config)] if config is not None else []) + (["--environment", environment] if environment else [])
    return [*program, *options, *command]


@dataclass
class FFScheduleOutcome:
    """What one scheduler session did."""

    started: int = 0
    skipped: int = 0
    exit_codes: list[int] = field(default_factory=list)
    """Exit status of each finished run, in order (an interrupted run's too; negative: killed by that signal)."""
    interrupted: bool = False
    """A run was still going when the scheduler stopped, and was ended."""

    @property
    def all_succeeded(self) -> bool:
        return not self.interrupted and all(code == 0 for code in self.exit_codes)


@dataclass
class _Run:
    number: int
    process: subprocess.Popen[bytes]
    started_at: datetime
    log_file: Path


class FFScheduler:
    """Start ``argv`` at each fire of ``trigger``; see the module docstring for the rules.

    ``now`` is the injected clock (aware datetimes); ``max_runs`` stops after that many runs have
    started and finished; ``env`` is the children's environment (default: this process's).
    """

    def __init__(
        self, trigger: FFTrigger, argv: Sequence[str], log_path: Path, *, max_runs: int | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC), poll_s: float = 0.2, grace_s: float = 30.0,
        env: Mapping[str, str] | None = None,
    ) -> None:  # fmt: skip
        if not argv:
            raise ValueError("nothing to run")
        self.trigger, self.argv, self.log_path = trigger, list(argv), Path(log_path)
        self.max_runs, self.now, self.poll_s, self.grace_s = max_runs, now, poll_s, grace_s
        self.env = dict(env) if env is not None else None
        self.outcome = FFScheduleOutcome()
        self._run: _Run | None = None

    def _log(self, event: str, **details: Any) -> None:
        record = {"at": self.now().isoformat(), "event": event, **details}
        with ff_translate_errors("append to the schedule log", self.log_path):
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with self.log_path.open("ab") as handle:
                handle.write(orjson.dumps(record) + b"\n")

    async def run(self, stop: asyncio.Event) -> FFScheduleOutcome:
        """Fire until ``stop`` is set or ``max_runs`` runs are done; the running child never outlives this."""
        fire = self.trigger.next_after(self.now())
        self._log("scheduler_started", argv=self.argv, trigger=repr(self.trigger), next_fire=fire.isoformat(), max_runs=self.max_runs)
        try:
            while not stop.is_set():
                self._collect()
                if self.max_runs is not None and self.outcome.started >= self.max_runs and self._run is None:
                    break
                wait = (fire - self.now()).total_seconds()
                if wait > 0:
                    await _wait(stop, min(wait, self.poll_s))
                    continue
                self._fire(fire)
                fire = self.trigger.next_after(max(fire, self.now()))  # fires missed meanwhile coalesce into this one
        finally:
            if self._run is not None:
                await self._end_running()
            self._log("scheduler_stopped", started=self.outcome.started, skipped=self.outcome.skipped,
                      exit_codes=self.outcome.exit_codes, interrupted=self.outcome.interrupted)  # fmt: skip
        return self.outcome

    def _fire(self, fire: datetime) -> None:
        if self._run is not None:
            self.outcome.skipped += 1
            self._log("skipped", fire=fire.isoformat(), message=SKIPPED_MESSAGE, running=self._run.number,
                      pid=self._run.process.pid, skipped_total=self.outcome.skipped)  # fmt: skip
            return
        if self.max_runs is not None and self.outcome.started >= self.max_runs:
            return
        self.outcome.started += 1
        number = self.outcome.started
        started_at = self.now()
        log_file = self.log_path.parent / "schedule-runs" / f"{started_at.strftime('%Y%m%dT%H%M%S')}-{number:04d}.log"
        with ff_translate_errors("start a scheduled run", log_file):
            log_file.parent.mkdir(parents=True, exist_ok=True)
            with log_file.open("ab") as out:
                process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                           env=self.env, start_new_session=True, close_fds=True)  # fmt: skip
        self._run = _Run(number, process, started_at, log_file)
        self._log("started", run=number, fire=fire.isoformat(), pid=process.pid, output=str(log_file))

    def _collect(self) -> None:
        """Log the running child's finish once it has exited, and end whatever it left in its group."""
        run = self._run
        if run is None or run.process.poll() is None:
            return
        _kill_leftovers(run.process.pid)
        self._finish(run, "finished", run.process.returncode)

    def _finish(self, run: _Run, event: str, code: int) -> None:
        self._run = None
        self.outcome.exit_codes.append(code)
        seconds = round((self.now() - run.started_at).total_seconds(), 3)
        self._log(event, run=run.number, pid=run.process.pid, exit_code=code, seconds=seconds)

    async def _end_running(self) -> None:
        """SIGTERM the running child's group, SIGKILL it after ``grace_s``; reap the child, log it."""
        run = self._run
        assert run is not None
        pgid = run.process.pid
        if run.process.poll() is None:
            self.outcome.interrupted = True
            signal_group(pgid, signal.SIGCONT)
            signal_group(pgid, signal.SIGTERM)
            try:
                await asyncio.to_thread(run.process.wait, self.grace_s)
            except subprocess.TimeoutExpired:
                signal_group(pgid, signal.SIGKILL)
                await asyncio.to_thread(run.process.wait, 30)
        await asyncio.to_thread(_kill_leftovers, pgid)
        self._finish(run, "interrupted" if self.outcome.interrupted else "finished", run.process.returncode)


def _kill_leftovers(pgid: int, wait_s: float = 10.0) -> None:
    """SIGKILL what the child left running in its group (its own helpers, a server it started) and
    wait (bounded) until it is gone."""
    deadline = time.monotonic() + wait_s
    while group_members(pgid) and time.monotonic() < deadline:
        signal_group(pgid, signal.SIGKILL)
        time.sleep(0.02)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0.0))
    except TimeoutError:
        pass

