"""The per-transport contract the cross-system suite checks first, through the manager.

Over one transport's group: a keyed write answered with a response naming the endpoint, the same
keyed write again answered (not refused) and stored once, a read, an unknown session answered
with an ``error`` reply naming its FFError class (never an exception), and a message already past
its TTL refused and not applied.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ff_utils.ff_errors import FFError
from testing.runner import FFChecker

__all__ = ["check_contract"]


def _ids(messages: Any) -> list[str]:
    rows = messages if isinstance(messages, list) else messages.get("messages", [])
    return [m["message_id"] for m in rows]


async def check_contract(h: Any, check: FFChecker, transport: str) -> None:
    """One transport's contract: a keyed write answered once, a read, an error reply, an expired TTL."""
    check.require(transport in h.transports, f"{transport}: the communication manager speaks it", "; ".join(h.missing))
    group = f"xs-{transport}"  # the transport's group (see _harness.GROUP)
    user = h.user(f"contract_{transport}")
    session = await h.result(group, "memory.create_session", {"user_id": user, "title": f"{transport} contract"})
    check.that(session.get("session_id"), f"{transport}: memory.create_session answers a session")
    sid = session["session_id"]
    reply = await h.call(group, "memory.add_message", {"user_id": user, "session_id": sid, "role": "user",
                                                       "content": "hello", "message_id": f"xs_c_{transport}_1"})  # fmt: skip
    check.equal(reply.message_type, "response", f"{transport}: a write is answered with a response")
    check.equal((reply.payload or {}).get("message_id"), f"xs_c_{transport}_1", f"{transport}: the reply carries the write's id")
    check.that(reply.headers.get("endpoint", "").endswith(f"-{transport}"), f"{transport}: the reply names the endpoint that answered",
               repr(reply.headers))  # fmt: skip
    again = await h.call(group, "memory.add_message", {"user_id": user, "session_id": sid, "role": "user",
                                                       "content": "hello", "message_id": f"xs_c_{transport}_1"})  # fmt: skip
    check.equal(again.message_type, "response", f"{transport}: the same keyed write again is answered, not refused")
    messages = await h.result(group, "memory.get_messages", {"user_id": user, "session_id": sid, "limit": 10})
    ids = _ids(messages)
    check.equal(ids, [f"xs_c_{transport}_1"], f"{transport}: the keyed write is stored once")
    missing = await h.call(group, "memory.get_messages", {"user_id": user, "session_id": "sess_does_not_exist", "limit": 1})
    check.equal(missing.message_type, "error", f"{transport}: an unknown session is an error reply, not an exception")
    check.equal((missing.payload or {}).get("error"), "FFNotFoundError", f"{transport}: the error names its FFError class")
    # TTL: a message already past its TTL must not be delivered, and must leave nothing behind.
    stale = h.message(group, "memory.add_message", {"user_id": user, "session_id": sid, "role": "user", "content": "stale",
                                                    "message_id": f"xs_c_{transport}_stale"},
                      ttl_s=0.5, timestamp=datetime.now(UTC) - timedelta(seconds=5))  # fmt: skip
    try:
        expired = await h.comm.send_message(stale)
        refused = expired.message_type == "error"
        how = f"{expired.message_type}: {expired.payload}"
    except FFError as exc:
        refused, how = True, f"{type(exc).__name__}: {exc}"
    check.that(refused, f"{transport}: a message past its TTL is refused", how)
    messages = await h.result(group, "memory.get_messages", {"user_id": user, "session_id": sid, "limit": 10})
    ids = _ids(messages)
    check.that(f"xs_c_{transport}_stale" not in ids, f"{transport}: the expired write was not applied", repr(ids))
