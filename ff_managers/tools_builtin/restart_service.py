"""restart_service (dangerous ops tool): file a restart request for a known service.

It signals no process: the platform runs no daemons of its own. It validates the service name
against a fixed list, writes ``restart_request.json`` in its working directory for an operator
or orchestrator to act on, and returns the request. It is registered as dangerous and limited to
the ``ops`` role, so the chatops use case shows a permitted run and an audited refusal.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from ._protocol import ToolError, run_tool

__all__ = ["SERVICES", "build_request"]

SERVICES = ("chat-api", "indexer", "worker", "scheduler")


def build_request(args: dict[str, Any], *, now: dt.datetime) -> dict[str, Any]:
    service, reason = args.get("service"), args.get("reason")
    if service not in SERVICES:
        raise ToolError(f"unknown service {service!r}; known: {', '.join(SERVICES)}")
    if not isinstance(reason, str) or len(reason.strip()) < 3:
        raise ToolError("'reason' must say why (3+ characters)")
    return {
        "request_id": f"restart-{uuid.uuid4().hex[:16]}",
        "service": service,
        "reason": reason.strip(),
        "state": "requested",
        "requested_at": now.isoformat(),
    }


def _handle(args: dict[str, Any]) -> dict[str, Any]:
    request = build_request(args, now=dt.datetime.now(dt.timezone.utc))
    with open("restart_request.json", "w", encoding="utf-8") as handle:
        json.dump(request, handle, indent=2)
    return request


if __name__ == "__main__":
    run_tool(_handle)
