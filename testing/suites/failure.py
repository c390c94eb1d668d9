"""Failure simulation: restarts mid-workload, damaged files, failing disks, a killed writer.

Each test breaks something for real -- shuts managers down under load, garbles, truncates or
overwrites files on disk, makes ``write``/``fsync``/``replace`` fail inside ff_utils with ENOSPC,
SIGKILLs a process in the middle of durable appends -- and then checks what a user would care
about: no crash but a typed FFError, nothing half-written, every acknowledged write still there,
the rest of the data root unaffected, and how long recovery took (``recovery_seconds``; the goal
is under 5 s).

The I/O faults swap ff_utils' module-level ``os`` for one call (see ``_faults.py``), which is
process-wide while it lasts: the test manager runs this suite one test at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import random
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import ff_utils.ff_file_ops as ff_file_ops_module
import ff_utils._jsonl_append as jsonl_append_module
from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_integration_testing_config import FFTestingLevel
from ff_utils.ff_errors import FFCorruptionError, FFError, FFStorageError
from ff_utils.ff_file_ops import ff_atomic_write
from ff_utils.ff_json_utils import ff_check_jsonl, ff_repair_jsonl
from testing._context import FFTestContext
from testing.runner import FFChecker, FFSuiteRegistry
from testing.suites._disk import bad_lines, data_path, read_bytes, read_jsonl, session_log
from testing.suites._faults import fsync_spy, os_fault
from testing.suites._killed_writer import message_text

__all__ = ["REGISTRY", "RECOVERY_GOAL_SECONDS"]

REGISTRY = FFSuiteRegistry("failure", level=FFTestingLevel.INTEGRATION)

RECOVERY_GOAL_SECONDS = 5.0
_PAIR = [{"participant_id": "ana"}, {"participant_id": "ben"}]
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _durable(config: FFConfigurationManagerConfigDTO) -> FFConfigurationManagerConfigDTO:
    """The test's config with every log fsynced before a call returns."""
    return config.model_copy(
        update={
            "storage": config.storage.model_copy(update={"durability": "always"}),
            "metrics": config.metrics.model_copy(update={"audit_durability": "always"}),
        }
    )


async def _storage_error(call: Callable[[], Awaitable[Any]]) -> tuple[FFStorageError | None, str]:
    """Run ``call``; return the FFStorageError it raised (or None) and what else happened."""
    try:
        await call()
    except FFStorageError as exc:
        return exc, ""
    except FFError as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return None, "nothing was raised"


def _record_storage_error(check: FFChecker, error: FFStorageError | None, other: str, what: str) -> None:
    check.that(error is not None, f"{what} raises FFStorageError", other)
    if error is not None:
        check.equal(error.context.get("errno"), errno.ENOSPC, f"{what}: the error carries ENOSPC")
        check.that("ENOSPC" in str(error), f"{what}: the one-line message names the cause (ENOSPC)", str(error))


@contextlib.contextmanager
def _captured_warnings() -> Iterator[list[logging.LogRecord]]:
    """Warnings of the ff logger tree while the block runs (how the storage layer reports skips)."""
    root = logging.getLogger("ff")
    records: list[logging.LogRecord] = []

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = _Keep(logging.WARNING)
    level = root.level
    root.setLevel(min(level or logging.WARNING, logging.WARNING))
    root.addHandler(handler)
    try:
        yield records
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


# ====================================================================== restarts


@REGISTRY.test("managers restarted mid-workload recover with consistent state", components=("memory", "panel", "metrics"))
async def restart_mid_workload(ctx: FFTestContext, check: FFChecker) -> None:
    """Memory, panel and metrics are shut down and replaced while writers keep going.

    Every acknowledged write is present exactly once and in order; no call fails; the logs are
    clean; the new metrics instance is subscribed once (no event counted twice).
    """
    user = ctx.new_user("workload")
    sessions = [(await ctx.memory.create_session(user, title=f"workload {i}")).session_id for i in range(3)]
    panel = await ctx.panel.create_panel(user, _PAIR, title="workload")
    acks: dict[str, list[str]] = {sid: [] for sid in sessions}
    panel_acks: list[tuple[str, float]] = []  # (message id, when its call started)
    errors: list[str] = []
    stop = asyncio.Event()

    def total() -> int:
        return sum(map(len, acks.values())) + len(panel_acks)

    async def chat(sid: str) -> None:
        for turn in range(400):
            if stop.is_set():
                return
            try:
                message = await ctx.memory.add_message(user, sid, "user", f"{sid} turn {turn}")
            except FFError as exc:
                errors.append(f"memory: {type(exc).__name__}: {exc}")
            else:
                acks[sid].append(message.message_id)

    async def debate() -> None:
        for turn in range(400):
            if stop.is_set():
                return
            started = time.perf_counter()
            try:
                message = await ctx.panel.add_message(user, panel.panel_id, _PAIR[turn % 2]["participant_id"], f"point {turn}")
            except FFError as exc:
                errors.append(f"panel: {type(exc).__name__}: {exc}")
            else:
                panel_acks.append((message.message_id, started))

    async def progressed(by: int) -> None:
        goal = total() + by
        while total() < goal:
            await asyncio.sleep(0.005)

    probes: dict[str, Callable[[Any], Awaitable[Any]]] = {
        "memory": lambda m: m.get_messages(user, sessions[0], limit=1),
        "panel": lambda m: m.get_messages(user, panel.panel_id, limit=1),
        "metrics": lambda m: m.get_user_analytics(user),
    }
    recoveries: dict[str, float] = {}
    metrics_back_at = 0.0
    writers = [asyncio.create_task(chat(sid)) for sid in sessions] + [asyncio.create_task(debate())]
    try:
        for name, probe in probes.items():
            with check.step(f"restart {name} under load"):
                await asyncio.wait_for(progressed(12), timeout=15)
                started = time.perf_counter()
                fresh = await ctx.restart(name)
                await probe(fresh)  # recovered = the new instance has answered
                recoveries[name] = time.perf_counter() - started
                if name == "metrics":
                    metrics_back_at = time.perf_counter()
        with check.step("keep writing after the restarts"):
            await asyncio.wait_for(progressed(12), timeout=15)
    finally:
        stop.set()
        await asyncio.gather(*writers)
    for name, seconds in recoveries.items():
        check.metric(f"recovery_seconds_{name}", seconds)
    worst = max(recoveries.values(), default=float("inf"))
    check.metric("recovery_seconds", worst)
    check.metric("acknowledged_writes", total())
    check.equal(sorted(recoveries), sorted(probes), "every manager was restarted and answered")
    check.at_most(worst, RECOVERY_GOAL_SECONDS, f"every manager recovered within {RECOVERY_GOAL_SECONDS:g} s")
    check.equal(errors, [], "no call failed while managers restarted")
    with check.step("memory state is consistent"):
        for sid in sessions:
            stored = await ctx.memory.get_messages(user, sid, limit=1_000)
            check.equal([m.message_id for m in stored], acks[sid], f"{sid}: every acknowledged message, once, in order")
            health = await asyncio.to_thread(ff_check_jsonl, session_log(ctx, user, sid))
            check.that(health.healthy, f"{sid}: messages.jsonl has no bad line", str(health.bad_lines[:1]))
    with check.step("panel state is consistent"):
        stored_panel = await ctx.panel.get_messages(user, panel.panel_id, limit=1_000)
        check.equal([m.message_id for m in stored_panel], [mid for mid, _ in panel_acks], "every acknowledged panel message, once, in order")
        check.equal([m.sequence for m in stored_panel], list(range(1, len(stored_panel) + 1)), "panel numbering has no gap")
    with check.step("metrics counted each event at most once"):
        check.that(ctx.metrics.health().details.get("subscribed") is True, "the new metrics instance is subscribed to the bus")
        counted = (await ctx.metrics.get_user_analytics(user)).event_counts.get("panel.message_added", 0)
        after_restart = sum(1 for _, started in panel_acks if started > metrics_back_at)
        check.at_most(counted, len(panel_acks), "no panel event was counted twice")
        check.at_least(counted, after_restart, "every panel event published after the metrics restart was counted")


# ====================================================================== damaged files


@REGISTRY.test("a garbled line in a session log is reported, not fatal", components=("memory",))
async def garbled_session_line(ctx: FFTestContext, check: FFChecker) -> None:
    """One line of messages.jsonl is overwritten with binary garbage; the rest stays usable."""
    user, other = ctx.new_user("garble"), ctx.new_user("garblex")
    damaged = await ctx.memory.create_session(user, title="damaged")
    intact = await ctx.memory.create_session(user, title="intact")
    sent = [await ctx.memory.add_message(user, damaged.session_id, "user", f"line {i}") for i in range(5)]
    kept = [await ctx.memory.add_message(user, intact.session_id, "user", f"kept {i}") for i in range(3)]
    theirs = await ctx.memory.create_session(other, title="someone else")
    await ctx.memory.add_message(other, theirs.session_id, "user", "not affected")
    log = session_log(ctx, user, damaged.session_id)
    with check.step("garble the third line on disk"):
        lines = (await read_bytes(log)).splitlines(keepends=True)
        lines[2] = b'{"message_id": "\xff\xfe\x00garbage' + b"\x9c" * 40 + b"\n"
        await asyncio.to_thread(ff_atomic_write, log, b"".join(lines))
        damaged_bytes = await read_bytes(log)
    with check.step("read the damaged session"):
        expected = [m.message_id for i, m in enumerate(sent) if i != 2]
        with _captured_warnings() as warnings:
            started = time.perf_counter()
            try:
                history = await ctx.memory.get_messages(user, damaged.session_id, limit=50)
            except FFCorruptionError as exc:
                check.equal(exc.path, log, "the corruption error names the damaged file")
                check.metric("skipped_lines", 0)
            else:
                check.equal([m.message_id for m in history], expected, "every readable message comes back, in order, the garbled one skipped")
                reported = [w for w in warnings if str(log) in w.getMessage()]
                check.equal(len(reported), 1, "the skipped line is reported once, naming the file")
                check.metric("skipped_lines", len(reported))
            finally:
                check.metric("damaged_read_ms", (time.perf_counter() - started) * 1000)
        check.equal(await read_bytes(log), damaged_bytes, "reading did not rewrite the damaged file")
        found = await bad_lines(log)
        check.equal([(b.line_number, b.torn) for b in found], [(3, False)], "the storage layer locates the bad line")
    with check.step("everything else keeps working"):
        check.equal([m.message_id for m in await ctx.memory.get_messages(user, intact.session_id)], [m.message_id for m in kept], "the user's other session reads back whole")
        check.equal(len(await ctx.memory.get_messages(other, theirs.session_id)), 1, "another user's session is unaffected")
        after = await ctx.memory.add_message(user, damaged.session_id, "assistant", "written after the damage")
        records = await read_jsonl(log)
        check.equal(records[-1].get("message_id") if records else None, after.message_id, "the damaged session still accepts a message")
        history = await ctx.memory.get_messages(user, damaged.session_id, limit=2)
        check.equal(history[-1].message_id, after.message_id, "and reads it back")


@REGISTRY.test("truncated JSON documents raise FFCorruptionError", components=("memory", "panel"))
async def truncated_documents(ctx: FFTestContext, check: FFChecker) -> None:
    """session.json and panel.json cut in half: a typed error naming the file, nothing rewritten."""
    user = ctx.new_user("trunc")
    damaged = await ctx.memory.create_session(user, title="to be truncated")
    await ctx.memory.add_message(user, damaged.session_id, "user", "still in the log")
    intact = await ctx.memory.create_session(user, title="intact")
    panel = await ctx.panel.create_panel(user, _PAIR, title="to be truncated")
    await ctx.panel.add_message(user, panel.panel_id, "ana", "first")
    other_panel = await ctx.panel.create_panel(user, _PAIR, title="intact")
    session_doc = data_path(ctx, "users", user, "sessions", damaged.session_id, "session.json")
    panel_doc = data_path(ctx, "users", user, "panels", panel.panel_id, "panel.json")
    panel_log = data_path(ctx, "users", user, "panels", panel.panel_id, "messages.jsonl")
    with check.step("truncate both documents"):
        for path in (session_doc, panel_doc):
            data = await read_bytes(path)
            await asyncio.to_thread(ff_atomic_write, path, data[: len(data) // 2])
        truncated = {path: await read_bytes(path) for path in (session_doc, panel_doc)}
        log_before = await read_bytes(panel_log)
    with check.step("the session"):
        started = time.perf_counter()
        try:
            await ctx.memory.get_session(user, damaged.session_id)
            check.that(False, "get_session on a truncated session.json raises FFCorruptionError", "it returned")
        except FFCorruptionError as exc:
            check.metric("detection_ms", (time.perf_counter() - started) * 1000)
            check.equal(exc.path, session_doc, "the corruption error names session.json")
        check.equal(len(await ctx.memory.get_messages(user, damaged.session_id)), 1, "the session's messages are still readable")
        check.equal((await ctx.memory.get_session(user, intact.session_id)).title, "intact", "the user's other session is unaffected")
    with check.step("the panel"):
        with check.raises(FFCorruptionError, "get_panel on a truncated panel.json raises FFCorruptionError"):
            await ctx.panel.get_panel(user, panel.panel_id)
        with check.raises(FFCorruptionError, "posting to a panel whose panel.json is truncated raises FFCorruptionError"):
            await ctx.panel.add_message(user, panel.panel_id, "ben", "second")
        check.equal(await read_bytes(panel_log), log_before, "the refused message left no line in the panel's log")
        reply = await ctx.panel.add_message(user, other_panel.panel_id, "ana", "unaffected")
        check.equal(reply.sequence, 1, "the user's other panel still accepts messages")
    for path, data in truncated.items():
        check.equal(await read_bytes(path), data, f"{path.name}: the failed calls did not rewrite the damaged file")


@REGISTRY.test("binary garbage in kb.json raises FFCorruptionError", components=("knowledge",))
async def garbage_catalog(ctx: FFTestContext, check: FFChecker) -> None:
    """A knowledge base whose catalog is random bytes fails typed; its neighbours keep working."""
    user, other = ctx.new_user("kbgarbage"), ctx.new_user("kbgarbagex")
    docs = ctx.data.documents
    damaged = await ctx.knowledge.create_knowledge_base(user, "damaged")
    await ctx.knowledge.add_document(user, damaged.kb_id, content=docs[0].content, title=docs[0].title, format="markdown")
    intact = await ctx.knowledge.create_knowledge_base(user, "intact")
    kept = await ctx.knowledge.add_document(user, intact.kb_id, content=docs[1].content, title=docs[1].title, format="markdown")
    theirs = await ctx.knowledge.create_knowledge_base(other, "someone else")
    await ctx.knowledge.add_document(other, theirs.kb_id, content=docs[2].content, title=docs[2].title, format="markdown")
    await ctx.knowledge.search(user, damaged.kb_id, docs[0].probe)  # the index is now cached in memory
    catalog = data_path(ctx, "users", user, "knowledge", damaged.kb_id, "kb.json")
    garbage = random.Random(ctx.data.seed).randbytes(4096)
    with check.step("overwrite kb.json with random bytes"):
        await asyncio.to_thread(ff_atomic_write, catalog, garbage)
    with check.step("every read and write of the damaged base fails typed"):
        started = time.perf_counter()
        with check.raises(FFCorruptionError, "search raises FFCorruptionError (the cached index does not hide the damage)"):
            await ctx.knowledge.search(user, damaged.kb_id, docs[0].probe)
        check.metric("detection_ms", (time.perf_counter() - started) * 1000)
        with check.raises(FFCorruptionError, "list_documents raises FFCorruptionError"):
            await ctx.knowledge.list_documents(user, damaged.kb_id)
        with check.raises(FFCorruptionError, "add_document raises FFCorruptionError"):
            await ctx.knowledge.add_document(user, damaged.kb_id, content=docs[3].content, title=docs[3].title)
        check.equal(await read_bytes(catalog), garbage, "the damaged catalog was not overwritten")
    with check.step("neighbours keep working"):
        hits = await ctx.knowledge.search(user, intact.kb_id, docs[1].probe, top_k=3)
        check.that(bool(hits) and hits[0].doc_id == kept.doc_id, "the user's other knowledge base still answers")
        check.equal(len(await ctx.knowledge.list_documents(other, theirs.kb_id)), 1, "another user's knowledge base is unaffected")


# ====================================================================== failing disk


@REGISTRY.test("disk full mid-append leaves the log byte-identical", components=("memory",))
async def disk_full_append(ctx: FFTestContext, check: FFChecker) -> None:
    """os.write in the JSONL appender writes half a line, then fails with ENOSPC: nothing is left behind."""
    user = ctx.new_user("enospc")
    session = await ctx.memory.create_session(user, title="disk full")
    before_messages = [await ctx.memory.add_message(user, session.session_id, "user", f"before {i}") for i in range(3)]
    log = session_log(ctx, user, session.session_id)
    before = await read_bytes(log)
    with check.step("append while the disk fills up"):
        with os_fault(jsonl_append_module, "write", log, partial_write=True) as fault:
            error, other = await _storage_error(lambda: ctx.memory.add_message(user, session.session_id, "user", "x" * 4_000))
        check.require(fault.failed_calls >= 1 and fault.partial_bytes > 0, "the fault wrote half a line and then failed", str(fault))
        _record_storage_error(check, error, other, "add_message on a full disk")
        check.metric("partial_bytes_rolled_back", fault.partial_bytes)
    with check.step("nothing partial remains"):
        check.equal(await read_bytes(log), before, "messages.jsonl is byte-identical to before the call")
        stored = await ctx.memory.get_messages(user, session.session_id)
        check.equal([m.message_id for m in stored], [m.message_id for m in before_messages], "the history is unchanged")
    with check.step("space is back"):
        started = time.perf_counter()
        after = await ctx.memory.add_message(user, session.session_id, "user", "after the disk was freed")
        check.equal((await ctx.memory.get_messages(user, session.session_id))[-1].message_id, after.message_id, "the next append works")
        check.metric("recovery_seconds", time.perf_counter() - started)
        health = await asyncio.to_thread(ff_check_jsonl, log)
        check.that(health.healthy and health.records == 4, "the log holds exactly four clean records", str(health))


@REGISTRY.test("a failed fsync leaves the log byte-identical", components=("memory",))
async def fsync_failure_append(ctx: FFTestContext, check: FFChecker) -> None:
    """os.fsync fails with ENOSPC after the line was written: the caller is told and the line removed."""
    user = ctx.new_user("fsyncfail")
    session = await ctx.memory.create_session(user, title="fsync fails")
    await ctx.memory.add_message(user, session.session_id, "user", "before")
    log = session_log(ctx, user, session.session_id)
    before = await read_bytes(log)
    with check.step("append while fsync fails"):
        with os_fault(jsonl_append_module, "fsync", log) as fault:
            error, other = await _storage_error(lambda: ctx.memory.add_message(user, session.session_id, "user", "never acknowledged"))
        check.require(fault.failed_calls >= 1, "the fault was hit", str(fault))
        _record_storage_error(check, error, other, "add_message with a failing fsync")
    with check.step("the unacknowledged line is gone"):
        check.equal(await read_bytes(log), before, "messages.jsonl is byte-identical to before the call")
        check.equal([m.content for m in await ctx.memory.get_messages(user, session.session_id)], ["before"], "the history is unchanged")
    with check.step("fsync works again"):
        started = time.perf_counter()
        again = await ctx.memory.add_message(user, session.session_id, "user", "acknowledged this time")
        stored = await ctx.memory.get_messages(user, session.session_id)
        check.equal([m.message_id for m in stored][-1:], [again.message_id], "the next durable append works")
        check.metric("recovery_seconds", time.perf_counter() - started)


@REGISTRY.test("a failed document replace leaves the old document", components=("memory",))
async def failed_document_replace(ctx: FFTestContext, check: FFChecker) -> None:
    """fsync of the temp file fails in ff_atomic_write: session.json keeps its bytes, no temp file stays."""
    user = ctx.new_user("replacefail")
    session = await ctx.memory.create_session(user, title="original title")
    folder = data_path(ctx, "users", user, "sessions", session.session_id)
    document = folder / "session.json"
    before = await read_bytes(document)
    with check.step("update the session while fsync fails"):
        with os_fault(ff_file_ops_module, "fsync", folder) as fault:
            error, other = await _storage_error(lambda: ctx.memory.update_session(user, session.session_id, title="new title"))
        check.require(fault.failed_calls >= 1, "the fault was hit", str(fault))
        _record_storage_error(check, error, other, "update_session with a failing fsync")
    with check.step("the old document stands"):
        check.equal(await read_bytes(document), before, "session.json is byte-identical to before the call")
        leftovers = await asyncio.to_thread(lambda: sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp")))
        check.equal(leftovers, [], "no temp file is left in the session folder")
        check.equal((await ctx.memory.get_session(user, session.session_id)).title, "original title", "the session keeps its title")
        started = time.perf_counter()
        updated = await ctx.memory.update_session(user, session.session_id, title="new title")
        check.equal(updated.title, "new title", "the update works once the disk is healthy")
        check.metric("recovery_seconds", time.perf_counter() - started)


@REGISTRY.test("a failed catalog commit leaves no half-added document", components=("knowledge",))
async def failed_catalog_commit(ctx: FFTestContext, check: FFChecker) -> None:
    """os.replace of kb.json fails after the document's files were written: the document does not exist."""
    user = ctx.new_user("commitfail")
    first, second = ctx.data.documents[10], ctx.data.documents[11]
    kb = await ctx.knowledge.create_knowledge_base(user, "commit point")
    kept = await ctx.knowledge.add_document(user, kb.kb_id, content=first.content, title=first.title, format="markdown")
    catalog = data_path(ctx, "users", user, "knowledge", kb.kb_id, "kb.json")
    before = await read_bytes(catalog)
    with check.step("add a document while the catalog cannot be replaced"):
        with os_fault(ff_file_ops_module, "replace", catalog) as fault:
            error, other = await _storage_error(
                lambda: ctx.knowledge.add_document(user, kb.kb_id, content=second.content, title=second.title, format="markdown")
            )
        check.require(fault.failed_calls >= 1, "the fault was hit", str(fault))
        _record_storage_error(check, error, other, "add_document with a failing catalog replace")
    with check.step("the document was never added"):
        check.equal(await read_bytes(catalog), before, "kb.json is byte-identical to before the call")
        check.equal([d.doc_id for d in await ctx.knowledge.list_documents(user, kb.kb_id)], [kept.doc_id], "only the first document is listed")
        hits = await ctx.knowledge.search(user, kb.kb_id, second.probe, top_k=5)
        check.that(all(h.doc_id == kept.doc_id for h in hits), "search never returns the half-added document")
    with check.step("adding it again works"):
        started = time.perf_counter()
        added = await ctx.knowledge.add_document(user, kb.kb_id, content=second.content, title=second.title, format="markdown")
        hits = await ctx.knowledge.search(user, kb.kb_id, second.probe, top_k=3)
        check.that(bool(hits) and hits[0].doc_id == added.doc_id, "the re-added document is found by its fact")
        check.metric("recovery_seconds", time.perf_counter() - started)


@REGISTRY.test("durable appends are fsynced before they are acknowledged", components=("memory", "panel", "tools", "metrics"))
async def durable_appends_fsynced(ctx: FFTestContext, check: FFChecker) -> None:
    """With durability "always", each log's fsync covers the new line before the call returns."""
    user = ctx.new_user("fsyncspy")
    config = _durable(ctx.config)
    bus = ctx.bus_factory(None)
    memory, panels, tools, metrics = (ctx.fresh_manager(name, bus=bus, config=config) for name in ("memory", "panel", "tools", "metrics"))
    try:
        session = await memory.create_session(user, title="spied")
        panel = await panels.create_panel(user, _PAIR, title="spied")
        logs = {
            "memory message": session_log(ctx, user, session.session_id),
            "panel message": data_path(ctx, "users", user, "panels", panel.panel_id, "messages.jsonl"),
            "tool run": data_path(ctx, "users", user, "tools", "runs.jsonl"),
            "audit record": data_path(ctx, "audit", "audit.jsonl"),
        }
        calls: dict[str, Callable[[], Awaitable[Any]]] = {
            "memory message": lambda: memory.add_message(user, session.session_id, "user", "must be durable"),
            "panel message": lambda: panels.add_message(user, panel.panel_id, "ana", "must be durable"),
            "tool run": lambda: tools.execute_tool(user, "calculator", {"expression": "2+2"}),
            "audit record": lambda: metrics.audit(user, "failure.fsync_probe", "audit", "success"),
        }
        for what, call in calls.items():
            with check.step(what):
                with fsync_spy(jsonl_append_module) as synced:
                    await call()
                size = (await asyncio.to_thread(logs[what].stat)).st_size
                covering = [s for s in synced if s.path == logs[what].resolve() and s.size >= size]
                check.metric(f"fsyncs_{what.replace(' ', '_')}", len(covering))
                check.that(bool(covering), f"{what}: the log was fsynced, new line included, before the call returned", f"fsyncs seen: {synced}")
    finally:
        for manager in (memory, panels, tools, metrics):
            await manager.shutdown()


# ====================================================================== killed writer


async def _start_writer(ctx: FFTestContext, user: str, session_id: str, *extra: str) -> asyncio.subprocess.Process:
    """Start the child writer (see _killed_writer.py) and wait for its "ready"."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "testing.suites._killed_writer",
        user,
        session_id,
        *extra,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=_PROJECT_ROOT,
    )
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    process.stdin.write(ctx.config.model_dump_json().encode())
    await process.stdin.drain()
    process.stdin.close()
    ready = await asyncio.wait_for(process.stdout.readline(), timeout=30)
    if ready != b"ready\n":
        process.kill()
        why = (await asyncio.wait_for(process.stderr.read(), timeout=20)).decode(errors="replace")
        raise RuntimeError(f"the writer did not start: {why[-500:]}")
    return process


def _acks(output: bytes) -> list[str]:
    return [line.split()[1].decode() for line in output.splitlines() if line.startswith(b"ack ")]


async def _recover_and_verify(
    ctx: FFTestContext, check: FFChecker, user: str, session_id: str, acked: list[str], died_at: float
) -> tuple[int, int]:
    """Read, repair, append, re-read; check every ack survived. Returns (torn bytes, unacked extra)."""
    log = session_log(ctx, user, session_id)
    with check.step("recover"):
        before_repair = await asyncio.to_thread(ff_check_jsonl, log)
        check.equal([b.offset for b in before_repair.bad_lines if not b.torn], [], "no complete line is corrupt; only the tail may be torn")
        readable = await ctx.memory.get_messages(user, session_id, limit=10_000)
        check.equal([m.message_id for m in readable][: len(acked)], acked, "before any repair every acknowledged message reads back")
        removed = await asyncio.to_thread(ff_repair_jsonl, log)
        check.equal(removed, before_repair.torn_tail_bytes, "repair removed exactly the torn tail")
        after_repair = await asyncio.to_thread(ff_check_jsonl, log)
        check.that(after_repair.healthy, "after repair the log has no torn or bad line", str(after_repair.bad_lines[:1]))
        resumed = await ctx.memory.add_message(user, session_id, "assistant", "after the crash")
        stored = await ctx.memory.get_messages(user, session_id, limit=10_000)
        recovery = time.perf_counter() - died_at
    check.metric("recovery_seconds", recovery)
    check.metric("acknowledged_messages", len(acked))
    check.metric("torn_bytes_repaired", removed)
    check.at_most(recovery, RECOVERY_GOAL_SECONDS, f"recovered within {RECOVERY_GOAL_SECONDS:g} s of the death")
    ids = [m.message_id for m in stored]
    check.equal(ids[: len(acked)], acked, "every acknowledged message is present, in order")
    check.equal(ids[-1:], [resumed.message_id], "the session takes a new message after the crash")
    check.equal(
        [m.content for m in stored[: len(acked)]],
        [message_text(i) for i in range(len(acked))],
        "every acknowledged message's text is intact",
    )
    unacked = len(ids) - len(acked) - 1
    check.metric("unacknowledged_extra", unacked)
    return removed, unacked


@REGISTRY.test("a SIGKILLed writer loses no acknowledged message", components=("memory",), timeout_seconds=60)
async def killed_writer(ctx: FFTestContext, check: FFChecker) -> None:
    """A child process appends with durability "always" and is SIGKILLed from outside mid-stream.

    Afterwards every message it acknowledged is there, in order and intact; at most the one in
    flight is extra; any torn tail is repaired and the session takes new messages.
    """
    user = ctx.new_user("killed")
    session = await ctx.memory.create_session(user, title="killed writer")
    acked: list[str] = []
    with check.step("start the writer"):
        process = await _start_writer(ctx, user, session.session_id)
    try:
        with check.step("let it write, then SIGKILL it"):
            assert process.stdout is not None
            # Kill just after an ack that is followed by a large message, so the kill has a
            # chance of landing inside that message's write.
            while len(acked) < 20 or len(acked) % 4 != 3:
                line = await asyncio.wait_for(process.stdout.readline(), timeout=20)
                check.require(line.startswith(b"ack "), "the writer acknowledges each message", line.decode(errors="replace"))
                acked += _acks(line)
            process.send_signal(signal.SIGKILL)
            killed_at = time.perf_counter()
            acked += _acks(await asyncio.wait_for(process.stdout.read(), timeout=20))
            check.equal(await asyncio.wait_for(process.wait(), timeout=20), -signal.SIGKILL, "the writer died of SIGKILL")
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    _, unacked = await _recover_and_verify(ctx, check, user, session.session_id, acked, killed_at)
    check.that(0 <= unacked <= 1, "at most the one message in flight is extra", f"{unacked} extra")


@REGISTRY.test("a writer killed inside write() leaves a torn tail that repair removes", components=("memory",), timeout_seconds=60)
async def writer_killed_inside_write(ctx: FFTestContext, check: FFChecker) -> None:
    """The child SIGKILLs itself halfway through writing its 12th message (a large one).

    A deterministic crash point: the log ends in half a line, every time. Readers skip it, repair
    truncates exactly it, the eleven acknowledged messages are intact and the torn one is gone.
    """
    user = ctx.new_user("torn")
    session = await ctx.memory.create_session(user, title="torn write")
    torn_index = 11  # message_text(11) is one of the large ones
    with check.step("run the writer to its death"):
        process = await _start_writer(ctx, user, session.session_id, str(torn_index))
        try:
            assert process.stdout is not None
            acked = _acks(await asyncio.wait_for(process.stdout.read(), timeout=30))
            died_at = time.perf_counter()
            check.equal(await asyncio.wait_for(process.wait(), timeout=20), -signal.SIGKILL, "the writer died of SIGKILL")
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        check.equal(len(acked), torn_index, "every message before the torn one was acknowledged")
    removed, unacked = await _recover_and_verify(ctx, check, user, session.session_id, acked, died_at)
    check.that(removed > 1000, "the torn tail was half a large message", f"{removed} bytes")
    check.equal(unacked, 0, "the torn, unacknowledged message is gone after repair")
