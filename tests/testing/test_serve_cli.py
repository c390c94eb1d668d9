"""`main.py apikey` in-process, and a real `main.py serve` process stopped by SIGTERM under write load.

The SIGTERM test is the service's durability promise end to end: every write the server
acknowledged before (or while) it was told to stop is on disk exactly once after it exits 0.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import orjson
import pytest

import main
from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager
from tests._cli import clean_cli_environment, run_cli
from tests._service_clients import running_service

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_cli_environment(monkeypatch, tmp_path)


_run = run_cli


async def test_apikey_create_prints_the_key_alone_and_revoke_refuses_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "root"
    assert main.main(["apikey", "create", "--user", "alice", "--role", "admin", "--data-dir", str(root)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("\n") == 1 and printed.startswith("ffk_")
    key = printed.strip()
    assert key not in (root / "system" / "service" / "api_keys.json").read_text()  # stored hashed only
    code, listing = _run("apikey", "list", "--data-dir", str(root))
    assert code == 0 and "alice" in listing and "admin" in listing
    key_id = key.split("_")[1]
    config = load_config(base_path=root, environ={})
    async with running_service(config) as (_service, ready):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ready.http_port}", headers={"Authorization": f"Bearer {key}"}) as http:
            assert (await http.get("/v1/users/alice/sessions")).status_code == 200
            assert _run("apikey", "revoke", key_id, "--data-dir", str(root))[0] == 0
            assert (await http.get("/v1/users/alice/sessions")).status_code == 401  # the running server sees it
    assert _run("apikey", "revoke", "0000000000000000", "--data-dir", str(root))[0] == 2


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FF_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return env


def _wait_for(path: Path, process: subprocess.Popen[bytes], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return orjson.loads(path.read_bytes())
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}: {process.stderr.read().decode() if process.stderr else ''}")
        time.sleep(0.05)
    raise AssertionError("no ready file")


async def _writer(http: httpx.AsyncClient, path: str, name: str, acknowledged: list[str], stop: asyncio.Event) -> None:
    n = 0
    while not stop.is_set():
        content = f"{name}-{n}"
        n += 1
        try:
            answer = await http.post(path, json={"role": "user", "content": content})
        except httpx.HTTPError:
            return  # the server has stopped accepting
        if answer.status_code == 201:
            acknowledged.append(content)


async def _tcp_writer(port: int, key: str, sid: str, name: str, acknowledged: list[str], stop: asyncio.Event) -> None:
    """Writes over TCP JSON-RPC, one at a time; an answer with a result is an acknowledgement."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return
    try:
        writer.write(orjson.dumps({"jsonrpc": "2.0", "id": 0, "method": "auth", "params": {"token": key}}) + b"\n")
        await writer.drain()
        if b'"result"' not in await reader.readline():
            return
        n = 0
        while not stop.is_set():
            content = f"{name}-{n}"
            params = {"user_id": "alice", "session_id": sid, "role": "user", "content": content}
            writer.write(orjson.dumps({"jsonrpc": "2.0", "id": n + 1, "method": "memory.add_message", "params": params}) + b"\n")
            n += 1
            await writer.drain()
            line = await reader.readline()
            if not line:
                return  # closed by the server's shutdown: not acknowledged
            if b'"result"' in line:
                acknowledged.append(content)
    except (ConnectionError, OSError):
        return
    finally:
        writer.close()


async def test_sigterm_under_write_load_keeps_every_acknowledged_write_once(tmp_path: Path) -> None:
    root, ready_file = tmp_path / "root", tmp_path / "run" / "ready.json"  # its folder is created too
    key_out = subprocess.run([sys.executable, str(REPO / "main.py"), "apikey", "create", "--user", "alice", "--data-dir", str(root)],
                             capture_output=True, env=_environment(), timeout=60, check=True)  # fmt: skip
    key = key_out.stdout.decode().strip()
    command = [sys.executable, str(REPO / "main.py"), "serve", "--data-dir", str(root), "--port", "0", "--tcp-port", "0",
               "--udp-port", "off", "--ready-file", str(ready_file)]  # fmt: skip
    process = subprocess.Popen(command, env=_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        ready = _wait_for(ready_file, process)
        assert ready["pid"] == process.pid and ready["host"] == "127.0.0.1" and ready["tcp_port"] and ready["udp_port"] is None
        acknowledged: list[str] = []
        stop = asyncio.Event()
        limits = httpx.Limits(max_connections=8)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ready['http_port']}", headers={"Authorization": f"Bearer {key}"},
                                     limits=limits, timeout=30) as http:  # fmt: skip
            sid = (await http.post("/v1/users/alice/sessions", json={})).json()["session_id"]
            path = f"/v1/users/alice/sessions/{sid}/messages"
            writers = [asyncio.create_task(_writer(http, path, f"w{i}", acknowledged, stop)) for i in range(6)]
            writers += [asyncio.create_task(_tcp_writer(ready["tcp_port"], key, sid, f"t{i}", acknowledged, stop)) for i in range(4)]
            while len(acknowledged) < 100:
                await asyncio.sleep(0.01)
            process.send_signal(signal.SIGTERM)
            sent_at = len(acknowledged)
            await asyncio.sleep(0.5)
            stop.set()
            await asyncio.wait_for(asyncio.gather(*writers), 60)
        assert await asyncio.to_thread(process.wait, 60) == 0
        assert not ready_file.exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    config = load_config(base_path=root, environ={})
    async with FFMemoryLayerManager(config) as memory:
        stored = Counter(m.content for m in await memory.get_messages("alice", sid, limit=1_000_000))
    assert sent_at >= 100 and any(c.startswith("t") for c in acknowledged) and any(c.startswith("w") for c in acknowledged)
    assert [c for c in acknowledged if stored[c] != 1] == []
    assert all(count == 1 for count in stored.values())
