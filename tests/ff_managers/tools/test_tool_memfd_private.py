"""A tool run's staged input and captured output stay private to the run, also from the manager's
other children.

The run passes two memfds to its supervisor (``pass_fds``): the staged files and the output
files. Created without ``MFD_CLOEXEC`` they were inheritable in the manager's process for the
whole run, so any child the application spawned meanwhile without ``close_fds`` (``os.system``,
``subprocess`` with ``close_fds=False``) got a descriptor of another user's files. Noticed in the
review of the ``_tools`` sample of seed 20261209 (``ff_run_sandboxed`` 20).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from ff_class_configs import load_config
from ff_managers.ff_tool_execution_manager import FFToolExecutionManager
from tests._tool_helpers import code_tool

_LIST_FDS = "import os\nfor fd in os.listdir('/proc/self/fd'):\n    try: print(os.readlink(f'/proc/self/fd/{fd}'))\n    except OSError: pass\n"


def _tool_memfds_here() -> dict[int, str]:
    """This process's open memfds of tool runs, by descriptor."""
    found = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
        if "memfd:ff-tool-" in link:
            found[int(name)] = link
    return found


async def test_a_child_spawned_during_a_run_inherits_none_of_the_runs_files(tmp_path: Path) -> None:
    """The output memfd stays open in the manager for the whole run (the staged-input one only
    until the supervisor has started): a child spawned meanwhile must get neither."""
    tools = FFToolExecutionManager(load_config(base_path=tmp_path / "root", environ={}))
    tools.register_tool(code_tool("napper", "import time; time.sleep(2.0); print('{}')"))
    before = _tool_memfds_here()
    run = asyncio.create_task(tools.execute_tool("alice", "napper", {}, files={"secret.txt": b"alice's file"}))
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30  # bounded; the output memfd lives from before the spawn to after the 2 s nap
        while not (_tool_memfds_here().keys() - before.keys()) and not run.done() and loop.time() < deadline:
            await asyncio.sleep(0.01)
        held = {fd: link for fd, link in _tool_memfds_here().items() if fd not in before}
        assert any("ff-tool-out" in link for link in held.values()), f"the run's output memfd was not seen: {held}"
        assert [fd for fd in held if os.get_inheritable(fd)] == []
        child = subprocess.run([sys.executable, "-c", _LIST_FDS], close_fds=False, capture_output=True, text=True, timeout=30)
        assert child.returncode == 0
        assert [line for line in child.stdout.splitlines() if "ff-tool-" in line] == []
    finally:
        result = await run
    assert result.status.value == "success"
