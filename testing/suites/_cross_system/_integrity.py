"""After the run: the audit chain, the panel numbering and the manifest of the data root.

With the load stopped (and the suite's own instances stopped, so nothing writes any more), the
data root the instances shared is checked with the platform's existing validators, nothing new:

* ``FFMetricsCollectionManager.verify_audit_log`` (a fresh manager on the root) -- the hash chain
  several processes appended to, through kills and restarts, still verifies;
* the panel the load wrote to, read by a fresh ``FFPanelSessionManager``: numbered 1..n, no gap,
  no repeat, each message id once;
* every JSONL file under the root read with ``ff_check_jsonl``: a line torn by a SIGKILL may only
  be a file's last line (a reader skips it; an acknowledged write is never in it, the ledger test
  shows that); anything else is corruption;
* the manifest: no file present before the load has disappeared (leases and probe files aside),
  and, for instances the suite started and has stopped, ``FFMigrationManager.write_manifest`` +
  ``verify`` (what ``main.py verify`` runs) hash every file of the root at rest and find it
  identical (an attached cluster keeps running, so its root is not hashed).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from ff_managers.ff_migration_manager import FFMigrationManager
from ff_utils.ff_hashing import ff_default_manifest_exclude
from ff_utils.ff_json_utils import ff_check_jsonl
from testing.runner import FFChecker

__all__ = ["check_integrity", "snapshot_manifest"]

_VOLATILE = ("system/service/instances/", "system/service/ready-probe")
"""Files that come and go by design: instance leases (a clean stop removes its own) and the
readiness probe's scratch files."""


def _volatile(relative: str) -> bool:
    return relative.startswith(_VOLATILE) or ff_default_manifest_exclude(relative)


def snapshot_manifest(root: Path) -> set[str]:
    """The relative POSIX paths of every lasting file under ``root`` now (a blocking walk; lock
    and temporary files, instance leases and readiness probes left out: they come and go)."""
    found = set()
    for path in root.rglob("*"):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not path.is_symlink() and not _volatile(relative):
            found.add(relative)
    return found


def _torn_beyond_tail(root: Path) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.jsonl")):
        health = ff_check_jsonl(path)
        inner = [b for b in health.bad_lines if not b.torn]  # a torn (unterminated) last line is a crash's tail
        if inner:
            problems.append(f"{path.relative_to(root)}: bad line {inner[0].line_number} ({inner[0].reason})")
    return problems


async def check_integrity(h: Any, check: FFChecker) -> None:
    root = Path(h.cluster.data_dir)
    stopped = h.owns_cluster
    if h.owns_cluster:
        with check.step("stop the suite's instances (nothing writes any more)"):
            await h.cluster.stop(grace_s=5.0)
            h.owns_cluster = False
    config = h.cluster.config()
    with check.step("verify the audit chain"):
        metrics = h.ctx.fresh_manager("metrics", config=config)
        await metrics.initialize()
        try:
            verdict = await metrics.verify_audit_log()
        finally:
            await metrics.shutdown()
    check.that(verdict.ok, "the audit chain of the shared data root verifies", str(verdict.reason))
    check.metric("audit_records_checked", verdict.records_checked)
    if h.panel is not None:
        with check.step("read the load's panel with a fresh panel manager"):
            panel = h.ctx.fresh_manager("panel", config=config)
            await panel.initialize()
            try:
                messages = await panel.get_messages(h.panel[0], h.panel[1], limit=100_000)
            finally:
                await panel.shutdown()
        sequences = [m.sequence for m in messages]
        check.equal(sequences, list(range(1, len(messages) + 1)), "the panel is numbered 1..n without gap or repeat")
        ids = [m.message_id for m in messages]
        check.equal(len(ids), len(set(ids)), "each panel message is stored once")
    with check.step("every JSONL file: at most a torn last line"):
        problems = await asyncio.to_thread(_torn_beyond_tail, root)
    check.equal(problems, [], "no JSONL file has a bad line before its last")
    with check.step("no file present before the load is gone"):
        now = await asyncio.to_thread(snapshot_manifest, root)
        before: set[str] = h.files_before_load
    check.that(before, "the files of the root were listed before the load")
    lost = sorted(before - now)
    check.equal(lost, [], "no file present before the load is gone after it")
    check.metric("files_in_root", len(now))
    if stopped:
        with check.step("write the manifest of the root at rest and verify it"):
            await asyncio.to_thread(FFMigrationManager.write_manifest, root)
            diff = await asyncio.to_thread(FFMigrationManager.verify, root)
        check.that(diff.identical, "the data root's manifest verifies",
                   f"added {diff.added[:3]}, removed {diff.removed[:3]}, changed {diff.changed[:3]}")  # fmt: skip
    else:
        check.warn("the attached cluster keeps running, so its root is not hashed at rest: stop it and run `main.py verify` on it")
