"""Survivors of the 2026-12-07 uniform sample of ``_tools``, pinned by behaviour.

A tool name that is not a string is simply not found; validated arguments come back as plain JSON
data; a run's id is ``run-`` and 32 hex digits; the run log holds each result in its JSON form
(the timestamp as pydantic writes it, ``Z``); an unsandboxed tool inherits no descriptor of the
manager's but its three standard streams; and the /proc walk of a process's children does not
stop at a thread that ended while it walked. The equivalent survivors of the same sample are
listed in docs/mutation/equivalent/_tools/fresh-review.toml.
"""

from __future__ import annotations

import enum
import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from pydantic import BaseModel

from ff_class_configs import load_config
from ff_class_configs.ff_tool_dtos import FFToolDefinitionDTO
from ff_managers import FFToolExecutionManager
from ff_managers._tools.registry import FFToolRegistry
from ff_managers._tools.sandbox_files import ff_read_packed, ff_write_packed
from ff_managers._tools.watchdog import ff_proc_children
from ff_utils.ff_errors import FFNotFoundError
from tests._tool_helpers import code_tool

_FDS = """
import json, os
fds = {}
for fd in sorted(int(x) for x in os.listdir("/proc/self/fd")):
    try:
        fds[fd] = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # the descriptor listdir itself used, closed by now
        pass
print(json.dumps(fds))
"""


def _unsandboxed(root: Path) -> FFToolExecutionManager:
    settings = {"bwrap_path": "/nonexistent/bwrap", "allow_unsandboxed": True}
    return FFToolExecutionManager(load_config(base_path=root, environ={}, overrides={"tools": settings}))


# ---------------------------------------------------------------- the registry


def test_a_tool_name_that_is_not_a_string_is_not_found() -> None:
    """``FFToolRegistry.get`` 3 (the ``isinstance`` check dropped: a list is unhashable, TypeError)."""
    registry = FFToolRegistry()
    registry.register(code_tool("echo", "print('{}')"))
    for name in (["echo"], {"echo": 1}, 7):
        with pytest.raises(FFNotFoundError) as missing:
            registry.get(name)  # type: ignore[arg-type]
        assert (str(missing.value), missing.value.kind, missing.value.key) == (f"no tool named {name!r}", "tool", str(name))


class _Colour(enum.Enum):
    RED = "red"


class _TypedArgs(BaseModel):
    day: date
    pair: tuple[int, int]
    colour: _Colour
    note: str | None = None


def test_validated_arguments_are_plain_json_data() -> None:
    """``FFToolRegistry.validate_arguments`` 19 (``mode="JSON"`` dumps Python objects: a date, a tuple, an enum)."""
    definition = FFToolDefinitionDTO(name="typed", description="typed", argv=(sys.executable, "-c", "pass"), parameters=_TypedArgs)
    validated = FFToolRegistry.validate_arguments(definition, {"day": "2026-12-07", "pair": [1, 2], "colour": "red"})
    assert validated == {"day": "2026-12-07", "pair": [1, 2], "colour": "red"}
    assert [type(v) for v in validated.values()] == [str, list, str]


# ---------------------------------------------------------------- runs and the run log


async def test_a_run_has_a_run_id_and_the_log_holds_its_json_form(tmp_path: Path) -> None:
    """``FFToolRuns.plan`` 23 (the id's prefix) and ``FFToolRuns._log`` 7, 8 (the result dumped in Python mode)."""
    root = tmp_path / "root"
    tools = _unsandboxed(root)
    tools.register_tool(code_tool("echo", "print('{\"ok\": 1}')"))
    result = await tools.execute_tool("alice", "echo", {})
    assert result.ok, result
    assert re.fullmatch(r"run-[0-9a-f]{32}", result.run_id), result.run_id
    lines = (root / "users" / "alice" / "tools" / "runs.jsonl").read_bytes().splitlines()
    assert len(lines) == 1
    stored = json.loads(lines[0])
    assert stored == result.model_dump(mode="json")
    assert stored["started_at"].endswith("Z") and stored["status"] == "success"
    assert await tools.get_run("alice", result.run_id) == result


async def test_an_unsandboxed_tool_inherits_only_its_standard_streams(tmp_path: Path) -> None:
    """``ff_run_sandboxed`` 13 (the copy-back memfd made for an unsandboxed run too: the tool inherited it)."""
    tools = _unsandboxed(tmp_path / "root")
    tools.register_tool(code_tool("fds", _FDS))
    result = await tools.execute_tool("alice", "fds", {})
    assert result.ok and result.sandbox == "none", result
    assert sorted(result.output) == ["0", "1", "2"], result.output


# ---------------------------------------------------------------- the watchdog's /proc walk


def test_the_children_walk_goes_on_past_a_thread_that_ended(monkeypatch: pytest.MonkeyPatch) -> None:
    """``ff_proc_children`` 16 (``continue`` -> ``break``: the threads listed after a gone one were not read)."""
    pid = os.getpid()
    if ff_proc_children(pid) is None:
        pytest.skip("the kernel has no /proc/<pid>/task/<tid>/children")
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        real_listdir = os.listdir
        task_dir = f"/proc/{pid}/task"

        def listdir(path: str) -> list[str]:  # a thread that ended between the listing and its file
            names = real_listdir(path)
            return ["2147483647", *names] if path == task_dir else names

        monkeypatch.setattr(os, "listdir", listdir)
        assert child.pid in (ff_proc_children(pid) or [])
    finally:
        monkeypatch.undo()
        child.stdin.close()  # type: ignore[union-attr]
        child.wait(timeout=10)


# ---------------------------------------------------------------- file frames


def test_read_back_keeps_every_relative_name_and_drops_the_absolute_ones() -> None:
    """``_safe_relative`` 9 (the absolute-name check read ``startswith("XX/XX")``: such a relative name was dropped)."""
    files = [("a.txt", b"1"), ("/etc/passwd", b"2"), ("XX/XX.txt", b"3"), ("Sub/dir/f", b"4"), ("/", b"5"), ("XX/XX", b"6")]
    fd = ff_write_packed(files)
    try:
        assert ff_read_packed(fd, 1024) == [("a.txt", b"1"), ("XX/XX.txt", b"3"), ("Sub/dir/f", b"4"), ("XX/XX", b"6")]
    finally:
        os.close(fd)
