"""Health, info, the instance registry, OpenAPI, HTTPS and WSS (throwaway CA from trustme)."""

from __future__ import annotations

import asyncio
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest
import trustme

from ff_class_configs import FFConfigurationManagerConfigDTO, FFInstanceDTO
from ff_managers import FFServiceManager
from ff_managers._service.instances import FFInstanceRegistry
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_store import FFStore
from tests._service_clients import ROUTES, make_client, running_service


async def test_live_ready_and_info_answer(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config, instance_id="svc-a") as (service, ready):
        key = service.create_api_key("alice").key
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ready.http_port}") as http:
            assert (await http.get("/health/live")).status_code == 200
            answer = await http.get("/health/ready")
            assert answer.status_code == 200
            assert set(answer.json()["checks"]) == {"schema_version", "writable", "lock", "audit_head", "event_loop_lag", "accepting"}
            assert (await http.get("/v1/info")).status_code == 401
            info = (await http.get("/v1/info", headers={"Authorization": f"Bearer {key}"})).json()
            assert info["instance_id"] == "svc-a" and info["uptime_s"] >= 0 and info["version"]
            assert [i["instance_id"] for i in info["instances"]] == ["svc-a"]


@pytest.mark.parametrize("defect", ["schema_version", "audit_head"])
async def test_ready_says_503_and_names_the_failed_check(config: FFConfigurationManagerConfigDTO, defect: str) -> None:
    async with running_service(config) as (_service, ready):
        root = Path(config.storage.base_path)
        if defect == "schema_version":
            meta = orjson.loads((root / "ff_meta.json").read_bytes())
            (root / "ff_meta.json").write_bytes(orjson.dumps({**meta, "schema_version": 999}))
        else:
            (root / "audit").mkdir(exist_ok=True)
            (root / "audit" / "audit_head.json").write_text("{torn")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ready.http_port}") as http:
            answer = await http.get("/health/ready")
        assert answer.status_code == 503
        failed = [name for name, check in answer.json()["checks"].items() if not check["ok"]]
        assert failed == [defect]


async def test_expired_leases_are_not_listed(config: FFConfigurationManagerConfigDTO) -> None:
    store = FFStore.from_config(config)
    now = datetime.now(UTC)
    registry = FFInstanceRegistry(store, lease_seconds=0.2, heartbeat_seconds=0.05)
    common = {"pid": 1, "host": "127.0.0.1", "http_port": 1, "tcp_port": None, "udp_port": None, "tls": False, "started_at": now}
    await registry.register(FFInstanceDTO(instance_id="alive", lease_expires_at=now, **common))
    try:
        dead = FFInstanceDTO(instance_id="dead", lease_expires_at=now - timedelta(seconds=1), **common)
        store.write_json(store.path("system", "service", "instances", "dead.json"), dead.model_dump(mode="json"))
        await asyncio.sleep(0.5)  # past one lease: only a renewed lease is still listed
        assert [i.instance_id for i in registry.list_live()] == ["alive"]
    finally:
        await registry.unregister()
    assert registry.list_live() == []


async def test_openapi_lists_every_operation_of_the_contract(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config) as (_service, ready):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ready.http_port}") as http:
            document = (await http.get("/openapi.json")).json()
    operations = {op["operationId"]: (method.upper(), path) for path, item in document["paths"].items()
                  for method, op in item.items() if "operationId" in op}  # fmt: skip
    expected = {name: route for name, route in ROUTES.items() if not name.startswith("test.")}
    assert {name: operations[name] for name in expected} == expected
    body = document["paths"]["/v1/users/{user_id}/sessions/{session_id}/messages"]["post"]["requestBody"]
    assert set(body["content"]["application/json"]["schema"]["required"]) == {"role", "content"}


async def test_https_and_wss_with_a_throwaway_ca(config: FFConfigurationManagerConfigDTO, tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    keyfile, certfile = tmp_path / "key.pem", tmp_path / "cert.pem"
    cert.private_key_pem.write_to_path(str(keyfile))
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    async with running_service(config, tls=(keyfile, certfile)) as (service, ready):
        assert ready.tls
        key = service.create_api_key("alice").key
        for transport in ("http", "ws", "tcp"):
            client = make_client(transport, ready, tls=client_context)
            try:
                created = await client.call("memory.create_session", {"user_id": "alice", "title": transport}, key)
                assert created.ok and created.result["title"] == transport
            finally:
                await client.close()
        untrusted = ssl.create_default_context()  # the system's CAs do not know the throwaway one
        async with httpx.AsyncClient(verify=untrusted) as http:
            with pytest.raises(httpx.ConnectError):
                await http.get(f"https://127.0.0.1:{ready.http_port}/health/live")


async def test_a_half_given_tls_pair_is_refused(config: FFConfigurationManagerConfigDTO, tmp_path: Path) -> None:
    service = FFServiceManager(config)
    with pytest.raises(FFValidationError):
        await service.start(http_port=0, tcp_port=None, udp_port=None, ssl_keyfile=tmp_path / "key.pem")
    assert service.ready is None


async def test_unknown_paths_and_methods_answer_problem_json(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config) as (_service, ready):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ready.http_port}") as http:
            missing = await http.get("/v1/nothing/here")
            assert (missing.status_code, missing.headers["content-type"]) == (404, "application/problem+json")
            assert missing.json()["error"] == "FFNotFoundError"
            wrong = await http.delete("/v1/metrics")
            assert (wrong.status_code, wrong.json()["status"]) == (405, 405)


async def test_two_instances_on_one_data_root_find_each_other(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config, instance_id="svc-a") as (service, ready_a):
        async with running_service(config, instance_id="svc-b") as (_other, ready_b):
            key = service.create_api_key("alice").key
            async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as http:
                for ready in (ready_a, ready_b):
                    info = (await http.get(f"http://127.0.0.1:{ready.http_port}/v1/info")).json()
                    ports = {i["instance_id"]: i["http_port"] for i in info["instances"]}
                    assert ports == {"svc-a": ready_a.http_port, "svc-b": ready_b.http_port}
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as http:
            info = (await http.get(f"http://127.0.0.1:{ready_a.http_port}/v1/info")).json()
        assert [i["instance_id"] for i in info["instances"]] == ["svc-a"]  # b stopped cleanly: its lease is gone


async def test_stop_shuts_down_the_managers_it_built_and_leaves_the_callers_running(config: FFConfigurationManagerConfigDTO) -> None:
    from ff_managers import FFComponentState, FFMemoryLayerManager

    memory = FFMemoryLayerManager(config)
    await memory.initialize()
    async with running_service(config, memory=memory) as (service, _ready):
        assert service.managers.memory is memory and service.managers.metrics.bus is memory.bus
        metrics = service.managers.metrics
    assert memory.state == FFComponentState.RUNNING
    assert metrics.state == FFComponentState.STOPPED
    await memory.shutdown()


async def test_concurrent_readiness_probes_all_pass(config: FFConfigurationManagerConfigDTO) -> None:
    """Several clients' health checkers probe one instance at once: none may see another's probe file vanish."""
    async with running_service(config) as (_service, ready):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ready.http_port}") as client:
            for _ in range(3):
                answers = await asyncio.gather(*(client.get("/health/ready") for _ in range(8)))
                assert [a.status_code for a in answers] == [200] * 8, [a.json()["checks"] for a in answers if a.status_code != 200]


async def test_a_renewal_cut_off_by_unregister_does_not_write_the_lease_again(config: FFConfigurationManagerConfigDTO) -> None:
    """unregister() cancels the heartbeat while its write runs in a worker thread, which goes on;
    the lease file must stay removed (it came back for one lease, seen in a loaded test run)."""
    import threading

    store = FFStore.from_config(config)
    registry = FFInstanceRegistry(store, lease_seconds=30, heartbeat_seconds=0.01)
    now = datetime.now(UTC)
    me = FFInstanceDTO(instance_id="me", pid=1, host="127.0.0.1", http_port=1, tcp_port=None, udp_port=None, tls=False,
                       started_at=now, lease_expires_at=now)  # fmt: skip
    await registry.register(me)
    writing, release = threading.Event(), threading.Event()
    real_write = store.write_json

    def slow_write(path: Path, data: object) -> None:
        writing.set()
        release.wait(10)
        real_write(path, data)

    store.write_json = slow_write  # type: ignore[method-assign]
    assert await asyncio.to_thread(writing.wait, 10), "no renewal started"
    unregistering = asyncio.ensure_future(registry.unregister())
    await asyncio.sleep(0.1)
    release.set()
    await asyncio.wait_for(unregistering, 10)
    await asyncio.sleep(0.1)
    assert not (config.storage.base_path / "system" / "service" / "instances" / "me.json").exists()
    assert registry.list_live() == []


async def test_ready_does_not_wait_for_a_probe_lock_another_instance_holds(config: FFConfigurationManagerConfigDTO) -> None:
    """Another instance frozen inside its own probe holds the root-wide probe lock: this one is
    still ready (a held lock shows locking works), and answers at once rather than at the lock's
    30 s timeout."""
    from tests._lock_holder import held_by_another_process

    async with running_service(config) as (_service, ready):
        probe_lock = Path(config.storage.base_path) / "system" / "service" / "ready-probe.lock"
        with held_by_another_process(probe_lock):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ready.http_port}", timeout=10.0) as http:
                answer = await http.get("/health/ready")
        assert answer.status_code == 200
        assert answer.json()["checks"]["lock"] == {"ok": True, "held_elsewhere": True}
