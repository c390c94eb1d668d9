"""`main.py load` end to end against a real `serve` on 127.0.0.1 port 0: one Locust master and one
worker on loopback for a few seconds, then a wrong key, a stopped server and an interrupted run.

Every test checks that no process it caused is left: the CLI's own (Locust master and workers)
through this process's descendants, the server through the fixture's finally.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import psutil
import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_load_dtos import FFDistributedLoadReportDTO
from ff_managers import FFMemoryLayerManager, FFServiceManager
from ff_managers.ff_data_root import ff_ensure_data_root
from testing.cluster import FFLocalCluster
from testing.load import free_port
from tests._cli import clean_cli_environment, run_cli

REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_cli_environment(monkeypatch, tmp_path)
    monkeypatch.delenv("FFLOAD_API_KEY", raising=False)


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FF_", "FFLOAD_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return env


def _end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(20)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real `serve` (own process group) with an API key for alice: (base URL, key file)."""
    root, ready = tmp_path / "root", tmp_path / "ready.json"
    key_file = tmp_path / "key"
    ff_ensure_data_root(root)
    key_file.write_text(FFServiceManager(load_config(base_path=root, environ={})).create_api_key("alice").key)
    command = [sys.executable, str(REPO / "main.py"), "serve", "--data-dir", str(root), "--port", "0", "--tcp-port", "off",
               "--udp-port", "off", "--ready-file", str(ready)]  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("wb") as out:  # a file, not a pipe: an unread pipe that fills up stops the process
        process = subprocess.Popen(command, env=_environment(), stdout=subprocess.DEVNULL, stderr=out, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "serve did not get ready"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{orjson.loads(ready.read_bytes())['http_port']}", key_file
    finally:
        _end(process)


def _descendants() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE}


def _report(out: Path) -> FFDistributedLoadReportDTO:
    [json_file] = out.glob("load_*.json")
    return FFDistributedLoadReportDTO.model_validate_json(json_file.read_bytes())


def test_one_master_one_worker_against_a_real_server(server: tuple[str, Path], tmp_path: Path) -> None:
    url, key_file = server
    before, out = _descendants(), tmp_path / "out"
    code, printed = run_cli("load", "--target", url, "--users", "2", "--rate", "8", "--duration", "3", "--workers", "1",
                            "--user-id", "alice", "--api-key-file", str(key_file), "--output", str(out))  # fmt: skip
    assert _descendants() == before  # master and worker ended and reaped
    assert code == 0, printed
    report = _report(out)
    assert report.passed and report.problems == [] and report.locust_exit_code == 0 and report.workers == 1
    assert report.locust is not None and report.locust.overall is not None
    assert report.locust.overall.count > 0 and report.locust.overall.errors == 0 and report.failures == []
    by_name = {op.operation: op for op in report.locust.operations}
    assert {"create_session", "append_turn", "read_history"} <= set(by_name) and by_name["append_turn"].count > 0
    assert report.locust.timeline and sum(i.ok for i in report.locust.timeline) <= report.locust.overall.count
    assert report.open_loop is not None and report.open_loop.overall is not None
    assert report.open_loop.overall.count > 0 and report.open_loop.overall.errors == 0
    html = next(out.glob("load_*.html")).read_text()
    assert "Locust beside our open loop" in html and "open loop" in html and "append_turn" in html
    assert (out / report.report_id / "locust_stats.csv").is_file() and (out / report.report_id / "locust-worker-0.log").is_file()


def test_a_wrong_key_is_reported_as_failures_and_exits_1(server: tuple[str, Path], tmp_path: Path) -> None:
    url, _key = server
    bad, out = tmp_path / "bad", tmp_path / "out"
    bad.write_text("ffk_0000000000000000_not-a-key")
    before = _descendants()
    code, printed = run_cli("load", "--target", url, "--users", "2", "--rate", "4", "--duration", "2", "--user-id", "alice",
                            "--api-key-file", str(bad), "--output", str(out), "--no-open-loop")  # fmt: skip
    assert _descendants() == before
    assert code == 1 and "problem:" in printed
    report = _report(out)
    assert not report.passed and report.open_loop is None and report.locust_exit_code == 1
    assert report.locust is not None and report.locust.overall is not None and report.locust.overall.errors > 0
    assert report.failures and all(f.name == "create_session" for f in report.failures)
    assert any("401" in f.error for f in report.failures)


def test_a_stopped_server_is_reported_as_failures_and_exits_1(tmp_path: Path) -> None:
    key, out = tmp_path / "key", tmp_path / "out"
    key.write_text("ffk_any")
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    code, _printed = run_cli("load", "--target", url, "--users", "1", "--rate", "4", "--duration", "2", "--api-key-file", str(key),
                             "--output", str(out))  # fmt: skip
    assert code == 1
    report = _report(out)
    assert report.locust is not None and report.locust.overall is not None and report.locust.overall.count == 0
    assert report.locust.overall.errors > 0 and any("onnection" in f.error for f in report.failures)
    assert report.open_loop is not None and report.open_loop.overall is not None and report.open_loop.overall.errors > 0


def test_interrupting_load_ends_master_and_workers(server: tuple[str, Path], tmp_path: Path) -> None:
    url, key_file = server
    out = tmp_path / "out"
    command = [sys.executable, str(REPO / "main.py"), "load", "--target", url, "--users", "2", "--rate", "4", "--duration", "120",
               "--workers", "2", "--user-id", "alice", "--api-key-file", str(key_file), "--output", str(out), "--no-open-loop"]  # fmt: skip
    log = tmp_path / "load.log"
    with log.open("wb") as printed:  # a file, not a pipe: an unread pipe that fills up would stop `load` before it can exit
        process = subprocess.Popen(command, env=_environment(), stdout=printed, stderr=subprocess.STDOUT, start_new_session=True)
    locust: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 120
        while len(locust) < 3:  # the master and its two workers
            assert process.poll() is None and time.monotonic() < deadline, "Locust did not start"
            locust = [p for p in psutil.Process(process.pid).children(recursive=True) if "locust" in " ".join(p.cmdline())]
            time.sleep(0.1)
        assert len({os.getpgid(p.pid) for p in locust}) == 1  # one process group for all of them
        assert os.getpgid(locust[0].pid) != os.getpgid(process.pid)
        time.sleep(2)  # load is flowing
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(90) == 130, log.read_text(errors="replace")[-3000:]
        except subprocess.TimeoutExpired:
            raise AssertionError("load did not end 90 s after SIGINT; it printed:\n" + log.read_text(errors="replace")[-3000:]) from None
        assert not [p.pid for p in locust if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    finally:
        _end(process)
        for p in locust:
            if p.is_running():
                p.kill()


def _stop_cluster(run_dir: Path) -> None:
    if (run_dir / "cluster.json").exists():
        asyncio.run(FFLocalCluster.attach(run_dir).stop(grace_s=5.0))


def test_load_against_a_cluster_spreads_users_over_every_instance(tmp_path: Path) -> None:
    root, run_dir, out = tmp_path / "root", tmp_path / "cluster", tmp_path / "out"
    try:
        code, printed = run_cli("cluster", "start", "--instances", "2", "--data-dir", str(root), "--run-dir", str(run_dir), "--no-tcp", "--no-udp")
        assert code == 0, printed
        urls = {f"http://{i.host}:{i.http_port}" for i in FFLocalCluster.attach(run_dir).instances}
        code, printed = run_cli("load", "--cluster-run-dir", str(run_dir), "--users", "4", "--rate", "8", "--duration", "3", "--workers", "2",
                                "--output", str(out))  # fmt: skip
        assert code == 0, printed
        report = _report(out)
        assert set(report.targets) == urls and report.workers == 2 and report.passed
    finally:
        _stop_cluster(run_dir)

    async def contents() -> list[str]:
        async with FFMemoryLayerManager(load_config(base_path=root, environ={})) as memory:
            sessions = await memory.list_sessions("load")
            return [m.content for s in sessions for m in await memory.get_messages("load", s.session_id, limit=100_000)]

    written = asyncio.run(contents())
    via = lambda prefix: {c.rsplit(" via ", 1)[1] for c in written if c.startswith(prefix)}
    assert via("load ") == urls and via("open loop ") == urls  # Locust's and our users reached every instance


def test_master_mode_with_a_worker_started_apart(server: tuple[str, Path], tmp_path: Path) -> None:
    """The multi-machine shape on loopback: `load --master` here, `load --worker --master-host` as another process."""
    url, key_file = server
    port, out = free_port(), tmp_path / "out"
    command = [sys.executable, str(REPO / "main.py"), "load", "--worker", "--master-host", "127.0.0.1", "--master-port", str(port),
               "--output", str(tmp_path / "worker"), "--timeout", "180"]  # fmt: skip
    with (tmp_path / "worker.log").open("wb") as printed:  # a file, not a pipe nobody reads
        worker = subprocess.Popen(command, env=_environment(), stdout=printed, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        code, printed = run_cli("load", "--master", "--expect-workers", "1", "--master-port", str(port), "--target", url, "--users", "2",
                                "--rate", "6", "--duration", "3", "--user-id", "alice", "--api-key-file", str(key_file),
                                "--output", str(out), "--no-open-loop")  # fmt: skip
        assert code == 0, printed
        assert worker.wait(120) == 0  # the worker quits when its master does
    finally:
        _end(worker)
    report = _report(out)
    assert report.mode == "master" and report.passed and report.locust is not None and report.locust.overall is not None
    assert report.locust.overall.count > 0 and report.open_loop is None
    assert (tmp_path / "worker" / "locust-worker.log").is_file()
