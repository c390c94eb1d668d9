"""Priority under a queue: with one send slot and a slow link, an emergency overtakes the lows.

A second manager (built by the same factory as the suite's, so a planted defect reaches it)
gets one endpoint with a single send slot, in front of an instance whose proxy adds latency.
Seven ``low`` reads are sent first (one takes the slot, six wait), then one ``emergency``: when
priority is honoured it takes the next free slot, so it finishes second; served first come first
served it would finish last.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ff_class_configs.ff_comm_dtos import FFEndpointDTO

__all__ = ["priority_order"]

_LOWS = 7
_LATENCY_MS = 60


async def priority_order(h: Any) -> list[str]:
    """The labels of the requests in the order they finished."""
    from testing.suites._cross_system._harness import suite_comm_config

    base = suite_comm_config(h.ctx.config)
    comm_config = base.comm.model_copy(update={"pool_max_connections": 1, "rpc_max_in_flight": 1, "health_interval_s": 5.0})
    config = base.model_copy(update={"comm": comm_config})
    factory = h.ctx.comm_factory
    if factory is None:
        from ff_managers import FFCrossSystemCommunicationManager

        factory = FFCrossSystemCommunicationManager
    comm = factory(config)
    item = h.instances[0]
    comm.add_endpoint(FFEndpointDTO(system_id="xs-priority", group="xs-priority-group", protocol="http", host="127.0.0.1",
                                    port=item.proxies["http"].port, token=h.token))  # fmt: skip
    user, session = h.sessions[0]
    added = h.add_toxic(item, "latency", "http", "downstream", latency_ms=_LATENCY_MS, jitter_ms=0)
    order: list[str] = []

    async def one(label: str, priority: str) -> None:
        reply = await comm.send_message(h.message("xs-priority-group", "memory.get_messages",
                                                  {"user_id": user, "session_id": session, "limit": 1}, priority=priority))  # fmt: skip
        order.append(label if reply.message_type == "response" else f"{label}:error")

    try:
        tasks = []
        for n in range(_LOWS):
            tasks.append(asyncio.create_task(one(f"low{n}", "low")))
            await asyncio.sleep(0.002)  # queued in this order
        await asyncio.sleep(0.01)
        tasks.append(asyncio.create_task(one("emergency", "emergency")))
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=15)
    finally:
        h.remove_toxic(added)
        await comm.close()
    return order
