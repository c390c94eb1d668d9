"""Workload ``service``: our service over loopback against the FastAPI + aiosqlite service a user would write.

Both servers run as their own processes (``python main.py serve`` and ``python -m
testing.bench._service_peer``) on 127.0.0.1 port 0, found through their ready files; the load comes
from this process, so client and server do not share an interpreter (in-process clients steal the
server's event loop and distort both figures). Each client is one ``httpx.AsyncClient`` holding one
keep-alive HTTP/1.1 connection and sends its requests one after another; 1 and 16 clients run
``add_message`` (POST, durability ``always`` against SQLite WAL ``synchronous=FULL``) and
``get_messages`` (GET ``?limit=50`` of a 60-message session). The "network tax" cases send the same
``add_message`` in-process (``FFMemoryLayerManager``), over TCP (newline-delimited JSON-RPC) and over
WebSocket (JSON-RPC), one client each, to set against ``ours_http_add_1c``.

The HTTP cases also report ``server_cpu_ms_per_1k``: the CPU time (user + system, all threads) the
server process spent per 1,000 requests of the timed part, read from the OS. On a machine shared
with other work the throughput of both systems moves with the load, while this figure mostly does
not: it says which server does more work per request.

Set ``FF_BENCH_SERVICE_PROFILE=DIR`` to run both servers under cProfile (``DIR/ours.prof``,
``DIR/peer.prof``, written when they stop) and see where the server side spends its time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager
from testing.bench._append import message_contents
from testing.bench._core import FFBenchCase, FFBenchSizes, FFComparisonSpec, FFMetric
from testing.bench._service_peer import PEER_TOKEN_ENV

__all__ = ["CLIENTS", "COMPARISONS", "NAME", "PROFILE_ENV", "workload"]

NAME = "service"
CLIENTS = (1, 16)
PROFILE_ENV = "FF_BENCH_SERVICE_PROFILE"
_RATE = FFMetric("requests_per_s", "req/s", True)
_P95 = FFMetric("p95_ms", "ms", False)
_CPU = FFMetric("server_cpu_ms_per_1k", "ms", False)
_METRICS = (_RATE, _P95)
_HTTP_METRICS = (_RATE, _P95, _CPU)
_USER = "bench"
_READ_SESSION_MESSAGES = 60
_START_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 30.0
_REPO = Path(__file__).resolve().parents[2]

COMPARISONS = tuple(
    spec
    for op in ("add", "get")
    for clients in CLIENTS
    for spec in (
        FFComparisonSpec("requests_per_s", f"ours_http_{op}_{clients}c", f"peer_http_{op}_{clients}c", ">=", 0.8),
        FFComparisonSpec("p95_ms", f"ours_http_{op}_{clients}c", f"peer_http_{op}_{clients}c", "<=", 1.25),
    )
)


class _ServerProcess:
    """One server subprocess: started, waited for through its ready file, SIGTERMed and reaped."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], work: Path) -> None:
        self.name, self.work = name, work
        self.ready_file = work / f"{name}.ready.json"
        self.log = work / f"{name}.log"
        profile_dir = os.environ.get(PROFILE_ENV)
        prefix = [sys.executable]
        if profile_dir:
            Path(profile_dir).mkdir(parents=True, exist_ok=True)
            prefix += ["-m", "cProfile", "-o", str(Path(profile_dir) / f"{name}.prof")]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen([*prefix, *argv, "--ready-file", str(self.ready_file)], env=env, cwd=work,
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip

    def wait_ready(self) -> dict:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.ready_file.exists():
                return json.loads(self.ready_file.read_text())
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}: {self.log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} wrote no ready file within {_START_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        """SIGTERM (graceful), then SIGKILL past the bound; always reaped."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait()


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FF_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {**env, **extra}


def _ours_env(data: Path) -> dict[str, str]:
    # The rate limit is lifted (all clients share one key, and the default 200/s would cap the run);
    # the limiter itself still runs on every request.
    return _environment({"FF_STORAGE__BASE_PATH": str(data), "FF_STORAGE__DURABILITY": "always",
                         "FF_SERVICE__RATE_LIMIT": "1000000/second"})  # fmt: skip


def _create_key(data: Path, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, str(_REPO / "main.py"), "apikey", "create", "--user", _USER, "--data-dir", str(data)],
                          env=env, cwd=data.parent, capture_output=True, timeout=120, check=True)  # fmt: skip
    return done.stdout.decode().strip()


@dataclass(frozen=True, slots=True)
class _Target:
    """Where one system answers: base URL, headers, and the sessions to write to and read from."""

    base_url: str
    headers: dict[str, str]
    add_session: str
    read_session: str
    pid: int  # the server process, whose CPU time is read around the timed part

    def path(self, session: str) -> str:
        return f"/v1/users/{_USER}/sessions/{session}/messages"


def _p95_ms(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=20, method="inclusive")[18] * 1000 if len(latencies) > 1 else latencies[0] * 1000


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


async def _timed(
    clients: int, total: int, connect: Callable[[int], contextlib.AbstractAsyncContextManager[Callable[[int], Awaitable[None]]]],
    server_pid: int | None = None,
) -> dict[str, float]:
    """``clients`` concurrent loops; each connects, sends one untimed warm-up, waits for all, then times its share
    (and, given ``server_pid``, the server's CPU time over that part)."""
    shares = _split(total, clients)
    starts = [sum(shares[:c]) for c in range(clients)]
    latencies: list[float] = []
    ready, go = asyncio.Barrier(clients + 1), asyncio.Event()

    async def client(c: int) -> None:
        async with connect(c) as send:
            await send(-1 - c)  # warm-up: the connection is open and the route is hot before timing
            await ready.wait()
            await go.wait()
            for i in range(starts[c], starts[c] + shares[c]):
                began = time.perf_counter()
                await send(i)
                latencies.append(time.perf_counter() - began)

    tasks = [asyncio.create_task(client(c)) for c in range(clients)]
    waiting = asyncio.create_task(ready.wait())
    await asyncio.wait([waiting, *tasks], return_when=asyncio.FIRST_COMPLETED)
    if not waiting.done():  # a client failed before the start line
        waiting.cancel()
        await asyncio.gather(*tasks)
    cpu_before = _cpu_seconds(server_pid) if server_pid is not None else 0.0
    started = time.perf_counter()
    go.set()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    figures = {"requests_per_s": total / elapsed, "p95_ms": _p95_ms(latencies)}
    if server_pid is not None:
        figures["server_cpu_ms_per_1k"] = (_cpu_seconds(server_pid) - cpu_before) * 1e6 / total
    return figures


def _http(target: _Target, op: str, clients: int, contents: list[str]) -> dict[str, float]:
    @contextlib.asynccontextmanager
    async def connect(_c: int):  # type: ignore[no-untyped-def]
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=target.base_url, headers=target.headers, limits=limits, timeout=60) as http:
            async def add(i: int) -> None:
                answer = await http.post(target.path(target.add_session), json={"role": "user", "content": contents[i % len(contents)]})
                if answer.status_code not in (200, 201):
                    raise RuntimeError(f"add_message answered {answer.status_code}: {answer.text[:300]}")

            async def get(_i: int) -> None:
                answer = await http.get(target.path(target.read_session), params={"limit": 50})
                if answer.status_code != 200 or len(answer.json()) != 50:
                    raise RuntimeError(f"get_messages answered {answer.status_code}: {answer.text[:300]}")

            yield add if op == "add" else get

    return asyncio.run(_timed(clients, len(contents), connect, target.pid))


def _jsonrpc_add(session: str, content: str, rid: int) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": "memory.add_message",
                       "params": {"user_id": _USER, "session_id": session, "role": "user", "content": content}}).encode()  # fmt: skip


def _check_rpc(line: bytes | str) -> None:
    answer = json.loads(line)
    if "result" not in answer:
        raise RuntimeError(f"JSON-RPC error: {str(answer)[:300]}")


def _tcp(host: str, port: int, key: str, session: str, contents: list[str]) -> dict[str, float]:
    @contextlib.asynccontextmanager
    async def connect(_c: int):  # type: ignore[no-untyped-def]
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(json.dumps({"jsonrpc": "2.0", "id": 0, "method": "auth", "params": {"token": key}}).encode() + b"\n")
            _check_rpc(await reader.readline())

            async def add(i: int) -> None:
                writer.write(_jsonrpc_add(session, contents[i % len(contents)], i + 10) + b"\n")
                _check_rpc(await reader.readline())

            yield add
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    return asyncio.run(_timed(1, len(contents), connect))


def _ws(host: str, port: int, key: str, session: str, contents: list[str]) -> dict[str, float]:
    import websockets  # the service's dependency

    @contextlib.asynccontextmanager
    async def connect(_c: int):  # type: ignore[no-untyped-def]
        async with websockets.connect(f"ws://{host}:{port}/v1/ws", additional_headers={"Authorization": f"Bearer {key}"}) as ws:
            async def add(i: int) -> None:
                await ws.send(_jsonrpc_add(session, contents[i % len(contents)], i + 10).decode())
                _check_rpc(await ws.recv())

            yield add

    return asyncio.run(_timed(1, len(contents), connect))


def _in_process(work: Path, contents: list[str]) -> dict[str, float]:
    config = load_config(base_path=Path(tempfile.mkdtemp(prefix="inproc_", dir=work)), environ={})
    config.storage.durability = "always"  # type: ignore[assignment]

    async def main() -> dict[str, float]:
        async with FFMemoryLayerManager(config) as memory:
            session = await memory.create_session(_USER, title="network tax")

            @contextlib.asynccontextmanager
            async def connect(_c: int):  # type: ignore[no-untyped-def]
                async def add(i: int) -> None:
                    await memory.add_message(_USER, session.session_id, "user", contents[i % len(contents)])

                yield add

            return await _timed(1, len(contents), connect)

    return asyncio.run(main())


def _prepare(target: _Target, contents: list[str]) -> None:
    """Fill the read session so every GET returns 50 messages."""
    with httpx.Client(base_url=target.base_url, headers=target.headers, timeout=60) as http:
        for content in contents[:_READ_SESSION_MESSAGES]:
            http.post(target.path(target.read_session), json={"role": "user", "content": content}).raise_for_status()


def _ours_sessions(base_url: str, headers: dict[str, str]) -> list[str]:
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:
        made = [http.post(f"/v1/users/{_USER}/sessions", json={"title": title}) for title in ("add", "read", "tcp", "ws")]
    for answer in made:
        answer.raise_for_status()
    return [answer.json()["session_id"] for answer in made]


@contextlib.contextmanager
def workload(sizes: FFBenchSizes, work: Path) -> Iterator[list[FFBenchCase]]:
    """Start both servers, yield the cases, and SIGTERM and reap both whatever happens."""
    contents = message_contents(max(sizes.append_messages, _READ_SESSION_MESSAGES), sizes.message_bytes)
    requests = contents[: sizes.append_messages]
    ours_data, peer_data = work / "ours_data", work / "peer_data"
    ours_data.mkdir()
    env = _ours_env(ours_data)
    key = _create_key(ours_data, env)
    peer_token = secrets.token_urlsafe(24)
    servers: list[_ServerProcess] = []
    try:
        servers.append(_ServerProcess("ours", [str(_REPO / "main.py"), "serve", "--port", "0", "--tcp-port", "0", "--udp-port", "off",
                                               "--data-dir", str(ours_data)], env, work))  # fmt: skip
        servers.append(_ServerProcess("peer", ["-m", "testing.bench._service_peer", "--port", "0", "--data-dir", str(peer_data)],
                                      _environment({PEER_TOKEN_ENV: peer_token}), work))  # fmt: skip
        ours_ready, peer_ready = (server.wait_ready() for server in servers)
        host = ours_ready["host"]
        ours_url = f"http://{host}:{ours_ready['http_port']}"
        ours_headers = {"Authorization": f"Bearer {key}"}
        add_s, read_s, tcp_s, ws_s = _ours_sessions(ours_url, ours_headers)
        ours = _Target(ours_url, ours_headers, add_s, read_s, servers[0].process.pid)
        peer = _Target(f"http://127.0.0.1:{peer_ready['http_port']}", {"Authorization": f"Bearer {peer_token}"}, "ses_add", "ses_read",
                       servers[1].process.pid)  # fmt: skip
        for target in (ours, peer):
            _prepare(target, contents)
        n = len(requests)
        cases = []
        for op, what in (("add", "add_message (POST)"), ("get", "get_messages (GET ?limit=50)")):
            for clients in CLIENTS:
                for system, target, how in (("ours", ours, "main.py serve, durability always"),
                                            ("peer", peer, "FastAPI + aiosqlite, WAL, synchronous=FULL")):  # fmt: skip
                    cases.append(FFBenchCase(
                        f"{system}_http_{op}_{clients}c", system, _HTTP_METRICS,
                        lambda t=target, o=op, c=clients: _http(t, o, c, requests),
                        f"{what} x{n}, {clients} client(s), one keep-alive connection each; {how}",
                    ))  # fmt: skip
        tcp_port = ours_ready["tcp_port"]
        http_port = ours_ready["http_port"]
        cases += [
            FFBenchCase("ours_inprocess_add_1c", "ours", _METRICS, lambda: _in_process(work, requests),
                        f"network tax: FFMemoryLayerManager.add_message x{n} in this process, durability always"),
            FFBenchCase("ours_tcp_add_1c", "ours", _METRICS, lambda: _tcp(host, tcp_port, key, tcp_s, requests),
                        f"network tax: memory.add_message x{n} over TCP (newline-delimited JSON-RPC)"),
            FFBenchCase("ours_ws_add_1c", "ours", _METRICS, lambda: _ws(host, http_port, key, ws_s, requests),
                        f"network tax: memory.add_message x{n} over WebSocket (JSON-RPC)"),
        ]  # fmt: skip
        yield cases
    finally:
        for server in servers:
            server.stop()
