"""FFScheduler with real child processes and a fast interval trigger: overlap is skipped, never
queued; every child (and what it started) is reaped when the scheduler stops.

The children wait for a gate file instead of sleeping, so "still going" is a fact of the test,
not a race against the clock.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import psutil
import pytest

from testing.schedule import FFIntervalTrigger, FFScheduler

# Waits (bounded) for GATE to exist, then exits with CODE.
_GATED = "import os, sys, time\nend = time.monotonic() + 120\nwhile not os.path.exists(sys.argv[1]) and time.monotonic() < end: time.sleep(0.02)\nsys.exit(int(sys.argv[2]))"
# Starts a grandchild that ignores SIGTERM (in the child's group), writes both pids once the grandchild
# is set up, ignores SIGTERM itself if asked, and waits (bounded).
_STUBBORN = (
    "import os, signal, subprocess, sys, time\n"
    "if sys.argv[2] == 'ignore': signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "marker = sys.argv[1] + '.grandchild'\n"
    "code = 'import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); open(sys.argv[1], \"w\").close(); time.sleep(120)'\n"
    "grandchild = subprocess.Popen([sys.executable, '-c', code, marker])\n"
    "end = time.monotonic() + 60\n"
    "while not os.path.exists(marker) and time.monotonic() < end: time.sleep(0.01)\n"
    "open(sys.argv[1] + '.tmp', 'w').write(f'{os.getpid()} {grandchild.pid}'); os.replace(sys.argv[1] + '.tmp', sys.argv[1])\n"
    "time.sleep(120)"
)


def _events(log: Path) -> list[dict]:
    return [orjson.loads(line) for line in log.read_bytes().splitlines()] if log.exists() else []


async def _until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


@pytest.fixture
async def running() -> AsyncIterator[list[tuple[asyncio.Task, asyncio.Event]]]:
    """Scheduler tasks started by a test; stopped (children reaped) even when the test fails."""
    tasks: list[tuple[asyncio.Task, asyncio.Event]] = []
    yield tasks
    for task, stop in tasks:
        stop.set()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 60)


def _start(scheduler: FFScheduler, running: list) -> tuple[asyncio.Task, asyncio.Event]:
    stop = asyncio.Event()
    task = asyncio.create_task(scheduler.run(stop))
    running.append((task, stop))
    return task, stop


async def test_a_fire_during_a_run_is_skipped_and_counted_never_queued(tmp_path: Path, running: list) -> None:
    gate, log = tmp_path / "gate", tmp_path / "out" / "schedule.jsonl"
    scheduler = FFScheduler(FFIntervalTrigger(0.05), [sys.executable, "-c", _GATED, str(gate), "0"], log, max_runs=2, poll_s=0.01)
    task, _stop = _start(scheduler, running)
    await _until(lambda: sum(e["event"] == "skipped" for e in _events(log)) >= 3)
    assert [e["event"] for e in _events(log)].count("started") == 1  # still the first run
    gate.touch()
    outcome = await asyncio.wait_for(task, 60)
    assert outcome.started == 2 and outcome.exit_codes == [0, 0] and not outcome.interrupted and outcome.all_succeeded
    events = _events(log)
    skipped = [e for e in events if e["event"] == "skipped"]
    assert outcome.skipped == len(skipped) >= 3
    assert all(e["message"] == "skipped: previous run still going" for e in skipped)
    assert [e["skipped_total"] for e in skipped] == list(range(1, len(skipped) + 1))
    # Never two at once: between a start and its finish there is no other start.
    going = None
    for event in events:
        if event["event"] == "started":
            assert going is None, f"run {event['run']} started while run {going} was going"
            going = event["run"]
        elif event["event"] in ("finished", "interrupted"):
            assert event["run"] == going and event["exit_code"] == 0
            going = None
    assert events[0]["event"] == "scheduler_started" and events[-1]["event"] == "scheduler_stopped"
    assert events[-1]["started"] == 2 and events[-1]["skipped"] == len(skipped)
    assert all(Path(e["output"]).is_file() for e in events if e["event"] == "started")


async def test_a_failed_run_is_recorded_with_its_exit_code(tmp_path: Path, running: list) -> None:
    gate, log = tmp_path / "gate", tmp_path / "schedule.jsonl"
    gate.touch()
    scheduler = FFScheduler(FFIntervalTrigger(0.05), [sys.executable, "-c", _GATED, str(gate), "3"], log, max_runs=2, poll_s=0.01)
    outcome = await asyncio.wait_for(_start(scheduler, running)[0], 60)
    assert outcome.exit_codes == [3, 3] and not outcome.all_succeeded
    assert [e["exit_code"] for e in _events(log) if e["event"] == "finished"] == [3, 3]


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _still_our_child(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return True


@pytest.mark.parametrize("on_sigterm", ["exit", "ignore"])
async def test_stopping_the_scheduler_ends_the_child_and_its_group(tmp_path: Path, running: list, on_sigterm: str) -> None:
    pids_file, log = tmp_path / "pids", tmp_path / "schedule.jsonl"
    scheduler = FFScheduler(FFIntervalTrigger(0.05), [sys.executable, "-c", _STUBBORN, str(pids_file), on_sigterm], log,
                            poll_s=0.01, grace_s=0.5)  # fmt: skip
    task, stop = _start(scheduler, running)
    await _until(pids_file.exists)
    child, grandchild = map(int, pids_file.read_text().split())
    assert os.getpgid(child) == child and os.getpgid(grandchild) == child  # the child leads a group of its own
    stop.set()
    outcome = await asyncio.wait_for(task, 60)
    assert outcome.interrupted and outcome.started == 1 and not outcome.all_succeeded
    assert _gone(child) and _gone(grandchild)
    assert not _still_our_child(child)  # already reaped: no zombie left behind
    interrupted = [e for e in _events(log) if e["event"] == "interrupted"]
    expected = -signal.SIGTERM if on_sigterm == "exit" else -signal.SIGKILL
    assert len(interrupted) == 1 and interrupted[0]["exit_code"] == expected


async def test_cancelling_the_scheduler_also_ends_the_child(tmp_path: Path, running: list) -> None:
    pids_file = tmp_path / "pids"
    scheduler = FFScheduler(FFIntervalTrigger(0.05), [sys.executable, "-c", _STUBBORN, str(pids_file), "exit"], tmp_path / "s.jsonl",
                            poll_s=0.01, grace_s=5)  # fmt: skip
    task, _stop = _start(scheduler, running)
    await _until(pids_file.exists)
    child, grandchild = map(int, pids_file.read_text().split())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 60)
    assert _gone(child) and _gone(grandchild)
