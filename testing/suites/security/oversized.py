"""Oversized payloads: one byte or character over each configured limit must be refused untouched.

Limits are read from the run's configuration (never hard-coded here), so the checks follow a
deployment that tunes them. Every attack runs on a data root of its own; the whole sandbox is
snapshotted before and after the oversized calls, so "refused" also means "nothing written".
Each check also makes the same call at exactly the limit, which must be accepted and read back
byte for byte (README: the limits are inclusive): a limit enforced one early refuses a legitimate
payload, and a write that cuts or re-encodes what it keeps loses data; neither is seen by the
refusals alone. Text lengths are structured-input validation (ASVS V5.1.4); documents, attachments and staged
files are uploads that could fill the disk (ASVS V12.1.1).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from ff_utils.ff_errors import FFError
from ff_utils.ff_json_utils import ff_dumps
from testing._context import FFTestContext
from testing.runner import FFChecker
from testing.suites.security._support import (
    FFAttack,
    FFObservation,
    FFProbe,
    FFSandboxRoot,
    describe_changes,
    run_probes,
    sandbox_root,
    security_check,
    tree_diff,
    tree_snapshot,
)
from testing.suites.security.sandbox import probe_tool

__all__ = [
    "oversized_attachment",
    "oversized_chat_message",
    "oversized_document",
    "oversized_memory",
    "oversized_metrics_payloads",
    "oversized_panel_message",
    "oversized_tool_input",
]

_EXPECTED = "every call raises FFValidationError and no file is added, removed or changed"


async def _refuse_oversized(
    ctx: FFTestContext,
    check: FFChecker,
    seen: FFObservation,
    label: str,
    manager: str,
    setup: Callable[[FFSandboxRoot], Awaitable[Any]],
    probes: Callable[[FFSandboxRoot, Any], list[FFProbe]],
    at_limit: Callable[[FFSandboxRoot, Any], Awaitable[None]] | None = None,
) -> None:
    """Set up, snapshot, make the oversized calls, snapshot again; claim refusal and no change.
    Then ``at_limit`` makes the calls at exactly each limit and checks what reads back."""
    async with sandbox_root(ctx, label, manager) as box:
        with check.step("set up"):
            anchor = await setup(box)
        before = await tree_snapshot(box.sandbox)
        calls = probes(box, anchor)
        with check.step(f"{len(calls)} oversized calls"):
            report = await run_probes(calls)
        after = await tree_snapshot(box.sandbox)
        if at_limit is not None:
            with check.step("the same calls at exactly the limits"):
                try:
                    await at_limit(box, anchor)
                except FFError as exc:  # a limit enforced early: a finding, not a broken test
                    seen.note(f"at exactly the limit: refused with {type(exc).__name__}: {exc}")
                    check.that(False, "every call at exactly its limit is accepted", f"{type(exc).__name__}: {exc}")
    changes = tree_diff(before, after)
    seen.note(report.summary())
    seen.note(f"sandbox ({len(before)} entries before): {describe_changes(changes)}")
    check.equal(report.refused, report.total, f"all {report.total} oversized calls refused with FFValidationError")
    check.equal(len(changes), 0, "files added, removed or changed by the refused calls")


def _text_of(n: int) -> str:
    """Exactly ``n`` characters (n >= 2) of 1- to 4-byte UTF-8, first and last a letter, so a limit
    counted in bytes, a re-encoding or a strip() shows."""
    unit = "aé€😀 b\tç中\n"
    return "x" + (unit * (n // len(unit) + 1))[: n - 2] + "z"


def _json_of(max_bytes: int) -> dict[str, str]:
    """A JSON object of exactly ``max_bytes`` bytes, measured as the managers measure it."""
    return {"k": "x" * (max_bytes - len(ff_dumps({"k": ""})))}


def _same(check: FFChecker, got: Any, sent: Any, description: str) -> bool:
    """Equality of two large values, reporting sizes and digests instead of the values."""
    def brief(value: Any) -> str:
        if isinstance(value, list) and all(isinstance(item, bytes) for item in value):
            value = b"".join(value)
        raw = value if isinstance(value, bytes) else ff_dumps(value)
        return f"{len(raw):,} bytes, sha256 {hashlib.sha256(raw).hexdigest()[:12]}"
    return check.that(got == sent, description, "" if got == sent else f"read back {brief(got)}, sent {brief(sent)}")


async def _session(box: FFSandboxRoot) -> str:
    return (await box["memory"].create_session("victim", title="limits")).session_id


@security_check(
    FFAttack(
        check_id="SEC-SIZE-01",
        name="chat message over the content limit",
        category="oversized payload",
        asvs_id="V5.1.4",
        attack="add_message with content of storage.max_content_chars + 1 characters, and with metadata of "
        "memory.max_metadata_bytes + 1 bytes as JSON",
        expected=_EXPECTED,
        severity="medium",
    ),
    group="test_oversized_payloads",
    components=("memory",),
)
async def oversized_chat_message(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    limit, meta = ctx.config.storage.max_content_chars, ctx.config.memory.max_metadata_bytes
    seen.note(f"limits: content {limit:,} chars, metadata {meta:,} bytes")

    def probes(box: FFSandboxRoot, sid: str) -> list[FFProbe]:
        memory = box["memory"]
        return [
            FFProbe("add_message(content=limit+1)", lambda: memory.add_message("victim", sid, "user", "x" * (limit + 1))),
            FFProbe("add_message(metadata=limit+1)", lambda: memory.add_message("victim", sid, "user", "hi", metadata={"k": "x" * meta})),
        ]

    async def at_limit(box: FFSandboxRoot, sid: str) -> None:
        memory, text, metadata = box["memory"], _text_of(limit), _json_of(meta)
        await memory.add_message("victim", sid, "user", text, metadata=metadata)
        [back] = await memory.get_messages("victim", sid, limit=1)
        _same(check, back.content, text, f"a message of exactly {limit:,} characters is kept byte for byte")
        _same(check, back.metadata, metadata, f"metadata of exactly {meta:,} bytes as JSON is kept")
        seen.note("at the limits: content and metadata accepted" + ("" if back.content == text else ", content changed"))

    await _refuse_oversized(ctx, check, seen, "SEC-SIZE-01", "memory", _session, probes, at_limit)


@security_check(
    FFAttack(
        check_id="SEC-SIZE-02",
        name="memory over the content limit",
        category="oversized payload",
        asvs_id="V5.1.4",
        attack="store_memory with content of storage.max_content_chars + 1 characters (every layer tried)",
        expected=_EXPECTED,
        severity="medium",
    ),
    group="test_oversized_payloads",
    components=("memory",),
)
async def oversized_memory(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    limit = ctx.config.storage.max_content_chars
    seen.note(f"limit: {limit:,} chars")

    async def setup(box: FFSandboxRoot) -> None:
        await box["memory"].store_memory("victim", "a small memory", layer="short_term")

    def probes(box: FFSandboxRoot, _: None) -> list[FFProbe]:
        memory = box["memory"]
        layers = ("immediate", "short_term", "medium_term", "long_term", "permanent")
        return [FFProbe(f"store_memory({layer}, limit+1)", lambda layer=layer: memory.store_memory("victim", "x" * (limit + 1), layer=layer)) for layer in layers]

    async def at_limit(box: FFSandboxRoot, _: None) -> None:
        text = _text_of(limit)
        stored = await box["memory"].store_memory("victim", text, layer="long_term")
        _same(check, (await box["memory"].get_memory("victim", stored.memory_id)).content, text,
              f"a memory of exactly {limit:,} characters is kept byte for byte")

    await _refuse_oversized(ctx, check, seen, "SEC-SIZE-02", "memory", setup, probes, at_limit)


@security_check(
    FFAttack(
        check_id="SEC-SIZE-03",
        name="panel message over the message limit",
        category="oversized payload",
        asvs_id="V5.1.4",
        attack="panel add_message with content of panel.max_message_chars + 1 characters",
        expected=_EXPECTED,
        severity="medium",
    ),
    group="test_oversized_payloads",
    components=("panel",),
)
async def oversized_panel_message(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    limit = ctx.config.panel.max_message_chars
    seen.note(f"limit: {limit:,} chars")

    async def setup(box: FFSandboxRoot) -> str:
        panel = await box["panel"].create_panel("victim", [{"participant_id": "host"}, {"participant_id": "guest"}])
        await box["panel"].add_message("victim", panel.panel_id, "host", "a small message")
        return panel.panel_id

    def probes(box: FFSandboxRoot, pid: str) -> list[FFProbe]:
        return [FFProbe("add_message(limit+1)", lambda: box["panel"].add_message("victim", pid, "guest", "x" * (limit + 1)))]

    async def at_limit(box: FFSandboxRoot, pid: str) -> None:
        text = _text_of(limit)
        await box["panel"].add_message("victim", pid, "guest", text)
        [back] = await box["panel"].get_messages("victim", pid, limit=1)
        _same(check, back.content, text, f"a panel message of exactly {limit:,} characters is kept byte for byte")

    await _refuse_oversized(ctx, check, seen, "SEC-SIZE-03", "panel", setup, probes, at_limit)


@security_check(
    FFAttack(
        check_id="SEC-SIZE-04",
        name="knowledge document over the size limit",
        category="oversized upload",
        asvs_id="V12.1.1",
        attack="add_document with text (content=) and with bytes (data=) of knowledge.max_document_bytes + 1",
        expected=_EXPECTED,
    ),
    group="test_oversized_payloads",
    components=("knowledge",),
)
async def oversized_document(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    limit = ctx.config.knowledge.max_document_bytes
    seen.note(f"limit: {limit:,} bytes")

    async def setup(box: FFSandboxRoot) -> str:
        base = await box["knowledge"].create_knowledge_base("victim", "limits")
        await box["knowledge"].add_document("victim", base.kb_id, content="A small document.", title="small")
        return base.kb_id

    def probes(box: FFSandboxRoot, kb: str) -> list[FFProbe]:
        knowledge = box["knowledge"]
        return [
            FFProbe("add_document(content=limit+1)", lambda: knowledge.add_document("victim", kb, content="word " * (limit // 5) + "x" * (limit % 5 + 1))),
            FFProbe("add_document(data=limit+1)", lambda: knowledge.add_document("victim", kb, data=b"word " * (limit // 5) + b"x" * (limit % 5 + 1), format="text")),
        ]

    await _refuse_oversized(ctx, check, seen, "SEC-SIZE-04", "knowledge", setup, probes)


@security_check(
    FFAttack(
        check_id="SEC-SIZE-05",
        name="chat attachment over the size limit",
        category="oversized upload",
        asvs_id="V12.1.1",
        attack="add_message with one attachment of memory.max_attachment_bytes + 1 bytes, and with "
        "memory.max_attachments_per_message + 1 small attachments",
        expected=_EXPECTED,
    ),
    group="test_oversized_payloads",
    components=("memory",),
)
async def oversized_attachment(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    limit, count = ctx.config.memory.max_attachment_bytes, ctx.config.memory.max_attachments_per_message
    seen.note(f"limits: {limit:,} bytes per attachment, {count} attachments per message")

    def probes(box: FFSandboxRoot, sid: str) -> list[FFProbe]:
        memory = box["memory"]
        big = [{"name": "big.bin", "mime_type": "application/octet-stream", "data": b"\x00" * (limit + 1)}]
        many = [{"name": f"f{i}.txt", "mime_type": "text/plain", "data": b"x"} for i in range(count + 1)]
        return [
            FFProbe("add_message(attachment=limit+1 bytes)", lambda: memory.add_message("victim", sid, "user", "see file", attachments=big)),
            FFProbe("add_message(attachments=count+1)", lambda: memory.add_message("victim", sid, "user", "see files", attachments=many)),
        ]

    async def at_limit(box: FFSandboxRoot, sid: str) -> None:
        memory = box["memory"]
        largest = bytes(range(256)) * (limit // 256) + b"\xff" * (limit % 256)
        files = [largest] + [f"small {i}".encode() for i in range(count - 1)]
        sent = await memory.add_message("victim", sid, "user", "see files", attachments=[
            {"name": f"f{i}.bin", "mime_type": "application/octet-stream", "data": data} for i, data in enumerate(files)
        ])
        [back] = await memory.get_messages("victim", sid, limit=1)
        check.equal((back.message_id, len(back.attachments)), (sent.message_id, count), f"a message with exactly {count} attachments keeps them all")
        got = [await memory.get_attachment("victim", sid, a.attachment_id) for a in back.attachments]
        _same(check, got[:1], files[:1], f"an attachment of exactly {limit:,} bytes reads back byte for byte")
        _same(check, got, files, "every attachment reads back byte for byte, in order")

    await _refuse_oversized(ctx, check, seen, "SEC-SIZE-05", "memory", _session, probes, at_limit)


@security_check(
    FFAttack(
        check_id="SEC-SIZE-06",
        name="tool arguments and staged files over their limits",
        category="oversized payload",
        asvs_id="V12.1.1",
        attack="execute_tool with an arguments document of exactly tools.max_argument_bytes + 1 bytes of UTF-8 JSON "
        "(a probe tool taking any object, and word_count), and with staged files totalling tools.max_input_file_bytes + 1 bytes",
        expected=_EXPECTED + " (no work directory, no process, no run logged); arguments of exactly the limit run, "
        "logged byte for byte",
    ),
    group="test_oversized_payloads",
    components=("tools",),
)
async def oversized_tool_input(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    args_limit, files_limit = ctx.config.tools.max_argument_bytes, ctx.config.tools.max_input_file_bytes
    seen.note(f"limits: arguments {args_limit:,} bytes, staged files {files_limit:,} bytes")

    async def setup(box: FFSandboxRoot) -> None:
        box["tools"].register_tool(probe_tool("sec_probe_noop", "import json; print(json.dumps({}))", wall_time_seconds=3.0))
        await box["tools"].execute_tool("victim", "word_count", {"text": "a small run"})

    def probes(box: FFSandboxRoot, _: None) -> list[FFProbe]:
        tools = box["tools"]
        over = _arguments_of_bytes(args_limit + 1)
        files = {"big.txt": b"x" * (files_limit + 1)}
        return [
            FFProbe("execute_tool(probe, arguments=limit+1 bytes)", lambda: tools.execute_tool("victim", "sec_probe_noop", over)),
            FFProbe("execute_tool(word_count, text=limit+1)", lambda: tools.execute_tool("victim", "word_count", {"text": "x" * (args_limit + 1)})),
            FFProbe("execute_tool(word_count, files=limit+1)", lambda: tools.execute_tool("victim", "word_count", {"path": "big.txt"}, files=files)),
        ]

    async def at_limit(box: FFSandboxRoot, _: None) -> None:
        sent = _arguments_of_bytes(args_limit)
        ran = await box["tools"].execute_tool("victim", "sec_probe_noop", sent)
        check.equal(ran.status.value, "success", f"arguments of exactly {args_limit:,} bytes as JSON run")
        logged = next((r for r in await box["tools"].list_runs("victim", limit=5) if r.run_id == ran.run_id), None)
        check.that(logged is not None and logged.arguments == sent, f"the run's {args_limit:,} bytes of arguments are logged byte for byte",
                   "missing or changed")

    await _refuse_oversized(ctx, check, seen, "SEC-SIZE-06", "tools", setup, probes, at_limit)


def _arguments_of_bytes(total: int) -> dict[str, str]:
    """``{"blob": ...}`` whose compact UTF-8 JSON is exactly ``total`` bytes, mostly 2-byte characters,
    so a limit counted in characters, or off by one, shows (counted here with the standard library,
    not the encoder under test)."""
    frame = len(json.dumps({"blob": ""}, separators=(",", ":")).encode())
    pairs, single = divmod(total - frame, 2)
    arguments = {"blob": "é" * pairs + "x" * single}
    if len(json.dumps(arguments, separators=(",", ":"), ensure_ascii=False).encode()) != total:
        raise ValueError(f"no arguments document of exactly {total} bytes")  # a frame of odd size cannot miss by more
    return arguments


@security_check(
    FFAttack(
        check_id="SEC-SIZE-07",
        name="metric tags, analytics data and audit details over their limits",
        category="oversized payload",
        asvs_id="V5.1.4",
        attack="record_metric with metrics.max_tags + 1 tags and with a tag value of max_tag_value_chars + 1; "
        "record_event with data and audit with details of max_event_data_bytes + 1 bytes as JSON",
        expected=_EXPECTED,
        severity="medium",
    ),
    group="test_oversized_payloads",
    components=("metrics",),
)
async def oversized_metrics_payloads(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    settings = ctx.config.metrics
    seen.note(f"limits: {settings.max_tags} tags, {settings.max_tag_value_chars} chars per tag value, {settings.max_event_data_bytes:,} bytes of data")

    async def setup(box: FFSandboxRoot) -> None:
        await box["metrics"].record_metric("limits.latency_ms", 1.0, tags={"op": "setup"})
        await box["metrics"].record_event("victim", "login")
        await box["metrics"].audit("victim", "login", "session")

    def probes(box: FFSandboxRoot, _: None) -> list[FFProbe]:
        metrics = box["metrics"]
        many_tags = {f"t{i}": "v" for i in range(settings.max_tags + 1)}
        long_tag = {"op": "x" * (settings.max_tag_value_chars + 1)}
        data = {"blob": "x" * settings.max_event_data_bytes}
        return [
            FFProbe("record_metric(tags=max_tags+1)", lambda: metrics.record_metric("limits.latency_ms", 1.0, tags=many_tags)),
            FFProbe("record_metric(tag value=limit+1)", lambda: metrics.record_metric("limits.latency_ms", 1.0, tags=long_tag)),
            FFProbe("increment(tag value=limit+1)", lambda: metrics.increment("limits.count", tags=long_tag)),
            FFProbe("record_event(data=limit+1)", lambda: metrics.record_event("victim", "upload", data)),
            FFProbe("audit(details=limit+1)", lambda: metrics.audit("victim", "upload", "file", details=data)),
        ]

    async def at_limit(box: FFSandboxRoot, _: None) -> None:
        metrics = box["metrics"]
        tags = {f"t{i}": f"{i}" + "v" * (settings.max_tag_value_chars - len(str(i))) for i in range(settings.max_tags)}
        await metrics.record_metric("limits.latency_ms", 2.0, tags=tags)
        summary = await metrics.get_summary("limits.latency_ms", tags=tags)
        check.equal((summary.count, summary.sum), (1, 2.0), f"a sample with {settings.max_tags} tags of {settings.max_tag_value_chars} characters is kept and found by them")
        details = _json_of(settings.max_event_data_bytes)
        await metrics.record_event("victim", "upload", details)
        await metrics.audit("victim", "upload", "file", details=details)
        [record] = await metrics.get_audit_records(limit=1)
        _same(check, record.details, details, f"audit details of exactly {settings.max_event_data_bytes:,} bytes as JSON are kept")
        check.equal((await metrics.get_user_analytics("victim")).event_counts.get("upload"), 1, "an event with data of exactly the limit is counted")

    await _refuse_oversized(ctx, check, seen, "SEC-SIZE-07", "metrics", setup, probes, at_limit)
