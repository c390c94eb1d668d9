"""Crash safety: a writer killed with SIGKILL at random moments loses nothing it acknowledged.

A child process keeps replacing a JSON document (ff_write_json) and appending JSONL records
(durability "always"); after each append returns it writes the record's id to an ack file. The
parent kills it with SIGKILL at a random moment, over and over. Afterwards the document is
exactly one version that was written (each version carries its own sha256, so a mix of two
cannot pass), every acknowledged record is in the log, and a torn tail, if any, is found by
ff_check_jsonl and removed by ff_repair_jsonl.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from ff_utils.ff_json_utils import ff_append_jsonl, ff_check_jsonl, ff_read_json, ff_read_jsonl, ff_repair_jsonl, ff_write_json

KILLS = 60


def _digest(version: int, body: str) -> str:
    return hashlib.sha256(f"{version}:{body}".encode()).hexdigest()


def _document(version: int) -> dict[str, Any]:
    # Bodies of very different sizes, so a mix of an old and a new version would be visible.
    body = f"v{version}-" + "abcdefghij"[version % 10] * (version * 7919 % 20_000)
    return {"version": version, "body": body, "sha256": _digest(version, body)}


def _writer(root: str, first: int, ready: Any) -> None:
    base = Path(root)
    ack = os.open(base / "acks.txt", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    ready.set()
    version = first
    while True:
        ff_write_json(base / "doc.json", _document(version))
        ff_append_jsonl(base / "log.jsonl", {"id": version, "pad": "r" * (version % 300)}, durability="always")
        os.write(ack, f"{version}\n".encode())  # only after both calls returned
        version += 1


def _acked(root: Path) -> list[int]:
    raw = (root / "acks.txt").read_bytes() if (root / "acks.txt").exists() else b""
    return [int(line) for line in raw.split(b"\n")[:-1]]  # a cut last ack line is not an ack


def _check_document(root: Path) -> int:
    doc = ff_read_json(root / "doc.json")
    assert doc["sha256"] == _digest(doc["version"], doc["body"]), "document is a mix of versions"
    assert doc == _document(doc["version"])
    return doc["version"]


@pytest.mark.slow
def test_sigkill_loop_loses_nothing_acknowledged(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("forkserver")
    # The fork server imports the library once (and pytest, whose __main__ every child re-runs as
    # multiprocessing fixes up the main module), so each child starts writing within milliseconds.
    ctx.set_forkserver_preload(["pytest", __name__, "ff_utils.ff_json_utils", "pydantic", "orjson"])
    rng = random.Random(20_240_601)
    next_version = 1
    document: int | None = None
    torn_tails_repaired = 0
    for _ in range(KILLS):
        first = next_version
        ready = ctx.Event()
        child = ctx.Process(target=_writer, args=(str(tmp_path), next_version, ready))
        child.start()
        assert ready.wait(30)
        # Wait for this child's first acknowledged record (a loaded machine may starve it), then
        # kill at a random point of the following write/append/ack cycles.
        deadline = time.monotonic() + 30
        while not any(v >= first for v in _acked(tmp_path)) and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(rng.uniform(0.0, 0.06))
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        child.join(10)
        assert child.exitcode == -signal.SIGKILL

        acked_now = [v for v in _acked(tmp_path) if v >= first]
        if acked_now:  # the last version this child acknowledged, or the next (written, not acked)
            allowed = {acked_now[-1], acked_now[-1] + 1}
        else:  # killed before its first ack: the previous document, or its own first version
            allowed = {document, first}
        document = _check_document(tmp_path) if (tmp_path / "doc.json").exists() else None
        assert document in allowed
        next_version = max(next_version, (document or 0) + 1)
        health = ff_check_jsonl(tmp_path / "log.jsonl")
        if health.torn_tail_bytes:
            assert ff_repair_jsonl(tmp_path / "log.jsonl") == health.torn_tail_bytes
            torn_tails_repaired += 1
        assert ff_check_jsonl(tmp_path / "log.jsonl").healthy
        ids = [r["id"] for r in ff_read_jsonl(tmp_path / "log.jsonl")]
        if ids:
            next_version = max(next_version, ids[-1] + 1)

    acked = _acked(tmp_path)
    ids = [r["id"] for r in ff_read_jsonl(tmp_path / "log.jsonl")]
    assert len(acked) >= KILLS  # the children really worked between kills
    assert set(acked) <= set(ids), "an acknowledged record was lost"
    assert len(ids) == len(set(ids)) and ids == sorted(ids)
    assert _check_document(tmp_path) == document

    # A torn tail made on purpose (the kernel rarely lets SIGKILL cut one short write).
    log = tmp_path / "log.jsonl"
    size = log.stat().st_size
    partial = orjson.dumps({"id": -1, "pad": "cut here"})[:12]
    with log.open("ab") as handle:
        handle.write(partial)
    health = ff_check_jsonl(log)
    assert health.torn_tail_bytes == len(partial) and [b.torn for b in health.bad_lines] == [True]
    assert ff_repair_jsonl(log) == len(partial)
    assert log.stat().st_size == size and ff_check_jsonl(log).healthy
    assert [r["id"] for r in ff_read_jsonl(log)] == ids
    print(f"\n{KILLS} kills, {len(acked)} acked records, {torn_tails_repaired} torn tails repaired in the loop")
