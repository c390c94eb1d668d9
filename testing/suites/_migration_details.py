"""Migration suite, legacy details: a small hand-written legacy root whose every detail is known (issue 20).

The generated roots are large and seeded, so the suite cannot say of each of their records what
it must become; this root is a dozen files written here, and each holds one detail the legacy
format documents (``ff_managers/_migration``'s docstrings) and a surviving mutant of ``_migration``
once got wrong with every other check green: a message line carrying its own ``session_id``; a
session whose only panel sign is its ``participants``; a panel with a document of its own; a
document whose ``metadata.json`` MIME type says markdown though its file ends ``.txt``; a
per-persona transcript holding a record under a ``message_id`` that messages.jsonl uses for
another record; a profile whose ``metadata`` is text; a profile with a BOM; a session folder whose
name is not a valid id and a panel id two users share (both mapped); a document name too long
for an id. One migration of it (well under a second)
and a read of the target's panels and documents; the planted defects of
``tests/ff_managers/migration/planted_defects.py`` turn it red.

Registered on the migration suite's REGISTRY (migration.py imports this module at its end).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ff_managers import FFKnowledgeBaseManager, FFPanelSessionManager
from ff_utils.ff_file_ops import ff_remove_tree
from testing._context import FFTestContext
from testing.ff_migration_validator import FFMigrationValidator
from testing.runner import FFChecker

from .migration import REGISTRY

__all__: list[str] = []

_IMPORT_KEY = "ff_legacy_import"  # where the import keeps its bookkeeping (ff_managers/_migration/legacy_mapping.py)


def _line(i: int, **fields: Any) -> str:
    return json.dumps({"role": "user", "content": f"text {i}", "message_id": f"m{i}", "timestamp": f"2025-08-01T10:00:0{i}", **fields}) + "\n"


#: A stored document name that is not a valid id: its id is ``doc-`` and the name's first 100
#: characters with every other character than a letter or digit as ``-`` (the id earlier releases wrote).
_LONG_NAME = "minutes of the weekly planning meeting " * 4 + "(final).md"
_LONG_ID = "doc-" + "".join(c if c.isalnum() else "-" for c in _LONG_NAME)[:100]


def _write_root(root: Path) -> None:
    files: dict[str, str | bytes] = {
        "users/u1/profile.json": b"\xef\xbb\xbf" + json.dumps({"user_id": "u1", "username": "U"}).encode(),  # with a BOM
        "users/u1/s1/messages.jsonl": _line(0, session_id="old-session") + _line(1),
        "users/u1/s1/documents/notes.txt": "# Notes\n\nMarkdown kept in a .txt file.\n",
        "users/u1/s1/documents/metadata.json": json.dumps({"notes.txt": {"mime_type": "text/markdown"}}),
        f"users/u1/s1/documents/{_LONG_NAME}": "# Minutes\n",
        "users/u1/my chat/messages.jsonl": _line(0),  # not a valid id: mapped
        "users/u1/s2/session.json": json.dumps({"title": "Seats", "metadata": {"participants": ["a_b"]}}),
        "users/u1/s2/messages.jsonl": _line(0),
        "users/u1/panel_session_1/messages.jsonl": _line(0),
        "users/u1/panel_session_1/a_b_messages.jsonl": (
            _line(1, role="assistant", message_id="t1", metadata={"persona": "a_b"})
            + _line(2, role="assistant", message_id="t1", content="other", metadata={"persona": "a_b"})),
        "users/u1/panel_session_1/documents/brief.md": "# Brief\n",
        "users/u2/profile.json": json.dumps({"user_id": "u2", "metadata": "not an object"}),
        "users/u2/s3/messages.jsonl": _line(0),
        "users/u2/panel_session_1/messages.jsonl": _line(0),  # u1 has a panel of that id: mapped
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


@REGISTRY.test("a hand-written legacy root: each documented detail reaches the target as documented")
async def legacy_details_survive(ctx: FFTestContext, check: FFChecker) -> None:
    work = ctx.run_dir / "migration" / "details"
    ff_remove_tree(work)  # a retried attempt starts from nothing
    _write_root(work / "source")
    config = ctx.config.model_copy(deep=True)
    config.migration.corrupt_input_policy = "quarantine"
    with check.step("migrate the hand-written root"):
        run = await FFMigrationValidator(config).migrate(work / "source", work / "target")
    check.equal(run.comparison.differences, [], "source and target agree field by field (a message's own session_id too)")
    check.equal({k: run.comparison.counts_target.get(k) for k in ("users", "profiles", "sessions", "panels", "documents")},
                {"users": 2, "profiles": 1, "sessions": 3, "panels": 3, "documents": 3},
                "2 users, u1's profile (read past its BOM), 3 chats (s1, s3, my chat), 3 panels (two panel_session_1, "
                "s2: its participants make it a panel), 3 documents")
    check.equal(sorted(m.path for m in run.id_map if m.kind == "session"), ["users/u1/my chat", "users/u2/panel_session_1"],
                "the id map keeps every mapped session: an invalid id and a panel id met again")
    reasons = {(i.path, i.kind): i.reason for i in run.irregular}
    check.that(reasons.get(("users/u2/profile.json", "invalid_profile"), "").startswith("metadata is not an object"),
               "a profile whose metadata is text is listed as invalid, saying why", str(sorted(reasons)))
    transcript = reasons.get(("users/u1/panel_session_1/a_b_messages.jsonl", "persona_transcript"), "")
    check.that("2 record(s) only here were imported" in transcript,
               "the transcript's explanation counts its 2 own records (the renamed one too)", transcript)
    target = config.model_copy(deep=True)
    target.storage.base_path = work / "target"
    with check.step("read the target's panels and documents"):
        async with FFPanelSessionManager(target) as panels:
            books = {p.panel_id: (p.metadata.get(_IMPORT_KEY) or {}).get("documents") for p in await panels.list_panels("u1")}
        async with FFKnowledgeBaseManager(target) as knowledge:
            formats = {d.doc_id: d.format for kb in await knowledge.list_knowledge_bases("u1")
                       for d in await knowledge.list_documents("u1", kb.kb_id)}
    check.equal(books, {"panel_session_1": ["brief.md"], "s2": None}, "panel_session_1's book names its document")
    check.equal(formats, {"brief.md": "markdown", "notes.txt": "markdown", _LONG_ID: "markdown"},
                "the legacy MIME type wins over the .txt suffix; a long name's id is doc- and its first 100 characters")
