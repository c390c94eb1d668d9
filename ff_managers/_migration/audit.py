"""The completeness audit: nothing in a legacy root is dropped silently, and nothing imported is a link.

The comparison proves that what the inventory lists reached the target. This audit proves the
inventory itself left nothing out, without trusting the reader: it walks the legacy root again
(``os.walk``, which never follows a link) and requires

* every file to be imported (a persona, profile, session.json, messages file, transcript,
  document or vector file of the inventory) or listed as not imported, with a reason (the file or
  a folder above it is a skipped or quarantined item);
* every record line (non-blank, see :func:`.legacy_files.count_record_lines`) of an imported
  messages file to have been compared or explained, or listed with its line number;
* no imported path to be a symbolic link or to lie below one.

Each breach is one line of the comparison's differences, so such a migration is not swapped in.
"""

from __future__ import annotations

import os
from pathlib import Path

from ff_class_configs.ff_migration_dtos import FFIrregularAction, FFIrregularItemDTO, FFLegacyInventoryDTO
from ff_managers._migration.legacy_files import entry_kind, iter_raw_lines
from ff_managers._migration.legacy_format import DOCUMENTS_META, PROFILE_NAME, SESSION_NAME

__all__ = ["FFLineAudit", "audit_completeness", "imported_paths"]

_ROOT_NOT_DATA = {"README.md"}
_NOT_IMPORTED = {FFIrregularAction.SKIPPED, FFIrregularAction.QUARANTINED}


def imported_paths(inventory: FFLegacyInventoryDTO) -> tuple[set[str], set[str]]:
    """(files the inventory imports, of which the record files checked line by line)."""
    files = {p.relative_path for p in inventory.personas}
    record_files: set[str] = set()
    for user in inventory.users:
        if user.profile is not None:
            files.add(f"users/{user.legacy_id or user.user_id}/{PROFILE_NAME}")
        for session in user.sessions:
            if session.session_json is not None:
                files.add(f"{session.relative_dir}/{SESSION_NAME}")
            record_files.update(p for p in [session.messages_file, *session.transcripts.values()] if p)
            files.update(d.relative_path for d in session.documents)
            if any(d.metadata is not None for d in session.documents):
                files.add(f"{session.relative_dir}/documents/{DOCUMENTS_META}")
    for vs in inventory.vector_sets:
        files.update(f"{vs.relative_dir}/{name}" for name in vs.files)
    return files | record_files, record_files


def _through_link(root: Path, relative: str) -> bool:
    path = root
    for part in relative.split("/"):
        path = path / part
        if entry_kind(path) == "symlink":
            return True
    return False


def _listed(relative: str, listed: set[str]) -> bool:
    parts = relative.split("/")
    return any("/".join(parts[:i]) in listed for i in range(1, len(parts) + 1))


class FFLineAudit:
    """The record-line half of the audit, one messages file at a time (memory stays flat: the
    line numbers of one session's files are held, never the whole root's)."""

    def __init__(self, root: Path, items: list[FFIrregularItemDTO]) -> None:
        self.root = root
        self.whole = {i.path for i in items if i.line_number is None and i.action in _NOT_IMPORTED}
        self.lines: dict[str, set[int]] = {}
        for item in items:
            if item.line_number is not None:
                self.lines.setdefault(item.path, set()).add(item.line_number)
        self.problems: list[str] = []

    def check(self, relative: str, walked: set[int]) -> None:
        """Every non-blank line of ``relative`` was walked by the comparison or listed."""
        if _listed(relative, self.whole) or _through_link(self.root, relative):
            return
        seen = walked | self.lines.get(relative, set())
        try:
            missing = [n for n, raw in iter_raw_lines(self.root / relative) if raw.strip() and n not in seen]
        except OSError as exc:
            self.problems.append(f"{relative}: cannot be read again for the audit ({exc.strerror or exc})")
            return
        self.problems += [f"{relative}:{n}" for n in missing[:20]]
        if len(missing) > 20:
            self.problems.append(f"{relative}: ... and {len(missing) - 20} more line(s)")


def audit_completeness(
    root: Path,
    inventory: FFLegacyInventoryDTO,
    items: list[FFIrregularItemDTO],
) -> list[str]:
    """Files neither imported nor listed, or imported through a link (empty: complete).

    The lines of the messages files are audited as the comparison walks them (:class:`FFLineAudit`).
    """
    files, _record_files = imported_paths(inventory)
    whole = {i.path for i in items if i.line_number is None and i.action in _NOT_IMPORTED}
    problems: list[str] = []
    for relative in sorted(files):
        if _through_link(root, relative):
            problems.append(f"{relative}: imported through a symbolic link")
    for directory, dirs, names in os.walk(root):
        base = Path(directory)
        links = [d for d in dirs if (base / d).is_symlink()]
        for name in sorted([*names, *links]):
            relative = (base / name).relative_to(root).as_posix()
            if base == root and name in _ROOT_NOT_DATA:
                continue
            if relative not in files and not _listed(relative, whole):
                problems.append(relative)
    return problems
