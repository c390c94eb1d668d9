"""Several processes appending to one JSONL file: every line intact, none lost, none merged."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from ff_utils.ff_json_utils import FFBadLine, ff_append_jsonl, ff_check_jsonl, ff_read_jsonl

PROCESSES = 4
RECORDS_EACH = 2_000


def _append_many(path: str, worker: int, start: object) -> None:
    start.wait(30)  # type: ignore[attr-defined]  # all processes begin together, to contend
    for i in range(RECORDS_EACH):
        # Sizes vary so records straddle page and block boundaries.
        ff_append_jsonl(path, {"w": worker, "i": i, "pad": "é\n" * (i % 97)}, durability="never")


def test_four_processes_two_thousand_appends_each(tmp_path: Path) -> None:
    log = tmp_path / "shared.jsonl"
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    workers = [ctx.Process(target=_append_many, args=(str(log), w, start)) for w in range(PROCESSES)]
    for p in workers:
        p.start()
    start.set()
    for p in workers:
        p.join(120)
    assert [p.exitcode for p in workers] == [0] * PROCESSES

    bad: list[FFBadLine] = []
    records = list(ff_read_jsonl(log, on_bad_line=bad.append))
    assert bad == []
    assert log.read_bytes().count(b"\n") == PROCESSES * RECORDS_EACH
    keys = [(r["w"], r["i"]) for r in records]
    assert len(keys) == len(set(keys)) == PROCESSES * RECORDS_EACH
    for w in range(PROCESSES):  # each process's records keep their order
        assert [i for (ww, i) in keys if ww == w] == list(range(RECORDS_EACH))
    assert all(r["pad"] == "é\n" * (r["i"] % 97) for r in records)
    assert ff_check_jsonl(log).healthy
