"""Cross-system suite: real ``serve`` processes, open-loop load over every protocol, real faults.

Seed 000's service-communication criteria (availability, latency, recovery, data exchange, error
recovery, state consistency) measured across processes, not inside one: the suite starts
instances on 127.0.0.1 (quick profile 2, full 3; or uses the cluster ``main.py cluster test``
points it at), puts a fault proxy in front of each, and drives an open-loop load (a seeded
Poisson schedule, independent of the replies) through ``FFCrossSystemCommunicationManager`` over
HTTP, WebSocket and TCP, with StatsD datagrams over UDP. While the load runs it kills, freezes,
restarts and cuts off instances, one fault at a time, and records every attempt.

Order and dependencies: ``cluster_up`` first; the contract, discovery and priority tests; the
load starts (``load_started``); the fault tests run one after another while it runs; the load
stops (``load_stopped``, after every fault test whatever its outcome); then the ledger, the data
integrity checks and the gates, which read the whole run's evidence. The gates themselves are
computed from the raw samples by :mod:`testing.suites._cross_system._gates`; the summary goes to
the report's cross-system section (``details["cross_system"]`` of the ``gates`` test).

The harness (instances, proxies, manager, evidence) is ended by :data:`SUITE_CLEANUP`, which the
test manager runs after the suite whatever happened, so no process outlives it.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
import urllib.request
from typing import Any

from ff_class_configs.ff_integration_testing_config import FFTestingLevel
from ff_utils.ff_errors import FFError
from testing._load import FFResourceSampler
from testing.runner import FFChecker, FFSuiteRegistry
from testing.suites._cross_system._gates import FFGateThresholds, FFGeneratorLoad, evaluate_gates
from testing.suites._cross_system._harness import GROUP, STATE_KEY, FFCrossHarness, harness_of
from testing.suites._cross_system._contracts import check_contract
from testing.suites._cross_system._integrity import check_integrity, snapshot_manifest
from testing.suites._cross_system._ledger import read_all_from_disk, reconcile
from testing.suites._cross_system._samples import FFWriteLedgerResult
from testing.suites._cross_system._summary import build_summary
from testing.suites._cross_system._udp import run_udp_phases

__all__ = ["MAX_RETRIES", "REGISTRY", "SUITE_CLEANUP", "build_summary"]

REGISTRY = FFSuiteRegistry("cross_system", level=FFTestingLevel.END_TO_END)
MAX_RETRIES = 0
"""No retries: a fault test run again would inject a second fault into the same run's evidence,
and a pass on the retry would hide the first failure (the runner would call it flaky)."""

_FAULT_TESTS = (
    "failover_on_sigkill", "restart_on_same_port", "freeze_by_sigstop", "proxy_latency", "proxy_hang", "proxy_reset",
    "proxy_slicer", "event_resume_across_failover", "udp_faults", "state_sync",
)  # fmt: skip
_COMPONENTS = ("comm", "service")


async def _cleanup(ctx: Any) -> None:
    harness = ctx.suite_state.pop(STATE_KEY, None)
    if harness is not None:
        await harness.close()


SUITE_CLEANUP = _cleanup


def _info(base_url: str, token: str) -> dict[str, Any]:
    """``GET /v1/info`` of one instance (a blocking call: run it in a thread)."""
    request = urllib.request.Request(f"{base_url}/v1/info", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=2.0) as response:  # noqa: S310 - loopback only
        return json.loads(response.read())


async def _registry(h: FFCrossHarness, via: str) -> set[str] | None:
    instance = next(i for i in h.instances if i.instance_id == via)
    try:
        body = await asyncio.to_thread(_info, f"http://{instance.host}:{instance.ports['http']}", h.token)
    except OSError:
        return None
    return {entry["instance_id"] for entry in body.get("instances", [])}


def _require_proxies(h: FFCrossHarness, check: FFChecker) -> None:
    check.require(all("http" in i.proxies for i in h.instances), "a fault proxy stands in front of every instance",
                  "; ".join(h.missing))  # fmt: skip


def _require_udp(h: FFCrossHarness, check: FFChecker) -> None:
    check.require(h.udp_ready and all("udp" in i.proxies for i in h.instances),
                  "the manager speaks UDP and a UDP fault proxy stands in front of every instance", "; ".join(h.missing))  # fmt: skip


def _endpoint_failures(h: FFCrossHarness, instance_id: str) -> int:
    """The manager's own count of failed attempts on the instance's load endpoints."""
    metrics = h.comm.get_metrics()
    endpoints = metrics.get("endpoints", {}) if isinstance(metrics, dict) else {}
    mine = h.instance(instance_id).endpoint_ids(h.transports)
    return sum(int(v.get("failures", 0)) for sid, v in endpoints.items() if sid in mine and isinstance(v, dict))


# ====================================================================== set-up and contracts


@REGISTRY.test("instances start and the communication manager reaches each", components=_COMPONENTS, timeout_seconds=120)
async def cluster_up(ctx: Any, check: FFChecker) -> None:
    with check.step("start or attach the instances, proxies and manager"):
        harness = await FFCrossHarness.open(ctx)
        ctx.suite_state[STATE_KEY] = harness
    check.at_least(len(harness.instances), 2, "at least two instances to fail over between")
    for problem in harness.missing:
        check.warn(problem)
    with check.step("every endpoint answers its health check"):
        deadline = time.perf_counter() + 15
        while time.perf_counter() < deadline:
            states = harness.statuses()
            if states and all(state == "healthy" for state, _ in states.values()):
                break
            await asyncio.sleep(0.1)
        states = harness.statuses()
        check.that(states and all(state == "healthy" for state, _ in states.values()), "every endpoint is healthy",
                   ", ".join(f"{k}={v[0]}" for k, v in sorted(states.items())))  # fmt: skip
    with check.step("seed the sessions and the panel the load writes to"):
        await harness.seed_data()
    check.equal(len(harness.sessions), 8, "every session the load writes to was created")
    check.metric("instances", len(harness.instances))


@REGISTRY.test("HTTP contract: keyed write, read, error reply, TTL", components=_COMPONENTS, depends_on=("cluster_up",))
async def contract_http(ctx: Any, check: FFChecker) -> None:
    await check_contract(harness_of(ctx), check, "http")


@REGISTRY.test("WebSocket contract: keyed write, read, error reply, TTL", components=_COMPONENTS, depends_on=("cluster_up",))
async def contract_websocket(ctx: Any, check: FFChecker) -> None:
    await check_contract(harness_of(ctx), check, "websocket")


@REGISTRY.test("TCP contract: keyed write, read, error reply, TTL", components=_COMPONENTS, depends_on=("cluster_up",))
async def contract_tcp(ctx: Any, check: FFChecker) -> None:
    await check_contract(harness_of(ctx), check, "tcp")


@REGISTRY.test("UDP contract: StatsD datagrams arrive as metrics", components=_COMPONENTS, depends_on=("cluster_up",))
async def contract_udp(ctx: Any, check: FFChecker) -> None:
    h = harness_of(ctx)
    _require_udp(h, check)
    tally = await run_udp_phases(h, [("contract", None)], count=40)
    check.equal(tally.delivered.get("contract", 0), 40, "every datagram sent over UDP is counted by the server")


@REGISTRY.test("a write never retried without an idempotency key", components=_COMPONENTS, depends_on=("cluster_up",))
async def no_retry_of_unkeyed_writes(ctx: Any, check: FFChecker) -> None:
    """A new session (``memory.create_session``: not idempotent, no key) whose reply is lost must
    be created once: once the request may have left, the manager may not send it again.

    Over TCP (JSON-RPC), pinned to one instance whose proxy withholds the replies: a retry would
    reach the same instance and create a second session. (Message writes carry their
    ``message_id`` as the key, so they may be retried; they are the load's writes.)
    """
    h = harness_of(ctx)
    _require_proxies(h, check)
    check.require("tcp" in h.transports and all("tcp" in i.proxies for i in h.instances), "TCP and its fault proxies are up")
    victim = h.instances[0]
    user = h.user("unkeyed")
    # The request goes through, no reply comes back; the connection is closed after 1.5 s.
    added = h.add_toxic(victim, "timeout", "tcp", "downstream", timeout_ms=1500)
    try:
        try:
            reply = await h.call(f"{victim.instance_id}-tcp", "memory.create_session", {"user_id": user, "title": "once"}, max_retries=3)
            outcome = reply.message_type
        except FFError as exc:
            outcome = type(exc).__name__
    finally:
        h.remove_toxic(added)
    check.that(outcome != "response", "with its reply withheld, the unkeyed write is reported as failed or unknown", outcome)
    await asyncio.sleep(0.3)
    sessions = await h.result(GROUP["http"], "memory.list_sessions", {"user_id": user})
    rows = sessions if isinstance(sessions, list) else sessions.get("sessions", [])
    check.equal(len(rows), 1, "the unkeyed write reached the server once and was not sent again")
    check.metric("unkeyed_copies", len(rows))


@REGISTRY.test("a higher priority overtakes a queue of lower ones", components=_COMPONENTS, depends_on=("cluster_up",))
async def priority_honoured(ctx: Any, check: FFChecker) -> None:
    from testing.suites._cross_system._priority import priority_order

    h = harness_of(ctx)
    _require_proxies(h, check)
    order = await priority_order(h)
    position = order.index("emergency")
    check.metric("emergency_position", position)
    check.at_most(position, 2, "the emergency message finished among the first three, ahead of the queued low ones")


@REGISTRY.test("discovery lists every live instance", components=_COMPONENTS, depends_on=("cluster_up",))
async def discovery(ctx: Any, check: FFChecker) -> None:
    h = harness_of(ctx)
    expected = {i.instance_id for i in h.instances}
    for item in h.instances:
        listed = await _registry(h, item.instance_id)
        check.equal(listed, expected, f"{item.instance_id} lists every live instance in the registry")


# ====================================================================== the load


@REGISTRY.test("open-loop load flows over HTTP, WebSocket and TCP", components=_COMPONENTS, depends_on=("cluster_up",),
               after=("contract_http", "contract_websocket", "contract_tcp", "contract_udp", "no_retry_of_unkeyed_writes",
                      "priority_honoured", "discovery"))  # fmt: skip
async def load_started(ctx: Any, check: FFChecker) -> None:
    h = harness_of(ctx)
    with check.step("list the files of the data root"):
        h.files_before_load = await asyncio.to_thread(snapshot_manifest, h.cluster.data_dir)
    check.that(h.files_before_load, "the seeded data root has files to keep")
    h.sampler = FFResourceSampler(0.5)
    await h.sampler.__aenter__()
    h.start_load()
    steady = h.settings.full_steady_seconds if h.profile == "full" else h.settings.steady_seconds
    with check.step(f"{h.rate:g}/s for {steady:g} s before the first fault"):
        await asyncio.sleep(steady)
    for transport in h.transports:
        ok = sum(1 for a in h.attempts if a.transport == transport and a.ok)
        check.at_least(ok, 1, f"{transport}: requests succeed under the load")
    failed = [a for a in h.attempts if not a.ok]
    check.that(not failed, "no request failed before any fault",
               f"{len(failed)} failed: " + ", ".join(sorted({f"{a.transport}:{a.error_kind or a.outcome}" for a in failed})[:5]))  # fmt: skip


@REGISTRY.test("failover on SIGKILL under load, and discovery drops the killed instance", components=_COMPONENTS,
               depends_on=("load_started",), timeout_seconds=120)  # fmt: skip
async def failover_on_sigkill(ctx: Any, check: FFChecker) -> None:
    h = harness_of(ctx)
    victim = h.instances[-1].instance_id
    others = {sid for i in h.instances if i.instance_id != victim for sid in i.endpoint_ids()}
    record = h.begin_fault("SIGKILL", victim)
    failures_before = _endpoint_failures(h, victim)
    await h.signal(victim, signal.SIGKILL)
    with check.step("requests succeed on the other instances"):
        after = await h.wait_successes(20, endpoints=others, since=record.injected, timeout=10)
    check.that(after is not None, "requests go on succeeding on the other instances after the kill")
    # Give detection (failures, health checks, ejection) a bound, then watch: nothing may be sent there.
    await asyncio.sleep(1.0)
    failures_quiet = _endpoint_failures(h, victim)
    with check.step("watch the dead instance for 1.5 s"):
        await asyncio.sleep(1.5)
    sent_while_dead = _endpoint_failures(h, victim) - failures_quiet
    with check.step("discovery drops the killed instance after its lease"):
        survivor = h.instances[0].instance_id
        deadline = time.perf_counter() + h.lease_seconds + 3 * h.heartbeat_seconds + 2
        listed = await _registry(h, survivor)
        while listed is not None and victim in listed and time.perf_counter() < deadline:
            await asyncio.sleep(0.2)
            listed = await _registry(h, survivor)
    check.that(listed is not None and victim not in listed, f"the registry no longer lists {victim} after its lease", repr(listed))
    check.at_most(sent_while_dead, 2, "once ejected, the dead instance is (almost) never tried again")
    check.metric("attempts_on_dead_after_detection", sent_while_dead)
    check.metric("failures_on_dead_total", _endpoint_failures(h, victim) - failures_before)
    window = [a for a in h.attempts if record.injected <= a.end <= h.now()]
    errors = [a for a in window if not a.ok]
    record.detail = f"{len(errors)} of {len(window)} attempts failed while it was dead"
    check.metric("errors_while_dead", len(errors))
    check.that(len(errors) <= max(2, len(window) // 50), "failover keeps requests succeeding (at most 2 % fail)",
               f"{len(errors)} of {len(window)}: " + ", ".join(sorted({a.error_kind or a.outcome for a in errors})[:4]))  # fmt: skip


@REGISTRY.test("restart on the same port: pooled connections recover", components=_COMPONENTS, depends_on=("load_started",),
               after=("failover_on_sigkill",), timeout_seconds=120)  # fmt: skip
async def restart_on_same_port(ctx: Any, check: FFChecker) -> None:
    h = harness_of(ctx)
    victim = h.instances[-1].instance_id
    record = next((f for f in h.faults if f.fault == "SIGKILL" and f.target == victim and f.cleared is None), None)
    if record is None:  # the kill test did not leave one: a graceful restart of a live instance
        record = h.begin_fault("SIGTERM restart", victim)
    ports = dict(h.instance(victim).ports)
    with check.step("start it again on the same ports"):
        await h.restart(victim)
    h.clear_fault(record, f"{victim} restarted on the same ports")
    new = next(i for i in h.cluster.instances if i.instance_id == victim)
    check.equal({"http": new.http_port, "tcp": new.tcp_port, "udp": new.udp_port}, ports, "the instance is back on the same ports")
    with check.step("traffic reaches it again through the same pooled endpoints"):
        back = await h.await_recovery(record)
    check.that(back, f"{victim} serves again and is back in rotation", record.detail)
    if record.recovered is not None and record.cleared is not None:
        check.metric("recovery_seconds", record.recovered - record.cleared)
        check.at_most(record.recovered - record.cleared, h.settings.max_recovery_seconds, "recovered within the bound")
    with check.step("discovery lists it again"):
        deadline = time.perf_counter() + 3
        listed = await _registry(h, victim)
        while (listed is None or victim not in listed) and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
            listed = await _registry(h, victim)
    check.that(listed is not None and victim in listed, "the restarted instance is listed in the registry again", repr(listed))


@REGISTRY.test("a freeze by SIGSTOP is detected, routed around, and recovered after SIGCONT", components=_COMPONENTS,
               depends_on=("load_started",), after=("restart_on_same_port",), timeout_seconds=60)  # fmt: skip
async def freeze_by_sigstop(ctx: Any, check: FFChecker) -> None:
    h = harness_of(ctx)
    victim = h.instances[0].instance_id
    probe = f"{victim}-probe"
    record = h.begin_fault("SIGSTOP", victim)
    await h.signal(victim, signal.SIGSTOP)
    held = await h.frozen_holds(victim)  # stopped: its locks cannot change until SIGCONT
    detected = False
    # Frozen for the hold time, and until the idle probe endpoint is seen not healthy: two failed
    # checks (each bounded by the 1 s attempt timeout) plus the interval, so 4 s at most.
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < max(h.hold, 4.0):
            if h.statuses().get(probe, ("healthy",))[0] != "healthy":
                detected = True
            if detected and time.perf_counter() - started >= h.hold:
                break
            await asyncio.sleep(0.05)
    finally:
        await h.signal(victim, signal.SIGCONT)
        h.clear_fault(record, f"SIGCONT {victim}")
    check.that(detected, "the active health check alone marks the frozen instance (its idle probe endpoint) not healthy",
               f"still healthy after {time.perf_counter() - started:.1f} s frozen")  # fmt: skip
    check.metric("frozen_seconds", record.cleared - record.injected if record.cleared else 0.0)
    back = await h.await_recovery(record)
    check.that(back, f"{victim} serves again and is back in rotation after SIGCONT", record.detail)
    # A request that needed a file the frozen instance holds locked (that user's session log,
    # the audit chain) waits for it on every instance: counted apart, not against failover.
    # Everything else -- other users' writes, reads, samples, the readiness probe -- must flow.
    window = [a for a in h.attempts if record.injected <= a.end <= (record.recovered or h.now())]
    stalled = [a for a in window if h.stalled_behind(a, held)]
    judged = [a for a in window if not h.stalled_behind(a, held)]
    errors = [a for a in judged if not a.ok]
    check.metric("errors_during_freeze", len(errors))
    check.metric("stalled_behind_frozen_locks", len(stalled))
    check.metric("files_locked_by_frozen", len(held))
    kinds = ", ".join(sorted({f"{a.operation}: {a.error_kind or a.outcome}" for a in errors})[:4])
    check.that(len(errors) <= max(2, len(judged) // 50), "requests kept succeeding through the freeze (at most 2 % fail)",
               f"{len(errors)} of {len(judged)} ({kinds}); {len(stalled)} more waited for "
               f"{len(held)} file(s) the frozen instance held locked")  # fmt: skip


async def _proxy_fault(ctx: Any, check: FFChecker, name: str, toxic: str, expect_errors: bool,
                       directions: tuple[str, ...] = ("downstream",), **params: Any) -> None:
    """Apply one toxic to an instance's HTTP and TCP proxies for the hold time, then clear it."""
    h = harness_of(ctx)
    _require_proxies(h, check)
    item = h.instances[len(h.faults) % len(h.instances)]
    record = h.begin_fault(f"proxy {name}", item.instance_id)
    added = []
    try:
        for transport in ("http", "tcp"):
            if transport in item.proxies:
                for direction in directions:
                    added.append(h.add_toxic(item, toxic, transport, direction, **params))
        await asyncio.sleep(h.hold)
    finally:
        for one in added:
            h.remove_toxic(one)
        h.clear_fault(record, f"proxy {name} removed from {item.instance_id}")
    back = await h.await_recovery(record)
    check.that(back, f"{item.instance_id} serves again and is back in rotation after the {name} fault", record.detail)
    window = [a for a in h.attempts if record.injected <= a.end <= (record.recovered or h.now())]
    errors = [a for a in window if not a.ok]
    check.metric("errors_during_fault", len(errors))
    check.metric("attempts_during_fault", len(window))
    allowed = max(2, len(window) // 50) if expect_errors else 0
    check.at_most(len(errors), allowed, f"requests kept succeeding through the {name} fault")
    faulted = [e for e in h.recorder.events if e.source.startswith(item.instance_id) and record.injected <= e.at]
    check.that(faulted, f"the proxy recorded applying the {name} fault")


@REGISTRY.test("proxy fault: latency with jitter", components=_COMPONENTS, depends_on=("load_started",),
               after=("freeze_by_sigstop",), timeout_seconds=60)  # fmt: skip
async def proxy_latency(ctx: Any, check: FFChecker) -> None:
    await _proxy_fault(ctx, check, "latency", "latency", False, latency_ms=250, jitter_ms=50)


@REGISTRY.test("proxy fault: a hang (timeout) is retried elsewhere", components=_COMPONENTS, depends_on=("load_started",),
               after=("proxy_latency",), timeout_seconds=60)  # fmt: skip
async def proxy_hang(ctx: Any, check: FFChecker) -> None:
    # A black-holed route: nothing gets through, and each connection is closed after a second, as
    # a kernel gives up on a connection whose segments go unanswered.
    await _proxy_fault(ctx, check, "hang", "timeout", True, ("upstream",), timeout_ms=1000)


@REGISTRY.test("proxy fault: connections reset by the peer", components=_COMPONENTS, depends_on=("load_started",),
               after=("proxy_hang",), timeout_seconds=60)  # fmt: skip
async def proxy_reset(ctx: Any, check: FFChecker) -> None:
    await _proxy_fault(ctx, check, "reset", "reset_peer", True, timeout_ms=0)


@REGISTRY.test("proxy fault: bytes sliced into small delayed pieces", components=_COMPONENTS, depends_on=("load_started",),
               after=("proxy_reset",), timeout_seconds=60)  # fmt: skip
async def proxy_slicer(ctx: Any, check: FFChecker) -> None:
    # Pieces of about 48 bytes split every JSON-RPC line and WebSocket frame; much smaller ones
    # would make the proxies (which share the load generator's event loop) the bottleneck.
    await _proxy_fault(ctx, check, "slicer", "slicer", False, ("upstream", "downstream"), average_size=48, size_variation=16,
                       delay_us=100)


@REGISTRY.test("WebSocket events resume across a failover", components=_COMPONENTS, depends_on=("load_started",),
               after=("proxy_slicer",), timeout_seconds=60)  # fmt: skip
async def event_resume_across_failover(ctx: Any, check: FFChecker) -> None:
    from testing.suites._cross_system._events import resume_across_failover

    await resume_across_failover(harness_of(ctx), check)


@REGISTRY.test("UDP under drop, duplication and reordering", components=_COMPONENTS, depends_on=("load_started",),
               after=("event_resume_across_failover",), timeout_seconds=60)  # fmt: skip
async def udp_faults(ctx: Any, check: FFChecker) -> None:
    h = harness_of(ctx)
    _require_udp(h, check)
    count = h.settings.udp_datagrams_per_phase
    phases = [("clean", None), ("drop", {"drop": 0.3}), ("duplicate", {"duplicate": 0.3}), ("reorder", {"reorder": 0.3})]
    tally = await run_udp_phases(h, phases, count=count, faults=True)
    for phase, _ in phases:
        h.udp.sent[phase] = h.udp.sent.get(phase, 0) + tally.sent.get(phase, 0)
        h.udp.delivered[phase] = h.udp.delivered.get(phase, 0) + tally.delivered.get(phase, 0)
    check.equal(tally.delivered.get("clean"), count, "without a fault every datagram is delivered")
    check.that(tally.delivered.get("drop", 0) < count, "the drop fault loses datagrams (the fault is real)",
               f"{tally.delivered.get('drop')} of {count}")  # fmt: skip
    check.at_least(tally.delivered.get("duplicate", 0), count, "duplication loses nothing")
    check.equal(tally.delivered.get("reorder"), count, "reordering loses nothing")
    lost = tally.extra.get("server_lost_drop", 0)
    check.that(lost > 0, "the server counts the dropped datagrams as lost (by their seq numbers)", f"lost={lost}")


@REGISTRY.test("state sync: a write on one instance is visible on the others", components=_COMPONENTS,
               depends_on=("load_started",), after=("udp_faults",))  # fmt: skip
async def state_sync(ctx: Any, check: FFChecker) -> None:
    h = harness_of(ctx)
    writer, *readers = h.instances
    user = h.user("sync")
    session = await h.result(f"{writer.instance_id}-http", "memory.create_session", {"user_id": user, "title": "sync"})
    for n in range(3):
        await h.result(f"{writer.instance_id}-tcp", "memory.add_message",
                       {"user_id": user, "session_id": session["session_id"], "role": "user", "content": f"n{n}",
                        "message_id": f"xs_sync_{n}"})  # fmt: skip
    for reader in readers:
        for transport in h.transports:
            got = await h.result(f"{reader.instance_id}-{transport}", "memory.get_messages",
                                 {"user_id": user, "session_id": session["session_id"], "limit": 10})  # fmt: skip
            rows = got if isinstance(got, list) else got.get("messages", [])
            check.equal([m["message_id"] for m in rows], [f"xs_sync_{n}" for n in range(3)],
                        f"{reader.instance_id} over {transport} reads what {writer.instance_id} wrote, in order")  # fmt: skip
    # Panel numbering across processes: every instance writes to one panel at once, over HTTP and TCP.
    panel = await h.result(f"{writer.instance_id}-http", "panel.create_panel",
                           {"user_id": user, "participants": [{"participant_id": "ana"}, {"participant_id": "ben"}]})  # fmt: skip
    h.panel = (user, panel["panel_id"])

    async def speaker(endpoint: str, turns: int) -> list[dict[str, Any]]:
        replies = []
        for n in range(turns):
            replies.append(await h.result(endpoint, "panel.add_message",
                                          {"user_id": user, "panel_id": panel["panel_id"], "participant_id": ("ana", "ben")[n % 2],
                                           "content": f"{endpoint} turn {n}"}))  # fmt: skip
        return replies

    writers = [f"{i.instance_id}-{t}" for i in h.instances for t in h.transports]
    replies = [r for batch in await asyncio.gather(*(speaker(w, 5) for w in writers)) for r in batch]
    h.panel_acks = [str(r.get("message_id")) for r in replies]
    sequences = sorted(r.get("sequence") for r in replies)
    check.equal(sequences, list(range(1, len(replies) + 1)),
                f"{len(writers)} writers on {len(h.instances)} instances at once: panel messages numbered 1..n, none twice")  # fmt: skip


@REGISTRY.test("the load stops and every attempt is accounted for", components=_COMPONENTS, depends_on=("load_started",),
               after=_FAULT_TESTS, timeout_seconds=60)  # fmt: skip
async def load_stopped(ctx: Any, check: FFChecker) -> None:
    h = harness_of(ctx)
    with check.step("stop the schedule and drain what is in flight"):
        await h.stop_load()
        if h.sampler is not None:
            await h.sampler.__aexit__(None, None, None)
    attempts = h.attempts
    check.at_least(len(attempts), 1, "the load attempted requests")
    unfinished = [a for a in attempts if a.error_kind == "cancelled at drain"]
    check.equal(len(unfinished), 0, "no request was left unfinished at the drain bound")
    check.metric("attempts", len(attempts))
    check.metric("load_seconds", h.load_seconds)
    check.metric("max_dispatch_lag_ms", h.generator.max_dispatch_lag_ms if h.generator else 0.0)


# ====================================================================== the evidence of the whole run


@REGISTRY.test("every acknowledged write is stored exactly once (API and files)", components=_COMPONENTS,
               depends_on=("load_stopped",), timeout_seconds=120)  # fmt: skip
async def write_ledger(ctx: Any, check: FFChecker) -> None:
    h = harness_of(ctx)
    via_api: dict[tuple[str, str], list[str]] = {}
    for user, session in sorted(h.ledger.sessions):
        rows = await h.result(GROUP["http"], "memory.get_messages", {"user_id": user, "session_id": session, "limit": 10_000})
        rows = rows if isinstance(rows, list) else rows.get("messages", [])
        via_api[(user, session)] = [m["message_id"] for m in rows]
    on_disk = await read_all_from_disk(h.cluster.data_dir, h.ledger.sessions)
    result = reconcile(h.ledger, via_api, on_disk)
    h.ctx.suite_state["cross_system_ledger"] = result
    check.at_least(result.acknowledged, 1, "the load acknowledged writes")
    check.equal(list(result.lost), [], "no acknowledged write is missing through the API")
    check.equal(list(result.duplicated), [], "no write is stored twice (API)")
    check.equal(list(result.lost_on_disk), [], "no acknowledged write is missing from the files")
    check.equal(list(result.duplicated_on_disk), [], "no write is stored twice (files)")
    check.metric("acknowledged_writes", result.acknowledged)
    check.metric("unacknowledged_but_stored", result.unacknowledged_present)
    if h.panel is not None:
        rows = await h.result(GROUP["http"], "panel.get_messages", {"user_id": h.panel[0], "panel_id": h.panel[1], "limit": 10_000})
        rows = rows if isinstance(rows, list) else rows.get("messages", [])
        stored = [m["message_id"] for m in rows]
        check.that(set(h.panel_acks) <= set(stored), "every acknowledged panel message is stored",
                   f"{len(set(h.panel_acks) - set(stored))} missing")  # fmt: skip
        check.equal([m["sequence"] for m in rows], list(range(1, len(rows) + 1)), "the load's panel is numbered without gap or repeat")


@REGISTRY.test("audit chain, panel numbering and manifest intact after the run", components=_COMPONENTS,
               depends_on=("load_stopped",), after=("write_ledger",), timeout_seconds=120)  # fmt: skip
async def data_integrity(ctx: Any, check: FFChecker) -> None:
    h = harness_of(ctx)
    await check_integrity(h, check)


@REGISTRY.test("seed 000 success criteria", components=_COMPONENTS, depends_on=("cluster_up",),
               after=("load_stopped", "write_ledger", "data_integrity"), timeout_seconds=60)  # fmt: skip
async def gates(ctx: Any, check: FFChecker) -> None:
    h = harness_of(ctx)
    await h.stop_load()  # normally stopped already; a run whose load test broke still ends it here
    s = h.settings
    thresholds = FFGateThresholds(
        min_availability_percent=s.min_availability_percent, min_attempts=s.min_attempts, max_p95_ms=s.max_p95_ms,
        min_steady_samples=s.min_steady_samples, max_recovery_seconds=s.max_recovery_seconds,
        min_udp_delivered_percent=s.min_udp_delivered_percent, min_udp_sent=s.min_udp_datagrams,
        min_error_recovery_percent=s.min_error_recovery_percent, saturated_cpu_percent=s.saturated_cpu_percent,
        max_schedule_slip_ms=s.max_schedule_slip_ms,
    )  # fmt: skip
    attempts = h.attempts
    generator = FFGeneratorLoad.from_samples(h.generator_cpu(), h.generator.shed if h.generator else 0, attempts)
    ledger: FFWriteLedgerResult | None = ctx.suite_state.get("cross_system_ledger")
    results = evaluate_gates(attempts, h.faults, ledger, h.udp if h.udp.sent else None, generator, thresholds)
    summary = build_summary(h, results, ledger, generator, thresholds)
    check.details["cross_system"] = summary.model_dump(mode="json")
    for gate in results:
        check.metric(f"gate.{gate.name}", {"passed": 1.0, "failed": 0.0, "inconclusive": -1.0}[gate.outcome])
        if gate.outcome == "inconclusive":
            check.warn(f"gate {gate.name} inconclusive: {gate.measured}; {gate.detail}")
        else:
            check.that(gate.outcome == "passed", f"{gate.name}: {gate.target} ({gate.criterion})",
                       f"measured {gate.measured}" + (f"; {gate.detail}" if gate.detail else ""))  # fmt: skip
    check.at_least(len(attempts), 1, "the gates had raw samples to read")
