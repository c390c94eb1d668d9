"""Workload: a trivial tool run, end to end, against a bare bubblewrap ``python -c pass``.

Ours: ``FFToolExecutionManager.execute_tool`` of a registered tool whose argv is
``python -c "print('{}')"`` (checks, bwrap sandbox with the supervisor, limits, run log). Peer: a
bare bubblewrap sandbox with the same namespaces and the same kind of mounts (``/usr``, the
Python installation, a sized tmpfs) running ``python -c pass`` directly, started with
``subprocess.run``: the floor of any sandboxed run. The
Performance issue's target is the *difference* of the p95s, at most 50 ms, so ours' run times
tool runs and bare runs interleaved and reports both p95s and their difference.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from ff_class_configs import load_config
from ff_class_configs.ff_tool_dtos import FFToolDefinitionDTO
from ff_managers import FFToolExecutionManager
from testing.bench._core import FFBenchCase, FFBenchSizes, FFComparisonSpec, FFMetric

__all__ = ["NAME", "COMPARISONS", "workload", "bare_bwrap_seconds"]

NAME = "tool_run"
RUNS = 30
_P95 = FFMetric("p95_ms", "ms", False)
_OVERHEAD = FFMetric("overhead_p95_ms", "ms", False)
COMPARISONS = (FFComparisonSpec("overhead_p95_ms", "ours", None, "<=", 50.0),)


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18] * 1000 if len(samples) > 1 else samples[0] * 1000


def _bare_command() -> list[str]:
    command = [shutil.which("bwrap") or "/usr/bin/bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
    command += ["--die-with-parent", "--new-session", "--cap-drop", "ALL", "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib64"):
        if os.path.islink(f"/{name}"):
            command += ["--symlink", os.readlink(f"/{name}"), f"/{name}"]
    command += ["--proc", "/proc", "--dev", "/dev", "--size", str(64 * 1024 * 1024), "--tmpfs", "/ffwork"]
    for root in sorted({sys.prefix, sys.base_prefix, str(Path(os.path.realpath(sys.executable)).parent.parent)}):
        if not root.startswith("/usr"):
            command += ["--ro-bind", root, root]
    return [*command, "--chdir", "/ffwork", "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", sys.executable, "-c", "pass"]


def bare_bwrap_seconds() -> float:
    """One bare sandboxed ``python -c pass``: bwrap alone, no supervisor, no manager."""
    command = _bare_command()
    started = time.perf_counter()
    subprocess.run(command, check=True, env={}, capture_output=True)
    return time.perf_counter() - started


def _definition() -> FFToolDefinitionDTO:
    from pydantic import BaseModel

    class _NoArgs(BaseModel):
        pass

    return FFToolDefinitionDTO(name="bench_trivial", description="bench", argv=(sys.executable, "-c", "print('{}')"), parameters=_NoArgs)


def _ours(root: Path) -> dict[str, float]:
    async def measure() -> tuple[list[float], list[float]]:
        tools = FFToolExecutionManager(load_config(base_path=root, environ={}, overrides={"tools": {"keep_work_dirs": False}}))
        tools.register_tool(_definition(), replace=True)
        runs, bare = [], []
        try:
            await tools.execute_tool("bench", "bench_trivial", {})  # the sandbox probe, once per manager
            for _ in range(RUNS):
                started = time.perf_counter()
                result = await tools.execute_tool("bench", "bench_trivial", {})
                runs.append(time.perf_counter() - started)
                if not result.ok:
                    raise RuntimeError(f"trivial tool run failed: {result.error}")
                bare.append(await asyncio.to_thread(bare_bwrap_seconds))
        finally:
            await tools.shutdown()
        return runs, bare

    runs, bare = asyncio.run(measure())
    return {"p95_ms": _p95(runs), "overhead_p95_ms": _p95(runs) - _p95(bare)}


def _bare() -> dict[str, float]:
    return {"p95_ms": _p95([bare_bwrap_seconds() for _ in range(RUNS)])}


@contextlib.contextmanager
def workload(sizes: FFBenchSizes, work: Path) -> Iterator[list[FFBenchCase]]:
    root = work / "tool_root"
    cases = [
        FFBenchCase("ours", "ours", (_P95, _OVERHEAD), lambda: _ours(root), f"execute_tool of python -c print('{{}}'), {RUNS} runs"),
        FFBenchCase("bare_bwrap", "bubblewrap", (_P95,), _bare, f"bwrap (same mounts) python -c pass, {RUNS} runs"),
    ]
    try:
        yield cases
    finally:
        shutil.rmtree(root, ignore_errors=True)
