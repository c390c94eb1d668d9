"""UDP phases: StatsD datagrams through the manager's UDP endpoint and a fault proxy, then counted.

Each phase sends ``count`` timings under a metric name of its own to one instance's UDP endpoint
(``<instance>-udp``, through its :class:`FFUdpFaultProxy`), with the phase's fault set on that
proxy (drop, duplicate, reorder; none for ``clean``). Delivery is read back from the server
(``metrics.get_summary``: how many values arrived), and the server's own loss count
(``GET /v1/info`` ``udp.lost``, by the datagrams' ``seq`` numbers) is read before and after, so a
drop is measured on both sides. UDP faults are recorded on the timeline but do not count as
request faults (no failover window, no recovery gate).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ff_utils.ff_errors import FFError
from testing.suites._cross_system._samples import FFUdpTally

__all__ = ["FFUdpPhaseTally", "run_udp_phases"]


@dataclass(slots=True)
class FFUdpPhaseTally(FFUdpTally):
    extra: dict[str, int] = field(default_factory=dict)


async def _summary_count(h: Any, name: str) -> int:
    try:
        summary = await h.result("xs-http", "metrics.get_summary", {"name": name})
    except AssertionError:
        return 0  # nothing arrived yet: the metric is unknown
    return int(summary.get("count", 0)) if isinstance(summary, dict) else 0


async def _server_lost(h: Any, instance_id: str) -> int:
    from testing.suites.cross_system import _info

    item = h.instance(instance_id)
    try:
        body = await asyncio.to_thread(_info, f"http://{item.host}:{item.ports['http']}", h.token)
    except OSError:
        return 0
    return int(body.get("udp", {}).get("lost", 0))


async def run_udp_phases(h: Any, phases: Sequence[tuple[str, dict[str, float] | None]], *, count: int,
                         faults: bool = False) -> FFUdpPhaseTally:
    """Send ``count`` datagrams per phase; return what was sent and what arrived (bounded waits)."""
    item = h.instances[0]
    proxy = item.proxies["udp"]
    target = f"{item.instance_id}-udp"
    tally = FFUdpPhaseTally()
    tag = f"{int(time.time() * 1000) % 10**9}"
    for phase, fault in phases:
        name = f"xs.udp.{tag}.{phase}"
        record = None
        installed: list[str] = []
        if fault:
            from testing.suites._cross_system._faults import udp_fault

            record = h.begin_fault(f"udp {phase}", item.instance_id, affects_latency=False)
            installed = [proxy.add_fault(udp_fault(kind, p), direction="upstream") for kind, p in fault.items()]
        lost_before = await _server_lost(h, item.instance_id)
        sent = 0
        try:
            for n in range(count):
                try:
                    await h.comm.send_message(h.message(target, "metrics.record_metric",
                                                        {"name": name, "value": float(n), "kind": "timing"},
                                                        message_type="notification"))  # fmt: skip
                    sent += 1
                except FFError:
                    pass  # a refused send is not a sent datagram
                if n % 20 == 19:
                    await asyncio.sleep(0.005)  # a steady stream, not one burst into the socket buffer
        finally:
            if fault:
                await asyncio.sleep(0.3)  # datagrams held back for reordering go out before the fault ends
                for name_ in installed:
                    proxy.remove_fault(name_)
                h.clear_fault(record, f"udp {phase} removed")
                record.recovered, record.back_in_rotation = record.cleared, True
        tally.sent[phase] = sent
        deadline = time.perf_counter() + 3.0
        delivered = await _summary_count(h, name)
        while delivered < sent and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
            delivered = await _summary_count(h, name)
        await asyncio.sleep(0.2 if phase == "duplicate" else 0)
        tally.delivered[phase] = await _summary_count(h, name)
        tally.extra[f"server_lost_{phase}"] = await _server_lost(h, item.instance_id) - lost_before
    del faults
    return tally
