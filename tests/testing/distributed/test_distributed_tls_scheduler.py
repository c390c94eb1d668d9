"""--distributed tls://HOST:PORT against a scheduler and a worker started the documented way.

``dask scheduler`` and ``dask worker`` run as subprocesses on 127.0.0.1 with ``--tls-*`` files
from a throwaway CA (trustme), each in its own process group, killed and reaped in ``finally``.
A client with the right CA runs a suite there; a client that trusts another CA cannot connect
and gets one typed error.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from ff_class_configs import load_config
from testing.distributed import FFClusterError, FFClusterTarget
from testing.ff_run_all import FFRunOptions, run_suites


pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
DASK = str(Path(sys.executable).with_name("dask"))


def _tls_files(folder: Path, name: str) -> tuple[Path, Path]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_path, pem = folder / f"{name}-ca.pem", folder / f"{name}-node.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    cert.private_key_and_cert_chain_pem.write_to_path(str(pem))
    return ca_path, pem


@pytest.fixture
def tls_scheduler(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    ca, pem = _tls_files(tmp_path, "good")
    tls = ["--tls-ca-file", str(ca), "--tls-cert", str(pem), "--tls-key", str(pem)]
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    started: list[subprocess.Popen[bytes]] = []
    try:
        started.append(subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--protocol", "tls", "--no-dashboard",
             "--scheduler-file", str(scheduler_file), *tls],
            cwd=tmp_path, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        started.append(subprocess.Popen(
            [DASK, "worker", address, "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard", "--no-nanny", *tls],
            cwd=tmp_path, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        yield address, ca, pem
    finally:
        for process in started:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=30)


async def test_a_suite_runs_on_an_existing_tls_scheduler(tls_scheduler: tuple[str, Path, Path], tmp_path: Path) -> None:
    address, ca, pem = tls_scheduler
    assert address.startswith("tls://127.0.0.1:")
    target = FFClusterTarget(address=address, tls_ca=ca, tls_cert=pem, tls_key=pem, connect_timeout=60)
    outcome = await run_suites(load_config(environ={}),
                               FFRunOptions(output_dir=tmp_path / "out", suites=("component",), formats=("json",), distributed=target))
    assert outcome.report.verdict == "passed"
    assert outcome.report.execution is not None and outcome.report.execution.cluster == "remote"
    results = outcome.report.suites[0].results
    assert results and all(r.worker.startswith("tls://127.0.0.1:") for r in results)
    assert not list((tmp_path / "out" / "runs").glob("*/test_data/*"))  # a remote worker's data stays (and goes) there


async def test_a_client_trusting_another_ca_is_refused(tls_scheduler: tuple[str, Path, Path], tmp_path: Path) -> None:
    address, _, _ = tls_scheduler
    other_ca, other_pem = _tls_files(tmp_path, "other")
    target = FFClusterTarget(address=address, tls_ca=other_ca, tls_cert=other_pem, tls_key=other_pem, connect_timeout=5)
    with pytest.raises(FFClusterError):
        await run_suites(load_config(environ={}),
                         FFRunOptions(output_dir=tmp_path / "out", suites=("component",), formats=("json",), distributed=target))
