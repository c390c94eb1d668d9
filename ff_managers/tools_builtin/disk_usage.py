"""disk_usage (dangerous): size of the user's tool workspace, i.e. every run's work directory.

It is the one built-in that looks outside its own working directory (at the user's ``tools/work``,
which its definition asks the sandbox to mount read-only at ``FF_TOOL_WORKSPACE``), which is why
it is marked dangerous and needs an explicit grant. It only ``lstat``s entries: no file is
opened and no symlink is followed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ._protocol import run_tool

__all__ = ["measure"]


def measure(workspace: Path) -> dict[str, Any]:
    runs = files = total = 0
    largest: tuple[int, str] = (0, "")
    for entry in os.scandir(workspace):
        if not entry.is_dir(follow_symlinks=False):
            continue
        runs += 1
        run_bytes = 0
        for directory, _dirs, names in os.walk(entry.path, followlinks=False):
            for name in names:
                run_bytes += os.lstat(os.path.join(directory, name)).st_size
                files += 1
        total += run_bytes
        largest = max(largest, (run_bytes, entry.name))
    return {"runs": runs, "files": files, "bytes": total, "largest_run": largest[1] or None, "largest_run_bytes": largest[0]}


def _handle(args: dict[str, Any]) -> dict[str, Any]:
    workspace = os.environ.get("FF_TOOL_WORKSPACE")
    return measure(Path(workspace) if workspace else Path(os.getcwd()).resolve().parent)


if __name__ == "__main__":
    run_tool(_handle)
