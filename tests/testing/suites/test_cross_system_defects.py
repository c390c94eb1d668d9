"""The cross-system suite against real instances: green on the real manager, red on each planted defect.

Each defect is a small variant of ``FFCrossSystemCommunicationManager`` handed to the suite as
``comm_factory`` (the test manager's seam), built through the manager's own public seams: its
``router_class`` (the routing rules) and ``register_handler`` (a protocol's handler). Only the
suite test meant to catch the defect runs, with what it depends on, so each stays short; every
one starts real ``serve`` processes on 127.0.0.1, so they are marked slow.

* a balancer that keeps sending to a dead instance  -> ``failover_on_sigkill``
* retries of a write without an idempotency key      -> ``no_retry_of_unkeyed_writes``
* a health check that always says healthy            -> ``freeze_by_sigstop``
* a TTL that is ignored                              -> ``contract_http``
* a priority that is ignored                         -> ``priority_honoured``
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import psutil
import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO, FFEndpointDTO
from ff_class_configs.ff_test_result_dtos import FFTestStatus
from ff_managers import FFCrossSystemCommunicationManager
from ff_managers.ff_cross_system_communication_manager import FFMessageRouter, FFTransportError
from testing.ff_integration_test_manager import FFIntegrationTestManager

pytestmark = pytest.mark.slow

BROKEN = (FFTestStatus.FAILED, FFTestStatus.ERROR)


class _BlindRouter(FFMessageRouter):
    """Sends each request first to the next endpoint of the group in turn, healthy or not."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turn = itertools.count()

    async def send(self, message: FFCrossSystemMessageDTO) -> FFCrossSystemMessageDTO:
        pool, pinned = self.directory.resolve(message.target_system)
        endpoints = pool.endpoints()
        if pinned is None and endpoints and message.operation:
            endpoint = endpoints[next(self._turn) % len(endpoints)]
            try:
                return await self.attempt(endpoint, message)
            except FFTransportError:
                pass  # then the normal path
        return await super().send(message)


class _RetryEverythingRouter(FFMessageRouter):
    """Retries any failed write, keyed or not."""

    def retry_allowed(self, *, idempotent: bool, idempotency_key: str | None) -> bool:
        return True


class _TtlIgnoringRouter(FFMessageRouter):
    """Drops the TTL before routing: an expired message is sent like any other."""

    async def send(self, message: FFCrossSystemMessageDTO) -> FFCrossSystemMessageDTO:
        return await super().send(message.model_copy(update={"ttl_s": None}))


class _FifoRouter(FFMessageRouter):
    """Queues every message as ``normal``: first come, first served, whatever its priority."""

    async def attempt(self, endpoint: FFEndpointDTO, message: FFCrossSystemMessageDTO) -> FFCrossSystemMessageDTO:
        return await super().attempt(endpoint, message.model_copy(update={"priority": "normal"}))


def _with_router(router: type[FFMessageRouter]) -> type[FFCrossSystemCommunicationManager]:
    return type(f"Comm{router.__name__}", (FFCrossSystemCommunicationManager,), {"router_class": router})


class _AlwaysHealthyComm(FFCrossSystemCommunicationManager):
    """Its HTTP handler's active health check answers "healthy" without asking."""

    def __init__(self, config: Any, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.add_endpoint(FFEndpointDTO(system_id="type-probe", protocol="http", port=9))
        http_handler = type(self.handler("type-probe"))  # the real HTTP handler class, found through the public API
        self.remove_endpoint("type-probe")

        class AlwaysHealthy(http_handler):  # type: ignore[misc,valid-type]
            async def health(self) -> bool:
                return True

        self.register_handler("http", AlwaysHealthy, replace=True)


def _config() -> Any:
    config = load_config(environ={})
    testing = config.integration_testing
    quick = testing.cross_system_config.model_copy(update={"steady_seconds": 1.0, "fault_hold_seconds": 1.5})
    return config.model_copy(update={"integration_testing": testing.model_copy(update={"cross_system_config": quick})})


async def _run(tmp_path: Path, *names: str, comm_factory: Any = None) -> dict[str, Any]:
    tm = FFIntegrationTestManager(_config(), output_dir=tmp_path, comm_factory=comm_factory)
    try:
        outcome = await tm.run_suite("cross_system", only=names or None)
    finally:
        await tm.close()
    return {r.test_id.split(".", 1)[1]: r for r in outcome.results}


def _failed(result: Any, description_part: str) -> bool:
    return any(description_part in a.description for a in result.assertions if not a.passed)


async def test_real_manager_passes_the_checks_the_defects_break(tmp_path: Path) -> None:
    names = ("contract_http", "no_retry_of_unkeyed_writes", "priority_honoured", "failover_on_sigkill", "restart_on_same_port",
             "freeze_by_sigstop")
    results = await _run(tmp_path, *names)
    bad = {n: (r.status, r.error_message) for n, r in results.items() if r.status != FFTestStatus.PASSED}
    assert not bad, bad
    assert results["priority_honoured"].metrics["emergency_position"] <= 2
    assert results["no_retry_of_unkeyed_writes"].metrics["unkeyed_copies"] == 1


async def test_a_balancer_that_keeps_sending_to_a_dead_instance_is_red(tmp_path: Path) -> None:
    results = await _run(tmp_path, "failover_on_sigkill", comm_factory=_with_router(_BlindRouter))
    kill = results["failover_on_sigkill"]
    assert kill.status in BROKEN, (kill.metrics, kill.assertions)
    assert _failed(kill, "never tried again"), [a for a in kill.assertions if not a.passed]


async def test_retrying_an_unkeyed_write_is_red(tmp_path: Path) -> None:
    results = await _run(tmp_path, "no_retry_of_unkeyed_writes", comm_factory=_with_router(_RetryEverythingRouter))
    check = results["no_retry_of_unkeyed_writes"]
    assert check.status in BROKEN and check.metrics["unkeyed_copies"] >= 2, (check.status, check.error_message, check.metrics, check.assertions)


async def test_a_health_check_that_always_says_healthy_is_red(tmp_path: Path) -> None:
    results = await _run(tmp_path, "freeze_by_sigstop", comm_factory=_AlwaysHealthyComm)
    freeze = results["freeze_by_sigstop"]
    assert freeze.status in BROKEN, freeze
    assert _failed(freeze, "active health check alone"), [a for a in freeze.assertions if not a.passed]


async def test_an_ignored_ttl_is_red(tmp_path: Path) -> None:
    results = await _run(tmp_path, "contract_http", comm_factory=_with_router(_TtlIgnoringRouter))
    contract = results["contract_http"]
    assert contract.status in BROKEN, contract
    assert _failed(contract, "past its TTL is refused") and _failed(contract, "expired write was not applied")


async def test_an_ignored_priority_is_red(tmp_path: Path) -> None:
    results = await _run(tmp_path, "priority_honoured", comm_factory=_with_router(_FifoRouter))
    priority = results["priority_honoured"]
    assert priority.status in BROKEN and priority.metrics["emergency_position"] > 2, priority


async def test_the_whole_suite_is_green_on_the_real_manager_and_reports_its_gates(tmp_path: Path) -> None:
    """Every test passes; no gate fails. A latency gate may be inconclusive on a loaded machine
    (the generator then could not keep its schedule), never passed without its evidence."""
    tm = FFIntegrationTestManager(_config(), output_dir=tmp_path)
    try:
        outcome = await tm.run_suite("cross_system")
        report = tm.build_report()
    finally:
        await tm.close()
    bad = {r.test_id: (r.status, r.error_message or r.skip_reason) for r in outcome.results if r.status != FFTestStatus.PASSED}
    assert not bad, bad
    cross = report.cross_system
    assert cross is not None and cross.instances == 2 and cross.attempts >= 1000
    outcomes = {g.name: g.outcome for g in cross.gates}
    assert "failed" not in outcomes.values(), outcomes
    for name in ("availability", "recovery time", "acknowledged writes", "udp delivery", "error recovery"):
        assert outcomes[name] == "passed", (name, [g for g in cross.gates if g.name == name])
    if cross.generator_saturated:
        assert {outcomes[f"latency {t}"] for t in ("http", "websocket", "tcp")} == {"inconclusive"}
    assert {f.fault for f in cross.faults} >= {"SIGKILL", "SIGSTOP", "proxy latency", "proxy hang", "proxy reset", "proxy slicer"}
    assert all(f.back_in_rotation for f in cross.faults)
    assert cross.lost_writes == 0 and cross.duplicated_writes == 0 and cross.acknowledged_writes > 100
    assert len(cross.timeline) >= 20 and any(e.kind == "ejected" for e in cross.events)
    assert not list((tmp_path / "runs").rglob("*.pid")), "every instance's pid file is gone: the suite stopped what it started"


async def test_an_attached_cluster_is_used_and_left_running(tmp_path: Path) -> None:
    """``main.py cluster test``: the suite attaches to a running cluster, breaks and heals its
    instances, and leaves it running (continued, restarted) when it is done."""
    from testing.cluster import FFLocalCluster

    cluster = FFLocalCluster(instances=2, data_dir=tmp_path / "data", run_dir=tmp_path / "run",
                             env={"FF_SERVICE__LEASE_SECONDS": "3", "FF_SERVICE__HEARTBEAT_SECONDS": "1"})
    async with cluster:
        tm = FFIntegrationTestManager(_config(), output_dir=tmp_path / "out", cluster_run_dir=tmp_path / "run")
        try:
            outcome = await tm.run_suite("cross_system", only=["failover_on_sigkill", "restart_on_same_port", "freeze_by_sigstop",
                                                              "data_integrity"])
        finally:
            await tm.close()
        bad = {r.test_id: (r.status, r.error_message) for r in outcome.results if r.status != FFTestStatus.PASSED}
        assert not bad, bad
        status = await FFLocalCluster.attach(tmp_path / "run").status()
        assert [s.ready for s in status] == [True, True], status
        integrity = next(r for r in outcome.results if r.test_id.endswith("data_integrity"))
        assert any("not hashed at rest" in w for w in integrity.warnings_generated)
    # The instance the suite restarted has a pid only cluster.json knows: it is stopped too.
    leftover = [p.pid for p in psutil.process_iter(["cmdline"]) if str(tmp_path) in " ".join(p.info["cmdline"] or [])]
    assert not leftover, f"serve processes left running: {leftover}"
