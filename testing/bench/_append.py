"""Workload 1, durable append: chat messages of about 300 bytes appended to one session.

Ours: ``FFMemoryLayerManager.add_message`` (validation, DTO, one JSONL line, fsync per the
durability policy), from one coroutine, and from 8 concurrent coroutines (concurrent calls to one
session are coalesced on the event loop: the lines queued meanwhile go to disk in one worker-thread
trip, one write and, for ``always``, one fsync; appends from other threads or processes are group
committed inside ``ff_append_jsonl``). Peers insert the same
messages (id, session, role, content, timestamp, metadata): SQLite in WAL mode, one insert per
transaction, ``synchronous=FULL`` (and ``NORMAL`` against our ``batch``), each writer thread on
its own connection; aiosqlite, the async peer (one thread hop per call, like ours), with the
same database settings: one autocommitted ``INSERT`` per message (one transaction, one hop),
from 1 coroutine and from 8 concurrent coroutines, each on its own connection; a raw ``write`` + ``fsync`` loop on one file (the machine's floor); TinyDB's
default JSON storage. Fsyncs are counted (``os.fsync`` wrapped for the run) so the report shows
how many appends shared one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager
from ff_utils.ff_json_utils import ff_dumps
from testing.bench._core import FFBenchCase, FFBenchSizes, FFComparisonSpec, FFMetric

__all__ = ["NAME", "COMPARISONS", "workload", "message_contents"]

NAME = "durable_append"
_RATE = FFMetric("messages_per_s", "msg/s", True)
_FSYNCS = FFMetric("fsyncs_per_message", "fsync/msg", False)

COMPARISONS = (
    FFComparisonSpec("messages_per_s", "ours_always_1w", "sqlite_full_1w", ">=", 0.8),
    FFComparisonSpec("messages_per_s", "ours_always_8w", "sqlite_full_8w", ">=", 2.0),
    FFComparisonSpec("messages_per_s", "ours_batch_1w", "sqlite_normal_1w", ">=", 1.0),
    FFComparisonSpec("messages_per_s", "ours_always_1w", "tinydb_1w", ">=", 100.0),
    # issue 17: the async peer
    FFComparisonSpec("messages_per_s", "ours_always_1w", "aiosqlite_full_1w", ">=", 1.2),
    FFComparisonSpec("messages_per_s", "ours_always_8w", "aiosqlite_full_8w", ">=", 1.0),
    FFComparisonSpec("messages_per_s", "ours_batch_1w", "aiosqlite_normal_1w", ">=", 1.0),
)

_WORDS = ("when", "the", "ferry", "leaves", "at", "nine", "we", "could", "still", "reach", "museum", "before", "lunch")


def message_contents(count: int, size: int) -> list[str]:
    """Deterministic chat-like texts of exactly ``size`` characters."""
    out = []
    for i in range(count):
        words = [_WORDS[(i + j) % len(_WORDS)] for j in range(size // 3)]
        text = f"turn {i}: " + " ".join(words)
        out.append(text[:size])
    return out


@contextlib.contextmanager
def _fsync_counter() -> Iterator[list[int]]:
    """Count ``os.fsync`` calls in this process (a counting wrapper: behaviour is unchanged)."""
    real = os.fsync
    count = [0]
    guard = threading.Lock()

    def counting(fd: int) -> None:
        with guard:
            count[0] += 1
        real(fd)

    os.fsync = counting  # type: ignore[assignment]
    try:
        yield count
    finally:
        os.fsync = real  # type: ignore[assignment]


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _ours(work: Path, durability: str, writers: int, contents: list[str]) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="ours_", dir=work))
    config = load_config(base_path=root, environ={})
    config.storage.durability = durability  # type: ignore[assignment]

    async def main() -> tuple[float, int]:
        async with FFMemoryLayerManager(config) as memory:
            session = await memory.create_session("bench", title="append")
            shares = _split(len(contents), writers)
            starts = [sum(shares[:w]) for w in range(writers)]

            async def writer(w: int) -> None:
                for i in range(starts[w], starts[w] + shares[w]):
                    await memory.add_message("bench", session.session_id, "user" if i % 2 == 0 else "assistant", contents[i])

            with _fsync_counter() as fsyncs:
                started = time.perf_counter()
                await asyncio.gather(*(writer(w) for w in range(writers)))
                elapsed = time.perf_counter() - started
            stored = await memory.get_session("bench", session.session_id)
            if stored.message_count != len(contents):
                raise RuntimeError(f"ours stored {stored.message_count} of {len(contents)} messages")
            return elapsed, fsyncs[0]

    elapsed, fsyncs = asyncio.run(main())
    return {"messages_per_s": len(contents) / elapsed, "fsyncs_per_message": fsyncs / len(contents)}


def _row(i: int, content: str) -> tuple[str, str, str, str, str, str]:
    return (f"msg_{uuid.uuid4().hex}", "ses_bench", "user" if i % 2 == 0 else "assistant", content,
            datetime.now(UTC).isoformat(), "{}")


def _sqlite(work: Path, synchronous: str, writers: int, contents: list[str]) -> dict[str, float]:
    path = Path(tempfile.mkdtemp(prefix="sqlite_", dir=work)) / "chat.db"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute(
        "CREATE TABLE messages (id INTEGER PRIMARY KEY, message_id TEXT UNIQUE, session_id TEXT, role TEXT,"
        " content TEXT, timestamp TEXT, metadata TEXT)"
    )
    setup.close()
    shares = _split(len(contents), writers)
    starts = [sum(shares[:w]) for w in range(writers)]
    connections = []
    for _ in range(writers):
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
        conn.execute(f"PRAGMA synchronous={synchronous}")
        connections.append(conn)
    barrier = threading.Barrier(writers + 1)

    def writer(w: int) -> None:
        conn = connections[w]
        barrier.wait()
        for i in range(starts[w], starts[w] + shares[w]):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO messages (message_id, session_id, role, content, timestamp, metadata) VALUES (?,?,?,?,?,?)",
                _row(i, contents[i]),
            )
            conn.execute("COMMIT")

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    count = connections[0].execute("SELECT count(*) FROM messages").fetchone()[0]
    for conn in connections:
        conn.close()
    if count != len(contents):
        raise RuntimeError(f"sqlite stored {count} of {len(contents)} messages")
    return {"messages_per_s": len(contents) / elapsed}


def _aiosqlite(work: Path, synchronous: str, writers: int, contents: list[str]) -> dict[str, float]:
    """aiosqlite with the SQLite peer's database: each coroutine on its own connection (its own
    thread), one autocommitted INSERT per message, i.e. one transaction and one hop per call."""
    import aiosqlite  # the optional "bench" extra

    path = Path(tempfile.mkdtemp(prefix="aiosqlite_", dir=work)) / "chat.db"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute(
        "CREATE TABLE messages (id INTEGER PRIMARY KEY, message_id TEXT UNIQUE, session_id TEXT, role TEXT,"
        " content TEXT, timestamp TEXT, metadata TEXT)"
    )
    setup.close()
    shares = _split(len(contents), writers)
    starts = [sum(shares[:w]) for w in range(writers)]
    insert = "INSERT INTO messages (message_id, session_id, role, content, timestamp, metadata) VALUES (?,?,?,?,?,?)"

    async def main() -> tuple[float, int]:
        connections = [await aiosqlite.connect(path, isolation_level=None, timeout=60) for _ in range(writers)]
        try:
            for conn in connections:
                await conn.execute(f"PRAGMA synchronous={synchronous}")

            async def writer(w: int) -> None:
                conn = connections[w]
                for i in range(starts[w], starts[w] + shares[w]):
                    await conn.execute(insert, _row(i, contents[i]))

            started = time.perf_counter()
            await asyncio.gather(*(writer(w) for w in range(writers)))
            elapsed = time.perf_counter() - started
            async with connections[0].execute("SELECT count(*) FROM messages") as cursor:
                row = await cursor.fetchone()
            return elapsed, row[0] if row else 0
        finally:
            for conn in connections:
                await conn.close()

    elapsed, count = asyncio.run(main())
    if count != len(contents):
        raise RuntimeError(f"aiosqlite stored {count} of {len(contents)} messages")
    return {"messages_per_s": len(contents) / elapsed}


def _raw_fsync(work: Path, contents: list[str]) -> dict[str, float]:
    path = Path(tempfile.mkdtemp(prefix="raw_", dir=work)) / "messages.jsonl"
    lines = [ff_dumps({"message_id": r[0], "session_id": r[1], "role": r[2], "content": r[3], "timestamp": r[4]}) + b"\n"
             for r in (_row(i, c) for i, c in enumerate(contents))]
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        started = time.perf_counter()
        for line in lines:
            os.write(fd, line)
            os.fsync(fd)
        elapsed = time.perf_counter() - started
    finally:
        os.close(fd)
    return {"messages_per_s": len(contents) / elapsed, "fsyncs_per_message": 1.0}


def _raw_overwrite(work: Path, contents: list[str]) -> dict[str, float]:
    """The disk's floor for SQLite's WAL: each line written into a page of a file allocated and
    fsynced beforehand (no size change, so ``fdatasync`` commits no journal), as a WAL that has
    wrapped does. Against ``raw_fsync_1w`` it shows what an append-only log cannot have: an
    append changes the file's size, so its ``fsync`` commits ext4's journal."""
    path = Path(tempfile.mkdtemp(prefix="raw_overwrite_", dir=work)) / "wal"
    page = 4096
    lines = [ff_dumps({"message_id": r[0], "session_id": r[1], "role": r[2], "content": r[3], "timestamp": r[4]}) + b"\n"
             for r in (_row(i, c) for i, c in enumerate(contents))]
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.write(fd, bytes(page * len(lines)))
        os.fsync(fd)
        started = time.perf_counter()
        for i, line in enumerate(lines):
            os.pwrite(fd, line, i * page)
            os.fdatasync(fd)
        elapsed = time.perf_counter() - started
    finally:
        os.close(fd)
    return {"messages_per_s": len(contents) / elapsed}


def _tinydb(work: Path, contents: list[str]) -> dict[str, float]:
    from tinydb import TinyDB  # the optional "bench" extra

    path = Path(tempfile.mkdtemp(prefix="tinydb_", dir=work)) / "chat.json"
    with TinyDB(path) as db:
        table = db.table("messages")
        started = time.perf_counter()
        for i, content in enumerate(contents):
            mid, sid, role, text, ts, _ = _row(i, content)
            table.insert({"message_id": mid, "session_id": sid, "role": role, "content": text, "timestamp": ts, "metadata": {}})
        elapsed = time.perf_counter() - started
        if len(table) != len(contents):
            raise RuntimeError("tinydb lost messages")
    return {"messages_per_s": len(contents) / elapsed}


@contextlib.contextmanager
def workload(sizes: FFBenchSizes, work: Path) -> Iterator[list[FFBenchCase]]:
    contents = message_contents(sizes.append_messages, sizes.message_bytes)
    tiny = contents[: sizes.tinydb_inserts]
    w = sizes.append_writers
    metrics = (_RATE, _FSYNCS)  # fsyncs are counted where Python calls them (SQLite fsyncs in C)
    rate = (_RATE,)
    n = len(contents)
    yield [
        FFBenchCase("ours_always_1w", "ours", metrics, lambda: _ours(work, "always", 1, contents), f"add_message x{n}, durability always"),
        FFBenchCase("ours_always_8w", "ours", metrics, lambda: _ours(work, "always", w, contents), f"{w} coroutines, durability always"),
        FFBenchCase("ours_batch_1w", "ours", metrics, lambda: _ours(work, "batch", 1, contents), "durability batch (fsync every 200 ms)"),
        FFBenchCase("sqlite_full_1w", "sqlite", rate, lambda: _sqlite(work, "FULL", 1, contents), "WAL, synchronous=FULL, 1 insert/txn"),
        FFBenchCase("sqlite_full_8w", "sqlite", rate, lambda: _sqlite(work, "FULL", w, contents), f"{w} threads, own connections"),
        FFBenchCase("sqlite_normal_1w", "sqlite", rate, lambda: _sqlite(work, "NORMAL", 1, contents), "WAL, synchronous=NORMAL"),
        FFBenchCase("aiosqlite_full_1w", "aiosqlite", rate, lambda: _aiosqlite(work, "FULL", 1, contents), "WAL, synchronous=FULL, 1 INSERT/txn, 1 hop/call"),
        FFBenchCase("aiosqlite_full_8w", "aiosqlite", rate, lambda: _aiosqlite(work, "FULL", w, contents), f"{w} coroutines, own connections"),
        FFBenchCase("aiosqlite_normal_1w", "aiosqlite", rate, lambda: _aiosqlite(work, "NORMAL", 1, contents), "WAL, synchronous=NORMAL"),
        FFBenchCase("raw_fsync_1w", "raw_fsync", metrics, lambda: _raw_fsync(work, contents), "os.write + os.fsync per line"),
        FFBenchCase("raw_overwrite_1w", "raw_overwrite", rate, lambda: _raw_overwrite(work, contents),
                    "os.pwrite into a preallocated page + os.fdatasync per line (SQLite WAL's floor)"),
        FFBenchCase("tinydb_1w", "tinydb", rate, lambda: _tinydb(work, tiny), f"{len(tiny)} inserts, default JSON storage"),
    ]
