"""Data at rest: is what users store readable in plaintext from the files on disk?

With encryption at rest (``storage.encryption_key_file`` or ``FF_ENCRYPTION_KEY``), every manager's
store encrypts each document and each JSONL record (AES-256-GCM, :mod:`ff_utils.ff_encryption`).
This check proves it end to end: on a data root of its own it writes one unique canary through
*every* manager (a chat message, an attachment and a memory; a panel message; a knowledge
document; a tool run's arguments and result; an analytics event and an audit record), reads each
back through the API (it must come back intact), then reads the bytes of every file under the
root and fails if any holds the canary in plaintext.

The key is the deployment's own when one is configured. When none is, the check does not stop at
"not applicable": the suite configures a throwaway key (a key file generated in the check's
scratch folder, outside its root) for that root, so what is proved is that the code encrypts
whatever it is given, and the observation says which key was used.

ASVS 4.0.3 V6.1.1 (regulated private data stored encrypted at rest).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_utils.ff_encryption import ff_generate_key_text, ff_resolve_key
from ff_utils.ff_file_ops import ff_atomic_write, ff_ensure_directory
from ff_utils.ff_ids import ff_new_id
from testing._context import FFTestContext
from testing.runner import FFChecker
from testing.suites.security._support import FFAttack, FFObservation, scratch_dir, security_check

__all__ = ["encryption_config", "files_holding", "encryption_at_rest"]

_MANAGERS = ("memory", "panel", "knowledge", "tools", "metrics")


def encryption_config(ctx: FFTestContext, sandbox: Path) -> tuple[FFConfigurationManagerConfigDTO, str]:
    """The config for the check's own root: the configured key, or a throwaway key file outside the root."""
    root = sandbox / "root"
    config = ctx.config.with_base_path(root)
    storage = config.storage
    if ff_resolve_key(storage.encryption_key_file, data_root=root, env_var=storage.encryption_key_env) is not None:
        return config, "the configured key"
    key_file = sandbox / "throwaway.key"
    ff_ensure_directory(root)
    ff_atomic_write(key_file, (ff_generate_key_text() + "\n").encode(), mode=0o600, fsync=False)
    storage.encryption_key_file = key_file
    return config, f"a throwaway key ({key_file.name}, outside the root): no key is configured for this deployment"


def files_holding(top: Path, needle: bytes) -> tuple[int, list[str]]:
    """How many regular files are under ``top`` (symlinks not followed), and which hold ``needle``."""
    scanned, holding = 0, []
    for directory, _dirs, names in os.walk(top):
        for name in names:
            path = Path(directory, name)
            if path.is_symlink() or not path.is_file():
                continue
            scanned += 1
            if needle in path.read_bytes():
                holding.append(path.relative_to(top).as_posix())
    return scanned, sorted(holding)


async def _write_and_read_back(managers: dict[str, Any], user: str, canary: str) -> dict[str, bool]:
    """Store the canary through every manager; for each, whether the API gives it back intact."""
    memory, panel, knowledge, tools, metrics = (managers[name] for name in _MANAGERS)
    back: dict[str, bool] = {}
    session = await memory.create_session(user, title="at rest")
    await memory.add_message(
        user, session.session_id, "user", f"my passport number is {canary}",
        attachments=[{"name": "scan.txt", "mime_type": "text/plain", "data": f"scan of {canary}".encode()}],
    )
    messages = await memory.get_messages(user, session.session_id)
    back["memory message"] = any(canary in m.content for m in messages)
    attachment = messages[-1].attachments[0] if messages and messages[-1].attachments else None
    back["memory attachment"] = attachment is not None and canary.encode() in await memory.get_attachment(
        user, session.session_id, attachment.attachment_id
    )
    await memory.store_memory(user, f"passport number {canary}", layer="permanent")
    back["memory"] = any(canary in m.content for m in await memory.get_memories(user, "permanent"))
    created = await panel.create_panel(user, [{"participant_id": "host"}, {"participant_id": "guest"}], title="at rest")
    await panel.add_message(user, created.panel_id, "host", f"the code is {canary}")
    back["panel message"] = any(canary in m.content for m in await panel.get_messages(user, created.panel_id))
    base = await knowledge.create_knowledge_base(user, "papers")
    document = await knowledge.add_document(user, base.kb_id, content=f"Passport record: {canary}.", title="passport")
    back["knowledge document"] = canary in await knowledge.get_document_text(user, base.kb_id, document.doc_id)
    run = await tools.execute_tool(user, "word_count", {"text": f"confidential {canary} draft"})
    back["tool run"] = canary in (await tools.get_run(user, run.run_id)).model_dump_json()
    await metrics.record_event(user, "note", {"text": canary})
    back["analytics event"] = (await metrics.get_user_analytics(user)).event_counts.get("note") == 1
    await metrics.audit(user, "data.stored", f"record:{canary}", details={"canary": canary})
    back["audit record"] = any(canary in r.model_dump_json() for r in await metrics.get_audit_records(limit=10))
    return back


@security_check(
    FFAttack(
        check_id="SEC-ENC-01",
        name="data at rest encryption",
        category="data protection",
        asvs_id="V6.1.1",
        attack="with encryption at rest on, store a unique canary through every manager (chat message, attachment, "
        "memory, panel message, knowledge document, tool run, analytics event, audit record), read each back, then "
        "read the bytes of every file under the data root and look for the canary",
        expected="every read returns the canary intact, and no file under the data root holds it in plaintext",
        severity="high",
    ),
    group="test_data_encryption",
    components=_MANAGERS,
)
async def encryption_at_rest(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    sandbox = scratch_dir(ctx, "encryption")
    config, key_source = await asyncio.to_thread(encryption_config, ctx, sandbox)
    root = Path(config.storage.base_path).resolve()
    seen.note(f"checked on its own data root with {key_source}")
    user, canary = ctx.new_user("sec_enc"), "canary" + ff_new_id()
    managers = {name: ctx.fresh_manager(name, config=config) for name in _MANAGERS}
    try:
        for manager in managers.values():
            await manager.initialize()
        with check.step("store the canary through every manager and read it back"):
            back = await _write_and_read_back(managers, user, canary)
    finally:
        for manager in managers.values():
            await manager.shutdown()
    encrypted = sorted(name for name, manager in managers.items() if manager.store.encrypted)
    scanned, plaintext = await asyncio.to_thread(files_holding, root, canary.encode())
    check.metric("files_scanned", scanned)
    check.metric("files_with_plaintext", len(plaintext))
    seen.note(f"stores that encrypt: {', '.join(encrypted) or 'none'}; read back intact: "
              + ", ".join(f"{what}={'yes' if ok else 'NO'}" for what, ok in back.items()))
    seen.note(f"{len(plaintext)} of {scanned} files under the root hold the canary in plaintext: {plaintext[:6]}")
    check.equal(sorted(what for what, ok in back.items() if not ok), [], "every manager returns the canary intact")
    check.at_least(scanned, len(back), "the scan read the files every manager wrote")
    check.equal(plaintext, [], "no file under the data root holds the canary in plaintext")
