"""The attacks of the Hardening issue on tool runs, each contained by the bubblewrap sandbox.

Every attack is a registered tool (``python -c <code>``) that reports what it managed to do, and
one predicate says whether the attack was contained. Each test runs it twice: in the sandbox
(the predicate holds) and with the defence planted away (``tools.allow_unsandboxed`` with a bwrap
that does not exist, so the same tool runs on the host, as before the sandbox): there the
predicate must fail, which shows the test can see the attack succeed.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_tool_dtos import FFToolLimitsDTO, FFToolRunResultDTO
from ff_managers.ff_memory_layer_manager import FFMemoryLayerManager
from ff_managers.ff_tool_execution_manager import FFToolExecutionManager
from ff_utils.ff_errors import FFSandboxViolationError
from tests._tool_helpers import code_tool

MODES = ["sandboxed", "planted_unsandboxed"]


def make_tools(root: Path, mode: str, **settings: Any) -> FFToolExecutionManager:
    if mode == "planted_unsandboxed":  # the defect: no bwrap, and config lets tools run anyway
        settings = {"bwrap_path": "/nonexistent/bwrap", "allow_unsandboxed": True, **settings}
    return FFToolExecutionManager(load_config(base_path=root, environ={}, overrides={"tools": settings}))


async def run_code(tools: FFToolExecutionManager, code: str, arguments: dict[str, Any] | None = None, **limits: Any) -> FFToolRunResultDTO:
    tools.register_tool(code_tool("attack", code, limits=FFToolLimitsDTO(**{"wall_time_seconds": 10.0, **limits})), replace=True)
    return await tools.execute_tool("alice", "attack", arguments or {})


def expect(mode: str, contained: bool, detail: object) -> None:
    """Contained in the sandbox; not contained with the defence planted away (the check can fail)."""
    assert contained is (mode == "sandboxed"), (mode, detail)


def _alive_of_run(run_id: str) -> list[int]:
    found = []
    for process in psutil.process_iter():
        try:
            if process.status() != psutil.STATUS_ZOMBIE and process.environ().get("FF_TOOL_RUN_ID") == run_id:
                found.append(process.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


# ------------------------------------------------------------------------------ files of the host


@pytest.mark.parametrize("mode", MODES)
async def test_tool_cannot_read_etc_shadow(tmp_path: Path, mode: str) -> None:
    code = """
        import json
        try:
            data = open('/etc/shadow').read()
            print(json.dumps({"read": len(data)}))
        except OSError as exc:
            print(json.dumps({"read": None, "error": type(exc).__name__}))
    """
    result = await run_code(make_tools(tmp_path / "root", mode), code)
    assert result.ok, result.error
    expect(mode, result.output["read"] is None, result.output)


@pytest.mark.parametrize("mode", MODES)
async def test_tool_cannot_read_or_forge_another_users_messages(tmp_path: Path, mode: str) -> None:
    root = tmp_path / "root"
    memory = FFMemoryLayerManager(load_config(base_path=root, environ={}))
    try:
        session = await memory.create_session("bob", "private")
        await memory.add_message("bob", session.session_id, "user", "bob's secret plan")
        log = next(root.rglob("messages.jsonl"))
        code = """
            import json, sys
            path = json.load(sys.stdin)["path"]
            seen = forged = False
            record = {"message_id": "msg-forged", "role": "user", "content": "FORGED"}
            try:
                text = open(path).read()
                seen = "secret plan" in text
                record = {**json.loads(text.splitlines()[-1]), **record}  # a well-formed copy of bob's line
            except OSError:
                pass
            try:
                with open(path, "a") as handle:
                    handle.write(json.dumps(record) + "\\n")
                forged = True
            except OSError:
                pass
            print(json.dumps({"seen": seen, "forged": forged}))
        """
        result = await run_code(make_tools(root, mode), code, {"path": str(log)})
        assert result.ok, result.error
        history = await memory.get_messages("bob", session.session_id)
        contents = [m.content for m in history]
        assert contents[0] == "bob's secret plan"
        contained = not result.output["seen"] and not result.output["forged"] and "FORGED" not in contents
        expect(mode, contained, (result.output, contents))
    finally:
        await memory.shutdown()


@pytest.mark.parametrize("mode", MODES)
async def test_tool_cannot_write_outside_its_work_dir(tmp_path: Path, mode: str) -> None:
    target = tmp_path / "escaped.txt"
    code = f"""
        import json
        try:
            open({str(target)!r}, "w").write("escaped")
            print(json.dumps({{"wrote": True}}))
        except OSError as exc:
            print(json.dumps({{"wrote": False, "error": type(exc).__name__}}))
    """
    result = await run_code(make_tools(tmp_path / "root", mode), code)
    assert result.ok, result.error
    expect(mode, not target.exists() and result.output["wrote"] is False, result.output)


# ------------------------------------------------------------------------------ network


_CONNECT = """
    import json, socket, sys
    port = json.load(sys.stdin)["port"]
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1.5).close()
        print(json.dumps({"connected": True}))
    except OSError as exc:
        print(json.dumps({"connected": False, "error": type(exc).__name__}))
"""


@pytest.mark.parametrize("mode", MODES)
async def test_tool_cannot_reach_a_listener_on_the_hosts_loopback(tmp_path: Path, mode: str) -> None:
    listener = socket.socket()
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        port = listener.getsockname()[1]
        result = await run_code(make_tools(tmp_path / "root", mode), _CONNECT, {"port": port})
        assert result.ok, result.error
        expect(mode, result.output["connected"] is False, result.output)
    finally:
        listener.close()


async def test_loopback_tools_get_their_own_loopback_only(tmp_path: Path) -> None:
    """network="loopback": 127.0.0.1 works inside the sandbox; network="none": no interface is up."""
    code = """
        import json, socket
        try:
            server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(1)
            socket.create_connection(server.getsockname(), timeout=1.0).close()
            print(json.dumps({"own_loopback": True}))
        except OSError as exc:
            print(json.dumps({"own_loopback": False, "error": type(exc).__name__}))
    """
    tools = make_tools(tmp_path / "root", "sandboxed")
    tools.register_tool(code_tool("loop", code, network="loopback"))
    tools.register_tool(code_tool("noloop", code))
    with_loopback = await tools.execute_tool("alice", "loop", {})
    without = await tools.execute_tool("alice", "noloop", {})
    assert with_loopback.output == {"own_loopback": True}
    assert without.output["own_loopback"] is False
    listener = socket.socket()
    try:  # and the loopback a tool asked for is still not the host's
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        tools.register_tool(code_tool("loop_connect", _CONNECT, network="loopback"))
        reached = await tools.execute_tool("alice", "loop_connect", {"port": listener.getsockname()[1]})
        assert reached.output["connected"] is False
    finally:
        listener.close()


# ------------------------------------------------------------------------------ processes


@pytest.mark.parametrize("mode", MODES)
async def test_tool_cannot_kill_the_manager_or_its_supervisor(tmp_path: Path, mode: str) -> None:
    # A stand-in for the manager's process (the planted run must not kill the test itself).
    stand_in = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        code = """
            import json, os, signal, sys
            pids = json.load(sys.stdin)
            outcome = {}
            for name, pid in (("manager_probe", pids["manager"]), ("stand_in", pids["stand_in"]), ("parent", os.getppid())):
                try:
                    os.kill(pid, signal.SIGKILL if name != "manager_probe" else 0)
                    outcome[name] = "killed" if name != "manager_probe" else "visible"
                except OSError as exc:
                    outcome[name] = type(exc).__name__
            print(json.dumps(outcome), flush=True)
        """
        tools = make_tools(tmp_path / "root", mode)
        result = await run_code(tools, code, {"manager": os.getpid(), "stand_in": stand_in.pid})
        await asyncio.sleep(0.1)
        stand_in_alive = stand_in.poll() is None
        output = result.output if isinstance(result.output, dict) else {}
        contained = stand_in_alive and output.get("manager_probe") == "ProcessLookupError" and output.get("parent") != "killed"
        expect(mode, contained, (result.status, output, stand_in_alive))
    finally:
        stand_in.kill()
        stand_in.wait()


@pytest.mark.parametrize("mode", MODES)
async def test_a_double_forked_daemon_dies_with_the_run(tmp_path: Path, mode: str) -> None:
    code = """
        import os, signal, sys, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                for _ in range(600):
                    with open("heartbeat", "a") as handle:
                        handle.write("beat\\n")
                    time.sleep(0.05)
                os._exit(0)
            os._exit(0)
        time.sleep(0.3)
        print("{}", flush=True)
        os.kill(os.getppid(), signal.SIGKILL)  # the supervisor
        time.sleep(0.2)
    """
    result = await run_code(make_tools(tmp_path / "root", mode), code, wall_time_seconds=5.0)
    await asyncio.sleep(0.3)
    survivors = _alive_of_run(result.run_id)
    try:
        expect(mode, survivors == [], (result.status, result.error, survivors))
    finally:
        for pid in survivors:
            with_suppress_kill(pid)


def with_suppress_kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


# ------------------------------------------------------------------------------ disk


def _bytes_under(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


@pytest.mark.parametrize("mode", MODES)
async def test_a_fast_575_mb_write_is_refused_by_the_size_cap_and_leaves_nothing(tmp_path: Path, mode: str) -> None:
    # Files of 32 MB each, so RLIMIT_FSIZE (raised here) is not what stops it: the tmpfs cap is.
    # The planted run writes a tenth of it to the host (enough to show the cap is gone).
    total_mb = 575 if mode == "sandboxed" else 60
    code = f"""
        import json, os
        chunk = b"x" * (1024 * 1024)
        written = 0
        try:
            for n in range({total_mb}):
                with open(f"blob{{n // 32}}", "ab") as handle:
                    handle.write(chunk)
                written += 1
        except OSError as exc:
            print(json.dumps({{"written_mb": written, "error": type(exc).__name__}}))
        else:
            print(json.dumps({{"written_mb": written, "error": None}}))
    """
    root = tmp_path / "root"
    tools = make_tools(root, mode, sandbox_work_dir_mb=32)
    result = await run_code(tools, code, max_file_bytes=1024 * 1024 * 1024, wall_time_seconds=20.0)
    left = _bytes_under(root / "users" / "alice" / "tools" / "work")
    output = result.output if isinstance(result.output, dict) else {}
    contained = output.get("error") == "OSError" and output.get("written_mb", 0) <= 32 and left == 0
    expect(mode, contained, (result.status, output, left))
    if mode == "sandboxed":
        assert result.limit_exceeded == "work_dir_size" and "size cap" in (result.error or "")


# ------------------------------------------------------------------------------ no sandbox, no run


async def test_without_bwrap_tools_do_not_run_and_nothing_is_written(tmp_path: Path) -> None:
    root = tmp_path / "root"
    tools = make_tools(root, "sandboxed", bwrap_path="/nonexistent/bwrap")
    tools.register_tool(code_tool("marker", "open('/tmp/ff-should-not-run', 'w'); print('{}')"))
    with pytest.raises(FFSandboxViolationError, match="bubblewrap .* not installed.*allow_unsandboxed"):
        await tools.execute_tool("alice", "marker", {})
    assert not (root / "users" / "alice" / "tools").exists()


async def test_explicitly_unsandboxed_runs_say_so(tmp_path: Path) -> None:
    tools = make_tools(tmp_path / "root", "planted_unsandboxed")
    result = await tools.execute_tool("alice", "word_count", {"text": "one two"})
    assert result.ok and result.sandbox == "none"
    sandboxed = await make_tools(tmp_path / "root2", "sandboxed").execute_tool("alice", "word_count", {"text": "one two"})
    assert sandboxed.ok and sandboxed.sandbox == "bwrap"
    assert json.loads(result.model_dump_json())["sandbox"] == "none"  # and the run log keeps it


# ------------------------------------------------------------------------------ extract_text and bombs


@pytest.mark.slow  # three PDF bombs (about 10 s); tools_builtin's bounds, outside _tools' mutants
async def test_extract_text_stops_a_text_bomb_at_its_character_cap(tmp_path: Path) -> None:
    from testing.suites.security._pdf_bombs import flate_bomb_pdf, text_bomb_pdf, two_page_pdf

    tools = make_tools(tmp_path / "root", "sandboxed")
    bomb = await tools.execute_tool("alice", "extract_text", {"path": "bomb.pdf", "max_chars": 100_000}, files={"bomb.pdf": text_bomb_pdf()})
    assert bomb.ok and bomb.output["truncated"] is True and bomb.output["characters"] == 100_000
    flate = await tools.execute_tool("alice", "extract_text", {"path": "f.pdf"}, files={"f.pdf": flate_bomb_pdf()})
    assert not flate.ok and "decompression limit" in (flate.error or "")
    paged = await tools.execute_tool("alice", "extract_text", {"path": "b.pdf", "max_pages": 1}, files={"b.pdf": two_page_pdf()})
    assert not paged.ok and "max_pages" in (paged.error or "")
