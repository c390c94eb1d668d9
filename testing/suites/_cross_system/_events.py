"""WebSocket events across a failover: resumed where possible, never a silent gap.

An event log is per instance and its offsets belong to that instance (docs/SERVICE.md), so a
stream that fails over to another instance can resume exactly only when that instance still
holds events past the offset; otherwise the manager's stream subscribes from "now" and yields an
``events.gap`` event first, so the consumer knows to re-read state. The test:

1. subscribes to ``memory.message_added`` through the ``xs-websocket`` group (the stream picks
   one instance, A), writes three messages on A and receives their three events, in offset order;
2. resets A's connections at its proxy (the stream's connection breaks; the instance lives),
   writes two more messages on another instance B while A is cut off;
3. expects the stream to fail over to another instance and deliver those writes' events -- or,
   where it could not resume from A's offset (or is on a third instance, which never saw them),
   an ``events.gap`` -- then every write made on its new instance, and no event twice.

Every write is then read back through the API, once each.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ff_utils.ff_errors import FFError
from testing.runner import FFChecker

__all__ = ["resume_across_failover"]

_TOPIC = "memory.message_added"


def _message_id(event: Any) -> str | None:
    payload = event.payload if isinstance(event.payload, dict) else {}
    return payload.get("message_id") or (payload.get("data") or {}).get("message_id")


async def _collect(stream: Any, user: str, wanted: set[str], timeout: float, *, until_gap: bool = False) -> tuple[list[str], bool, list[int]]:
    """Events of ``user`` until every id of ``wanted`` was seen, or (``until_gap``) a gap event
    came, or the time ran out: (message ids in arrival order, whether a gap event came, offsets)."""
    seen: list[str] = []
    offsets: list[int] = []
    gap = False
    deadline = time.perf_counter() + timeout
    while not wanted <= set(seen) and not (until_gap and gap):
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        try:
            event = await asyncio.wait_for(stream.next(), timeout=left)
        except TimeoutError:
            break
        if event.operation == "events.gap" or event.headers.get("gap") == "true":
            gap = True
            continue
        if event.headers.get("user_id") != user:
            continue  # the admin key sees the load's events too
        mid = _message_id(event)
        if mid is not None:
            seen.append(mid)
            offset = event.headers.get("offset", "")
            if offset.isdigit():
                offsets.append(int(offset))
    return seen, gap, offsets


async def resume_across_failover(h: Any, check: FFChecker) -> None:
    from testing.suites._cross_system._harness import GROUP

    check.require("websocket" in h.transports, "the communication manager speaks WebSocket", "; ".join(h.missing))
    check.require(all("http" in i.proxies for i in h.instances), "a fault proxy stands in front of every instance")
    user = h.user("events")
    session = await h.result(GROUP["http"], "memory.create_session", {"user_id": user, "title": "events"})
    sid = session["session_id"]

    async def write(target: str, n: int) -> str:
        mid = f"xs_ev_{n}"
        await h.result(target, "memory.add_message", {"user_id": user, "session_id": sid, "role": "user", "content": f"event {n}",
                                                      "message_id": mid})  # fmt: skip
        return mid

    stream = h.comm.subscribe_events(GROUP["websocket"], [_TOPIC], max_wait_s=10.0)
    async with stream:
        first = stream.endpoint.system_id
        a = h.instance(h.instance_of_endpoint(first))
        b = next(i for i in h.instances if i.instance_id != a.instance_id)
        before = [await write(f"{a.instance_id}-http", n) for n in range(3)]
        seen, _gap, offsets = await _collect(stream, user, set(before), timeout=5.0)
        check.equal(seen, before, "the three writes on the stream's instance arrive as events, in order")
        check.equal(offsets, sorted(offsets), "their offsets increase")
        record = h.begin_fault("connection reset (event stream)", a.instance_id)
        added = h.add_toxic(a, "reset_peer", "http", "downstream", timeout_ms=0)
        try:
            during = [await write(f"{b.instance_id}-tcp", n) for n in range(3, 5)]
            seen_during, gap, _ = await _collect(stream, user, set(during), timeout=5.0, until_gap=True)
            check.at_least(stream.failovers, 1, "the stream noticed the broken connection and failed over")
            check.that(stream.endpoint is not None and stream.endpoint.system_id != first,
                       "the stream continues on another instance", repr(stream.describe()))  # fmt: skip
            missing = [m for m in during if m not in seen_during]
            check.that(not missing or gap, "no silent gap: writes made during the failover arrive as events, or a gap "
                       "event says some may not", f"missing {missing}, gap event {gap}")  # fmt: skip
            now_on = h.instance_of_endpoint(stream.endpoint.system_id) if stream.endpoint is not None else b.instance_id
            after = [await write(f"{now_on}-tcp", n) for n in range(5, 7)]  # an instance's events come from it alone
            seen_after, _, _ = await _collect(stream, user, set(after), timeout=5.0)
        finally:
            h.remove_toxic(added)
            h.clear_fault(record, f"{a.instance_id} reachable again")
        check.equal([m for m in seen_after if m in after], after, "once resumed, every new write arrives as an event, in order")
        delivered = seen + seen_during + seen_after
        repeated = sorted({m for m in delivered if delivered.count(m) > 1})
        check.equal(repeated, [], "no event is delivered twice across the failover")
        after = during + after
        check.metric("stream_failovers", stream.failovers)
        check.metric("gap_event", 1.0 if gap else 0.0)
    try:
        back = await h.await_recovery(record)
    except FFError as exc:  # reported, the fault still counts
        back, record.detail = False, f"{type(exc).__name__}: {exc}"
    check.that(back, f"{a.instance_id} serves again after its connections were reset", record.detail)
    rows = await h.result(GROUP["http"], "memory.get_messages", {"user_id": user, "session_id": sid, "limit": 20})
    rows = rows if isinstance(rows, list) else rows.get("messages", [])
    check.equal([m["message_id"] for m in rows], before + after, "every write reads back once, in order")
