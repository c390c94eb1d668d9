"""create_task: build a task record, write it as ``task.json`` in the working directory, return it.

The record is what the caller stores (the personal-assistant and task-agent use cases keep it
through the memory manager); the copy in the run's work dir documents what this run produced.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from typing import Any

from ._protocol import ToolError, run_tool

__all__ = ["build_task"]

PRIORITIES = ("low", "normal", "high", "urgent")


def build_task(args: dict[str, Any], *, now: dt.datetime, run_id: str | None) -> dict[str, Any]:
    title = args.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        raise ToolError("'title' must be 1-200 characters")
    priority = args.get("priority", "normal")
    if priority not in PRIORITIES:
        raise ToolError(f"'priority' must be one of {', '.join(PRIORITIES)}")
    due = args.get("due")
    if due is not None:
        try:
            due = dt.date.fromisoformat(due).isoformat()
        except (TypeError, ValueError) as exc:
            raise ToolError("'due' must be a date YYYY-MM-DD") from exc
    depends_on = args.get("depends_on", [])
    if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
        raise ToolError("'depends_on' must be a list of task ids")
    return {
        "task_id": f"task-{uuid.uuid4().hex[:16]}",
        "title": title.strip(),
        "notes": str(args.get("notes") or ""),
        "priority": priority,
        "due": due,
        "depends_on": depends_on,
        "tags": [str(t) for t in args.get("tags", [])],
        "status": "open",
        "created_at": now.isoformat(),
        "created_by_run": run_id,
    }


def _handle(args: dict[str, Any]) -> dict[str, Any]:
    task = build_task(args, now=dt.datetime.now(dt.timezone.utc), run_id=os.environ.get("FF_TOOL_RUN_ID"))
    with open("task.json", "w", encoding="utf-8") as handle:
        json.dump(task, handle, ensure_ascii=False, indent=2)
    return task


if __name__ == "__main__":
    run_tool(_handle)
