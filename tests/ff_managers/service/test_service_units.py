"""Unit tests of the service's parts that need no server: keys, JWT, errors, StatsD, events, limits."""

from __future__ import annotations

import asyncio
import socket
import time

import jwt
import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_service_config import FFServiceConfigDTO
from ff_managers._service.auth import FFApiKeyStore, FFAuthenticator, FFPrincipal, bearer_token
from ff_managers._service.errors import FFAuthenticationError, FFRateLimitError, describe, jsonrpc_error, problem
from ff_managers._service.events import FFEventLog
from ff_managers._service.health import FFHealth
from ff_managers._service.idempotency import FFIdempotencyCache
from ff_managers._service.limits import FFRateLimiter
from ff_managers._service.server import _bind
from ff_managers._service.udp import FFStatsdStats, parse_statsd_line
from ff_managers.ff_event_bus import FFEvent
from ff_utils.ff_errors import FFConfigError, FFConflictError, FFNotFoundError, FFStorageError, FFTimeoutError, FFValidationError
from ff_utils.ff_store import FFStore


def test_keys_are_stored_hashed_and_revocation_is_seen_by_a_verifier(config: FFConfigurationManagerConfigDTO) -> None:
    store = FFStore.from_config(config)
    writer, reader = FFApiKeyStore(store), FFApiKeyStore(store)  # two processes, in effect
    created = writer.create("alice", ["admin", "admin"])
    assert created.roles == ["admin"]
    assert created.key not in store.path("system", "service", "api_keys.json").read_text()
    assert reader.verify(created.key) == FFPrincipal("alice", frozenset({"admin"}), f"key:{created.key_id}")
    time.sleep(0.01)  # a new mtime for the revocation
    writer.revoke(created.key_id)
    with pytest.raises(FFAuthenticationError):
        reader.verify(created.key)
    with pytest.raises(FFNotFoundError):
        writer.revoke("0000")
    assert [k.revoked_at is not None for k in writer.list_keys()] == [True]


def test_jwt_uses_the_configured_algorithm_only(config: FFConfigurationManagerConfigDTO) -> None:
    settings = FFServiceConfigDTO(jwt_secret="s" * 64, jwt_audience="ff")
    auth = FFAuthenticator(settings, FFApiKeyStore(FFStore.from_config(config)))
    good = jwt.encode({"sub": "alice", "exp": int(time.time()) + 60, "aud": "ff", "roles": ["admin"]}, "s" * 64, algorithm="HS256")
    principal = auth.authenticate(good)
    assert (principal.user_id, principal.admin) == ("alice", True)
    for bad in (
        jwt.encode({"sub": "alice", "exp": int(time.time()) + 60, "aud": "ff"}, "s" * 64, algorithm="HS384"),
        jwt.encode({"sub": "alice", "exp": int(time.time()) + 60, "aud": "other"}, "s" * 64, algorithm="HS256"),
        jwt.encode({"sub": "alice", "aud": "ff"}, "s" * 64, algorithm="HS256"),  # no exp
        jwt.encode({"sub": "../bob", "exp": int(time.time()) + 60, "aud": "ff"}, "s" * 64, algorithm="HS256"),
    ):
        with pytest.raises(FFAuthenticationError):
            auth.authenticate(bad)
    no_secret = FFAuthenticator(FFServiceConfigDTO(), FFApiKeyStore(FFStore.from_config(config)))
    with pytest.raises(FFAuthenticationError):
        no_secret.authenticate(good)
    with pytest.raises(FFConfigError):
        FFAuthenticator(FFServiceConfigDTO(jwt_algorithm="RS256"), FFApiKeyStore(FFStore.from_config(config)))


def test_bearer_token_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token("Bearer") is None
    assert bearer_token(None) is None


def test_one_error_gives_the_same_status_on_http_and_json_rpc() -> None:
    wire = describe(FFRateLimitError("slow down", retry_after=7))
    assert problem(wire) == {"type": problem(wire)["type"], "title": "Too Many Requests", "status": 429,
                                  "detail": "slow down", "error": "FFRateLimitError", "retry_after": 7}  # fmt: skip
    assert jsonrpc_error(wire)["data"] == {"error": "FFRateLimitError", "status": 429, "detail": "slow down", "retry_after": 7}
    missing = describe(FFNotFoundError("session 'secret-id' of bob not found"))
    assert missing.detail == "not found"  # never the manager's wording
    assert describe(RuntimeError("bug")).status == 500


def test_statsd_lines_parse_and_gaps_count_as_loss() -> None:
    assert parse_statsd_line("api.latency:12.5|ms|@0.5|#route:chat,seq:3") == ("api.latency", 12.5, "timing", {"route": "chat", "seq": "3"})
    assert parse_statsd_line("hits:1|c")[2] == "counter"
    for bad in ("nocolon", "x:1|h", "x:abc|c", "x:1|c|weird"):
        with pytest.raises(ValueError):
            parse_statsd_line(bad)
    stats = FFStatsdStats()
    for seq in (1, 2, 4, 3, 8):  # 3 arrives late (counted lost once, never negative), 5-7 lost
        stats.saw("a", seq)
    stats.saw("b", 1)
    assert stats.lost == 1 + 3


def _event(user: str, n: int) -> FFEvent:
    return FFEvent("memory.message_added", "memory", {"n": n}, user)


async def test_event_log_replays_after_an_offset_and_filters_users() -> None:
    log = FFEventLog(retention=5, queue_size=100)
    alice = FFPrincipal("alice", frozenset(), "key:a")
    for n in range(3):
        log.on_event(_event("alice", n))
        log.on_event(_event("bob", n))
    first = log.oldest_offset
    subscription = log.subscribe(alice, ["memory.*"], first)
    replayed = [subscription.queue.get_nowait()["data"]["n"] for _ in range(subscription.queue.qsize())]
    assert replayed == [1, 2]  # after the oldest kept: alice's only
    with pytest.raises(FFConflictError):
        log.subscribe(alice, ["*"], first - 2)
    with pytest.raises(FFValidationError):
        log.subscribe(alice, ["*"], log.last_offset + 1)
    with pytest.raises(FFValidationError):
        log.subscribe(alice, "memory.*", None)


async def test_a_slow_subscriber_is_marked_overflowed() -> None:
    log = FFEventLog(retention=100, queue_size=2)
    subscription = log.subscribe(FFPrincipal("alice", frozenset(), "key:a"), ["*"], None)
    for n in range(3):
        log.on_event(_event("alice", n))
    assert subscription.overflowed and subscription.queue.qsize() == 2


async def test_idempotency_cache_replays_refuses_other_requests_and_forgets_failures() -> None:
    cache = FFIdempotencyCache(capacity=2)
    calls = []

    async def call() -> tuple[int, object]:
        calls.append(1)
        await asyncio.sleep(0.01)
        return 201, {"n": len(calls)}

    answers = await asyncio.gather(cache.run("p", "k", "f", call), cache.run("p", "k", "f", call))
    assert answers == [((201, {"n": 1}), False), ((201, {"n": 1}), True)]
    with pytest.raises(FFValidationError):
        await cache.run("p", "k", "other", call)

    async def fail() -> tuple[int, object]:
        raise FFConflictError("no")

    with pytest.raises(FFConflictError):
        await cache.run("p", "k2", "f", fail)
    assert (await cache.run("p", "k2", "f", call))[1] is False  # a failure is not replayed
    await cache.run("p", "k3", "f", call)
    assert (await cache.run("p", "k", "f", call))[1] is False  # capacity 2: the oldest key was dropped


def test_rate_limits_are_per_key_and_bad_settings_are_config_errors() -> None:
    limiter = FFRateLimiter("2/minute", "1/minute")
    limiter.spend("a")
    limiter.spend("a")
    with pytest.raises(FFRateLimitError) as refused:
        limiter.spend("a")
    assert refused.value.retry_after >= 1
    limiter.spend("b", 2)
    limiter.failed_auth("10.0.0.1")
    with pytest.raises(FFRateLimitError):
        limiter.check_address("10.0.0.1")
    limiter.check_address("10.0.0.2")
    with pytest.raises(FFConfigError):
        FFRateLimiter("lots", "1/minute")


def test_the_http_socket_is_a_tcp_socket_so_responses_are_not_delayed() -> None:
    """asyncio sets TCP_NODELAY only on IPPROTO_TCP sockets; without it a response waits ~40 ms."""
    sock = _bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_service_config_defaults_are_safe() -> None:
    settings = FFServiceConfigDTO()
    assert (settings.host, settings.udp_host, settings.tcp_port, settings.udp_port) == ("127.0.0.1", "127.0.0.1", None, None)
    assert settings.jwt_secret is None  # no JWT is accepted until a secret is configured


async def test_a_tcp_line_of_exactly_the_limit_passes_and_one_byte_more_is_refused(config: FFConfigurationManagerConfigDTO) -> None:
    from tests._service_clients import running_service

    config.service.max_line_bytes = 1024
    async with running_service(config) as (service, ready):
        key = service.create_api_key("alice").key
        reader, writer = await asyncio.open_connection("127.0.0.1", ready.tcp_port)
        try:
            auth = b'{"jsonrpc":"2.0","id":1,"method":"auth","params":{"token":"%s"}}' % key.encode()
            padded = auth[:-1] + b',"pad":"' + b"x" * (1024 - len(auth) - 9) + b'"}'
            assert len(padded) == 1024
            writer.write(padded + b"\n")
            assert b'"result"' in await asyncio.wait_for(reader.readline(), 10)
            writer.write(padded[:-2] + b'x"}' + b"\n")  # 1025 bytes
            answer = await asyncio.wait_for(reader.readline(), 10)
            assert b'"FFPayloadTooLargeError"' in answer and b'"status":413' in answer
            assert await asyncio.wait_for(reader.read(), 10) == b""  # and the connection is closed
        finally:
            writer.close()


class _BrokenStore(FFStore):
    """A store whose writes or locks fail, as a full disk or a stuck lock holder would."""

    fail: str = ""

    def write_json(self, path, data):  # type: ignore[no-untyped-def]
        if self.fail == "writable":
            raise FFStorageError("no space left on device")
        super().write_json(path, data)

    def lock(self, path):  # type: ignore[no-untyped-def]
        if self.fail == "lock":
            raise FFTimeoutError("lock not obtained in time")
        return super().lock(path)


@pytest.mark.parametrize("fail", ["writable", "lock"])
async def test_readiness_names_a_disk_that_cannot_be_written_or_locked(config: FFConfigurationManagerConfigDTO, fail: str) -> None:
    from ff_managers import ff_ensure_data_root

    ff_ensure_data_root(config.storage.base_path)
    store = _BrokenStore.from_config(config)
    health = FFHealth(store, max_loop_lag_ms=10_000)
    assert (await health.ready())[0]
    store.fail = fail
    ok, checks = await health.ready()
    assert not ok and [name for name, check in checks.items() if not check["ok"]] == [fail]


async def test_readiness_fails_while_the_event_loop_lags() -> None:
    health = FFHealth(FFStore.__new__(FFStore), max_loop_lag_ms=100)  # no disk check is run here
    health.start()
    try:
        await asyncio.sleep(0.15)
        time.sleep(0.4)  # a handler blocking the loop
        await asyncio.sleep(0.15)
        assert health.loop_lag_ms > 100
        assert not health.lag_check()["ok"]
    finally:
        await health.stop()


async def test_a_websocket_subscriber_that_falls_behind_gets_an_overflow_notice_with_its_last_offset() -> None:
    from types import SimpleNamespace

    from ff_managers._service.ws import _Subscriptions

    log = FFEventLog(retention=100, queue_size=2)
    sent: list[dict] = []
    gate = asyncio.Event()

    async def send(message: dict) -> None:  # a client that is not reading: the first send blocks
        await gate.wait()
        sent.append(message)

    subscriptions = _Subscriptions(log, send)
    connection = SimpleNamespace(principal=FFPrincipal("alice", frozenset(), "key:a"))
    replied = asyncio.Event()
    answer = await subscriptions.subscribe(connection, {"topics": ["*"]}, replied)  # type: ignore[arg-type]
    replied.set()
    await asyncio.sleep(0)
    for n in range(6):
        log.on_event(_event("alice", n))
        await asyncio.sleep(0)
    gate.set()
    for _ in range(100):
        if sent and sent[-1]["method"] == "events.overflow":
            break
        await asyncio.sleep(0.01)
    events = [m["params"] for m in sent if m["method"] == "events.event"]
    assert [e["data"]["n"] for e in events] == [0, 1, 2]  # one in the blocked send, two queued
    assert sent[-1] == {"jsonrpc": "2.0", "method": "events.overflow",
                        "params": {"subscription": answer["subscription"], "last_offset": events[-1]["offset"]}}  # fmt: skip
    await subscriptions.close()


async def test_a_statsd_flood_is_dropped_and_counted_while_the_disk_is_behind() -> None:
    from ff_managers._service.udp import _MAX_PENDING, FFStatsdListener

    class _StuckMetrics:  # a disk that does not keep up (cannot be produced on demand here)
        def __init__(self) -> None:
            self.release = asyncio.Event()

        async def record_metric(self, *args: object, **kwargs: object) -> None:
            await self.release.wait()

    metrics = _StuckMetrics()
    listener = FFStatsdListener(metrics)  # type: ignore[arg-type]
    for n in range(_MAX_PENDING + 50):
        listener.received(f"flood:{n}|c".encode(), ("127.0.0.1", 9))
    assert (listener.stats.received, listener.stats.dropped) == (_MAX_PENDING + 50, 50)
    metrics.release.set()
    await listener.close()
    assert listener.stats.recorded == _MAX_PENDING
