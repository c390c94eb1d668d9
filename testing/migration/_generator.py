"""A deterministic generator of legacy (v1) data: the same seed gives the same bytes.

``run-all`` cannot ship the real fixture, so the migration suite generates a legacy root with the
same shapes and the same habits as the real one: profiles, chat sessions, sessions without
``session.json``, ``session.json`` without messages, an empty session directory, a panel session
with per-persona transcripts, uploaded documents with ``documents/metadata.json``, vector
indexes under ``users/default/sessions/<sid>/vectors/``, global personas and a stray file.
``target_bytes`` scales it to hundreds of MB; records are written in batches, so memory stays flat.

:func:`inject_corruption` damages a generated root in one named way for the corruption tests.
"""

from __future__ import annotations

import random
import struct
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_file_ops import ff_atomic_write, ff_ensure_directory
from ff_utils.ff_json_utils import ff_append_jsonl, ff_dumps, ff_write_json
from ff_utils.ff_locks import FF_LOCK_SUFFIX

__all__ = ["FFLegacyGeneratorConfig", "FFGeneratedLegacyDTO", "generate_legacy_root", "inject_corruption", "CorruptionKind"]

_WORDS = (
    "data model session memory panel persona vector index document chunk retrieval answer question "
    "context window token latency storage file line record schema version migration backup "
    "manifest checksum rollback user assistant system prompt insight decision consensus debate "
    "research summary analysis strategy design pattern python test benchmark result quality"
).split()
_PERSONAS = ("alex_patterson", "betty_rodriguez", "jake_thompson", "marcus_chen", "dr._sarah_wilson")
_BASE_TIME = datetime(2025, 8, 1, 9, 0, 0)
_BATCH = 500
_DIM = 32

CorruptionKind = Literal["torn_line", "invalid_profile", "binary_garbage", "unreadable"]


class FFLegacyGeneratorConfig(BaseModel):
    """How much legacy data to generate, and from which seed."""

    seed: int = 20250101
    users: int = Field(4, ge=1)
    sessions_per_user: int = Field(3, ge=1)
    messages_per_session: int = Field(12, ge=1)
    words_per_message: int = Field(40, ge=1)
    target_bytes: int | None = Field(None, ge=1, description="keep adding messages until the root holds this much")
    irregular: bool = Field(True, description="add the real fixture's irregularities")


class FFGeneratedLegacyDTO(BaseModel):
    """What the generator wrote (so tests can check the import's counts against it)."""

    root: str
    seed: int
    users: int
    sessions: int
    panels: int
    messages: int
    documents: int
    vector_sets: int
    personas: int
    bytes: int


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choices(_WORDS, k=words)).capitalize() + "."


def _stamp(offset_seconds: float) -> str:
    return (_BASE_TIME + timedelta(seconds=offset_seconds)).isoformat()


def _write_npy(path: Path, rows: int, rng: random.Random) -> None:
    """A float64 ``.npy`` (format 1.0) written without numpy: header padded to 64 bytes, then data."""
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': ({rows}, {_DIM}), }}".encode("latin-1")
    pad = 64 - (10 + len(header) + 1) % 64
    header += b" " * pad + b"\n"
    data = struct.pack(f"<{rows * _DIM}d", *(rng.uniform(-1, 1) for _ in range(rows * _DIM)))
    ff_atomic_write(path, b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + data, fsync=False)


def _messages(rng: random.Random, count: int, start: float, words: int, persona: str | None, prefix: str) -> list[dict]:
    out = []
    for i in range(count):
        role = "user" if i % 2 == 0 else "assistant"
        out.append({
            "role": role,
            "content": _text(rng, words),
            "message_id": f"msg_{prefix}_{i:06d}",
            "timestamp": _stamp(start + i * 1.5),
            "attachments": [],
            "metadata": {"conversation_entry": True, "persona": persona if role == "assistant" else None},
        })
    return out


def _write_messages(path: Path, records: list[dict]) -> None:
    for i in range(0, len(records), _BATCH):
        ff_append_jsonl(path, records[i:i + _BATCH], many=True, durability="never")


def generate_legacy_root(root: Path | str, config: FFLegacyGeneratorConfig | None = None) -> FFGeneratedLegacyDTO:
    """Write a legacy root at ``root`` (which must not exist or be empty). Raises FFValidationError."""
    cfg = config or FFLegacyGeneratorConfig()
    base = Path(root)
    if base.exists() and any(base.iterdir()):
        raise FFValidationError(f"generator target is not empty: {base}", field="root", path=base)
    rng = random.Random(cfg.seed)
    counts = {"users": 0, "sessions": 0, "panels": 0, "messages": 0, "documents": 0, "vector_sets": 0, "personas": 0}
    written = 0
    clock = 0.0

    for persona in _PERSONAS:
        ff_write_json(base / "personas_global" / f"{persona}.json", {
            "persona_id": persona, "name": persona.replace("_", " ").title(), "description": _text(rng, 8),
            "category": "professional", "capabilities": rng.sample(["analytical", "creative", "strategic", "technical"], 2),
            "expertise_areas": rng.sample(_WORDS, 3), "system_prompt": _text(rng, 30),
        }, durability="never")
        counts["personas"] += 1

    def add_session(user_id: str, index: int, messages: int) -> int:
        nonlocal clock
        session_id = f"chat_session_{user_id}_{index:05d}"
        sdir = base / "users" / user_id / session_id
        records = _messages(rng, messages, clock, cfg.words_per_message, None, f"{user_id}_{index}")
        clock += messages * 1.5 + 60
        with_json = not (cfg.irregular and counts["sessions"] % 5 == 4)  # every fifth session lost its session.json
        if with_json:
            ff_write_json(sdir / "session.json", {
                "session_id": session_id, "user_id": user_id, "title": _text(rng, 4), "message_count": len(records),
                "metadata": {}, "created_at": records[0]["timestamp"], "updated_at": records[-1]["timestamp"],
            }, durability="never")
        _write_messages(sdir / "messages.jsonl", records)
        counts["sessions"] += 1
        counts["messages"] += len(records)
        return sum(len(ff_dumps(r)) + 1 for r in records)

    for u in range(cfg.users):
        user_id = f"user_{u:03d}"
        ff_write_json(base / "users" / user_id / "profile.json", {
            "user_id": user_id, "username": f"User {u}", "preferences": {"theme": rng.choice(["dark", "light"])},
            "metadata": {"role": rng.choice(["analyst", "developer", "researcher"])},
            "created_at": _stamp(u), "updated_at": _stamp(u + 0.5),
        }, durability="never")
        counts["users"] += 1
        for s in range(cfg.sessions_per_user):
            written += add_session(user_id, s, cfg.messages_per_session)

    # Scale: more sessions round-robin over users until the target size is reached.
    index = cfg.sessions_per_user
    while cfg.target_bytes is not None and written < cfg.target_bytes:
        for u in range(cfg.users):
            written += add_session(f"user_{u:03d}", index, cfg.messages_per_session)
            if written >= cfg.target_bytes:
                break
        index += 1

    if cfg.irregular:
        owner = "user_000"
        # an uploaded document with metadata, and the vector store of that session under users/default
        doc_session = f"chat_session_{owner}_00000"
        doc_name = "a1b2c3d4_design_notes.md"
        body = ("# Design notes\n\n" + "\n".join(_text(rng, 20) for _ in range(20)) + "\n").encode()
        docs = base / "users" / owner / doc_session / "documents"
        ff_atomic_write(docs / doc_name, body, fsync=False)
        ff_write_json(docs / "metadata.json", {doc_name: {
            "filename": doc_name, "original_name": "design_notes.md", "mime_type": "text/markdown", "size": len(body),
            "uploaded_at": _stamp(5), "uploaded_by": owner, "metadata": {"topic": "design"}, "analysis": {},
            "path": f"users/{owner}/{doc_session}/documents/{doc_name}",
        }}, durability="never")
        counts["documents"] += 1
        vec = base / "users" / "default" / "sessions" / doc_session / "vectors"
        rows = 6
        _write_npy(vec / "embeddings.npy", rows, rng)
        ff_append_jsonl(vec / "vector_index.jsonl", [{
            "chunk_id": f"{doc_name}_chunk_{i}", "vector_index": i, "document_id": doc_name, "session_id": doc_session,
            "chunk_text": _text(rng, 12), "chunk_metadata": {"position": i, "total_chunks": rows},
        } for i in range(rows)], many=True, durability="never")
        counts["vector_sets"] += 1
        # a panel session with per-persona transcripts beside messages.jsonl
        panel_id = "panel_session_0000abcd"
        pdir = base / "users" / owner / panel_id
        participants = list(_PERSONAS[:2])
        ff_write_json(pdir / "session.json", {
            "session_id": panel_id, "user_id": owner, "title": "Panel Session", "message_count": 0,
            "session_type": "panel", "metadata": {"participants": participants, "session_type": "panel"},
            "created_at": _stamp(clock), "updated_at": _stamp(clock + 10),
        }, durability="never")
        shared: list[dict] = []
        for k, persona in enumerate(participants):
            turn = _messages(rng, 4, clock + k * 10, cfg.words_per_message, persona, f"panel_{persona}")
            _write_messages(pdir / f"{persona.replace('.', '')}_messages.jsonl", turn)
            shared.extend(turn)
        _write_messages(pdir / "messages.jsonl", shared)
        counts["panels"] += 1
        counts["messages"] += len(shared)
        # a session.json without messages, an empty session directory, and a stray file
        empty_id = "chat_session_no_messages"
        ff_write_json(base / "users" / owner / empty_id / "session.json", {
            "session_id": empty_id, "user_id": owner, "title": "Auto-created Chat Session", "message_count": 0,
            "metadata": {}, "created_at": _stamp(1), "updated_at": _stamp(1),
        }, durability="never")
        counts["sessions"] += 1
        ff_ensure_directory(base / "users" / owner / "chat_session_empty_dir")
        ff_atomic_write(base / "users" / owner / "notes.txt", b"left behind by a test\n", fsync=False)

    # ff_append_jsonl leaves its cross-process lock files; a legacy root never had them.
    for lock in base.rglob(f".*{FF_LOCK_SUFFIX}"):
        lock.unlink()
    total = sum(p.stat().st_size for p in base.rglob("*") if p.is_file())
    return FFGeneratedLegacyDTO(root=str(base), seed=cfg.seed, bytes=total, **counts)


def inject_corruption(root: Path | str, kind: CorruptionKind) -> str:
    """Damage a generated root in one named way; return the relative path damaged.

    ``unreadable`` puts a directory where ``messages.jsonl`` is expected: tests run as root, which
    ignores ``chmod 000``, so a directory is the portable way to make a read fail.
    """
    base = Path(root)
    session = base / "users" / "user_001" / "chat_session_user_001_00001"
    if kind == "torn_line":
        target = session / "messages.jsonl"
        with target.open("ab") as handle:  # a writer died mid-line: no closing brace, no newline
            handle.write(b'{"role": "user", "content": "cut off mid-wri')
    elif kind == "invalid_profile":
        target = base / "users" / "user_002" / "profile.json"
        ff_atomic_write(target, b'{"user_id": "user_002", "username": ', fsync=False)
    elif kind == "binary_garbage":
        target = session / "messages.jsonl"
        with target.open("ab") as handle:
            handle.write(bytes(range(256)) + b"\n")
    elif kind == "unreadable":
        target = base / "users" / "user_003" / "chat_session_user_003_00000" / "messages.jsonl"
        target.unlink()
        target.mkdir()
    else:
        raise FFValidationError(f"unknown corruption kind {kind!r}", field="kind", value=kind)
    return target.relative_to(base).as_posix()
