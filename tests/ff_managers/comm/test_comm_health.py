"""Active health checks take a stopped instance out of rotation; an always-healthy probe (planted) would not."""

from __future__ import annotations

import asyncio

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO, FFEndpointDTO
from ff_managers import FFCrossSystemCommunicationManager
from ff_managers.ff_service_manager import FFOperation, build_registry
from tests.ff_managers.comm._helpers import endpoint, fast_comm, running_service, two_services


class _AlwaysHealthy(FFCrossSystemCommunicationManager):
    """Planted defect: the health probe says healthy whatever the endpoint does."""

    async def _probe(self, endpoint: FFEndpointDTO) -> bool:
        return True


async def _state_of_a_stopped_instance(config: FFConfigurationManagerConfigDTO, manager: type[FFCrossSystemCommunicationManager],
                                      protocol: str) -> str:  # fmt: skip
    """The state the status reports for instance A after it stopped and three more health checks ran, no request sent."""
    async with two_services(config) as ((service_a, ready_a), (_b, ready_b)):
        token = service_a.create_api_key("alice").key
        async with manager(fast_comm(config, health_interval_s=0.05, request_timeout_s=1.0)) as comm:
            comm.add_endpoint(endpoint(ready_a, protocol, token))
            comm.add_endpoint(endpoint(ready_b, protocol, token))
            while "ff" not in comm.health_checkers:
                await asyncio.sleep(0.01)
            checker = comm.health_checkers["ff"]
            await service_a.stop()
            target = checker.checks + 6  # three more rounds of both endpoints after the stop
            async with asyncio.timeout(20):
                while checker.checks < target:
                    await asyncio.sleep(0.02)
            return {row.system_id: row.state for row in comm.get_system_status()}[f"ff-a-{protocol}"]


async def test_a_stopped_instance_is_marked_unhealthy_by_the_active_checks(config: FFConfigurationManagerConfigDTO) -> None:
    for protocol in ("http", "tcp", "websocket"):
        assert await _state_of_a_stopped_instance(config, FFCrossSystemCommunicationManager, protocol) == "unhealthy", protocol


async def test_planted_defect_a_probe_that_always_says_healthy_keeps_the_dead_instance(config: FFConfigurationManagerConfigDTO) -> None:
    assert await _state_of_a_stopped_instance(config, _AlwaysHealthy, "http") == "healthy"


async def test_operations_a_service_adds_are_learnt_from_its_openapi(config: FFConfigurationManagerConfigDTO) -> None:
    from pydantic import BaseModel

    class Echo(BaseModel):
        user_id: str
        text: str

    async def echo(_managers: object, request: Echo) -> dict[str, str]:
        return {"echo": request.text}

    registry = build_registry()
    registry.add(FFOperation("test.echo", http_method="GET", path="/v1/users/{user_id}/echo", request=Echo, response=dict,
                             handler=echo, summary="echo", idempotent=True))  # fmt: skip
    async with running_service(config, registry=registry) as (service, ready):
        token = service.create_api_key("alice").key
        async with FFCrossSystemCommunicationManager(fast_comm(config)) as comm:
            comm.add_endpoint(endpoint(ready, "http", token))
            message = FFCrossSystemMessageDTO(target_system="ff", operation="test.echo", payload={"user_id": "alice", "text": "hi"})
            unknown = await comm.send_message(message)
            assert unknown.message_type == "error" and unknown.payload["error"] == "FFNotFoundError"
            assert "test.echo" in await comm.learn_operations(f"{ready.instance_id}-http")
            assert comm.catalogue.get("test.echo").idempotent
            reply = await comm.send_message(message.model_copy(update={"message_id": "again"}))
            assert reply.message_type == "response" and reply.payload == {"echo": "hi"}
