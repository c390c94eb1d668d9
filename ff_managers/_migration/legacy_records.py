"""The message records of one legacy session, in import order, each with the id it gets in v2.

The scan, the import and the comparison all walk a session through :func:`iter_session_records`,
so they agree on every decision about a record:

* ``messages.jsonl`` first, then each ``<persona>_messages.jsonl``; a transcript record whose
  ``message_id`` an earlier file held is the same message seen from one persona
  (``transcript_copy``: not imported again);
* a ``message_id`` seen before in the session with the *same* record (as any earlier line with
  that id) is a duplicate line
  (``same``: kept once, the line listed as explained); with a *different* record both are kept
  (``renamed``: the later one gets a generated id, its original is kept, the line is listed);
* a ``message_id`` the v2 id rule refuses (or that is not text) is replaced by a generated id,
  the original kept in the record and in the id map; a missing one is generated.

Generated ids are ``legacy-<line:08d>`` in a chat and ``legacy-<file tag>-<line:08d>`` in a
panel: derived from where the record is, so a re-run gives the same ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import orjson

from ff_class_configs.ff_migration_dtos import FFIdMappingDTO, FFIrregularAction, FFLegacySessionDTO
from ff_managers._migration.legacy_format import FFLegacyLine, persona_key
from ff_utils.ff_ids import ff_is_valid_id

__all__ = ["FFSessionRecord", "RecordStatus", "iter_session_records"]

RecordStatus = Literal["new", "renamed", "same", "transcript_copy"]


class _Reader(Protocol):
    def iter_lines(self, path: Any, *, note: bool = False, messages: bool = True) -> Iterator[FFLegacyLine]: ...
    def note_line(self, relative: str, kind: str, action: FFIrregularAction, reason: str, line: int) -> None: ...
    def map_message_id(self, mapping: FFIdMappingDTO) -> None: ...

    @property
    def root(self) -> Any: ...


@dataclass(frozen=True)
class FFSessionRecord:
    """One good record of a session's files and what the import does with it."""

    relative: str
    transcript: str | None  # the persona of a <persona>_messages.jsonl, None for messages.jsonl
    line: FFLegacyLine
    status: RecordStatus
    message_id: str  # its v2 id
    original_id: Any = None  # the legacy message_id when the v2 id replaces it
    generated: bool = False  # no legacy message_id at all

    @property
    def imported(self) -> bool:
        return self.status in ("new", "renamed")


def _canonical(record: dict[str, Any]) -> bytes:
    """A digest of the record's canonical JSON (keys sorted): what "the same record" means, in 16
    bytes, so a long session's walk holds digests, not records."""
    return hashlib.blake2b(orjson.dumps(record, option=orjson.OPT_SORT_KEYS), digest_size=16).digest()


def iter_session_records(reader: _Reader, session: FFLegacySessionDTO, *, note: bool = False) -> Iterator[FFSessionRecord]:
    """Every good record of ``session``'s files, in import order (see the module docstring).

    With ``note=True`` (the scan) bad lines, duplicates and mapped ids are reported to ``reader``.
    """
    panel = session.kind == "panel"
    sources: list[tuple[str | None, str]] = [(None, session.messages_file)] if session.messages_file else []
    sources += sorted(session.transcripts.items())
    seen: dict[str, set[bytes]] = {}  # message_id -> every distinct record that carried it
    for persona, relative in sources:
        earlier = set(seen) if persona is not None else None
        tag = "t" if persona is None else persona_key(persona)
        for line in reader.iter_lines(reader.root / relative, note=note):
            legacy = line.record.get("message_id")
            key = orjson.dumps(legacy).decode() if legacy is not None else None
            default = f"legacy-{tag}-{line.line_number:08d}" if panel else f"legacy-{line.line_number:08d}"
            if earlier is not None and key in earlier:
                yield FFSessionRecord(relative, persona, line, "transcript_copy", default)
                continue
            if key is None:
                yield FFSessionRecord(relative, persona, line, "new", default, generated=True)
                continue
            canonical = _canonical(line.record)
            if key in seen:
                if canonical in seen[key]:
                    if note:
                        reader.note_line(relative, "duplicate_message", FFIrregularAction.EXPLAINED,
                                         f"same message_id {str(legacy)[:40]!r} and same record as an earlier line: kept once", line.line_number)
                    yield FFSessionRecord(relative, persona, line, "same", default)
                    continue
                if note:
                    reader.note_line(relative, "duplicate_message_id", FFIrregularAction.IMPORTED,
                                     f"message_id {str(legacy)[:40]!r} already used by a different record: both kept, "
                                     f"this one as {default!r} with its original id kept", line.line_number)
                seen[key].add(canonical)
                yield FFSessionRecord(relative, persona, line, "renamed", default, original_id=legacy)
                continue
            seen[key] = {canonical}
            if isinstance(legacy, str) and ff_is_valid_id(legacy):
                yield FFSessionRecord(relative, persona, line, "new", legacy)
                continue
            if note:
                reader.map_message_id(FFIdMappingDTO(kind="message", legacy_id=str(legacy), v2_id=default,
                                                     path=f"{relative}:{line.line_number}"))
            yield FFSessionRecord(relative, persona, line, "new", default, original_id=legacy)
