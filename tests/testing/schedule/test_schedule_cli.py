"""`main.py schedule` end to end: bad usage writes nothing; a real `serve` child outlives its fire
interval (later fires are skipped) and is reaped when the scheduler gets SIGINT; scheduled runs
land in the normal run history."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import psutil
import pytest

from testing.cli._schedule import child_output_dir
from tests._cli import clean_cli_environment, run_cli

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_cli_environment(monkeypatch, tmp_path)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cron", "0 3 * * *"], "no command to schedule"),
        (["--cron", "0 3 * * *", "--", "frobnicate"], "not a command that can be scheduled"),
        (["--cron", "0 3 * * *", "--", "schedule", "--cron", "* * * * *", "--", "run-all"], "not a command that can be scheduled"),
        (["--cron", "0 25 * * *", "--", "run-all"], "not a valid cron expression"),
        (["--cron", "0 3 * * *", "--timezone", "Mars/Olympus", "--", "run-all"], "unknown time zone"),
    ],
)
def test_bad_usage_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    before = sorted(tmp_path.rglob("*"))
    code, _out = run_cli("schedule", *argv)
    assert code == 2 and message in capsys.readouterr().err
    assert sorted(tmp_path.rglob("*")) == before


def test_the_log_goes_beside_the_childs_output() -> None:
    assert child_output_dir(["run-all", "--output", "x/y"]) == Path("x/y")
    assert child_output_dir(["run-all", "--output=z"]) == Path("z")
    assert child_output_dir(["run-all"]) == Path("ff_reports")


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FF_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return env


def _events(log: Path) -> list[dict]:
    return [orjson.loads(line) for line in log.read_bytes().splitlines()] if log.exists() else []


def _wait(predicate, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if process.poll() is not None:
            raise AssertionError(f"schedule exited with {process.returncode}: {process.stdout.read().decode() if process.stdout else ''}")
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def _end(process: subprocess.Popen[bytes]) -> None:
    """The test's own cleanup: the scheduler's group and (should the scheduler have failed to) the child's."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)


@pytest.mark.slow
def test_sigint_stops_the_scheduler_and_reaps_a_running_serve_child(tmp_path: Path) -> None:
    ready, log = tmp_path / "ready.json", tmp_path / "schedule.jsonl"
    command = [sys.executable, str(REPO / "main.py"), "schedule", "--cron", "* * * * * *", "--log", str(log), "--grace", "20", "--",
               "serve", "--port", "0", "--tcp-port", "off", "--udp-port", "off", "--data-dir", str(tmp_path / "root"),
               "--ready-file", str(ready)]  # fmt: skip
    process = subprocess.Popen(command, env=_environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    child = None
    try:
        _wait(ready.exists, process)
        child = orjson.loads(ready.read_bytes())["pid"]
        assert os.getpgid(child) == child != os.getpgid(process.pid)  # the child's own group
        _wait(lambda: any(e["event"] == "skipped" for e in _events(log)), process)  # serve never finishes: fires are skipped
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0
        assert not psutil.pid_exists(child)  # ended and reaped by the scheduler (no zombie either)
    finally:
        _end(process)
        if child is not None and psutil.pid_exists(child):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child, signal.SIGKILL)
    events = _events(log)
    kinds = [e["event"] for e in events]
    assert kinds.count("started") == 1 and "skipped" in kinds
    interrupted = [e for e in events if e["event"] == "interrupted"]
    assert len(interrupted) == 1 and interrupted[0]["exit_code"] == 0  # serve stops cleanly on SIGTERM
    assert not ready.exists()  # serve removed its ready file: it shut down, not killed
    assert events[-1]["event"] == "scheduler_stopped" and events[-1]["interrupted"] is True


@pytest.mark.slow
def test_scheduled_runs_land_in_the_run_history(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    command = [sys.executable, str(REPO / "main.py"), "schedule", "--cron", "* * * * * *", "--max-runs", "2", "--",
               "run", "migration", "--formats", "json", "--output", str(out)]  # fmt: skip
    process = subprocess.Popen(command, env=_environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path)
    try:
        assert process.wait(600) == 0, process.stdout.read().decode() if process.stdout else ""
    finally:
        _end(process)
    history = [orjson.loads(line) for line in (out / "history" / "runs.jsonl").read_bytes().splitlines()]
    events = _events(out / "schedule.jsonl")
    assert len(history) == 2 == sum(e["event"] == "finished" for e in events)
    assert [e["exit_code"] for e in events if e["event"] == "finished"] == [0, 0]
    assert all((out / "history" / f"{entry['report_id']}.json").is_file() for entry in history)
