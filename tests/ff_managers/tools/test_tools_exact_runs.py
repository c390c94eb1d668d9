"""Exact behaviour of a run's surroundings: its environment, its staged files, its kept outputs,
and the program files a registered command names, in the sandbox and explicitly without it.

Grown from the survivors of the first ``_tools`` mutation run (docs/MUTATION.md, ``_tools``):
the environment a tool sees (``HOME``, ``FF_TOOL_WORKSPACE``) was only checked in the sandbox, the
staged files of an unsandboxed run were never read back, outputs in sub-folders and names the
store refuses were never kept, and no test registered a tool by its script's absolute path.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_tool_dtos import FFToolDefinitionDTO, FFToolLimitsDTO
from ff_managers._core.bwrap import FF_SANDBOX_WORK_DIR
from ff_managers.ff_tool_execution_manager import FFToolExecutionManager
from tests._tool_helpers import AnyArgs, code_tool

_PROBE = """
import json, os
staged = open("in.txt").read() if os.path.exists("in.txt") else None
print(json.dumps({"home": os.environ["HOME"], "tmp": os.environ["TMPDIR"], "cwd": os.getcwd(),
                  "workspace": os.environ.get("FF_TOOL_WORKSPACE"), "staged": staged}))
"""

_WRITER = """
import os
os.makedirs("sub", exist_ok=True)
open("sub/out.txt", "w").write("nested")
open("a\\\\bad.txt", "w").write("refused by the store")
open("z.txt", "w").write("last")
print("{}")
"""


def _tools(root: Path, *, sandboxed: bool, **settings: Any) -> FFToolExecutionManager:
    if not sandboxed:  # explicitly allowed by config: a bwrap that does not exist
        settings = {"bwrap_path": "/nonexistent/bwrap", "allow_unsandboxed": True, **settings}
    return FFToolExecutionManager(load_config(base_path=root, environ={}, overrides={"tools": settings}))


def _work_dir(root: Path, run_id: str) -> Path:
    return root.resolve() / "users" / "alice" / "tools" / "work" / run_id


async def test_an_unsandboxed_run_sees_its_work_dir_its_staged_file_and_its_workspace(tmp_path: Path) -> None:
    root = tmp_path / "root"
    tools = _tools(root, sandboxed=False)
    tools.register_tool(code_tool("probe", _PROBE, workspace_view=True))
    result = await tools.execute_tool("alice", "probe", {}, files={"in.txt": b"staged bytes"})
    assert result.ok and result.sandbox == "none", result
    work = _work_dir(root, result.run_id)
    assert result.output == {
        "home": str(work), "tmp": str(work), "cwd": str(work), "workspace": str(work.parent), "staged": "staged bytes",
    }  # fmt: skip


async def test_a_sandboxed_run_sees_its_own_work_dir_and_the_workspace_mount(tmp_path: Path) -> None:
    tools = _tools(tmp_path / "root", sandboxed=True)
    tools.register_tool(code_tool("probe", _PROBE, workspace_view=True))
    tools.register_tool(code_tool("plain", _PROBE))
    result = await tools.execute_tool("alice", "probe", {}, files={"in.txt": b"staged bytes"})
    assert result.ok and result.sandbox == "bwrap", result
    work = FF_SANDBOX_WORK_DIR
    assert result.output == {"home": work, "tmp": work, "cwd": work, "workspace": "/workspace", "staged": "staged bytes"}
    plain = await tools.execute_tool("alice", "plain", {})
    assert plain.ok and plain.output["workspace"] is None and plain.output["staged"] is None


async def test_kept_outputs_come_back_with_their_folders_and_a_refused_name_skips_only_itself(tmp_path: Path) -> None:
    root = tmp_path / "root"
    tools = _tools(root, sandboxed=True, keep_work_dirs=True)
    tools.register_tool(code_tool("writer", _WRITER))
    result = await tools.execute_tool("alice", "writer", {})
    assert result.ok, result
    work = _work_dir(root, result.run_id)
    kept = sorted(str(path.relative_to(work)) for path in work.rglob("*") if path.is_file())
    assert kept == ["sub/out.txt", "z.txt"]  # "a\\bad.txt" (a backslash) is refused by the store and skipped
    assert (work / "sub" / "out.txt").read_text() == "nested" and (work / "z.txt").read_text() == "last"


async def test_a_tool_registered_by_its_script_path_finds_the_script_in_the_sandbox(tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    script = scripts / "echo_tool.py"
    script.write_text("import json, sys\nprint(json.dumps({'got': json.load(sys.stdin)}))\n")
    tools = _tools(tmp_path / "root", sandboxed=True)
    tools.register_tool(
        FFToolDefinitionDTO(
            name="echo_script", description="a tool registered as python <script>", argv=(sys.executable, str(script)),
            parameters=AnyArgs, limits=FFToolLimitsDTO(),
        )
    )  # fmt: skip
    result = await tools.execute_tool("alice", "echo_script", {"x": 1})
    assert result.ok and result.sandbox == "bwrap", result
    assert result.output == {"got": {"x": 1}}
    assert json.loads(result.model_dump_json())["output"] == {"got": {"x": 1}}


_FILL = """
import sys
mib = 1024 * 1024
open("a_full.bin", "wb").write(b"a" * mib)  # exactly the copy-back cap
open("b_over.bin", "wb").write(b"b")  # one byte over it: not copied back
sys.stderr.write("e" * 1000 + "TAIL")
print("{}")
"""


async def test_the_copy_back_cap_is_one_mib_per_mb_and_the_stderr_tail_its_configured_bytes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    tools = _tools(root, sandboxed=True, keep_work_dirs=True, sandbox_copy_back_mb=1, stderr_tail_bytes=256)
    tools.register_tool(code_tool("fill", _FILL))
    result = await tools.execute_tool("alice", "fill", {})
    assert result.ok, result
    work = _work_dir(root, result.run_id)
    assert sorted(p.name for p in work.iterdir()) == ["a_full.bin"]
    assert (work / "a_full.bin").stat().st_size == 1024 * 1024
    assert result.stderr_tail == ("e" * 1000 + "TAIL")[-256:]


async def test_the_configured_bwrap_found_on_path_starts_the_run_under_a_uid_of_the_configured_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "bin"
    folder.mkdir()
    marker = tmp_path / "bwrap-calls.txt"
    wrapper = folder / "ff-test-bwrap"  # a bwrap of its own name, found on PATH, that says it was used
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {marker}\nexec /usr/bin/bwrap "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
    tools = _tools(tmp_path / "root", sandboxed=True, bwrap_path="ff-test-bwrap", sandbox_uid_base=300_000, sandbox_uid_count=1000)
    tools.register_tool(code_tool("whoami", "import json, os; print(json.dumps({'uid': os.getuid(), 'marker': 'uid-probe-7f3'}))"))
    result = await tools.execute_tool("alice", "whoami", {})
    assert result.ok and result.sandbox == "bwrap", result
    assert 300_000 <= result.output["uid"] < 301_000
    assert any("uid-probe-7f3" in line for line in marker.read_text().splitlines())  # the run itself went through it
