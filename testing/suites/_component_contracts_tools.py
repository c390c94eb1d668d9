"""Component suite, tool outcomes: how a run that ended badly is reported, and what is retried (issue 20).

README.md says a tool run's result carries its status (``timeout``, ``killed``, ``error``...), a
one-line error and the signal that ended it, and that only transient failures are retried.
Surviving mutants of ``_tools``' result mapping passed every check of that: a kill by a plain
signal reported as ``None (signal 9)``, an output limit reported as a plain signal kill, and a
run that exited 0 retried because its output held a retryable error document. Each is one tool
run here (well under a second each); the planted defects of ``tests/ff_managers/tools`` turn it red.
The 2026-12-06 sample added: a retried run's duration is that of all its attempts (one attempt of
1.5 s, then a quick one), and the refusals before a run name their field (path arguments that are
not parameters at registration, a staged file that is not bytes). The 2026-12-07 sample added: a
run id is ``run-`` and 32 hex digits, a result's arguments are plain JSON data (a date, a tuple and
an enum argument come back as text, a list and text), and a tool name that is not text is not found.

Registered on the component suite's REGISTRY (component.py imports this module at its end).
"""

from __future__ import annotations

import enum
import re
import signal
import sys
from datetime import date

from pydantic import BaseModel, ConfigDict

from ff_class_configs.ff_tool_dtos import (
    FFBreakerState,
    FFToolDefinitionDTO,
    FFToolLimitsDTO,
    FFToolRefusal,
    FFToolRunResultDTO,
    FFToolRunStatus,
)
from ff_utils.ff_errors import FFNotFoundError, FFValidationError
from testing._context import FFTestContext
from testing.runner import FFChecker

from .component import REGISTRY, _slug

__all__: list[str] = []

_KILLS_ITSELF = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"
_EXCEEDS_ITS_CPU_TIME = "import os, signal\nos.kill(os.getpid(), signal.SIGXCPU)\n"  # what RLIMIT_CPU sends, without the spin
_FLOODS_STDOUT = "import sys\nsys.stdout.write('x' * (1 << 20))\nsys.stdout.flush()\n"
_SUCCEEDS_WITH_AN_ERROR_DOCUMENT = "print('{\"error\": {\"type\": \"busy\", \"message\": \"later\", \"retryable\": true}}')\n"
_SLOW_THEN_TEMPFAIL_ONCE = (  # the work dir persists across attempts: the marker tells the second from the first
    "import os, sys, time\n"
    "if not os.path.exists('attempted'):\n"
    "    open('attempted', 'w').close()\n"
    "    time.sleep(1.5)\n"
    "    sys.exit(75)\n"
    "print('{}')\n"
)


_KILL, _XCPU = int(signal.SIGKILL), int(signal.SIGXCPU)


class _NoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Colour(enum.Enum):
    RED = "red"


class _TypedArgs(BaseModel):
    """Arguments that pydantic would hand back as Python objects (a date, a tuple, an enum)."""

    day: date
    pair: tuple[int, int]
    colour: _Colour


async def _run(ctx: FFTestContext, user: str, name: str, code: str, arguments: dict[str, object] | None = None,
               parameters: type[BaseModel] = _NoArgs, **limits: object) -> FFToolRunResultDTO:
    tool = f"{name}_{_slug(user)}"
    ctx.tools.register_tool(FFToolDefinitionDTO(
        name=tool, description=f"component suite: {name}", argv=(sys.executable, "-c", code),
        parameters=parameters, limits=FFToolLimitsDTO(**limits),  # type: ignore[arg-type]
    ))  # fmt: skip
    try:
        return await ctx.tools.execute_tool(user, tool, arguments or {})
    finally:
        ctx.tools.unregister_tool(tool)


@REGISTRY.test("tools outcomes: signal kills, an output limit, a success never retried", components=("tools",),
               depends_on=("tools_round_trip",))
async def tools_outcome_contracts(ctx: FFTestContext, check: FFChecker) -> None:
    """A run's status, limit, signal and one-line error for the ways a tool ends badly; attempts for a success."""
    user = ctx.new_user("toolo")
    with check.step("a tool killed by a signal"):
        ran = await _run(ctx, user, "self_kill", _KILLS_ITSELF)
        check.equal((ran.status, ran.limit_exceeded, ran.signal, ran.error), (FFToolRunStatus.KILLED, None, _KILL, f"killed (signal {_KILL})"),
                    "status killed, no limit, the signal, error 'killed (signal N)'")
        check.equal(ran.attempts, 1, "a kill is not retried")
    with check.step("a tool ended by SIGXCPU used up its CPU time"):
        ran = await _run(ctx, user, "cpu_out", _EXCEEDS_ITS_CPU_TIME)
        check.equal((ran.status, ran.limit_exceeded, ran.signal, ran.error),
                    (FFToolRunStatus.KILLED, "cpu_time", _XCPU, f"used up its CPU-time limit (signal {_XCPU})"),
                    "status killed, limit cpu_time, signal 24, and the limit's note with the signal")
    with check.step("a tool that writes past max_output_bytes"):
        ran = await _run(ctx, user, "flood", _FLOODS_STDOUT, max_output_bytes=4096)
        check.equal((ran.status, ran.limit_exceeded, ran.error), (FFToolRunStatus.KILLED, "output", "wrote more output than allowed and was killed"),
                    "status killed, limit output, the output limit's note (no signal in it)")
        check.that(ran.stdout_truncated and ran.output is None, "its output is truncated and not parsed", f"{ran.stdout_truncated}, {ran.output!r}")
    with check.step("a tool that exits 0 is not retried, whatever its output says"):
        ran = await _run(ctx, user, "busy_ok", _SUCCEEDS_WITH_AN_ERROR_DOCUMENT)
        check.equal((ran.status, ran.attempts), (FFToolRunStatus.SUCCESS, 1), "exit 0 is a success on the first attempt")
        check.equal((ran.output or {}).get("error", {}).get("retryable"), True, "the document is the run's output")
    with check.step("a retried run's duration is that of every attempt"):
        ran = await _run(ctx, user, "slow_retry", _SLOW_THEN_TEMPFAIL_ONCE)
        check.equal((ran.status, ran.attempts), (FFToolRunStatus.SUCCESS, 2), "exit 75 once, then a success on the second attempt")
        check.that(ran.duration_ms >= 1500, "duration_ms counts the first attempt's 1.5 s too", f"{ran.duration_ms} ms")
    with check.step("refusals before a run name their field"):
        tool = f"bad_paths_{_slug(user)}"
        try:
            ctx.tools.register_tool(FFToolDefinitionDTO(name=tool, description="component suite: path argument not a parameter",
                                                        argv=(sys.executable, "-c", "print('{}')"), parameters=_NoArgs,
                                                        path_arguments=("where",)))  # fmt: skip
            check.that(False, "a path argument that is not a parameter is refused at registration", "it was registered")
            ctx.tools.unregister_tool(tool)
        except FFValidationError as exc:
            check.equal(exc.field, "path_arguments", "the refusal names field path_arguments")
        try:
            await ctx.tools.execute_tool(user, "word_count", {"text": "a b"}, files={"in.txt": "not bytes"})  # type: ignore[dict-item]
            check.that(False, "a staged file that is not bytes is refused", "it ran")
        except FFValidationError as exc:
            check.equal(exc.field, "files", "the refusal names field files")
    with check.step("a run's id and its arguments as plain JSON data; a tool name that is not text is not found"):
        typed = {"day": "2026-12-07", "pair": [1, 2], "colour": "red"}
        ran = await _run(ctx, user, "typed", "print('{}')", typed, _TypedArgs)
        check.that(re.fullmatch(r"run-[0-9a-f]{32}", ran.run_id) is not None, "the run id is run- and 32 hex digits", ran.run_id)
        check.equal((ran.arguments, [type(v).__name__ for v in ran.arguments.values()]), (typed, ["str", "list", "str"]),
                    "the result's arguments are the validated JSON data (no date, tuple or enum objects)")
        check.equal((await ctx.tools.get_run(user, ran.run_id)).arguments, ran.arguments, "get_run reads back the same arguments")
        try:
            await ctx.tools.execute_tool(user, ["word_count"], {"text": "a b"})  # type: ignore[arg-type]
            check.that(False, "a tool name that is a list is not found", "it ran")
        except FFNotFoundError as exc:
            check.equal((exc.kind, exc.key), ("tool", "['word_count']"), "not found, naming kind tool and the name given")


_FAILS = "import sys\nsys.exit(1)\n"
_RATE, _THRESHOLD = 2, 2  # small enough to reach in a few runs; refill is 1 run per 30 s of the clock


@REGISTRY.test("tools policy: the per-user rate limit and the per-tool breaker refuse, and the refusals are logged",
               components=("tools",), depends_on=("tools_round_trip",))
async def tools_policy_contracts(ctx: FFTestContext, check: FFChecker) -> None:
    """README: "permission, per-user rate limit and per-tool circuit breaker return status refused,
    logged". A second tools manager on this root with ``rate_limit_per_minute=2`` and
    ``breaker_failure_threshold=2``: a user's third run at once is refused, another user's is not;
    a tool's breaker opens at exactly its second consecutive failure and refuses that tool only;
    each refusal started nothing and is in the user's runs."""
    settings = ctx.config.tools.model_copy(update={"rate_limit_per_minute": _RATE, "breaker_failure_threshold": _THRESHOLD})
    tools = ctx.fresh_manager("tools", config=ctx.config.model_copy(update={"tools": settings}))
    await tools.initialize()
    busy, other, first, second, third = (ctx.new_user(p) for p in ("rate", "rate", "brk", "brk", "brk"))
    failing = f"always_fails_{_slug(first)}"
    try:
        with check.step("the per-user rate limit"):
            runs = [await tools.execute_tool(busy, "word_count", {"text": "a b"}) for _ in range(_RATE + 1)]
            check.equal([r.status for r in runs], [FFToolRunStatus.SUCCESS] * _RATE + [FFToolRunStatus.REFUSED],
                        f"{_RATE} runs at once pass, run {_RATE + 1} is refused")
            refused = runs[-1]
            check.equal((refused.refusal, refused.attempts, refused.exit_code), (FFToolRefusal.RATE_LIMITED, 0, None),
                        "refused as rate_limited, nothing started")
            ran = await tools.execute_tool(other, "word_count", {"text": "a b"})
            check.equal(ran.status, FFToolRunStatus.SUCCESS, "another user's run is not held to the first user's limit")
            logged = {r.run_id: r for r in await tools.list_runs(busy, limit=10)}
            check.equal(set(logged), {r.run_id for r in runs}, "every run and the refusal are in the user's runs")
            check.equal((logged.get(refused.run_id) or runs[0]).status, FFToolRunStatus.REFUSED, "the refusal is logged as refused")
        with check.step("the per-tool circuit breaker"):
            tools.register_tool(FFToolDefinitionDTO(name=failing, description="component suite: exits 1",
                                                    argv=(sys.executable, "-c", _FAILS), parameters=_NoArgs))  # fmt: skip
            statuses = [(await tools.execute_tool(user, failing, {})).status for user in (first, second)]
            check.equal(statuses, [FFToolRunStatus.ERROR] * _THRESHOLD, f"the first {_THRESHOLD} failures run")
            check.equal(tools.breaker_state(failing), FFBreakerState.OPEN, f"the breaker is open after {_THRESHOLD} consecutive failures")
            refused = await tools.execute_tool(third, failing, {})
            check.equal((refused.status, refused.refusal, refused.attempts), (FFToolRunStatus.REFUSED, FFToolRefusal.CIRCUIT_OPEN, 0),
                        "the next run of that tool is refused as circuit_open, nothing started")
            check.equal(tools.health().details.get("open_breakers"), [failing], "health() names the open breaker")
            ran = await tools.execute_tool(third, "word_count", {"text": "a b"})
            check.equal(ran.status, FFToolRunStatus.SUCCESS, "the open breaker refuses that tool only")
            logged = [r.run_id for r in await tools.list_runs(third, limit=10)]
            check.that(refused.run_id in logged, "the circuit_open refusal is in the user's runs", f"{logged}")
    finally:
        await tools.shutdown()  # its registry and breakers are its own: nothing to undo on the run's manager
