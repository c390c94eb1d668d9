"""The cross-system suite's world: real instances, a fault proxy in front of each, one comm manager.

:class:`FFCrossHarness` is what the suite's tests share (kept in ``ctx.suite_state``):

* the instances: an ``FFLocalCluster`` the harness starts on the run's own data folder (quick
  profile 2, full 3, with a short instance lease so discovery can be shown dropping a killed
  one), or a running cluster the context points at (``main.py cluster test``);
* a TCP :class:`FFFaultProxy` in front of each instance's HTTP/WebSocket port and its TCP port,
  and an :class:`FFUdpFaultProxy` in front of its StatsD port, so a test can break the network
  of one instance (latency, hang, reset, slicing; drop, duplicate, reorder);
* one ``FFCrossSystemCommunicationManager`` (or what ``ctx.comm_factory`` builds: the seam for
  planted defects) with one group per transport, ``xs-http``, ``xs-websocket``, ``xs-tcp`` and
  ``xs-udp``, each holding every instance through its proxy, plus ``xs-probe`` (HTTP, straight to
  each instance, never sent to) whose state shows what the active health checks alone see;
* the evidence: the load generator's attempts, the faults, the endpoint events observed, the
  write ledger, the UDP tally, the generator's CPU samples.

Everything it starts it also ends (:meth:`close`, run by the suite's cleanup whatever the tests
did): the load, the manager, the proxies, and the instances it started (a cluster it only
attached to is left running, continued if a test froze it).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import signal
import time
import uuid
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO, FFEndpointDTO
from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_integration_testing_config import FFCrossSystemTestConfigDTO
from ff_class_configs.ff_test_result_dtos import FFCrossSystemEventDTO
from ff_utils.ff_errors import FFError, FFNotFoundError, FFTimeoutError
from ff_utils.ff_logging import get_logger
from testing._load import FFResourceSampler
from testing.suites._cross_system._frozen_locks import held_data_files
from testing.suites._cross_system._generator import FFArrival, FFOpenLoopGenerator, FFSendResult, arrival_schedule
from testing.suites._cross_system._ledger import FFWriteLedger, SessionKey
from testing.suites._cross_system._samples import FFAttempt, FFFaultRecord, FFUdpTally

__all__ = ["FFCrossHarness", "LOAD_TRANSPORTS", "GROUP", "STATE_KEY", "harness_of"]

_CLOSE_STEP_S = 15.0  # the longest one cleanup step of close() may take
_log = get_logger("testing.cross_system")

STATE_KEY = "cross_system"
LOAD_TRANSPORTS: tuple[str, ...] = ("http", "websocket", "tcp")
GROUP = {"http": "xs-http", "websocket": "xs-websocket", "tcp": "xs-tcp", "udp": "xs-udp", "probe": "xs-probe", "anon": "xs-anon"}
_PORT_KEY = {"http": "http", "websocket": "http", "tcp": "tcp", "udp": "udp", "probe": "http", "anon": "http"}
_REFUSED = "memory.get_messages (no credentials)"
_MIX = (("memory.add_message", 0.47), ("memory.get_messages", 0.47), (_REFUSED, 0.06))
"""Keyed writes and reads: both may be retried on another instance, so a failover can hide a
fault from the caller. Unkeyed writes (panel messages) cannot be (their outcome is unknown when
a reply is lost); ``no_retry_of_unkeyed_writes`` and ``state_sync`` test them apart. A few reads
carry no credentials and must be refused (that answer is the success). These go over HTTP without a token (group ``xs-anon``) and must be refused with
FFAuthenticationError (401): the service audits every refusal, so each instance appends to the
shared audit chain while instances are killed and restarted, and ``data_integrity`` verifies the
chain afterwards."""
_SESSIONS = 8


def suite_comm_config(config: FFConfigurationManagerConfigDTO) -> FFConfigurationManagerConfigDTO:
    """The suite's comm settings: fast detection and return, so a quick run shows each fault whole.

    A one-second attempt bound, health checks four times a second, ejection after two failures
    for half a second at first, a short slow start; the rest as configured.
    """
    comm = config.comm.model_copy(update={
        "request_timeout_s": 1.0, "connect_timeout_s": 0.5, "health_interval_s": 0.25,
        "eject_consecutive_failures": 2, "eject_base_s": 0.5, "eject_max_s": 4.0, "slow_start_s": 0.5,
        "breaker_failure_threshold": 5, "breaker_cooldown_s": 0.5, "retry_backoff_base_s": 0.01,
        "retry_budget_min_per_s": 50.0,
    })  # fmt: skip
    return config.model_copy(update={"comm": comm})


def harness_of(ctx: Any) -> FFCrossHarness:
    """The harness the suite's first test put in the context (AssertionError when there is none)."""
    harness = ctx.suite_state.get(STATE_KEY)
    if harness is None:
        raise AssertionError("the cross-system harness is not up (the cluster test did not run)")
    return harness


@dataclass
class _Instance:
    """One instance as the suite sees it: its id, ports, and the proxies in front of it."""

    instance_id: str
    host: str
    ports: dict[str, int | None]
    proxies: dict[str, Any] = field(default_factory=dict)
    """"http" (HTTP and WebSocket) and "tcp": FFFaultProxy; "udp": FFUdpFaultProxy."""

    def endpoint_ids(self, transports: Iterable[str] = LOAD_TRANSPORTS) -> set[str]:
        """Ids of its endpoints for ``transports`` (one per transport)."""
        return {f"{self.instance_id}-{t}" for t in transports}


@dataclass
class FFCrossHarness:
    """See the module docstring. Built by :meth:`open`; ended by :meth:`close`."""

    ctx: Any
    settings: FFCrossSystemTestConfigDTO
    profile: str
    cluster: Any
    owns_cluster: bool
    token: str
    comm: Any = None
    instances: list[_Instance] = field(default_factory=list)
    recorder: Any = None
    origin: float = field(default_factory=time.perf_counter)
    generator: FFOpenLoopGenerator | None = None
    sampler: FFResourceSampler | None = None
    faults: list[FFFaultRecord] = field(default_factory=list)
    events: list[FFCrossSystemEventDTO] = field(default_factory=list)
    ledger: FFWriteLedger = field(default_factory=FFWriteLedger)
    panel: tuple[str, str] | None = None
    """(user, panel) that several instances wrote to at once (``state_sync``), checked after the run."""
    panel_acks: list[str] = field(default_factory=list)
    sessions: list[SessionKey] = field(default_factory=list)
    udp: FFUdpTally = field(default_factory=FFUdpTally)
    load_seconds: float = 0.0
    transports: tuple[str, ...] = LOAD_TRANSPORTS
    udp_ready: bool = True
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    files_before_load: set[str] = field(default_factory=set)
    """The lasting files of the data root when the load started (``data_integrity`` compares)."""
    lease_seconds: float = 15.0
    heartbeat_seconds: float = 5.0
    missing: list[str] = field(default_factory=list)
    """What the suite could not set up (no fault proxy, no handler for a transport): shown in the results."""
    _comm_host: asyncio.Task[None] | None = None
    _comm_stop: asyncio.Event = field(default_factory=asyncio.Event)
    _watcher: asyncio.Task[None] | None = None
    _states: dict[str, tuple[str, str]] = field(default_factory=dict)
    _session_cycle: Any = None
    _roles: Any = field(default_factory=lambda: itertools.cycle(("user", "assistant")))
    _frozen: set[str] = field(default_factory=set)

    # ------------------------------------------------------------------ clock and marks

    def now(self) -> float:
        """Seconds since the harness's origin (the clock of every sample and mark)."""
        return time.perf_counter() - self.origin

    def mark(self, kind: str, label: str, endpoint: str = "") -> None:
        self.events.append(FFCrossSystemEventDTO(at_seconds=max(0.0, self.now()), kind=kind, label=label, endpoint=endpoint))

    # ------------------------------------------------------------------ building

    @classmethod
    async def open(cls, ctx: Any) -> FFCrossHarness:
        """Start (or attach to) the instances, put proxies in front, build and start the manager."""
        from testing.cluster import FFLocalCluster  # the cluster tooling is test-only

        testing = ctx.config.integration_testing
        settings = testing.cross_system_config
        profile = testing.performance_config.profile
        given = ctx.cluster_run_dir
        if given is None:
            count = settings.instances_full if profile == "full" else settings.instances_quick
            root = Path(ctx.run_dir) / "cross_system"
            cluster = FFLocalCluster(
                instances=count, data_dir=root / "data", run_dir=root / "run", name="xs",
                env={"FF_SERVICE__LEASE_SECONDS": f"{settings.lease_seconds:g}",
                     "FF_SERVICE__HEARTBEAT_SECONDS": f"{settings.heartbeat_seconds:g}"},
            )  # fmt: skip
            owns = True
            await cluster.start(timeout_s=60.0)
        else:
            cluster = FFLocalCluster.attach(Path(given))
            owns = False
        harness = cls(ctx=ctx, settings=settings, profile=profile, cluster=cluster, owns_cluster=owns, token=cluster.token())
        service = cluster.config().service  # an attached cluster keeps the lease it was started with
        harness.lease_seconds, harness.heartbeat_seconds = service.lease_seconds, service.heartbeat_seconds
        try:
            await harness._build()
        except BaseException:
            await harness.close()
            raise
        return harness

    async def _build(self) -> None:
        import testing.faults as faults

        self.recorder = faults.FFFaultRecorder(clock=self.now)
        try:
            from testing.faults.tcp_proxy import FFFaultProxy as proxy_class
            from testing.faults.udp_proxy import FFUdpFaultProxy as udp_proxy_class
        except ImportError:
            proxy_class = udp_proxy_class = None
        if proxy_class is None or udp_proxy_class is None:
            self.missing.append("testing.faults has no FFFaultProxy/FFUdpFaultProxy: endpoints go straight to the instances")
        seed = self.ctx.config.integration_testing.seed
        for n, instance in enumerate(self.cluster.instances):
            ports = {"http": instance.http_port, "tcp": instance.tcp_port, "udp": instance.udp_port}
            item = _Instance(instance.instance_id, instance.host, ports)
            if proxy_class is not None:
                item.proxies["http"] = proxy_class(instance.host, instance.http_port, name=f"{instance.instance_id}-http",
                                                   recorder=self.recorder, seed=seed + n)  # fmt: skip
                if instance.tcp_port:
                    item.proxies["tcp"] = proxy_class(instance.host, instance.tcp_port, name=f"{instance.instance_id}-tcp",
                                                      recorder=self.recorder, seed=seed + 100 + n)  # fmt: skip
            if udp_proxy_class is not None and instance.udp_port:
                item.proxies["udp"] = udp_proxy_class(instance.host, instance.udp_port, name=f"{instance.instance_id}-udp",
                                                      recorder=self.recorder, seed=seed + 200 + n)  # fmt: skip
            for proxy in item.proxies.values():
                await proxy.start()
            self.instances.append(item)

        config = suite_comm_config(self.ctx.config)
        factory = self.ctx.comm_factory
        if factory is None:
            from ff_managers import FFCrossSystemCommunicationManager

            factory = FFCrossSystemCommunicationManager
        self.comm = factory(config)
        for item in self.instances:
            for endpoint in self.endpoints_of(item):
                self.comm.add_endpoint(endpoint)
        spoken = []
        for transport in (*LOAD_TRANSPORTS, "udp"):  # a protocol the manager cannot speak is reported, not fatal
            try:
                self.comm.handler(f"{self.instances[0].instance_id}-{transport}")
            except FFNotFoundError:
                for item in self.instances:
                    self.comm.remove_endpoint(f"{item.instance_id}-{transport}")
                self.missing.append(f"the communication manager has no handler for {transport}")
            else:
                spoken.append(transport)
        self.transports = tuple(t for t in LOAD_TRANSPORTS if t in spoken)
        self.udp_ready = "udp" in spoken
        started = asyncio.Event()

        async def host() -> None:  # the manager's task group lives in this one task, start to close
            async with self.comm:
                started.set()
                await self._comm_stop.wait()

        self._comm_host = asyncio.get_running_loop().create_task(host(), name="ff-cross-comm")
        await asyncio.wait_for(started.wait(), timeout=10)
        self._watcher = asyncio.get_running_loop().create_task(self._watch(), name="ff-cross-watch")

    def endpoints_of(self, item: _Instance) -> list[FFEndpointDTO]:
        """The instance's endpoints: one per load transport and UDP through its proxies, one probe direct."""
        endpoints = []
        for transport in (*LOAD_TRANSPORTS, "udp", "probe", "anon"):
            proxy = item.proxies.get("http" if transport in ("http", "websocket", "anon") else transport)
            if transport == "probe":
                port = item.ports["http"]
            elif proxy is not None:
                port = proxy.port
            elif item.ports.get(_PORT_KEY[transport]) is not None:
                port = item.ports[_PORT_KEY[transport]]  # no proxy: straight to the instance
            else:
                continue
            protocol = "http" if transport in ("probe", "anon") else transport
            endpoints.append(FFEndpointDTO(system_id=f"{item.instance_id}-{transport}", group=GROUP[transport], protocol=protocol,
                                           host="127.0.0.1", port=port, token=None if transport == "anon" else self.token))  # fmt: skip
        return endpoints

    def add_toxic(self, item: _Instance, kind: str, transport: str = "http", direction: str = "downstream", **params: Any) -> tuple[Any, str]:
        """Apply a TCP toxic to one of the instance's proxies; ``(proxy, name)`` for :meth:`remove_toxic`."""
        from testing.suites._cross_system._faults import tcp_toxic

        proxy = item.proxies[transport]
        return proxy, proxy.add_toxic(tcp_toxic(kind, **params), direction=direction)

    @staticmethod
    def remove_toxic(added: tuple[Any, str]) -> None:
        proxy, name = added
        with contextlib.suppress(FFNotFoundError):
            proxy.remove_toxic(name)

    def user(self, name: str) -> str:
        """A user id of this run only (an attached cluster keeps the users of earlier runs)."""
        return f"xs_{self.tag}_{name}"

    def instance(self, instance_id: str) -> _Instance:
        return next(i for i in self.instances if i.instance_id == instance_id)

    def instance_of_endpoint(self, system_id: str) -> str:
        return system_id.rsplit("-", 1)[0]

    # ------------------------------------------------------------------ endpoint states (for marks)

    def statuses(self) -> dict[str, tuple[str, str]]:
        """``{system_id: (state, breaker)}`` as the manager reports them now."""
        return {row.system_id: (row.state, row.breaker) for row in self.comm.get_system_status()}

    async def _watch(self) -> None:
        """Mark every change of an endpoint's state on the timeline (ejected, returned, breaker open)."""
        while True:
            try:
                now = self.statuses()
            except Exception as exc:  # a broken status read must not end the watch
                _log.debug("status read failed: %r", exc)
                now = {}
            for system_id, (state, breaker) in now.items():
                before = self._states.get(system_id)
                if before is not None and system_id.endswith(LOAD_TRANSPORTS + ("probe",)):
                    if state != before[0]:
                        kind = {"ejected": "ejected", "unhealthy": "ejected", "healthy": "returned"}.get(state, state)
                        self.mark(kind, f"{system_id} {state}", system_id)
                    if breaker != before[1] and breaker == "open":
                        self.mark("breaker_open", f"{system_id} breaker open", system_id)
            self._states = now
            await asyncio.sleep(0.1)

    def back_in_rotation(self, instance_id: str, transports: Iterable[str] | None = None) -> bool:
        states = self.statuses()
        wanted = self.instance(instance_id).endpoint_ids(self.transports if transports is None else transports)
        return all(states.get(sid, ("", ""))[0] == "healthy" and states[sid][1] == "closed" for sid in wanted)

    # ------------------------------------------------------------------ requests

    def message(self, target: str, operation: str, payload: dict[str, Any], **fields: Any) -> FFCrossSystemMessageDTO:
        fields.setdefault("message_type", "request")
        return FFCrossSystemMessageDTO(source_system="ff-cross-suite", target_system=target, operation=operation, payload=payload,
                                       **fields)  # fmt: skip

    async def call(self, target: str, operation: str, payload: dict[str, Any], **fields: Any) -> FFCrossSystemMessageDTO:
        """One request through the manager; the reply (``response`` or ``error``)."""
        return await self.comm.send_message(self.message(target, operation, payload, **fields))

    async def result(self, target: str, operation: str, payload: dict[str, Any], **fields: Any) -> Any:
        """The response's payload; AssertionError naming the problem for an error reply."""
        reply = await self.call(target, operation, payload, **fields)
        if reply.message_type != "response":
            raise AssertionError(f"{operation} on {target} answered {reply.message_type}: {reply.payload}")
        return reply.payload

    async def seed_data(self) -> None:
        """The users and sessions the load writes to (created through the manager)."""
        for n in range(_SESSIONS):
            user = self.user(f"load_{n:02d}")
            session = await self.result(GROUP["http"], "memory.create_session", {"user_id": user, "title": f"cross-system {n}"})
            self.sessions.append((user, session["session_id"]))
        self._session_cycle = itertools.cycle(self.sessions)

    async def send_arrival(self, arrival: FFArrival) -> FFSendResult:
        """One arrival of the load: build the request, send it, classify the outcome, keep the ledger."""
        target = GROUP["anon" if arrival.operation == _REFUSED else arrival.transport]
        message_id = ""
        where: SessionKey | None = None
        if arrival.operation == "memory.add_message":
            where = next(self._session_cycle)
            message_id = f"xs_{arrival.index:07d}_{uuid.uuid4().hex[:8]}"
            payload = {"user_id": where[0], "session_id": where[1], "role": next(self._roles),
                       "content": f"load write {arrival.index}", "message_id": message_id}  # fmt: skip
        else:
            user, session = next(self._session_cycle)
            payload = {"user_id": user, "session_id": session, "limit": 5}
        operation = arrival.operation.split(" ", 1)[0]
        try:
            reply = await self.call(target, operation, payload)
        except FFTimeoutError as exc:
            result = FFSendResult("timeout", error_kind=type(exc).__name__, message_id=message_id)
        except FFError as exc:
            result = FFSendResult("unavailable", error_kind=type(exc).__name__, message_id=message_id)
        else:
            endpoint = reply.headers.get("endpoint", reply.source_system)
            kind = str(reply.payload.get("error", "error")) if isinstance(reply.payload, dict) else "error"
            expected = "error" if arrival.operation == _REFUSED else "response"
            if reply.message_type == expected and (expected == "response" or kind == "FFAuthenticationError"):
                result = FFSendResult("ok", endpoint=endpoint, message_id=message_id)
            elif reply.message_type == "response":  # answered without credentials
                result = FFSendResult("error_reply", endpoint=endpoint, error_kind="answered instead of refused", message_id=message_id)
            else:
                result = FFSendResult("error_reply", endpoint=endpoint, error_kind=kind, message_id=message_id)
        if where is not None:
            self.ledger.record(message_id, where, acknowledged=result.outcome == "ok")
        return result

    # ------------------------------------------------------------------ the load

    def start_load(self) -> None:
        rate = self.settings.full_requests_per_second if self.profile == "full" else self.settings.requests_per_second
        seed = self.ctx.config.integration_testing.seed
        schedule = (dataclasses.replace(a, transport="http") if a.operation == _REFUSED else a
                    for a in arrival_schedule(rate, seed, self.transports, _MIX))  # refusals go over HTTP only
        self.generator = FFOpenLoopGenerator(
            schedule, self.send_arrival, origin=self.origin,
            max_in_flight=self.settings.max_in_flight, attempt_timeout=10.0, drain_seconds=10.0,
        )  # fmt: skip
        self.generator.start()

    @property
    def rate(self) -> float:
        return self.settings.full_requests_per_second if self.profile == "full" else self.settings.requests_per_second

    @property
    def hold(self) -> float:
        return self.settings.full_fault_hold_seconds if self.profile == "full" else self.settings.fault_hold_seconds

    @property
    def attempts(self) -> list[FFAttempt]:
        return self.generator.snapshot() if self.generator is not None else []

    async def stop_load(self) -> None:
        if self.generator is not None and self.generator.running:
            started = self.generator._started_at
            await self.generator.stop()
            self.load_seconds = self.now() - started

    async def wait_successes(self, count: int, *, endpoints: set[str] | None = None, since: float = 0.0,
                             timeout: float = 10.0) -> float | None:
        """Wait until ``count`` successes ended after ``since`` (on ``endpoints`` if given); the end
        time of the first of them, or None when the wait ran out."""
        deadline = time.perf_counter() + timeout
        while True:
            hits = sorted(a.end for a in self.attempts if a.ok and a.end >= since and (endpoints is None or a.endpoint in endpoints))
            if len(hits) >= count:
                return hits[0]
            if time.perf_counter() >= deadline:
                return None
            await asyncio.sleep(0.05)

    # ------------------------------------------------------------------ faults

    def begin_fault(self, fault: str, target: str, *, affects_latency: bool = True) -> FFFaultRecord:
        record = FFFaultRecord(fault=fault, target=target, injected=self.now(), affects_latency=affects_latency)
        self.faults.append(record)
        self.mark("fault", f"{fault} {target}", target)
        return record

    def clear_fault(self, record: FFFaultRecord, label: str = "") -> None:
        record.cleared = self.now()
        self.mark("cleared", label or f"{record.fault} {record.target} cleared", record.target)

    async def await_recovery(self, record: FFFaultRecord, transports: Iterable[str] | None = None) -> bool:
        """The first success routed to the faulted instance after the fault was cleared, then its
        endpoints healthy with closed breakers (both bounded by ``recovery_timeout_seconds``)."""
        assert record.cleared is not None
        transports = self.transports if transports is None else tuple(transports)
        wanted = self.instance(record.target).endpoint_ids(transports)
        first = await self.wait_successes(1, endpoints=wanted, since=record.cleared, timeout=self.settings.recovery_timeout_seconds)
        if first is None:
            record.detail = "no request reached it again within the bound"
            return False
        record.recovered = first
        self.mark("recovered", f"{record.target} serving again", record.target)
        deadline = time.perf_counter() + self.settings.recovery_timeout_seconds
        while not self.back_in_rotation(record.target, transports):
            if time.perf_counter() >= deadline:
                record.detail = "serving again, but not every endpoint healthy with its breaker closed: " + ", ".join(
                    f"{sid} {state}/{breaker}" for sid, (state, breaker) in sorted(self.statuses().items())
                    if sid in self.instance(record.target).endpoint_ids(transports))
                return False
            await asyncio.sleep(0.05)
        record.back_in_rotation = True
        return True

    async def signal(self, instance_id: str, sig: int) -> None:
        await asyncio.to_thread(self.cluster.signal, instance_id, sig)
        if sig == signal.SIGSTOP:
            self._frozen.add(instance_id)
        elif sig in (signal.SIGCONT, signal.SIGKILL):
            self._frozen.discard(instance_id)

    async def frozen_holds(self, instance_id: str) -> set[Path]:
        """The data files whose lock the (stopped) instance holds (see ``_frozen_locks``)."""
        pid = self.cluster.instance(instance_id).pid
        return await asyncio.to_thread(held_data_files, pid, self.cluster.data_dir)

    def stalled_behind(self, attempt: FFAttempt, held: set[Path]) -> bool:
        """Whether ``attempt`` needed a file the frozen instance holds locked: a write to a
        session whose log it holds, or a refusal (audited) while it holds the audit chain."""
        if not held:
            return False
        root = self.cluster.data_dir
        if attempt.operation == _REFUSED:
            return any(path.is_relative_to(root / "audit") for path in held)
        if attempt.operation == "memory.add_message" and attempt.message_id:
            where = self.ledger.acknowledged.get(attempt.message_id) or self.ledger.unacknowledged.get(attempt.message_id)
            return where is not None and root / "users" / where[0] / "sessions" / where[1] / "messages.jsonl" in held
        return False

    async def restart(self, instance_id: str) -> None:
        """Start the instance again on the same ports (the proxies in front keep theirs)."""
        await self.cluster.restart(instance_id, timeout_s=60.0)

    # ------------------------------------------------------------------ ending

    def generator_cpu(self) -> list[float]:
        return [s.cpu_percent for s in self.sampler.samples] if self.sampler is not None else []

    async def close(self) -> None:
        """End everything this harness started, in reverse order; never raises, never hangs.

        Each step has a bound (``_CLOSE_STEP_S``): closing a client whose server is frozen or a
        sampler whose thread is stuck must not keep the run from ending and its processes from
        being reaped. A task past its bound is cancelled and left behind with a warning.
        """
        await self._bounded("stopping the load", self.stop_load())
        if self.sampler is not None:
            await self._bounded("stopping the CPU sampler", self.sampler.__aexit__(None, None, None))
            self.sampler = None
        if self._watcher is not None:
            self._watcher.cancel()
            await self._bounded("ending the status watcher", asyncio.gather(self._watcher, return_exceptions=True))
            self._watcher = None
        if self._comm_host is not None:
            self._comm_stop.set()
            done, _ = await asyncio.wait({self._comm_host}, timeout=_CLOSE_STEP_S)
            if not done:
                _log.warning("the communication manager did not close within %.0f s; cancelled", _CLOSE_STEP_S)
                self._comm_host.cancel()
                await asyncio.wait({self._comm_host}, timeout=_CLOSE_STEP_S)
            self._comm_host = None
        for item in self.instances:
            for proxy in item.proxies.values():
                await self._bounded("stopping a fault proxy", proxy.stop())
        for instance_id in list(self._frozen):  # never leave an attached cluster frozen
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.cluster.signal, instance_id, signal.SIGCONT)
        self._frozen.clear()
        if self.owns_cluster:
            try:
                await self.cluster.stop(grace_s=5.0)
            except Exception as exc:  # reported, not raised: cleanup goes on
                _log.warning("stopping the cross-system cluster: %r", exc)
            self.owns_cluster = False

    @staticmethod
    async def _bounded(what: str, step: Awaitable[object]) -> None:
        """Await one cleanup step for at most ``_CLOSE_STEP_S``; log, never raise."""
        try:
            await asyncio.wait_for(step, timeout=_CLOSE_STEP_S)
        except Exception as exc:  # noqa: BLE001 - cleanup goes on whatever one step did
            _log.warning("%s: %r", what, exc)
