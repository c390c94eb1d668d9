"""A real 2-worker LocalCluster on loopback: TLS addresses, worker processes reaped, versions refused.

The refusal test gives every worker a different *installed* ff-platform: a fake
``ff_platform-9.9.9.dist-info`` put first on the worker's ``sys.path``, which is exactly what
``importlib.metadata`` finds on a machine with another release installed.
"""

from __future__ import annotations

import importlib
import os
import sys
from importlib.metadata import version
from pathlib import Path

import psutil
import pytest

from testing.distributed import (
    FFClusterHandle,
    FFClusterTarget,
    FFVersionMismatchError,
    check_versions,
    open_cluster,
)
from tests.testing.distributed._dask_procs import assert_gone


pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def _install_fake_release(site: str) -> str:
    """Run on a worker: another ff-platform release now shadows the real one in this process."""
    sys.path.insert(0, site)
    importlib.invalidate_caches()
    return version("ff-platform")


def _fake_site(tmp_path: Path, release: str) -> Path:
    dist = tmp_path / "site" / f"ff_platform-{release}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: ff-platform\nVersion: {release}\n", encoding="utf-8")
    return dist.parent


async def test_workers_are_processes_on_loopback_over_tls(local_cluster: FFClusterHandle) -> None:
    assert local_cluster.scheduler.startswith("tls://127.0.0.1:")
    workers = await local_cluster.workers()
    assert len(workers) == 2
    assert all(address.startswith("tls://127.0.0.1:") for address in workers)
    assert set(local_cluster.worker_pids) == set(workers)
    assert os.getpid() not in local_cluster.worker_pids.values()
    assert all(psutil.pid_exists(pid) for pid in local_cluster.worker_pids.values())
    # the scheduler (in this process: its comm and HTTP ports) and each worker process listen on loopback only
    for pid in (os.getpid(), *local_cluster.worker_pids.values()):
        listening = [c.laddr.ip for c in psutil.Process(pid).net_connections("inet") if c.status == psutil.CONN_LISTEN]
        assert listening and all(ip == "127.0.0.1" for ip in listening), listening


async def test_same_versions_pass(local_cluster: FFClusterHandle) -> None:
    agreed = await check_versions(local_cluster.client)
    assert agreed["ff-platform"] == version("ff-platform")
    assert agreed["distributed"] == version("distributed")


async def test_a_worker_with_another_release_is_refused(local_cluster: FFClusterHandle, tmp_path: Path) -> None:
    site = _fake_site(tmp_path, "9.9.9")
    seen = await local_cluster.client.run(_install_fake_release, str(site))
    assert set(seen.values()) == {"9.9.9"}
    with pytest.raises(FFVersionMismatchError) as refused:
        await check_versions(local_cluster.client)
    assert len(refused.value.differences) == 2  # one line per worker
    for line in refused.value.differences:
        assert line.startswith(f"ff-platform: client {version('ff-platform')}, worker tls://127.0.0.1:")
        assert line.endswith(" 9.9.9")


async def test_the_cluster_is_closed_and_its_workers_gone_even_when_the_body_fails() -> None:
    pids: dict[str, int] = {}
    with pytest.raises(RuntimeError, match="planted"):
        async with open_cluster(FFClusterTarget(workers=2, close_timeout=20)) as handle:
            pids = dict(handle.worker_pids)
            assert len(pids) == 2
            raise RuntimeError("planted failure inside the run")
    assert_gone(pids)
