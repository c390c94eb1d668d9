"""Workload 2, recent history: the last 50 messages of a session holding 1,000 or 200,000.

Ours: ``FFMemoryLayerManager.get_messages(user, session, limit=50)`` (one read of the log's last
64 KiB, the page validated in one pydantic-core call: :mod:`ff_managers._memory.history_page`;
:class:`FFChatMessageDTO` objects, oldest first). Peer: the same records in SQLite
(``data`` as the same JSON, an index on ``(session_id, id)``), ``ORDER BY id DESC LIMIT 50``, the
rows parsed into the same :class:`FFChatMessageDTO` objects and put oldest first. Both run the
read in a worker thread (``asyncio.to_thread``, as our manager and aiosqlite do), so the
comparison is of the storage, not of the calling convention. The figure is the median latency
of ``history_reads`` calls in one repetition.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import orjson

from ff_class_configs import load_config
from ff_class_configs.ff_memory_dtos import FFChatMessageDTO
from ff_managers import FFMemoryLayerManager
from ff_utils.ff_json_utils import ff_read_jsonl
from testing.bench._append import message_contents
from testing.bench._core import FFBenchCase, FFBenchSizes, FFComparisonSpec, FFMetric

__all__ = ["NAME", "COMPARISONS", "workload"]

NAME = "recent_history"
_LATENCY = FFMetric("p50_ms", "ms", False)
_LIMIT = 50
_IMPORT_BATCH = 10_000


def _comparisons(sizes: FFBenchSizes) -> tuple[FFComparisonSpec, ...]:
    large, small = f"ours_{sizes.history_large}", f"ours_{sizes.history_small}"
    return (
        FFComparisonSpec("p50_ms", large, small, "<=", 1.2),
        FFComparisonSpec("p50_ms", large, f"sqlite_{sizes.history_large}", "<=", 1.2),
        FFComparisonSpec("p50_ms", small, f"sqlite_{sizes.history_small}", "<=", 1.2),
    )


COMPARISONS = _comparisons


async def _populate(memory: FFMemoryLayerManager, count: int, size: int) -> str:
    session = await memory.create_session("bench", title=f"{count} messages")
    contents = message_contents(count, size)
    for start in range(0, count, _IMPORT_BATCH):
        batch = [{"role": "user" if i % 2 == 0 else "assistant", "content": contents[i]} for i in range(start, min(count, start + _IMPORT_BATCH))]
        await memory.import_messages("bench", session.session_id, batch)
    return session.session_id


def _sqlite_copy(path: Path, log: Path, session_id: str) -> None:
    """The very records our log holds, one row each, as the same JSON."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, data TEXT NOT NULL)")
    conn.execute("CREATE INDEX messages_session ON messages (session_id, id)")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO messages (session_id, data) VALUES (?, ?)",
                     ((session_id, orjson.dumps(r).decode()) for r in ff_read_jsonl(log)))
    conn.execute("COMMIT")
    conn.close()


def _time_reads(read: object, reads: int) -> dict[str, float]:
    async def main() -> list[float]:
        latencies = []
        for _ in range(reads):
            started = time.perf_counter()
            messages = await read()  # type: ignore[operator]
            latencies.append((time.perf_counter() - started) * 1000)
            if len(messages) != _LIMIT:
                raise RuntimeError(f"read {len(messages)} messages, expected {_LIMIT}")
        return latencies

    return {"p50_ms": statistics.median(asyncio.run(main()))}


def _ours(root: Path, session_id: str, reads: int) -> dict[str, float]:
    memory = FFMemoryLayerManager(load_config(base_path=root, environ={}))

    async def read() -> list[FFChatMessageDTO]:
        return await memory.get_messages("bench", session_id, limit=_LIMIT)

    return _time_reads(read, reads)


def _sqlite(path: Path, session_id: str, reads: int) -> dict[str, float]:
    conn = sqlite3.connect(path, check_same_thread=False)

    def query() -> list[FFChatMessageDTO]:
        rows = conn.execute(
            "SELECT data FROM messages WHERE session_id = ? ORDER BY id DESC LIMIT ?", (session_id, _LIMIT)
        ).fetchall()
        return [FFChatMessageDTO.model_validate(orjson.loads(row[0])) for row in reversed(rows)]

    async def read() -> list[FFChatMessageDTO]:
        return await asyncio.to_thread(query)

    try:
        return _time_reads(read, reads)
    finally:
        conn.close()


@contextlib.contextmanager
def workload(sizes: FFBenchSizes, work: Path) -> Iterator[list[FFBenchCase]]:
    root = work / "history_root"
    config = load_config(base_path=root, environ={})
    config.storage.durability = "never"  # populating only; reads are what is measured

    async def populate() -> dict[int, str]:
        async with FFMemoryLayerManager(config) as memory:
            return {n: await _populate(memory, n, sizes.message_bytes) for n in (sizes.history_small, sizes.history_large)}

    sessions = asyncio.run(populate())
    cases = []
    for n, session_id in sessions.items():
        log = root / "users" / "bench" / "sessions" / session_id / "messages.jsonl"
        db = work / f"history_{n}.db"
        _sqlite_copy(db, log, session_id)
        reads = sizes.history_reads
        cases.append(FFBenchCase(f"ours_{n}", "ours", (_LATENCY,), lambda s=session_id: _ours(root, s, reads),
                                 f"get_messages(limit=50), session of {n:,}"))
        cases.append(FFBenchCase(f"sqlite_{n}", "sqlite", (_LATENCY,), lambda d=db, s=session_id: _sqlite(d, s, reads),
                                 f"ORDER BY id DESC LIMIT 50 -> DTOs, {n:,} rows"))
    yield cases
