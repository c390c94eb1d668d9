"""FFLocalCluster with real `serve` processes on 127.0.0.1: start, status, crash, freeze, restart, stop.

Every test's cluster runs inside ``async with`` (or the ``cluster`` fixture, which uses it), so
the instances are stopped and reaped even when an assertion fails; ``_assert_all_gone`` checks the
process table itself, not the cluster's opinion of it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest

from ff_utils.ff_errors import (
    FFConfigError,
    FFConflictError,
    FFNotFoundError,
    FFStorageError,
)
from testing.cluster import FFClusterInstance, FFLocalCluster
from testing.faults.process import group_members

pytestmark = pytest.mark.timeout(120)


def _assert_all_gone(instances: list[FFClusterInstance]) -> None:
    for instance in instances:
        assert group_members(instance.pgid) == [], f"{instance.instance_id}: group {instance.pgid} still runs"
        if psutil.pid_exists(instance.pid):  # only a zombie may remain, and only if not our child
            assert psutil.Process(instance.pid).status() == psutil.STATUS_ZOMBIE
            with pytest.raises(ChildProcessError):
                os.waitpid(instance.pid, os.WNOHANG)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[FFLocalCluster]:
    local = FFLocalCluster(instances=2, data_dir=tmp_path / "root", run_dir=tmp_path / "run")
    started: list[FFClusterInstance] = []
    try:
        async with local:
            started = local.instances
            yield local
    finally:
        _assert_all_gone(started + local.instances)


def _get_json(url: str, token: str | None = None) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


async def test_two_instances_start_ready_listed_and_attachable(cluster: FFLocalCluster, tmp_path: Path) -> None:
    instances = cluster.instances
    assert [i.instance_id for i in instances] == ["ff-node-1", "ff-node-2"]
    ports = [p for i in instances for p in (i.http_port, i.tcp_port, i.udp_port)]
    assert all(ports) and len(set(ports)) == 6
    assert all(i.pgid == i.pid and os.getpgid(i.pid) == i.pid for i in instances)  # each leads its own group
    assert all(os.getsid(i.pid) == i.pid for i in instances)  # detached: its own session
    rows = await cluster.status()
    assert [(r.process, r.ready, r.http_status, r.in_registry) for r in rows] == [("running", True, 200, True)] * 2
    # the admin key kept 0600 in the run dir acts on the API
    assert (tmp_path / "run" / "api_key").stat().st_mode & 0o777 == 0o600
    info = _get_json(instances[0].base_url + "/v1/info", cluster.token())
    assert {i["instance_id"] for i in info["instances"]} == {"ff-node-1", "ff-node-2"}
    request = urllib.request.Request(instances[1].base_url + "/v1/users/bob/sessions", data=b'{"title": "t"}', method="POST",
                                     headers={"Authorization": f"Bearer {cluster.token()}", "Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as created:  # admin: acts for any user, on any instance
        assert created.status == 201
    attached = FFLocalCluster.attach(tmp_path / "run")
    assert attached.instances == instances
    assert json.loads(instances[1].ready_file.read_text())["pid"] == instances[1].pid
    assert instances[0].pid_file.read_text().strip() == str(instances[0].pid)


async def test_sigkill_one_is_reaped_and_status_says_not_ready(cluster: FFLocalCluster) -> None:
    victim = cluster.instance("ff-node-2")
    cluster.signal("ff-node-2", signal.SIGKILL)
    assert await cluster.wait_gone("ff-node-2", timeout_s=10)
    assert not psutil.pid_exists(victim.pid)  # reaped, not a zombie
    rows = {r.instance.instance_id: r for r in await cluster.status()}
    assert rows["ff-node-2"].process == "gone" and not rows["ff-node-2"].ready and not rows["ff-node-2"].ok
    assert rows["ff-node-1"].ok
    assert rows["ff-node-2"].in_registry  # a crash leaves its lease until it expires
    with pytest.raises(FFNotFoundError):
        cluster.signal("ff-node-2", signal.SIGTERM)


async def test_sigstop_freezes_and_sigcont_thaws(cluster: FFLocalCluster) -> None:
    cluster.signal("ff-node-1", signal.SIGSTOP)
    rows = {r.instance.instance_id: r for r in await cluster.status(timeout_s=1.0)}
    assert rows["ff-node-1"].process == "frozen" and not rows["ff-node-1"].ready
    assert rows["ff-node-2"].ok
    with pytest.raises(OSError):  # a frozen server accepts (the kernel does) but never answers
        urllib.request.urlopen(cluster.instance("ff-node-1").base_url + "/health/live", timeout=1.0)
    cluster.signal("ff-node-1", signal.SIGCONT)
    rows = {r.instance.instance_id: r for r in await cluster.status(timeout_s=10.0)}
    assert rows["ff-node-1"].process == "running"
    assert _get_json(cluster.instance("ff-node-1").base_url + "/health/live")["status"] == "live"


async def test_restart_after_crash_binds_the_same_ports(cluster: FFLocalCluster) -> None:
    before = cluster.instance("ff-node-1")
    with urllib.request.urlopen(before.base_url + "/health/live", timeout=10):  # leaves a connection to the old port
        pass
    cluster.signal("ff-node-1", signal.SIGKILL)
    after = await cluster.restart("ff-node-1")
    assert after.pid != before.pid
    assert (after.http_port, after.tcp_port, after.udp_port) == (before.http_port, before.tcp_port, before.udp_port)
    assert cluster.instance("ff-node-1") == after
    assert FFLocalCluster.attach(cluster.run_dir).instance("ff-node-1") == after  # cluster.json follows
    assert _get_json(after.base_url + "/health/ready")["ready"] is True
    assert not psutil.pid_exists(before.pid)


async def test_restart_of_a_running_frozen_instance_stops_it_first(cluster: FFLocalCluster) -> None:
    before = cluster.instance("ff-node-2")
    cluster.signal("ff-node-2", signal.SIGSTOP)
    after = await cluster.restart("ff-node-2", grace_s=2.0)
    assert after.http_port == before.http_port and after.pid != before.pid
    assert group_members(before.pgid) == []


async def test_stop_ends_every_group_even_a_frozen_one(tmp_path: Path) -> None:
    local = FFLocalCluster(instances=2, data_dir=tmp_path / "root", run_dir=tmp_path / "run", udp=False)
    instances = await local.start()
    try:
        assert all(i.udp_port is None for i in instances)
        local.signal("ff-node-1", signal.SIGSTOP)
    finally:
        await local.stop(grace_s=5.0)
    _assert_all_gone(instances)
    assert not (tmp_path / "run" / "cluster.json").exists() and not (tmp_path / "run" / "api_key").exists()
    assert not any(i.ready_file.exists() or i.pid_file.exists() for i in instances)
    assert all(i.log_file.exists() for i in instances)  # logs are kept for the post-mortem
    assert (tmp_path / "root" / "system" / "service" / "instances").is_dir()
    assert list((tmp_path / "root" / "system" / "service" / "instances").glob("*.json")) == []  # clean stop: leases gone


async def test_async_with_stops_the_cluster_when_the_body_raises(tmp_path: Path) -> None:
    local = FFLocalCluster(instances=1, data_dir=tmp_path / "root", run_dir=tmp_path / "run", tcp=False, udp=False)
    started: list[FFClusterInstance] = []
    with pytest.raises(RuntimeError, match="mid-way"):
        async with local:
            started = local.instances
            local.signal("ff-node-1", signal.SIGSTOP)  # the worst moment to fail: a frozen server
            raise RuntimeError("a test failed mid-way")
    assert started
    _assert_all_gone(started)


async def test_a_second_start_in_the_same_run_dir_is_refused(cluster: FFLocalCluster, tmp_path: Path) -> None:
    with pytest.raises(FFConflictError):
        await FFLocalCluster(instances=1, data_dir=tmp_path / "root", run_dir=tmp_path / "run").start()
    assert all(r.ok for r in await cluster.status())  # the running one is untouched


async def test_a_bad_setting_fails_the_start_before_any_process(tmp_path: Path) -> None:
    local = FFLocalCluster(instances=2, data_dir=tmp_path / "root", run_dir=tmp_path / "run",
                           env={"FF_SERVICE__MAX_LOOP_LAG_MS": "-5"})  # fmt: skip
    with pytest.raises(FFConfigError, match="max_loop_lag_ms"):
        await local.start()
    assert local.instances == [] and not (tmp_path / "run" / "cluster.json").exists()


async def test_a_restart_on_a_port_taken_meanwhile_fails_with_the_cause_and_leaves_nothing(tmp_path: Path) -> None:
    local = FFLocalCluster(instances=1, data_dir=tmp_path / "root", run_dir=tmp_path / "run", tcp=False, udp=False)
    async with local:
        before = local.instance("ff-node-1")
        local.signal("ff-node-1", signal.SIGKILL)
        assert await local.wait_gone("ff-node-1")
        with socket.socket() as squatter:  # another program takes the port while the instance is down
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            squatter.bind(("127.0.0.1", before.http_port))
            squatter.listen()
            with pytest.raises(FFStorageError, match="cannot bind"):
                await local.restart("ff-node-1", timeout_s=20, retry_bind_s=0.5)
        started_meanwhile = [p for p in psutil.Process().children(recursive=True) if str(tmp_path) in " ".join(p.cmdline())]
        assert started_meanwhile == []
    _assert_all_gone([before])


async def test_stop_never_signals_a_pid_now_owned_by_another_process(tmp_path: Path) -> None:
    """cluster.json names a pid with its start time: a pid reused by another program is left alone."""
    local = FFLocalCluster(instances=1, data_dir=tmp_path / "root", run_dir=tmp_path / "run", tcp=False, udp=False)
    await local.start()
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        state_file = tmp_path / "run" / "cluster.json"
        state = json.loads(state_file.read_text())
        real = dict(state["instances"][0])
        state["instances"][0].update(pid=bystander.pid, pgid=bystander.pid)  # as if the pid were reused
        state_file.write_text(json.dumps(state))
        impostor = FFLocalCluster.attach(tmp_path / "run")
        assert [r.process for r in await impostor.status()] == ["gone"]
        with pytest.raises(FFNotFoundError):
            impostor.signal("ff-node-1", signal.SIGKILL)
        await impostor.stop(grace_s=1.0)
        time.sleep(0.2)
        assert bystander.poll() is None  # untouched
    finally:
        bystander.kill()
        bystander.wait(10)
        os.killpg(real["pgid"], signal.SIGKILL)
        await local.stop(grace_s=1.0)
    _assert_all_gone(local.instances)
