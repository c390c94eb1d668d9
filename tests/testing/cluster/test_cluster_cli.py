"""`main.py cluster start|status|test|stop`, in-process (like sqlite-utils' CLI tests) with real instances.

`start` leaves its processes running after it returns; the fixture's finalizer stops whatever
cluster the run dir still names, so a failing test leaks nothing either.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from testing.cli._cluster import cross_system_suite_available
from testing.cluster import FFLocalCluster
from testing.faults.process import group_members
from tests._cli import run_cli

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("FF_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    data = tmp_path / "root"
    yield data
    run_dir = data / ".cluster"
    if (run_dir / "cluster.json").exists():  # the test failed before `cluster stop`
        cluster = FFLocalCluster.attach(run_dir)
        asyncio.run(cluster.stop(grace_s=2.0))


_run = run_cli


def _wait_dead(pid: int, timeout_s: float = 15.0) -> None:
    """SIGKILL is delivered asynchronously: wait until the process has exited (a zombie counts)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} still alive {timeout_s} s after SIGKILL")


def test_start_status_kill_status_stop(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, printed = _run("cluster", "start", "--instances", "2", "--data-dir", str(root), "--no-udp")
    assert code == 0, printed + capsys.readouterr().err
    state = json.loads((root / ".cluster" / "cluster.json").read_text())  # the default run dir
    pids = [i["pid"] for i in state["instances"]]
    for instance in state["instances"]:
        assert instance["instance_id"] in printed and str(instance["http_port"]) in printed and str(instance["tcp_port"]) in printed
        assert instance["udp_port"] is None
    assert all(psutil.pid_exists(pid) for pid in pids)  # still running after `start` returned

    code, printed = _run("cluster", "status", "--data-dir", str(root))
    assert code == 0 and printed.count("running") == 2 and printed.count("listed") == 2, printed

    os.killpg(pids[1], signal.SIGKILL)
    _wait_dead(pids[1])
    code, printed = _run("cluster", "status", "--run-dir", str(root / ".cluster"))
    assert code == 1, printed
    assert "gone" in printed and "process exited" in printed

    code, printed = _run("cluster", "stop", "--data-dir", str(root), "--grace", "5")
    assert code == 0 and "stopped 2 instance(s)" in printed
    assert all(group_members(pid) == [] and not psutil.pid_exists(pid) for pid in pids)  # gone and reaped
    assert not (root / ".cluster" / "cluster.json").exists()

    code, _ = _run("cluster", "status", "--data-dir", str(root))
    assert code == 2 and "no cluster in" in capsys.readouterr().err


def test_usage_errors_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("cluster", "start", "--instances", "0")[0] == 2
    assert _run("cluster", "start", "--instances", "2", "--env", "NOT_FF=1")[0] == 2
    assert _run("cluster", "stop", "--run-dir", str(tmp_path / "nothing"))[0] == 2
    err = capsys.readouterr().err
    assert "FFNotFoundError: no cluster in" in err


@pytest.mark.skipif(cross_system_suite_available(), reason="the cross-system suite is in this build")
def test_cluster_test_without_the_suite_says_so_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _run("cluster", "test", "--run-dir", str(tmp_path / "run"))
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0
    assert "cross-system suite" in err and "not in this build" in err


@pytest.mark.skipif(not cross_system_suite_available(), reason="the cross-system suite (branch cross-suite) is not merged yet")
def test_cluster_test_refuses_without_a_running_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _run("cluster", "test", "--run-dir", str(tmp_path / "run"))
    assert code == 2 and "no cluster in" in capsys.readouterr().err
