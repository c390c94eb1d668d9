"""Workload: a trivial tool run, end to end, against a bare bubblewrap ``python -c pass``.

Ours: ``FFToolExecutionManager.execute_tool`` of a registered tool whose argv is
``python -c "print('{}')"`` (checks, bwrap sandbox with the supervisor, limits, run log). Peer:
*the same command line* a run of that manager spawns (``unshare --net`` for its network
namespace, then bwrap with every namespace, capability, mount, the sized tmpfs and the
environment), with the supervisor and its tool replaced by
``python -c pass``, started with ``subprocess.run``: the floor of any sandboxed run. The command
line is taken from a real run (the event loop's ``subprocess_exec`` is observed once), so the peer
cannot drift from what the sandbox does. The Performance issue's target is the *difference* of
the p95s, at most 50 ms, so ours' run times tool runs and bare runs interleaved and reports both
p95s and their difference.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ff_class_configs import load_config
from ff_class_configs.ff_tool_dtos import FFToolDefinitionDTO
from ff_managers import FFToolExecutionManager
from testing.bench._core import FFBenchCase, FFBenchSizes, FFComparisonSpec, FFMetric

__all__ = ["COMPARISONS", "NAME", "bare_bwrap_seconds", "sandbox_floor_command", "workload"]

NAME = "tool_run"
RUNS = 30
_P95 = FFMetric("p95_ms", "ms", False)
_OVERHEAD = FFMetric("overhead_p95_ms", "ms", False)
COMPARISONS = (FFComparisonSpec("overhead_p95_ms", "ours", None, "<=", 50.0),)


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18] * 1000 if len(samples) > 1 else samples[0] * 1000


def _manager(root: Path) -> FFToolExecutionManager:
    tools = FFToolExecutionManager(load_config(base_path=root, environ={}, overrides={"tools": {"keep_work_dirs": False}}))
    tools.register_tool(_definition(), replace=True)
    return tools


def _floor_of(spawned: Sequence[str]) -> list[str]:
    """``spawned`` ([unshare --net --] bwrap OPTIONS -- SUPERVISOR...) with ``python -c pass`` after bwrap's ``--``."""
    names = [Path(part).name for part in spawned]
    if "bwrap" not in names or "--" not in spawned[names.index("bwrap") :]:
        raise RuntimeError(f"the tool run was not started through bwrap: {list(spawned)[:3]}")
    end = list(spawned).index("--", names.index("bwrap"))
    return [*spawned[: end + 1], sys.executable, "-c", "pass"]


async def _capture_floor(tools: FFToolExecutionManager) -> list[str]:
    """Run the trivial tool once, recording the command line the manager spawned."""
    loop = asyncio.get_running_loop()
    spawn = loop.subprocess_exec
    seen: list[str] = []

    async def recording(protocol_factory: Any, *args: Any, **kwargs: Any) -> Any:
        if not seen:
            seen.extend(str(a) for a in args)
        return await spawn(protocol_factory, *args, **kwargs)

    loop.subprocess_exec = recording  # type: ignore[method-assign]  # observed on this loop only
    try:
        result = await tools.execute_tool("bench", "bench_trivial", {})
    finally:
        del loop.subprocess_exec  # the class's method again
    if not result.ok:
        raise RuntimeError(f"trivial tool run failed: {result.error}")
    return _floor_of(seen)


def sandbox_floor_command(root: Path) -> list[str]:
    """The bare peer's command: the bwrap argv of a real tool run in ``root``, running ``python -c pass``."""

    async def capture() -> list[str]:
        tools = _manager(root)
        try:
            return await _capture_floor(tools)
        finally:
            await tools.shutdown()

    return asyncio.run(capture())


def bare_bwrap_seconds(command: Sequence[str]) -> float:
    """One bare sandboxed ``python -c pass``: bwrap alone, no supervisor, no manager."""
    started = time.perf_counter()
    subprocess.run(list(command), check=True, env={}, capture_output=True)
    return time.perf_counter() - started


def _definition() -> FFToolDefinitionDTO:
    from pydantic import BaseModel

    class _NoArgs(BaseModel):
        pass

    return FFToolDefinitionDTO(name="bench_trivial", description="bench", argv=(sys.executable, "-c", "print('{}')"), parameters=_NoArgs)


def _ours(root: Path) -> dict[str, float]:
    async def measure() -> tuple[list[float], list[float]]:
        tools = _manager(root)
        runs, bare = [], []
        try:
            floor = await _capture_floor(tools)  # also the sandbox probe, once per manager
            for _ in range(RUNS):
                started = time.perf_counter()
                result = await tools.execute_tool("bench", "bench_trivial", {})
                runs.append(time.perf_counter() - started)
                if not result.ok:
                    raise RuntimeError(f"trivial tool run failed: {result.error}")
                bare.append(await asyncio.to_thread(bare_bwrap_seconds, floor))
        finally:
            await tools.shutdown()
        return runs, bare

    runs, bare = asyncio.run(measure())
    return {"p95_ms": _p95(runs), "overhead_p95_ms": _p95(runs) - _p95(bare)}


def _bare(root: Path) -> dict[str, float]:
    floor = sandbox_floor_command(root)
    return {"p95_ms": _p95([bare_bwrap_seconds(floor) for _ in range(RUNS)])}


@contextlib.contextmanager
def workload(sizes: FFBenchSizes, work: Path) -> Iterator[list[FFBenchCase]]:
    root = work / "tool_root"
    cases = [
        FFBenchCase("ours", "ours", (_P95, _OVERHEAD), lambda: _ours(root), f"execute_tool of python -c print('{{}}'), {RUNS} runs"),
        FFBenchCase("bare_bwrap", "bubblewrap", (_P95,), lambda: _bare(root), f"bwrap (a run's own argv) python -c pass, {RUNS} runs"),
    ]
    try:
        yield cases
    finally:
        shutil.rmtree(root, ignore_errors=True)
