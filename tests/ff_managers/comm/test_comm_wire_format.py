"""Compression on the wire (and the service's bound against zip bombs), the CloudEvents mapping, the catalogue."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO
from ff_managers import FFCrossSystemCommunicationManager
from ff_managers._comm.catalogue import FFOperationCatalogue, ff_local_catalogue
from ff_managers.ff_cross_system_communication_manager import from_cloudevent, to_cloudevent
from ff_utils.ff_errors import FFValidationError
from tests.ff_managers.comm._helpers import ByteCountingProxy, endpoint, fast_comm, running_service

_BIG = "all work and no play makes jack a dull boy " * 2000  # ~88 KB, compresses to ~1 KB


async def _post_big(config: FFConfigurationManagerConfigDTO, compress_above: int) -> tuple[FFCrossSystemMessageDTO, int]:
    """The reply to one large write, and the bytes the client put on the wire for it."""
    async with running_service(config) as (service, ready):
        token = service.create_api_key("alice").key
        async with ByteCountingProxy(ready.http_port) as proxy:
            async with FFCrossSystemCommunicationManager(fast_comm(config, compress_above_bytes=compress_above)) as comm:
                comm.add_endpoint(endpoint(ready, "http", token).model_copy(update={"port": proxy.port}))
                sid = (await comm.send_message(FFCrossSystemMessageDTO(target_system="ff", operation="memory.create_session",
                                                                       payload={"user_id": "alice"}))).payload["session_id"]  # fmt: skip
                before = proxy.upstream_bytes
                reply = await comm.send_message(FFCrossSystemMessageDTO(target_system="ff", operation="memory.add_message", payload={
                    "user_id": "alice", "session_id": sid, "role": "user", "content": _BIG}))  # fmt: skip
                return reply, proxy.upstream_bytes - before


@pytest.mark.parametrize("compress_above", [1024, 0])
async def test_a_large_payload_goes_gzipped_past_the_threshold_and_arrives_whole(config: FFConfigurationManagerConfigDTO,
                                                                               compress_above: int) -> None:  # fmt: skip
    reply, wire_bytes = await _post_big(config, compress_above)
    assert reply.message_type == "response", reply.payload
    assert reply.payload["content"] == _BIG
    if compress_above:
        assert wire_bytes < len(_BIG) / 10
    else:  # 0: never compressed
        assert wire_bytes > len(_BIG)


async def test_the_service_refuses_a_gzip_bomb_and_bad_gzip(config: FFConfigurationManagerConfigDTO) -> None:
    config.service.max_request_bytes = 64 * 1024
    async with running_service(config) as (service, ready):
        token = service.create_api_key("alice").key
        bomb = gzip.compress(b'{"title": "' + b"a" * 20_000_000 + b'"}')  # ~20 KB that inflates to 20 MB
        assert len(bomb) < 64 * 1024
        headers = {"Authorization": f"Bearer {token}", "content-encoding": "gzip", "content-type": "application/json"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ready.http_port}") as client:
            refused = await client.post("/v1/users/alice/sessions", content=bomb, headers=headers)
            assert refused.status_code == 413 and refused.json()["error"] == "FFPayloadTooLargeError"
            garbage = await client.post("/v1/users/alice/sessions", content=b"not gzip", headers=headers)
            assert garbage.status_code == 422
            other = await client.post("/v1/users/alice/sessions", content=b"{}", headers={**headers, "content-encoding": "br"})
            assert other.status_code == 422
            fine = await client.post("/v1/users/alice/sessions", content=gzip.compress(b'{"title": "ok"}'), headers=headers)
            assert fine.status_code == 201 and fine.json()["title"] == "ok"


# ---------------------------------------------------------------- CloudEvents

_messages = st.builds(
    FFCrossSystemMessageDTO,
    message_id=st.text("abcdef0123456789", min_size=1, max_size=32),
    message_type=st.sampled_from(["request", "response", "event", "command", "query", "notification", "heartbeat", "error"]),
    source_system=st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    target_system=st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    operation=st.none() | st.sampled_from(["memory.add_message", "knowledge.search"]),
    priority=st.sampled_from(["low", "normal", "high", "critical", "emergency"]),
    timestamp=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    payload=st.none() | st.dictionaries(st.text(max_size=8), st.integers(-(2**63), 2**63 - 1) | st.text(max_size=50), max_size=5),
    headers=st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8), max_size=3),
    correlation_id=st.none() | st.text("xyz0123", min_size=1, max_size=10),
    reply_to=st.none() | st.text("xyz0123", min_size=1, max_size=10),
    ttl_s=st.none() | st.floats(min_value=0.001, max_value=1e6, allow_nan=False),
    retry_count=st.integers(0, 20),
    max_retries=st.integers(0, 20),
)


@settings(max_examples=200, deadline=None)
@given(_messages, st.sampled_from([0, 1, 64]))
def test_every_message_survives_the_cloudevents_round_trip(message: FFCrossSystemMessageDTO, threshold: int) -> None:
    event = to_cloudevent(message, compress_above_bytes=threshold)
    assert event["specversion"] == "1.0" and event["id"] == message.message_id
    assert all(name in ("data", "data_base64") or (name.isalnum() and name.islower() and len(name) <= 20) for name in event)
    assert from_cloudevent(event) == message


def test_the_mapping_names_the_documented_attributes() -> None:
    message = FFCrossSystemMessageDTO(message_id="m1", source_system="ff-a", target_system="ff", operation="memory.add_message",
                                      priority="emergency", ttl_s=5, correlation_id="c1", payload={"content": "x" * 5000},
                                      timestamp=datetime(2026, 12, 5, 8, 0, tzinfo=UTC))  # fmt: skip
    event = to_cloudevent(message, compress_above_bytes=1024)
    assert {k: event[k] for k in ("id", "source", "type", "subject", "time", "datacontenttype", "priority", "ttl", "correlationid",
                                  "ffoperation", "ffencoding")} == {  # fmt: skip
        "id": "m1", "source": "/ff/ff-a", "type": "org.ffplatform.request", "subject": "ff", "time": "2026-12-05T08:00:00+00:00",
        "datacontenttype": "application/json", "priority": "emergency", "ttl": "5.0", "correlationid": "c1",
        "ffoperation": "memory.add_message", "ffencoding": "gzip",
    }  # fmt: skip
    assert "data" not in event and len(event["data_base64"]) < 1000


@pytest.mark.parametrize("broken", [
    {"specversion": "0.3"}, {"id": None}, {"type": "com.example.other"}, {"data_base64": "!!"}, {"Bad-Name": 1},
    {"ttl": "soon"}, {"priority": "urgent"},
])  # fmt: skip
def test_a_malformed_cloudevent_is_refused_naming_what_is_wrong(broken: dict[str, object]) -> None:
    event = to_cloudevent(FFCrossSystemMessageDTO(target_system="ff", payload={"a": 1}))
    event.update(broken)
    event = {k: v for k, v in event.items() if v is not None}
    with pytest.raises(FFValidationError):
        from_cloudevent(event)


def test_a_payload_json_cannot_hold_is_refused_typed() -> None:
    with pytest.raises(FFValidationError):
        to_cloudevent(FFCrossSystemMessageDTO(target_system="ff", payload={"n": 2**70}))


def test_a_compressed_cloudevent_cannot_inflate_past_the_bound() -> None:
    event = to_cloudevent(FFCrossSystemMessageDTO(target_system="ff", payload={"a": "b" * 1_000_000}), compress_above_bytes=1)
    with pytest.raises(FFValidationError):
        from_cloudevent(event, max_bytes=100_000)


# ---------------------------------------------------------------- catalogue


async def test_the_client_catalogue_is_the_servers_registry(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config) as (_service, ready):
        async with httpx.AsyncClient() as client:
            document = (await client.get(f"http://127.0.0.1:{ready.http_port}/openapi.json")).json()
    served = {r.name: r for r in FFOperationCatalogue.from_openapi(document)}
    local = {r.name: r for r in ff_local_catalogue()}
    assert served == local
    assert local["memory.get_messages"].idempotent and not local["memory.create_session"].idempotent
    assert local["memory.add_message"].idempotency_field == "message_id"
