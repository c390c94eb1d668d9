"""The peer of the ``service`` workload: the chat service a user would otherwise write.

A minimal FastAPI app over one aiosqlite connection (SQLite in WAL mode, ``synchronous=FULL``, one
insert per transaction, so an answered write is on disk as ours is with durability ``always``),
with a bearer-token check and the same two routes as ours: POST and GET
``/v1/users/{user}/sessions/{session}/messages``. It is served by uvicorn with the same settings
as ``main.py serve`` (h11, no access log, no lifespan, TCP_NODELAY socket) and run the same way:
``python -m testing.bench._service_peer --port 0 --ready-file F --data-dir D``, SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import uvicorn
from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel

__all__ = ["PEER_TOKEN_ENV", "build_app", "main"]

PEER_TOKEN_ENV = "FF_BENCH_PEER_TOKEN"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, message_id TEXT UNIQUE NOT NULL,"
    " user_id TEXT NOT NULL, session_id TEXT NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL,"
    " timestamp TEXT NOT NULL, metadata TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS messages_by_session ON messages (user_id, session_id, id)",
)


class AddMessage(BaseModel):
    role: str
    content: str
    message_id: str | None = None
    metadata: dict[str, Any] | None = None


class Message(BaseModel):
    message_id: str
    session_id: str
    role: str
    content: str
    timestamp: datetime
    metadata: dict[str, Any]


def build_app(db_path: Path, token: str) -> FastAPI:
    """The peer app; the database is opened on first use (uvicorn runs with lifespan off, as ours)."""
    app = FastAPI(title="peer chat service")
    state: dict[str, aiosqlite.Connection] = {}
    opening = asyncio.Lock()

    async def connection() -> aiosqlite.Connection:
        if "db" not in state:
            async with opening:
                if "db" not in state:
                    db = await aiosqlite.connect(db_path, isolation_level=None)
                    await db.execute("PRAGMA journal_mode=WAL")
                    await db.execute("PRAGMA synchronous=FULL")
                    for statement in _SCHEMA:
                        await db.execute(statement)
                    state["db"] = db
        return state["db"]

    def authorized(authorization: str = Header("")) -> None:
        if not secrets.compare_digest(authorization, f"Bearer {token}"):
            raise HTTPException(401, "bad credentials")

    @app.post("/v1/users/{user_id}/sessions/{session_id}/messages", response_model=Message, dependencies=[Depends(authorized)])
    async def add_message(user_id: str, session_id: str, body: AddMessage) -> Message:
        db = await connection()
        message = Message(message_id=body.message_id or f"msg_{uuid.uuid4().hex}", session_id=session_id, role=body.role,
                          content=body.content, timestamp=datetime.now(UTC), metadata=body.metadata or {})  # fmt: skip
        await db.execute(
            "INSERT INTO messages (message_id, user_id, session_id, role, content, timestamp, metadata) VALUES (?,?,?,?,?,?,?)",
            (message.message_id, user_id, session_id, message.role, message.content, message.timestamp.isoformat(),
             json.dumps(message.metadata)),
        )  # fmt: skip
        return message

    @app.get("/v1/users/{user_id}/sessions/{session_id}/messages", response_model=list[Message], dependencies=[Depends(authorized)])
    async def get_messages(user_id: str, session_id: str, limit: int = 50) -> list[Message]:
        db = await connection()
        async with db.execute(
            "SELECT message_id, session_id, role, content, timestamp, metadata FROM messages"
            " WHERE user_id = ? AND session_id = ? ORDER BY id DESC LIMIT ?",
            (user_id, session_id, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [Message(message_id=r[0], session_id=r[1], role=r[2], content=r[3], timestamp=datetime.fromisoformat(r[4]),
                        metadata=json.loads(r[5])) for r in reversed(rows)]  # fmt: skip

    async def close() -> None:
        if "db" in state:
            await state.pop("db").close()

    app.state.close = close  # called by _serve once uvicorn has stopped (lifespan is off, as ours)
    return app


class _Server(uvicorn.Server):
    """uvicorn without its own signal capture (which re-raises the signal once done), as ours."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(port: int) -> socket.socket:
    # As ours: proto=IPPROTO_TCP so asyncio sets TCP_NODELAY on accepted sockets.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


async def _serve(port: int, ready_file: Path | None, data_dir: Path, token: str) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    app = build_app(data_dir / "chat.db", token)
    config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False,
                            lifespan="off", h11_max_incomplete_event_size=64 * 1024)  # fmt: skip
    server = _Server(config)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, setattr, server, "should_exit", True)
    sock = _bind(port)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task
            raise RuntimeError("the peer did not start")
        await asyncio.sleep(0.01)
    if ready_file is not None:
        scratch = ready_file.with_suffix(".tmp")
        scratch.write_text(json.dumps({"pid": os.getpid(), "host": "127.0.0.1", "http_port": sock.getsockname()[1]}))
        os.replace(scratch, ready_file)
    try:
        await task  # SIGTERM/SIGINT set should_exit: uvicorn finishes the requests in flight, then returns
    finally:
        await app.state.close()
        if ready_file is not None:
            with contextlib.suppress(OSError):
                ready_file.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testing.bench._service_peer", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-file", type=Path)
    parser.add_argument("--data-dir", type=Path, default=Path("peer_data"))
    args = parser.parse_args(argv)
    token = os.environ.get(PEER_TOKEN_ENV) or secrets.token_urlsafe(24)
    asyncio.run(_serve(args.port, args.ready_file, args.data_dir, token))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
