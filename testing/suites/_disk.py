"""What the component and failure suites share: reading the test data root directly.

A suite reads its results back twice where it matters: through the managers' APIs and from the
files on disk (with the ff_utils readers, never through a manager), so a manager that answers
from a cache what it never wrote is caught. Reads run in a worker thread, like the managers' own.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from ff_utils.ff_file_ops import ff_read_bytes, ff_safe_path
from ff_utils.ff_json_utils import FFBadLine, ff_read_jsonl
from testing._context import FFTestContext

__all__ = ["data_path", "read_jsonl", "read_bytes", "bad_lines", "session_log", "analytics_records"]


def data_path(ctx: FFTestContext, *parts: str) -> Path:
    """A path under the test data root, checked like the managers check theirs."""
    return ff_safe_path(ctx.root, *parts)


def session_log(ctx: FFTestContext, user_id: str, session_id: str) -> Path:
    return data_path(ctx, "users", user_id, "sessions", session_id, "messages.jsonl")


async def read_jsonl(path: Path) -> list[Any]:
    """Every readable record of a JSONL file ([] when it does not exist)."""
    return await asyncio.to_thread(lambda: list(ff_read_jsonl(path)))


async def bad_lines(path: Path) -> list[FFBadLine]:
    """The lines of a JSONL file a reader would skip (corrupt or torn)."""
    found: list[FFBadLine] = []
    await asyncio.to_thread(lambda: sum(1 for _ in ff_read_jsonl(path, on_bad_line=found.append)))
    return found


async def read_bytes(path: Path) -> bytes:
    return await asyncio.to_thread(ff_read_bytes, path)


async def analytics_records(ctx: FFTestContext, user_id: str) -> list[dict[str, Any]]:
    """Every analytics event stored for ``user_id``, oldest day first."""
    folder = data_path(ctx, "users", user_id, "analytics", "events")

    def read() -> list[dict[str, Any]]:
        if not folder.is_dir():
            return []
        return [record for day in sorted(folder.glob("*.jsonl")) for record in ff_read_jsonl(day)]

    return await asyncio.to_thread(read)
