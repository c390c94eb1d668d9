"""Retries follow the idempotency rule: a lost reply of a keyless write is never sent twice.

The first endpoint's handler performs the real request and then loses the reply (what a reset
after the server applied the write looks like to a client); the second endpoint is a second
real instance on the same data root. A planted manager that retries everything shows the
duplicate the rule prevents.
"""

from __future__ import annotations

from typing import Any

import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO
from ff_managers import FFCrossSystemCommunicationManager
from ff_managers._comm.errors import FFTransportError
from ff_managers._comm.handlers.http import FFHttpHandler
from ff_managers._comm.router import FFMessageRouter
from ff_managers.ff_cross_system_communication_manager import FFCommUnavailableError
from tests.ff_managers.comm._helpers import endpoint, fast_comm, two_services


class _LosesReplies(FFHttpHandler):
    """Sends for real, then reports the connection reset before the answer (sent=True)."""

    async def send(self, message: FFCrossSystemMessageDTO, *, timeout_s: float) -> FFCrossSystemMessageDTO:
        await super().send(message, timeout_s=timeout_s)
        raise FFTransportError("connection reset after the request was written", sent=True)


class _RetriesEverything(FFMessageRouter):
    """Planted defect: every failed attempt is retried, idempotent or not."""

    def retry_allowed(self, *, idempotent: bool, idempotency_key: str | None) -> bool:
        return True


class _RetriesEverythingManager(FFCrossSystemCommunicationManager):
    router_class = _RetriesEverything


_PARTICIPANTS = [{"participant_id": "host", "kind": "human", "name": "Host"},
                 {"participant_id": "guest", "kind": "human", "name": "Guest"}]


def _msg(operation: str, **payload: Any) -> FFCrossSystemMessageDTO:
    return FFCrossSystemMessageDTO(target_system="ff", operation=operation, payload=payload)


async def _sessions_after_a_lost_reply(config: FFConfigurationManagerConfigDTO, manager: type[FFCrossSystemCommunicationManager]) -> tuple[int, Any]:
    """How many sessions one create_session (keyless, not idempotent) left behind, and what the caller got."""
    async with two_services(config) as ((service_a, ready_a), (_b, ready_b)):
        token = service_a.create_api_key("alice").key
        async with manager(fast_comm(config, balance_policy="round_robin")) as comm:
            comm.register_handler("lossy", _LosesReplies)
            comm.add_endpoint(endpoint(ready_a, "http", token).model_copy(update={"protocol": "lossy"}))
            comm.add_endpoint(endpoint(ready_b, "http", token))
            try:
                outcome: Any = await comm.send_message(_msg("memory.create_session", user_id="alice", title="once"))
            except FFCommUnavailableError as exc:
                outcome = exc
            listed = await comm.send_message(FFCrossSystemMessageDTO(target_system=f"{ready_b.instance_id}-http",
                                                                     operation="memory.list_sessions", payload={"user_id": "alice"}))  # fmt: skip
            return sum(1 for s in listed.payload if s["title"] == "once"), outcome


async def test_a_keyless_write_whose_reply_was_lost_is_not_retried(config: FFConfigurationManagerConfigDTO) -> None:
    count, outcome = await _sessions_after_a_lost_reply(config, FFCrossSystemCommunicationManager)
    assert count == 1
    assert isinstance(outcome, FFCommUnavailableError) and outcome.context["maybe_applied"] is True


async def test_planted_defect_retrying_a_keyless_write_duplicates_it(config: FFConfigurationManagerConfigDTO) -> None:
    count, outcome = await _sessions_after_a_lost_reply(config, _RetriesEverythingManager)
    assert count == 2  # the duplicate the rule prevents: the check above is red for this manager
    assert outcome.message_type == "response"


@pytest.mark.parametrize("operation", ["memory.add_message", "panel.add_message"])
async def test_a_keyed_write_fails_over_and_is_stored_once(config: FFConfigurationManagerConfigDTO, operation: str) -> None:
    async with two_services(config) as ((service_a, ready_a), (_b, ready_b)):
        token = service_a.create_api_key("alice").key
        async with FFCrossSystemCommunicationManager(fast_comm(config, balance_policy="round_robin")) as comm:
            comm.register_handler("lossy", _LosesReplies)
            comm.add_endpoint(endpoint(ready_a, "http", token).model_copy(update={"protocol": "lossy"}))
            comm.add_endpoint(endpoint(ready_b, "http", token))
            b = f"{ready_b.instance_id}-http"
            if operation == "memory.add_message":
                parent = (await comm.send_message(_msg("memory.create_session", user_id="alice").model_copy(update={"target_system": b})))
                payload = {"user_id": "alice", "session_id": parent.payload["session_id"], "role": "user", "content": "exactly once"}
                read = ("memory.get_messages", {"user_id": "alice", "session_id": parent.payload["session_id"]})
            else:
                parent = await comm.send_message(_msg("panel.create_panel", user_id="alice", participants=_PARTICIPANTS).model_copy(
                    update={"target_system": b}))  # fmt: skip
                assert parent.message_type == "response", parent.payload
                payload = {"user_id": "alice", "panel_id": parent.payload["panel_id"], "participant_id": "host", "content": "exactly once"}
                read = ("panel.get_messages", {"user_id": "alice", "panel_id": parent.payload["panel_id"]})
            for _ in range(2):  # round robin: at least one of the two starts on the lossy instance
                message = FFCrossSystemMessageDTO(target_system="ff", operation=operation, payload=dict(payload, content=f"once-{_}"))
                reply = await comm.send_message(message)
                assert reply.message_type == "response", reply.payload
                assert reply.source_system == b
            stored = await comm.send_message(FFCrossSystemMessageDTO(target_system=b, operation=read[0], payload=read[1]))
            contents = [m["content"] for m in stored.payload]
            assert sorted(contents) == ["once-0", "once-1"]  # each stored exactly once, though one was applied twice on the wire
            assert comm.get_metrics()["endpoints"][f"{ready_a.instance_id}-http"]["failures"] >= 1
