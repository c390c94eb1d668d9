"""Named message ids across processes: "is the id new?" and "append it" are one step under the
log's lock, so two processes retrying the same messages store each exactly once."""

from __future__ import annotations

import asyncio
import multiprocessing
from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager
from ff_utils.ff_json_utils import FFBadLine, ff_read_jsonl

IDS = 400
PROCESSES = 3

pytestmark = pytest.mark.slow


def _retry_everything(root: str, session_id: str, start: object) -> None:
    async def main() -> None:
        async with FFMemoryLayerManager(load_config(base_path=Path(root), environ={})) as memory:
            start.wait(60)  # type: ignore[attr-defined]  # all begin together, to contend
            for i in range(IDS):
                await memory.add_message("u", session_id, "user", f"message {i}", message_id=f"msg_{i:04d}")

    asyncio.run(main())


async def test_processes_retrying_the_same_ids_store_each_message_once(tmp_path: Path) -> None:
    root = tmp_path / "data"
    async with FFMemoryLayerManager(load_config(base_path=root, environ={})) as memory:
        session = await memory.create_session("u", title="shared")
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    workers = [ctx.Process(target=_retry_everything, args=(str(root), session.session_id, start)) for _ in range(PROCESSES)]
    try:
        for p in workers:
            p.start()
        start.set()
        for p in workers:
            p.join(120)
        assert [p.exitcode for p in workers] == [0] * PROCESSES
    finally:
        for p in workers:
            if p.is_alive():
                p.kill()
                p.join(10)
    bad: list[FFBadLine] = []
    log = root / "users" / "u" / "sessions" / session.session_id / "messages.jsonl"
    ids = [r["message_id"] for r in ff_read_jsonl(log, on_bad_line=bad.append)]
    assert bad == []
    assert sorted(ids) == [f"msg_{i:04d}" for i in range(IDS)]  # each once: no duplicate, none lost
