"""Hostile ids: traversal, absolute, NUL, unicode tricks and huge values as every id of every manager.

Every id a manager takes becomes a directory or file name, so each one is attacked: user, session,
attachment, panel, participant, knowledge base, document, tool name, role, run, metric name and
event type. Each manager runs on a data root of its own, nested in a sandbox folder that also
holds an "outside" area; the whole sandbox is snapshotted (kind, size, SHA-256 of every entry)
before and after, so a write anywhere (inside the root or escaped from it) is seen.

Two families per manager, two checks each:

* path traversal (ASVS V12.3.1): ``../../etc``, ``..``, an absolute path into the outside area,
  ``a/../../b``, backslash traversal, a NUL byte;
* positive validation (ASVS V5.1.3): fullwidth dots, an RTL override, a zero-width space, one-dot
  leaders, a newline, 10,000 characters.

The memory traversal check also swaps what a valid id names for a symlink (README "No write or
read through a symlink under the root"): the session's folder for a link to a copy of it outside
the root, and ``messages.jsonl`` for a link to the outside secret. Every read and write must be
one FFValidationError, nothing outside may change, and the outside copy's text must never come back.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Awaitable, Callable
from typing import Any

from ff_utils.ff_errors import FFNotFoundError, FFValidationError
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
    shown,
    tree_diff,
    tree_snapshot,
)

__all__ = ["PROBE_BUILDERS", "traversal_payloads", "unicode_payloads"]

_PARTICIPANTS = [{"participant_id": "host"}, {"participant_id": "guest"}]
_VICTIM = "victim"


def traversal_payloads(box: FFSandboxRoot) -> dict[str, str]:
    """Path traversal values; the absolute one points into this sandbox's outside area."""
    return {
        "traversal": "../../etc",
        "parent": "..",
        "absolute": str(box.outside / "abs_target"),
        "embedded traversal": "a/../../b",
        "backslash traversal": "..\\..\\outside",
        "NUL byte": "a\x00b",
    }


def unicode_payloads(box: FFSandboxRoot) -> dict[str, str]:
    """Values that only a positive (allow-list) rule refuses: look-alikes, invisibles, huge."""
    return {
        "fullwidth dots": "\uff0e\uff0e/\uff0e\uff0e/etc",
        "RTL override": "\u202eexe.txt",
        "zero-width space": "a\u200bb",
        "one-dot leaders": "\u2024\u2024",
        "newline": "a\nb",
        "huge": "x" * 10_000,
    }


# ---------------------------------------------------------------------------- per manager
# setup(manager) -> anchor (valid objects the probes aim at); probes(manager, value, anchor).

Setup = Callable[[Any], Awaitable[dict[str, str]]]
Probes = Callable[[Any, str, dict[str, str]], list[FFProbe]]


async def _memory_setup(memory: Any) -> dict[str, str]:
    session = await memory.create_session(_VICTIM, title="anchor")
    await memory.add_message(_VICTIM, session.session_id, "user", "anchor message")
    return {"session_id": session.session_id}


def _memory_probes(memory: Any, v: str, anchor: dict[str, str]) -> list[FFProbe]:
    sid = anchor["session_id"]
    return [
        FFProbe("create_session(user_id)", lambda: memory.create_session(v, title="x")),
        FFProbe("create_session(session_id)", lambda: memory.create_session(_VICTIM, session_id=v)),
        FFProbe("add_message(user_id)", lambda: memory.add_message(v, sid, "user", "x")),
        FFProbe("add_message(session_id)", lambda: memory.add_message(_VICTIM, v, "user", "x")),
        FFProbe("add_message(message_id)", lambda: memory.add_message(_VICTIM, sid, "user", "x", message_id=v)),
        FFProbe("store_memory(user_id)", lambda: memory.store_memory(v, "x")),
        FFProbe("store_memory(memory_id)", lambda: memory.store_memory(_VICTIM, "x", memory_id=v)),
        FFProbe("get_messages(session_id)", lambda: memory.get_messages(_VICTIM, v)),
        FFProbe("get_attachment(attachment_id)", lambda: memory.get_attachment(_VICTIM, sid, v)),
        FFProbe("create_profile(user_id)", lambda: memory.create_profile(v)),
    ]


async def _panel_setup(panel: Any) -> dict[str, str]:
    created = await panel.create_panel(_VICTIM, _PARTICIPANTS, title="anchor")
    await panel.add_message(_VICTIM, created.panel_id, "host", "anchor message")
    return {"panel_id": created.panel_id}


def _panel_probes(panel: Any, v: str, anchor: dict[str, str]) -> list[FFProbe]:
    pid = anchor["panel_id"]
    return [
        FFProbe("create_panel(user_id)", lambda: panel.create_panel(v, _PARTICIPANTS)),
        FFProbe("create_panel(panel_id)", lambda: panel.create_panel(_VICTIM, _PARTICIPANTS, panel_id=v)),
        FFProbe("create_panel(participant_id)", lambda: panel.create_panel(_VICTIM, [{"participant_id": v}, {"participant_id": "guest"}])),
        FFProbe("add_message(panel_id)", lambda: panel.add_message(_VICTIM, v, "host", "x")),
        FFProbe("add_message(participant_id)", lambda: panel.add_message(_VICTIM, pid, v, "x")),
        FFProbe("add_message(user_id)", lambda: panel.add_message(v, pid, "host", "x")),
        FFProbe("get_messages(panel_id)", lambda: panel.get_messages(_VICTIM, v)),
        FFProbe("get_messages(user_id)", lambda: panel.get_messages(v, pid)),
        FFProbe("list_panels(user_id)", lambda: panel.list_panels(v)),
    ]


async def _knowledge_setup(knowledge: Any) -> dict[str, str]:
    base = await knowledge.create_knowledge_base(_VICTIM, "anchor")
    doc = await knowledge.add_document(_VICTIM, base.kb_id, content="Anchor document about tea.", title="anchor")
    return {"kb_id": base.kb_id, "doc_id": doc.doc_id}


def _knowledge_probes(knowledge: Any, v: str, anchor: dict[str, str]) -> list[FFProbe]:
    kb = anchor["kb_id"]
    return [
        FFProbe("create_knowledge_base(user_id)", lambda: knowledge.create_knowledge_base(v, "x")),
        FFProbe("create_knowledge_base(kb_id)", lambda: knowledge.create_knowledge_base(_VICTIM, "x", kb_id=v)),
        FFProbe("add_document(user_id)", lambda: knowledge.add_document(v, kb, content="text")),
        FFProbe("add_document(kb_id)", lambda: knowledge.add_document(_VICTIM, v, content="text")),
        FFProbe("add_document(document_id)", lambda: knowledge.add_document(_VICTIM, kb, content="other text", document_id=v)),
        FFProbe("get_document(doc_id)", lambda: knowledge.get_document(_VICTIM, kb, v)),
        FFProbe("search(kb_id)", lambda: knowledge.search(_VICTIM, v, "tea")),
        FFProbe("list_knowledge_bases(user_id)", lambda: knowledge.list_knowledge_bases(v)),
    ]


async def _tools_setup(tools: Any) -> dict[str, str]:
    run = await tools.execute_tool(_VICTIM, "word_count", {"text": "anchor run"})
    return {"run_id": run.run_id}


def _tools_probes(tools: Any, v: str, anchor: dict[str, str]) -> list[FFProbe]:
    # An unknown tool name is refused by the registry lookup (FFNotFoundError) before any write.
    return [
        FFProbe("execute_tool(user_id)", lambda: tools.execute_tool(v, "word_count", {"text": "x"})),
        FFProbe("execute_tool(tool name)", lambda: tools.execute_tool(_VICTIM, v, {"text": "x"}), (FFValidationError, FFNotFoundError)),
        FFProbe("execute_tool(staged file name)", lambda: tools.execute_tool(_VICTIM, "word_count", {"path": "a.txt"}, files={v: b"x"})),
        FFProbe("grant_tool(user_id)", lambda: tools.grant_tool(v, "word_count")),
        FFProbe("assign_role(role)", lambda: tools.assign_role(_VICTIM, v)),
        FFProbe("list_runs(user_id)", lambda: tools.list_runs(v)),
        FFProbe("get_run(run_id)", lambda: tools.get_run(_VICTIM, v)),
    ]


async def _metrics_setup(metrics: Any) -> dict[str, str]:
    await metrics.record_metric("anchor.latency_ms", 1.0)
    await metrics.record_event(_VICTIM, "login")
    return {}


def _metrics_probes(metrics: Any, v: str, anchor: dict[str, str]) -> list[FFProbe]:
    return [
        FFProbe("record_metric(name)", lambda: metrics.record_metric(v, 1.0)),
        FFProbe("increment(name)", lambda: metrics.increment(v)),
        FFProbe("get_summary(name)", lambda: metrics.get_summary(v)),
        FFProbe("record_event(user_id)", lambda: metrics.record_event(v, "login")),
        FFProbe("record_event(event_type)", lambda: metrics.record_event(_VICTIM, v)),
        FFProbe("get_user_analytics(user_id)", lambda: metrics.get_user_analytics(v)),
        FFProbe("audit(action)", lambda: metrics.audit(_VICTIM, v, "target")),
    ]


PROBE_BUILDERS: dict[str, tuple[Setup, Probes, str]] = {
    "memory": (_memory_setup, _memory_probes, "user/session/message/memory/attachment ids"),
    "panel": (_panel_setup, _panel_probes, "user/panel/participant ids"),
    "knowledge": (_knowledge_setup, _knowledge_probes, "user/kb/document ids"),
    "tools": (_tools_setup, _tools_probes, "user id, tool name, staged file name, role, run id"),
    "metrics": (_metrics_setup, _metrics_probes, "metric name, user id, event type, audit action"),
}


# ---------------------------------------------------------------------------- the attack


async def _attack_ids(
    ctx: FFTestContext, check: FFChecker, seen: FFObservation, manager: str, family: str, label: str
) -> None:
    setup, builder, _ = PROBE_BUILDERS[manager]
    payloads = traversal_payloads if family == "traversal" else unicode_payloads
    async with sandbox_root(ctx, label, manager) as box:
        with check.step("set up a valid anchor"):
            anchor = await setup(box[manager])
        before = await tree_snapshot(box.sandbox)
        values = payloads(box)
        probes = [
            FFProbe(f"{p.label}={name} {shown(value)}", p.call, p.refused_by)
            for name, value in values.items()
            for p in builder(box[manager], value, anchor)
        ]
        with check.step(f"{len(probes)} hostile calls"):
            report = await run_probes(probes)
        after = await tree_snapshot(box.sandbox)
        links = await _swap_for_symlinks(check, seen, box, anchor) if (manager, family) == ("memory", "traversal") else None
    changes = tree_diff(before, after)
    seen.note(f"{manager}: {report.summary()}")
    seen.note(f"sandbox ({len(before)} entries before): {describe_changes(changes)}")
    check.metric("hostile_calls", report.total)
    check.equal(report.refused, report.total, f"all {report.total} hostile-id calls refused with a typed FFError")
    check.equal(len(changes), 0, "files added, removed or changed inside or outside the data root")
    if links is not None:
        check.equal(links.refused, links.total, f"all {links.total} calls through a swapped-in symlink refused with FFValidationError")


_DECOY = "decoy text that only exists outside the data root"


async def _swap_for_symlinks(check: FFChecker, seen: FFObservation, box: FFSandboxRoot, anchor: dict[str, str]) -> Any:
    """Swap the anchor session's folder, then its messages.jsonl, for symlinks leading outside
    the root; every call through them must be refused, and nothing outside may change or leak."""
    memory, sid = box["memory"], anchor["session_id"]
    folder = box.root / "users" / _VICTIM / "sessions" / sid
    copy = box.outside / "session_copy"

    def swap_folder() -> None:  # the outside copy is a working session holding a decoy message
        shutil.copytree(folder, copy)
        with open(copy / "messages.jsonl", "a", encoding="utf-8") as log:
            decoy = {"message_id": "decoy", "session_id": sid, "role": "user", "content": _DECOY,
                     "timestamp": "2030-01-01T00:00:00+00:00", "schema_version": 1}
            log.write(json.dumps(decoy) + "\n")
        shutil.rmtree(folder)
        os.symlink(copy, folder)

    def swap_log() -> None:
        os.unlink(folder)
        shutil.copytree(copy, folder)
        os.unlink(folder / "messages.jsonl")
        os.symlink(box.outside / "secret.txt", folder / "messages.jsonl")

    answers: list[str] = []

    async def keep(call: Callable[[], Awaitable[Any]]) -> Any:
        result = await call()
        answers.append(str(result))
        return result

    probes = []
    with check.step("swap the session folder for a symlink outside the root"):
        await asyncio.to_thread(swap_folder)
        before = await tree_snapshot(box.outside)
        probes += [
            FFProbe("get_messages(folder -> outside)", lambda: keep(lambda: memory.get_messages(_VICTIM, sid))),
            FFProbe("get_session(folder -> outside)", lambda: keep(lambda: memory.get_session(_VICTIM, sid))),
            FFProbe("add_message(folder -> outside)", lambda: memory.add_message(_VICTIM, sid, "user", "through the link")),
        ]
        folder_report = await run_probes(probes)
        moved = tree_diff(before, await tree_snapshot(box.outside))
    with check.step("swap messages.jsonl for a symlink to a file outside the root"):
        await asyncio.to_thread(swap_log)
        before_log = await tree_snapshot(box.outside)
        log_report = await run_probes([
            FFProbe("get_messages(messages.jsonl -> outside)", lambda: keep(lambda: memory.get_messages(_VICTIM, sid))),
            FFProbe("add_message(messages.jsonl -> outside)", lambda: memory.add_message(_VICTIM, sid, "user", "through the link")),
        ])
        moved += tree_diff(before_log, await tree_snapshot(box.outside))
    leaked = [a for a in answers if _DECOY in a or "outside the data root" in a]
    seen.note(f"symlink swaps: {folder_report.summary()}; {log_report.summary()}; outside changed: {describe_changes(moved)}")
    check.equal(len(moved), 0, "nothing outside the root changed through a swapped-in symlink")
    check.equal(leaked, [], "no read through a swapped-in symlink returned what lies outside the root")
    folder_report.total += log_report.total
    folder_report.refused += log_report.refused
    return folder_report


def _register(manager: str, family: str, number: int) -> None:
    traversal = family == "traversal"
    check_id = f"SEC-{'PATH' if traversal else 'ID'}-{number:02d}"
    names = PROBE_BUILDERS[manager][2]
    attack = FFAttack(
        check_id=check_id,
        name=f"{'path traversal' if traversal else 'look-alike and oversized'} ids into the {manager} manager",
        category="path traversal" if traversal else "input validation",
        asvs_id="V12.3.1" if traversal else "V5.1.3",
        attack=(
            f"{names} set to '../../etc', '..', an absolute path outside the root, 'a/../../b', "
            "'..\\\\..\\\\outside' and 'a\\x00b'"
            if traversal
            else f"{names} set to fullwidth dots '．．/．．/etc', an RTL override, a zero-width space, "
            "one-dot leaders, a newline and 10,000 characters"
        ),
        expected="every call raises FFValidationError (FFNotFoundError for an unknown tool name) "
        "and no file is added, removed or changed inside or outside the data root",
        severity="critical" if traversal else "high",
    )

    async def run(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
        await _attack_ids(ctx, check, seen, manager, family, check_id)

    run.__name__ = run.__qualname__ = f"{'traversal' if traversal else 'unicode'}_ids_{manager}"
    security_check(attack, group="test_path_traversal", components=(manager,))(run)


for _number, _manager in enumerate(PROBE_BUILDERS, start=1):
    _register(_manager, "traversal", _number)
for _number, _manager in enumerate(PROBE_BUILDERS, start=1):
    _register(_manager, "unicode", _number)
