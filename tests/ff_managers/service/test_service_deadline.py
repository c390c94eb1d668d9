"""A request past its own deadline (X-FF-Expires-At / ff_expires_at) is answered 504 and never run."""

from __future__ import annotations

import time

import httpx
import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_managers._service.deadline import check_deadline
from ff_utils.ff_errors import FFTimeoutError, FFValidationError
from tests._service_clients import TcpClient, running_service


async def test_http_and_tcp_refuse_an_expired_request_without_running_it(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config) as (service, ready):
        token = service.create_api_key("alice").key
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ready.http_port}", headers=headers) as http:
            late = await http.post("/v1/users/alice/sessions", json={"title": "late"}, headers={"X-FF-Expires-At": str(time.time() - 1)})
            assert late.status_code == 504 and late.json()["error"] == "FFTimeoutError"
            bad = await http.post("/v1/users/alice/sessions", json={"title": "bad"}, headers={"X-FF-Expires-At": "soon"})
            assert bad.status_code == 422
            fine = await http.post("/v1/users/alice/sessions", json={"title": "fine"}, headers={"X-FF-Expires-At": str(time.time() + 60)})
            assert fine.status_code == 201
            tcp = TcpClient("127.0.0.1", ready.tcp_port)
            await tcp._open()
            try:
                assert "result" in await tcp.request("auth", {"token": token})
                await tcp.send({"jsonrpc": "2.0", "id": 99, "method": "memory.create_session", "params": {"user_id": "alice", "title": "late rpc"},
                                "ff_expires_at": time.time() - 1})  # fmt: skip
                answer = await tcp.receive()
                assert answer["id"] == 99 and (answer["error"]["data"]["error"], answer["error"]["data"]["status"]) == ("FFTimeoutError", 504)
            finally:
                await tcp.close()
            titles = [s["title"] for s in (await http.get("/v1/users/alice/sessions")).json()]
            assert titles == ["fine"]


@pytest.mark.parametrize("value", [None, 1e18, "1e18"])
def test_no_deadline_or_a_far_one_lets_the_request_run(value: object) -> None:
    check_deadline(value)
    with pytest.raises(FFTimeoutError):
        check_deadline(0.0)
    with pytest.raises(FFValidationError):
        check_deadline("nan")
