"""Data at rest: is what users store readable in plaintext from the files on disk?

No manager implements encryption at rest today, and the configuration has no option for it. The
check says exactly that instead of pretending: it looks for an encryption setting anywhere in the
configuration (any field whose name mentions "encrypt", outside the test settings), stores a
unique canary through the memory and knowledge managers, and scans the bytes of the user's files
for it.

* No encryption setting enabled: the requirement is not applicable to this deployment. The check
  passes as "not applicable" and reports how many files hold the canary in plaintext, so the
  report shows plainly that data at rest is protected by file-system permissions only.
* An encryption setting enabled: the check demands that no file holds the canary in plaintext.
  (A wrong-key refusal cannot be attempted without a key API; none exists.)

ASVS 4.0.3 V6.1.1 (regulated private data stored encrypted at rest).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ff_utils.ff_file_ops import ff_read_bytes, ff_safe_path
from ff_utils.ff_ids import ff_new_id
from testing._context import FFTestContext
from testing.runner import FFChecker
from testing.suites.security._support import FFAttack, FFObservation, security_check

__all__ = ["encryption_settings", "encryption_at_rest"]

_NOT_SCANNED = ("integration_testing",)  # the test platform's own switches, not storage settings


def encryption_settings(model: BaseModel, prefix: str = "") -> dict[str, Any]:
    """Every configuration field whose name mentions encryption, by dotted path, with its value."""
    found: dict[str, Any] = {}
    for name in type(model).model_fields:
        path = f"{prefix}{name}"
        if path in _NOT_SCANNED:
            continue
        value = getattr(model, name)
        if "encrypt" in name.lower():
            found[path] = value
        if isinstance(value, BaseModel):
            found.update(encryption_settings(value, f"{path}."))
    return found


def _files_holding(top: Path, needle: bytes) -> tuple[int, list[str]]:
    files = [p for p in top.rglob("*") if p.is_file() and not p.is_symlink()]
    return len(files), sorted(p.relative_to(top).as_posix() for p in files if needle in ff_read_bytes(p))


@security_check(
    FFAttack(
        check_id="SEC-ENC-01",
        name="data at rest encryption",
        category="data protection",
        asvs_id="V6.1.1",
        attack="store a unique canary in a chat message, a memory and a knowledge document, then read every file under "
        "the user's directory and look for the canary's bytes",
        expected="with encryption at rest enabled in config: the canary appears in no file; with no encryption "
        "setting enabled: reported as not applicable, with the number of files holding it in plaintext",
        severity="medium",
    ),
    group="test_data_encryption",
    components=("memory", "knowledge"),
)
async def encryption_at_rest(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    user = ctx.new_user("sec_enc")
    canary = "canary" + ff_new_id()
    session = await ctx.memory.create_session(user, title="at rest")
    await ctx.memory.add_message(user, session.session_id, "user", f"my passport number is {canary}")
    await ctx.memory.store_memory(user, f"passport number {canary}", layer="permanent")
    base = await ctx.knowledge.create_knowledge_base(user, "papers")
    await ctx.knowledge.add_document(user, base.kb_id, content=f"Passport record: {canary}.", title="passport")
    settings = encryption_settings(ctx.config)
    enabled = sorted(path for path, value in settings.items() if value)
    scanned, plaintext = await asyncio.to_thread(_files_holding, ff_safe_path(ctx.root, "users", user), canary.encode())
    check.metric("files_with_plaintext", len(plaintext))
    if enabled:
        seen.note(f"encryption enabled in config: {', '.join(enabled)}")
        seen.note(f"{len(plaintext)} of {scanned} files hold the canary in plaintext: {plaintext[:5]}")
        check.equal(plaintext, [], "no file holds the stored canary in plaintext")
        return
    found = ", ".join(f"{path}={value!r}" for path, value in settings.items()) or "no encryption setting exists"
    seen.note(
        f"not applicable: encryption at rest not implemented / not enabled in config ({found}); "
        f"{len(plaintext)} of {scanned} files under the user's directory hold the canary in plaintext "
        "(data at rest is protected by file-system permissions only)"
    )
    check.that(not enabled, "encryption at rest is not enabled in config, so plaintext at rest is the documented state")
    check.at_least(len(plaintext), 1, "the scan works: the unencrypted canary is found on disk")
