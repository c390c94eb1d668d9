"""Tool sandbox escapes: shell injection, paths outside the work dir, secrets, runaway processes.

SEC-SBX-08..11 are the Hardening issue's attacks on the bubblewrap sandbox: host files and
another user's chat log, the host's loopback and the manager's process, a double-forked daemon
and a 575 MB write, and PDF bombs against the knowledge base's bounded extraction. Each reports
``sandbox: bwrap|none`` for the runs it made, so an unsandboxed configuration is named.

Arguments reach a tool as JSON on stdin and the command is a fixed argv run without a shell,
so shell metacharacters must stay inert text; path arguments must stay inside the run's work
directory; the tool's environment is an allow-list, so a secret in the FF process's environment
must not reach it; and a tool that sleeps, floods stdout or forks must be stopped at its limits.

The attacks on limits and the environment need hostile *programs*: they are registered as probe
tools (``python -c <code>``, the tool manager's own registration API) on a second tool manager
instance over the same data root (``ctx.fresh_manager("tools")``), so the shared registry the
other suites see is not changed. Each run is bounded by a limit of a second or less.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from typing import Any

import psutil
from pydantic import BaseModel, ConfigDict

from ff_class_configs.ff_tool_dtos import FFToolDefinitionDTO, FFToolLimitsDTO, FFToolRunResultDTO, FFToolRunStatus
from ff_utils.ff_errors import FFSandboxViolationError, FFValidationError
from ff_utils.ff_file_ops import ff_ensure_directory, ff_safe_path
from ff_utils.ff_ids import ff_new_id
from ff_utils.ff_json_utils import ff_dumps
from testing._context import FFTestContext
from testing.runner import FFChecker
from testing.suites.security._support import (
    FFAttack,
    FFObservation,
    FFProbe,
    jsonl_census,
    run_probes,
    scratch_dir,
    security_check,
    shown,
)

__all__ = [
    "probe_tool",
    "run_survivors",
    "sandbox_shell_metacharacters",
    "sandbox_paths_outside_work_dir",
    "sandbox_environment_secret",
    "sandbox_wall_time",
    "sandbox_output_flood",
    "sandbox_process_flood",
    "sandbox_calculator_code_injection",
    "sandbox_host_files_and_other_users",
    "sandbox_network_and_manager",
    "sandbox_daemon_and_disk_flood",
    "sandbox_pdf_bombs",
]


class _AnyArguments(BaseModel):
    """Probe tools take any JSON object: the attack is in their code, not their arguments."""

    model_config = ConfigDict(extra="allow")


def probe_tool(name: str, code: str, **limits: Any) -> FFToolDefinitionDTO:
    """A tool whose fixed argv is ``python -c <code>``, with the given limits."""
    return FFToolDefinitionDTO(
        name=name,
        description=f"security probe {name}",
        argv=(sys.executable, "-c", textwrap.dedent(code)),
        parameters=_AnyArguments,
        limits=FFToolLimitsDTO(**limits),
    )


@contextlib.asynccontextmanager
async def _probe_manager(ctx: FFTestContext, *definitions: FFToolDefinitionDTO) -> AsyncIterator[Any]:
    tools = ctx.fresh_manager("tools")
    for definition in definitions:
        tools.register_tool(definition)
    try:
        yield tools
    finally:
        await tools.shutdown()


def _alive(pid: int) -> bool:
    """True while ``pid`` is a running (not zombie) process."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _host_alive(run: FFToolRunResultDTO, pids: list[int]) -> set[int]:
    """The reported pids still alive, when they are host pids: inside bwrap's PID namespace a tool
    sees its own numbering (1, 2, 3...), so there only ``run_survivors`` (the process table) counts."""
    return {pid for pid in pids if _alive(pid)} if run.sandbox == "none" else set()


def _pids(text: str) -> list[int]:
    return [int(token) for token in text.split() if token.isdigit()]


def run_survivors(run_id: str) -> list[int]:
    """Live processes still carrying the run's FF_TOOL_RUN_ID (the tool and anything it forked).

    Found through the process table rather than pids the tool reported, so a tool killed before
    it could report anything is still accounted for.
    """
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("FF_TOOL_RUN_ID") == run_id and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


# ---------------------------------------------------------------------------- shell injection

_ECHO = """
import json, sys
args = json.load(sys.stdin)
print(json.dumps({"argv": sys.argv[1:], "text": args.get("text")}))
"""


@security_check(
    FFAttack(
        check_id="SEC-SBX-01",
        name="shell metacharacters in tool arguments",
        category="OS command injection",
        asvs_id="V5.3.8",
        attack="word_count with text \"x; touch F1 && echo F2 | tee F2 $(touch F3) `touch F4` > F5\" (F1..F5 absolute "
        "paths of canary files), and the same text to a probe tool that echoes its argv and stdin",
        expected="the run succeeds and counts the text literally (characters == len(text)); the probe gets the text "
        "byte-identical on stdin and an argv without it; none of the five canary files exists",
        severity="critical",
    ),
    group="test_sandbox",
    components=("tools",),
)
async def sandbox_shell_metacharacters(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    user = ctx.new_user("sec_sbx_shell")
    scratch = scratch_dir(ctx, "SEC-SBX-01")
    await asyncio.to_thread(ff_ensure_directory, scratch)
    f1, f2, f3, f4, f5 = (scratch / f"pwned_{i}" for i in range(1, 6))
    text = f"x; touch {f1} && echo {f2} | tee {f2} $(touch {f3}) `touch {f4}` > {f5}"
    with check.step("word_count"):
        counted = await ctx.tools.execute_tool(user, "word_count", {"text": text})
    async with _probe_manager(ctx, probe_tool("sec_probe_echo", _ECHO, wall_time_seconds=3.0)) as tools:
        with check.step("echo probe"):
            echoed = await tools.execute_tool(user, "sec_probe_echo", {"text": text})
    created = [p.name for p in (f1, f2, f3, f4, f5) if p.exists()]
    chars = counted.output.get("characters") if isinstance(counted.output, dict) else None
    echo = echoed.output if isinstance(echoed.output, dict) else {}
    seen.note(f"word_count: status {counted.status.value}, characters {chars} of {len(text)}")
    seen.note(f"echo probe: status {echoed.status.value}, stdin text identical: {echo.get('text') == text}, argv {echo.get('argv')}")
    seen.note(f"canary files created: {created or 'none'}")
    check.equal((counted.status, chars), (FFToolRunStatus.SUCCESS, len(text)), "word_count counted the text literally")
    check.equal(echo.get("text"), text, "the payload reached the tool as data on stdin, unchanged")
    check.equal(echo.get("argv"), [], "the payload never entered the command line")
    check.equal(created, [], "no shell ran the payload (no canary file exists)")


# ---------------------------------------------------------------------------- paths


@security_check(
    FFAttack(
        check_id="SEC-SBX-02",
        name="tool path arguments outside the work directory",
        category="path traversal",
        asvs_id="V12.3.2",
        attack="word_count, summarize and extract_text with path '../../../../etc/passwd', '/etc/passwd', '..', "
        "'a/../../x', 'sub/../../runs.jsonl' and '/proc/self/environ'",
        expected="every call raises FFSandboxViolationError before anything runs; the user's tools folder is not "
        "even created (no work dir, no run logged)",
        severity="critical",
    ),
    group="test_sandbox",
    components=("tools",),
)
async def sandbox_paths_outside_work_dir(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    user = ctx.new_user("sec_sbx_path")
    paths = ["../../../../etc/passwd", "/etc/passwd", "..", "a/../../x", "sub/../../runs.jsonl", "/proc/self/environ"]
    probes = [
        FFProbe(f"{tool}(path={shown(path)})", lambda t=tool, p=path: ctx.tools.execute_tool(user, t, {"path": p}), (FFSandboxViolationError,))
        for tool in ("word_count", "summarize", "extract_text")
        for path in paths
    ]
    with check.step(f"{len(probes)} path attacks"):
        report = await run_probes(probes)
    tools_dir = ff_safe_path(ctx.root, "users", user, "tools")
    audited = [r for r in await ctx.metrics.get_audit_records(limit=10_000) if r.actor == user and r.action == "tool.refused"]
    seen.note(report.summary())
    seen.note(f"users/{user}/tools exists afterwards: {'yes' if tools_dir.exists() else 'no'}; refusals in the audit log: {len(audited)}")
    check.equal(report.refused, report.total, "every path outside the work dir refused with FFSandboxViolationError")
    check.that(not tools_dir.exists(), "nothing was written for the refused runs")


# ---------------------------------------------------------------------------- environment

_ENVIRONMENT = """
import json, os
ancestors = []
pid = os.getpid()
for _ in range(8):
    try:
        with open(f"/proc/{pid}/status") as handle:
            ppid = int(next(l for l in handle if l.startswith("PPid:")).split()[1])
    except (OSError, StopIteration, ValueError):
        break
    if ppid <= 1:
        break
    try:
        with open(f"/proc/{ppid}/environ", "rb") as handle:
            ancestors.append(len([e for e in handle.read().split(b"\\0") if e]))
    except OSError:
        pass
    pid = ppid
print(json.dumps({"environ": dict(os.environ), "readable_ancestor_environs": ancestors}))
"""


@security_check(
    FFAttack(
        check_id="SEC-SBX-03",
        name="tool reads a secret from the application's environment",
        category="least privilege",
        asvs_id="V4.1.3",
        attack="set FF_SECURITY_PROBE_SECRET_<random> to a random value in os.environ of the FF process, then run a "
        "probe tool that dumps its whole environment",
        expected="neither the variable's name nor its value appears in the tool's environment or output; the "
        "environment holds only the sandbox's allow-list",
        severity="critical",
    ),
    group="test_sandbox",
    components=("tools",),
)
async def sandbox_environment_secret(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    user = ctx.new_user("sec_sbx_env")
    name, secret = f"FF_SECURITY_PROBE_SECRET_{ff_new_id()[:8].upper()}", "sk-" + ff_new_id()
    async with _probe_manager(ctx, probe_tool("sec_probe_env", _ENVIRONMENT, wall_time_seconds=3.0)) as tools:
        os.environ[name] = secret
        try:
            with check.step("dump the tool's environment"):
                run = await tools.execute_tool(user, "sec_probe_env", {})
        finally:
            del os.environ[name]
    output = run.output if isinstance(run.output, dict) else {}
    environ: dict[str, str] = output.get("environ") or {}
    leaked = name in environ or any(secret in value for value in environ.values()) or secret in ff_dumps(run.model_dump(mode="json")).decode()
    unexpected = sorted(k for k in environ if k not in _ALLOWED_ENVIRONMENT)
    # Ancestors whose environment is bigger than the tool's own are not the sandbox's launcher.
    readable = [n for n in output.get("readable_ancestor_environs") or [] if n > len(environ)]
    seen.note(f"probe status {run.status.value}; tool environment: {len(environ)} variables {sorted(environ)}")
    seen.note(f"secret name or value visible to the tool: {'yes' if leaked else 'no'}; variables outside the allow-list: {unexpected or 'none'}")
    if readable:
        # Not this check's claim (the secret set at run time is not in any /proc environ), but the
        # report must say it: hostile tool code running as the same uid can read the start-up
        # environment of the FF process through /proc, so secrets there are not shielded.
        check.warn(
            f"tool code can read the start-up environment of {len(readable)} ancestor process(es) through "
            "/proc/<pid>/environ (same uid): secrets in the FF process's start-up environment are not shielded from tool code"
        )
    check.require(run.status == FFToolRunStatus.SUCCESS and environ, "the probe ran and reported its environment", run.error or "")
    check.that(not leaked, "the secret set in the FF process's environment did not reach the tool")
    check.equal(unexpected, [], "the tool's environment holds only allow-listed variables")


_ALLOWED_ENVIRONMENT = frozenset(
    {
        "PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "PYTHONIOENCODING",
        "PYTHONNOUSERSITE", "FF_TOOL_RUN_ID", "FF_TOOL_NAME",
    }
)  # fmt: skip


# ---------------------------------------------------------------------------- runaway tools

_SLEEPER = """
import os, sys, time
print(os.getpid(), file=sys.stderr, flush=True)
time.sleep(60)
"""


@security_check(
    FFAttack(
        check_id="SEC-SBX-04",
        name="tool sleeps past its wall-time limit",
        category="sandbox resource limits",
        asvs_id="V5.2.4",
        attack="a probe tool that reports its pid and sleeps 60 s, run with wall_time_seconds=0.5",
        expected="the run ends as status timeout (limit wall_time) within 3 s and no process carrying the run's id "
        "(FF_TOOL_RUN_ID) is left alive",
    ),
    group="test_sandbox",
    components=("tools",),
    timeout_seconds=30,
)
async def sandbox_wall_time(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    user = ctx.new_user("sec_sbx_sleep")
    async with _probe_manager(ctx, probe_tool("sec_probe_sleep", _SLEEPER, wall_time_seconds=0.5)) as tools:
        started = time.perf_counter()
        with check.step("run the sleeper"):
            run = await tools.execute_tool(user, "sec_probe_sleep", {})
        elapsed = time.perf_counter() - started
    pids = _pids(run.stderr_tail)
    survivors = await asyncio.to_thread(run_survivors, run.run_id)
    alive = sorted(_host_alive(run, pids) | set(survivors))
    check.metric("elapsed_seconds", elapsed)
    seen.note(
        f"status {run.status.value}, limit {run.limit_exceeded}, returned after {elapsed:.2f} s; tool pid "
        f"{pids or 'not reported (killed before it started)'}; processes of the run alive afterwards: {alive or 'none'}"
    )
    check.equal((run.status, run.limit_exceeded), (FFToolRunStatus.TIMEOUT, "wall_time"), "the run was stopped at its wall-time limit")
    check.at_most(elapsed, 3.0, "execute_tool returned within 3 s")
    check.equal(alive, [], "no process of the run survived")


_FLOOD = """
import sys
chunk = b"A" * 65536
for _ in range(800):
    sys.stdout.buffer.write(chunk)
sys.stdout.flush()
"""


@security_check(
    FFAttack(
        check_id="SEC-SBX-05",
        name="tool floods stdout",
        category="sandbox resource limits",
        asvs_id="V12.1.1",
        attack="a probe tool writing 50 MiB to stdout, run with max_output_bytes=65,536",
        expected="the run is killed (limit output, stdout_truncated) within 3 s and the run record logged on disk "
        "is smaller than the output cap",
    ),
    group="test_sandbox",
    components=("tools",),
    timeout_seconds=30,
)
async def sandbox_output_flood(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    user = ctx.new_user("sec_sbx_flood")
    cap = 65_536
    async with _probe_manager(ctx, probe_tool("sec_probe_flood", _FLOOD, wall_time_seconds=5.0, max_output_bytes=cap)) as tools:
        started = time.perf_counter()
        with check.step("run the flood"):
            run = await tools.execute_tool(user, "sec_probe_flood", {})
        elapsed = time.perf_counter() - started
    census = await jsonl_census(ff_safe_path(ctx.root, "users", user, "tools", "runs.jsonl"))
    logged = [r for r in census.records if isinstance(r, dict) and r.get("run_id") == run.run_id]
    record_bytes = len(ff_dumps(logged[0])) if logged else 0
    check.metric("elapsed_seconds", elapsed)
    check.metric("logged_record_bytes", record_bytes)
    seen.note(
        f"status {run.status.value}, limit {run.limit_exceeded}, stdout_truncated {run.stdout_truncated}, "
        f"returned after {elapsed:.2f} s; logged record {record_bytes:,} bytes (cap {cap:,})"
    )
    check.equal((run.status, run.limit_exceeded, run.stdout_truncated), (FFToolRunStatus.KILLED, "output", True), "the flood was cut at the output cap")
    check.at_most(elapsed, 3.0, "execute_tool returned within 3 s")
    check.that(logged and record_bytes < cap, "the logged run record stays below the output cap", f"{record_bytes} bytes, {len(logged)} record(s)")


_FORKER = """
import os, sys, time
for _ in range(40):
    pid = os.fork()
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    print(pid, file=sys.stderr, flush=True)
time.sleep(60)
"""


@security_check(
    FFAttack(
        check_id="SEC-SBX-06",
        name="tool forks a swarm of processes",
        category="sandbox resource limits",
        asvs_id="V5.2.4",
        attack="a probe tool forking 40 sleeping children, run with max_processes=4",
        expected="the run is killed (limit processes) within 3 s and no process carrying the run's id (FF_TOOL_RUN_ID: "
        "the tool and every child) is left alive",
    ),
    group="test_sandbox",
    components=("tools",),
    timeout_seconds=30,
)
async def sandbox_process_flood(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    user = ctx.new_user("sec_sbx_fork")
    async with _probe_manager(ctx, probe_tool("sec_probe_fork", _FORKER, wall_time_seconds=5.0, max_processes=4)) as tools:
        started = time.perf_counter()
        with check.step("run the forker"):
            run = await tools.execute_tool(user, "sec_probe_fork", {})
        elapsed = time.perf_counter() - started
    children = _pids(run.stderr_tail)
    await asyncio.sleep(0.2)  # a SIGKILLed process leaves the table asynchronously; give the kernel a moment
    survivors = await asyncio.to_thread(run_survivors, run.run_id)
    alive = sorted(_host_alive(run, children) | set(survivors))
    check.metric("elapsed_seconds", elapsed)
    seen.note(f"status {run.status.value}, limit {run.limit_exceeded}, returned after {elapsed:.2f} s; children reported {len(children)}, alive afterwards {len(alive)}")
    # Two ways the swarm is stopped, both real: the watchdog kills the run at its process limit, or
    # (under bwrap, where each run has a uid of its own) RLIMIT_NPROC makes the kernel refuse the
    # fork past the limit, so the tool dies of EAGAIN having started no more than the limit allows.
    refused_by_kernel = "Resource temporarily unavailable" in run.stderr_tail and len(children) <= 4
    killed_at_limit = (run.status, run.limit_exceeded) == (FFToolRunStatus.KILLED, "processes")
    check.that(killed_at_limit or refused_by_kernel, "the swarm was stopped at the process limit (killed, or forks refused)",
               f"status {run.status.value}, limit {run.limit_exceeded}, {len(children)} children started")
    check.at_most(elapsed, 3.0, "execute_tool returned within 3 s")
    check.equal(alive, [], "no child of the tool survived")


# ---------------------------------------------------------------------------- code injection


@security_check(
    FFAttack(
        check_id="SEC-SBX-07",
        name="code injection into the calculator tool",
        category="code injection",
        asvs_id="V5.2.4",
        attack="calculator with expressions \"__import__('os').system('touch F')\", "
        "\"().__class__.__base__.__subclasses__()\", \"open('/etc/passwd').read()\" and \"(lambda: 1)()\"",
        expected="every run ends without success (the evaluator refuses anything but arithmetic) and the canary file "
        "F does not exist",
        severity="critical",
    ),
    group="test_sandbox",
    components=("tools",),
)
async def sandbox_calculator_code_injection(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    user = ctx.new_user("sec_sbx_calc")
    scratch = scratch_dir(ctx, "SEC-SBX-07")
    await asyncio.to_thread(ff_ensure_directory, scratch)
    canary = scratch / "pwned"
    expressions = [
        f"__import__('os').system('touch {canary}')",
        "().__class__.__base__.__subclasses__()",
        "open('/etc/passwd').read()",
        "(lambda: 1)()",
    ]
    runs = [await ctx.tools.execute_tool(user, "calculator", {"expression": e}) for e in expressions]
    outcomes = [f"{r.status.value}/exit {r.exit_code}" for r in runs]
    succeeded = [shown(e) for e, r in zip(expressions, runs) if r.ok]
    seen.note(f"runs: {outcomes}; succeeded: {succeeded or 'none'}; canary created: {'yes' if canary.exists() else 'no'}")
    check.equal(succeeded, [], "no injected expression was evaluated")
    check.that(not canary.exists(), "no code ran (no canary file)")


# ---------------------------------------------------------------------------- the bubblewrap sandbox

_HOST_FILES = """
import json, sys
args = json.load(sys.stdin)
outcome = {}
try:
    outcome["shadow_bytes"] = len(open("/etc/shadow").read())
except OSError as exc:
    outcome["shadow_bytes"] = None
record = {"message_id": "msg-sec-forged", "role": "user", "content": "SEC-FORGED"}
try:
    text = open(args["log"]).read()
    outcome["read_other_user"] = "SEC-VICTIM" in text
    record = {**json.loads(text.splitlines()[-1]), **record}
except OSError:
    outcome["read_other_user"] = False
try:
    with open(args["log"], "a") as handle:
        handle.write(json.dumps(record) + "\\n")
    outcome["appended"] = True
except OSError:
    outcome["appended"] = False
try:
    open(args["outside"], "w").write("escaped")
    outcome["wrote_outside"] = True
except OSError:
    outcome["wrote_outside"] = False
print(json.dumps(outcome))
"""


@security_check(
    FFAttack(
        check_id="SEC-SBX-08",
        name="tool reads host secrets and another user's chat log",
        category="sandbox isolation",
        asvs_id="V4.1.3",
        attack="a probe tool reads /etc/shadow, reads another user's messages.jsonl (absolute path under the data "
        "root) and appends a well-formed forged message to it, and writes a file outside its work dir",
        expected="the run is sandboxed (bwrap); /etc/shadow and the log cannot be read, nothing is appended (the "
        "victim's get_messages shows only their own message) and no file appears outside the work dir",
        severity="critical",
    ),
    group="test_sandbox",
    components=("tools", "memory"),
    timeout_seconds=60,
)
async def sandbox_host_files_and_other_users(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    victim, attacker = ctx.new_user("sec_sbx_victim"), ctx.new_user("sec_sbx_thief")
    session = await ctx.memory.create_session(victim, "private")
    await ctx.memory.add_message(victim, session.session_id, "user", "SEC-VICTIM plan")
    log = ff_safe_path(ctx.root, "users", victim, "sessions", session.session_id, "messages.jsonl")
    outside = scratch_dir(ctx, "SEC-SBX-08") / "escaped.txt"
    await asyncio.to_thread(ff_ensure_directory, outside.parent)
    async with _probe_manager(ctx, probe_tool("sec_probe_files", _HOST_FILES, wall_time_seconds=5.0)) as tools:
        with check.step("run the probe"):
            run = await tools.execute_tool(attacker, "sec_probe_files", {"log": str(log), "outside": str(outside)})
    output = run.output if isinstance(run.output, dict) else {}
    history = [m.content for m in await ctx.memory.get_messages(victim, session.session_id)]
    seen.note(f"sandbox: {run.sandbox}; probe status {run.status.value}; outcome {output}")
    seen.note(f"victim's messages afterwards: {history}; file outside the work dir: {'yes' if outside.exists() else 'no'}")
    check.require(run.status == FFToolRunStatus.SUCCESS and output, "the probe ran and reported", run.error or "")
    check.equal(run.sandbox, "bwrap", "the tool ran in the bubblewrap sandbox")
    check.equal(output.get("shadow_bytes"), None, "/etc/shadow was not readable")
    check.equal((output.get("read_other_user"), output.get("appended")), (False, False), "another user's log was neither read nor appended to")
    check.equal(history, ["SEC-VICTIM plan"], "the victim's get_messages shows no forged message")
    check.that(not outside.exists() and output.get("wrote_outside") is False, "nothing was written outside the work dir")


_NETWORK_AND_KILL = """
import json, os, signal, socket, sys
args = json.load(sys.stdin)
outcome = {}
try:
    socket.create_connection(("127.0.0.1", args["port"]), timeout=1.5).close()
    outcome["connected"] = True
except OSError as exc:
    outcome["connected"] = False
for name, pid, sig in (("manager", args["manager"], 0), ("stand_in", args["stand_in"], signal.SIGKILL)):
    try:
        os.kill(pid, sig)
        outcome[name] = "reached"
    except OSError as exc:
        outcome[name] = type(exc).__name__
print(json.dumps(outcome))
"""


@security_check(
    FFAttack(
        check_id="SEC-SBX-09",
        name="tool reaches the host's loopback and signals the manager",
        category="sandbox isolation",
        asvs_id="V12.6.1",
        attack="a probe tool connects to a listener the suite opened on the host's 127.0.0.1 (port 0), probes the "
        "manager's pid with signal 0 and SIGKILLs a stand-in process of the host",
        expected="the run is sandboxed; the connection fails and the listener accepts nothing; neither pid is visible "
        "from the sandbox (ProcessLookupError) and the stand-in is alive",
        severity="critical",
    ),
    group="test_sandbox",
    components=("tools",),
    timeout_seconds=60,
)
async def sandbox_network_and_manager(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    user = ctx.new_user("sec_sbx_net")
    listener = socket.socket()
    stand_in = await asyncio.create_subprocess_exec(sys.executable, "-c", "import time; time.sleep(60)")
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        listener.setblocking(False)
        arguments = {"port": listener.getsockname()[1], "manager": os.getpid(), "stand_in": stand_in.pid}
        async with _probe_manager(ctx, probe_tool("sec_probe_net", _NETWORK_AND_KILL, wall_time_seconds=5.0)) as tools:
            with check.step("run the probe"):
                run = await tools.execute_tool(user, "sec_probe_net", arguments)
        try:
            listener.accept()[0].close()
            accepted = True
        except BlockingIOError:
            accepted = False
        await asyncio.sleep(0.1)
        stand_in_alive = stand_in.returncode is None and _alive(stand_in.pid)
    finally:
        listener.close()
        if stand_in.returncode is None:
            stand_in.kill()
        await stand_in.wait()
    output = run.output if isinstance(run.output, dict) else {}
    seen.note(f"sandbox: {run.sandbox}; probe status {run.status.value}; outcome {output}")
    seen.note(f"listener accepted a connection: {'yes' if accepted else 'no'}; stand-in alive afterwards: {'yes' if stand_in_alive else 'no'}")
    check.require(run.status == FFToolRunStatus.SUCCESS and output, "the probe ran and reported", run.error or "")
    check.equal(run.sandbox, "bwrap", "the tool ran in the bubblewrap sandbox")
    check.that(output.get("connected") is False and not accepted, "the host's loopback was not reachable")
    check.equal((output.get("manager"), output.get("stand_in")), ("ProcessLookupError", "ProcessLookupError"), "no host process was visible")
    check.that(stand_in_alive, "the host process the tool tried to kill is alive")


_DAEMON = """
import os, signal, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for _ in range(1200):
            with open("heartbeat", "a") as handle:
                handle.write("beat\\n")
            time.sleep(0.05)
        os._exit(0)
    os._exit(0)
time.sleep(0.3)
print("{}", flush=True)
os.kill(os.getppid(), signal.SIGKILL)
time.sleep(0.2)
"""

_DISK_FLOOD = """
import json
chunk = b"x" * (1024 * 1024)
written = 0
try:
    for n in range(575):
        with open(f"blob{n // 32}", "ab") as handle:
            handle.write(chunk)
        written += 1
    print(json.dumps({"written_mb": written, "error": None}))
except OSError as exc:
    print(json.dumps({"written_mb": written, "error": type(exc).__name__}))
"""


def _bytes_under(path: Any) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


@security_check(
    FFAttack(
        check_id="SEC-SBX-10",
        name="tool leaves a daemon behind and floods the disk",
        category="sandbox resource limits",
        asvs_id="V12.1.1",
        attack="a probe tool double-forks a daemon that ignores SIGTERM and keeps writing, then SIGKILLs its "
        "supervisor; a second probe writes 575 MB in 1 MB chunks over 32 MB files (RLIMIT_FSIZE raised to 1 GB)",
        expected="both runs are sandboxed; no process of the first run (FF_TOOL_RUN_ID) is alive afterwards; the "
        "flood is stopped by the work dir's size cap (limit work_dir_size) and nothing of it is left on disk",
        severity="critical",
    ),
    group="test_sandbox",
    components=("tools",),
    timeout_seconds=90,
)
async def sandbox_daemon_and_disk_flood(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    user = ctx.new_user("sec_sbx_daemon")
    daemon_tool = probe_tool("sec_probe_daemon", _DAEMON, wall_time_seconds=5.0)
    flood_tool = probe_tool("sec_probe_disk", _DISK_FLOOD, wall_time_seconds=30.0, max_file_bytes=1024 * 1024 * 1024)
    async with _probe_manager(ctx, daemon_tool, flood_tool) as tools:
        with check.step("run the daemon"):
            daemon = await tools.execute_tool(user, "sec_probe_daemon", {})
        await asyncio.sleep(0.3)
        survivors = await asyncio.to_thread(run_survivors, daemon.run_id)
        for pid in survivors:
            with contextlib.suppress(OSError):
                os.kill(pid, 9)
        with check.step("run the flood"):
            flood = await tools.execute_tool(user, "sec_probe_disk", {})
    left = await asyncio.to_thread(_bytes_under, ff_safe_path(ctx.root, "users", user, "tools", "work", flood.run_id))
    output = flood.output if isinstance(flood.output, dict) else {}
    seen.note(f"sandbox: {daemon.sandbox}/{flood.sandbox}; daemon run {daemon.status.value}, processes alive afterwards: {survivors or 'none'}")
    seen.note(f"flood: status {flood.status.value}, limit {flood.limit_exceeded}, outcome {output}, bytes left on disk {left:,}")
    check.equal((daemon.sandbox, flood.sandbox), ("bwrap", "bwrap"), "both runs were sandboxed")
    check.equal(survivors, [], "no process of the daemon's run survived it")
    check.equal(flood.limit_exceeded, "work_dir_size", "the flood was stopped by the work dir's size cap")
    check.that(output.get("written_mb", 575) < 575 and left == 0, "the flood was refused and nothing of it was left on disk", f"{left:,} bytes left")


@security_check(
    FFAttack(
        check_id="SEC-SBX-11",
        name="PDF bombs against the knowledge base",
        category="decompression bomb",
        asvs_id="V12.1.2",
        attack="add_document with a ~11 KB PDF whose form XObject is drawn 2,500 times (25 MB of text), a PDF whose "
        "one content stream holds 25 MB of text, and a 0.24 MB flate bomb",
        expected="each is refused with one FFValidationError naming a knowledge.extract_* limit, nothing is stored, "
        "and the FF process's RSS does not grow by 48 MB or more while it is refused",
        severity="high",
    ),
    group="test_sandbox",
    components=("knowledge",),
    timeout_seconds=120,
)
async def sandbox_pdf_bombs(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    from testing.suites.security._pdf_bombs import flate_bomb_pdf, stream_bomb_pdf, text_bomb_pdf

    user = ctx.new_user("sec_sbx_pdf")
    base = await ctx.knowledge.create_knowledge_base(user, "bombs")
    process = psutil.Process()
    outcomes = {}
    for name, build in (("xobject", text_bomb_pdf), ("stream", stream_bomb_pdf), ("flate", flate_bomb_pdf)):
        pdf = build()
        # RSS is the whole process's, and up to max_parallel other tests share it: a growth past the
        # bound is measured once more and the smaller figure kept. A bomb expanded in this process
        # grows it by far more than the bound every time; another test's allocation does not repeat.
        for _attempt in range(2):
            before = process.memory_info().rss
            started = time.perf_counter()
            try:
                await ctx.knowledge.add_document(user, base.kb_id, data=pdf, format="pdf", title=name)
                refusal = "accepted"
            except FFValidationError as exc:
                refusal = str(exc.context.get("limit") or f"unnamed: {exc.message[:80]}")
            grown = round((process.memory_info().rss - before) / 1e6, 1)
            if name not in outcomes or grown < outcomes[name][2]:
                outcomes[name] = (refusal, round(time.perf_counter() - started, 2), grown)
            if refusal == "accepted" or grown < 48:
                break
        check.metric(f"{name}_refusal_seconds", outcomes[name][1])
    stored = len(await ctx.knowledge.list_documents(user, base.kb_id))
    seen.note(f"(limit, seconds, RSS growth MB) per bomb: {outcomes}; documents stored: {stored}")
    check.that(all(o[0].startswith("extract_") for o in outcomes.values()), "every bomb was refused naming its extract_* limit")
    check.equal(stored, 0, "nothing was stored")
    check.that(all(o[2] < 48 for o in outcomes.values()), "the FF process's RSS did not grow by 48 MB or more",
               ", ".join(f"{n} {o[2]} MB" for n, o in outcomes.items()))
