"""Read the legacy (schema version 1) flat-file chat layout into DTOs; never write.

The legacy store (insightprism's flatfile_chat_database) left real data messy: sessions without
``session.json``, ``session.json`` without messages, per-persona transcripts beside the shared
``messages.jsonl``, vector indexes under a ``default`` user, stray leftovers, a line prefixed with
stray bytes. :meth:`FFLegacyReader.scan` walks a root once, streaming every JSONL file line by
line (constant memory), and returns an inventory plus a list of irregular items, each with the
reason and what the import will do with it. :meth:`FFLegacyReader.iter_messages` streams the
records of one file again for the import, applying the same salvage rule. The layout and the
rules for single records are in :mod:`.legacy_format`.

It never follows a symbolic link (:mod:`.legacy_files`): a link is listed as skipped, with where
it points, and never descended into. A folder name the v2 id rule refuses (``zoë``, ``my chat``)
is not a reason to drop its data: the user or session is imported under a deterministic mapped id
(:mod:`.legacy_ids`) and the mapping is listed in ``inventory.id_map``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from ff_class_configs.ff_migration_dtos import (
    FFIrregularAction,
    FFIdMappingDTO,
    FFIrregularItemDTO,
    FFLegacyInventoryDTO,
    FFLegacyPersonaDTO,
    FFLegacySessionDTO,
    FFLegacyUserDTO,
)
from ff_managers._migration.legacy_files import (
    BOM,
    FFEntry,
    describe_link,
    entry_kind,
    iter_raw_lines,
    list_entries,
    read_nofollow,
)
from ff_managers._migration.legacy_format import (
    DOCUMENTS_DIR,
    MESSAGES_NAME,
    PROFILE_NAME,
    ROOT_KNOWN,
    SESSION_NAME,
    TRANSCRIPT_SUFFIX,
    VECTORS_DIR,
    FFLegacyLine,
    classify_session,
    is_legacy_root,
    message_problem,
    parse_line,
    profile_problem,
    session_problem,
    summarise_message,
    timestamp_text,
)
from ff_managers._migration.legacy_ids import FFIdMapper, mapped_id
from ff_managers._migration.legacy_records import iter_session_records
from ff_managers._migration.legacy_stores import FFLegacyStoreScans
from ff_utils.ff_errors import FFValidationError

__all__ = ["FFLegacyReader"]


_SKIPPED = FFIrregularAction.SKIPPED


class FFLegacyReader(FFLegacyStoreScans):
    """Walks one legacy root. Pure reading; every finding lands in the inventory's ``irregular``."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FFValidationError(f"legacy source is not a directory: {self.root}", field="source", path=self.root)
        if not is_legacy_root(self.root):
            raise FFValidationError(
                f"not a legacy v1 root (no users/ or personas_global/): {self.root}", field="source", path=self.root
            )
        self._irregular: list[FFIrregularItemDTO] = []
        self._id_map: list[FFIdMappingDTO] = []
        self._newest = ""

    # ------------------------------------------------------------------ helpers

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _note(self, path: Path, kind: str, action: FFIrregularAction, reason: str, line: int | None = None) -> None:
        self._irregular.append(
            FFIrregularItemDTO(path=self._rel(path), kind=kind, action=action, reason=reason, line_number=line)
        )

    def note_line(self, relative: str, kind: str, action: FFIrregularAction, reason: str, line: int) -> None:
        """List one line of a file (the session record walk reports duplicates through this)."""
        self._note(self.root / relative, kind, action, reason, line)

    def map_message_id(self, mapping: FFIdMappingDTO) -> None:
        """Record a message id the id rule refuses (the session record walk reports them)."""
        self._id_map.append(mapping)

    def _entries(self, directory: Path) -> list[FFEntry]:
        """The children of a directory; each symlink is listed as skipped and left out."""
        try:
            entries = list_entries(directory)
        except OSError as exc:
            self._note(directory, "unreadable", _SKIPPED, f"cannot list: {exc.strerror or exc}")
            return []
        kept: list[FFEntry] = []
        for entry in entries:
            if entry.kind == "symlink":
                self._note(entry.path, "symlink", _SKIPPED, describe_link(entry.path))
            elif entry.kind == "other":
                self._note(entry.path, "unreadable", _SKIPPED, "neither a regular file nor a directory (device, socket, fifo)")
            else:
                kept.append(entry)
        return kept

    def _read_json_object(self, entry: FFEntry, kind: str) -> dict[str, Any] | None:
        """A JSON document that must be an object, or None after noting why it is not.

        An empty file (or one holding only a BOM and whitespace) is ``{}`` noted as ``empty_file``:
        the caller decides what an empty document means.
        """
        path = entry.path
        if entry.kind != "file":
            self._note(path, "unreadable", _SKIPPED, "expected a file, found a directory")
            return None
        try:
            raw = read_nofollow(path)
        except OSError as exc:
            self._note(path, "unreadable", _SKIPPED, f"cannot read: {exc.strerror or exc}")
            return None
        raw = raw[len(BOM):] if raw.startswith(BOM) else raw
        if not raw.strip():
            return {}
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            self._note(path, kind, _SKIPPED, f"not valid JSON: {exc}")
            return None
        if not isinstance(value, dict):
            self._note(path, kind, _SKIPPED, f"expected a JSON object, found {type(value).__name__}")
            return None
        return value

    def iter_lines(self, path: Path, *, note: bool = False, messages: bool = True) -> Iterator[FFLegacyLine]:
        """Stream the good records of a JSONL file, line by line, salvaging stray leading bytes.

        A BOM, CRLF line ends and blank lines are not records. With ``note=True`` bad lines become
        irregular items (the scan); the import calls it with ``note=False`` and gets exactly the
        records the scan counted. The file is opened without following a symlink.
        """
        lines = iter_raw_lines(path)
        while True:
            try:
                number, raw = next(lines)
            except StopIteration:
                return
            except OSError as exc:
                if note:
                    self._note(path, "unreadable", _SKIPPED, f"cannot read: {exc.strerror or exc}")
                return
            complete = raw.endswith(b"\n")
            if not raw.strip():
                continue
            record, stray, error = parse_line(raw)
            if record is None:
                if note:
                    kind = "torn_line" if not complete else "corrupt_line"
                    reason = ("last line has no newline and is not complete JSON (torn write)" if not complete else error)
                    self._note(path, kind, _SKIPPED, reason, number)
                continue
            kind, problem = message_problem(record) if messages else ("", "")
            if problem:
                if note:
                    self._note(path, kind, _SKIPPED, problem, number)
                continue
            stamp = timestamp_text(record.get("timestamp")) if messages else None
            if note and stamp is not None and stamp > self._newest:
                self._newest = stamp
            if stray and note:
                self._note(path, "salvaged_line", FFIrregularAction.SALVAGED,
                           f"{stray} stray byte(s) before the JSON object were dropped; the record is intact", number)
            yield FFLegacyLine(number, record, stray)

    def iter_messages(self, relative_file: str) -> Iterator[FFLegacyLine]:
        """The import's view of one messages file (same records the scan counted)."""
        return self.iter_lines(self.root / relative_file)

    # ------------------------------------------------------------------ scan

    def scan(self) -> FFLegacyInventoryDTO:
        """Walk the whole root; return the inventory with every irregular item and its reason."""
        self._irregular, self._id_map, self._newest = [], [], ""
        inventory = FFLegacyInventoryDTO(root=str(self.root))
        top = {e.name: e for e in self._entries(self.root)}
        for name, entry in top.items():
            if name not in ROOT_KNOWN:
                self._note(entry.path, "stray_file", _SKIPPED, "not part of the legacy layout (users/, personas_global/)")
        if top.get("personas_global") is not None and top["personas_global"].kind == "dir":
            inventory.personas = self._scan_personas(top["personas_global"].path)
        session_owner: dict[str, tuple[str, str]] = {}  # legacy session folder -> (owner, v2 session id)
        vector_dirs: list[tuple[str, Path]] = []
        if top.get("users") is not None and top["users"].kind == "dir":
            user_entries = self._entries(top["users"].path)
            users = FFIdMapper(self._id_map, "user", [e.name for e in user_entries])
            for user_dir in user_entries:
                if user_dir.kind != "dir":
                    self._note(user_dir.path, "stray_file", _SKIPPED, "a file where a user directory is expected")
                    continue
                user = self._scan_user(user_dir.path, users.map(user_dir.name, self._rel(user_dir.path)), vector_dirs)
                if user is not None:
                    inventory.users.append(user)
                    for session in user.sessions:
                        session_owner.setdefault(session.legacy_id or session.session_id, (user.user_id, session.session_id))
        self._unique_panel_ids(inventory)
        inventory.vector_sets = [self._scan_vectors(user_id, d, session_owner) for user_id, d in vector_dirs]
        inventory.vector_sets = [v for v in inventory.vector_sets if v is not None]
        files = size = 0
        for directory, _dirs, names in os.walk(self.root):  # os.walk never descends into a symlink
            for name in names:
                files += 1
                size += os.lstat(os.path.join(directory, name)).st_size
        inventory.files, inventory.bytes = files, size
        inventory.irregular = list(self._irregular)
        inventory.id_map = list(self._id_map)
        inventory.newest_timestamp = self._newest
        return inventory

    def _unique_panel_ids(self, inventory: FFLegacyInventoryDTO) -> None:
        """Panel ids are one namespace for the whole root, legacy session names were unique per user:
        a panel whose id another user's panel took first is imported under an id mapped from its path."""
        taken: set[str] = set()
        for user in inventory.users:
            for session in user.sessions:
                if session.kind != "panel":
                    continue
                if session.session_id in taken:
                    legacy = session.legacy_id or session.session_id
                    session.session_id = mapped_id(session.relative_dir)
                    session.legacy_id = legacy
                    self._id_map = [m for m in self._id_map if not (m.kind == "session" and m.path == session.relative_dir)]
                    self._id_map.append(FFIdMappingDTO(kind="session", legacy_id=legacy, v2_id=session.session_id,
                                                       path=session.relative_dir))
                taken.add(session.session_id)

    def _scan_personas(self, directory: Path) -> list[FFLegacyPersonaDTO]:
        personas: list[FFLegacyPersonaDTO] = []
        entries = self._entries(directory)
        mapper = FFIdMapper(self._id_map, "persona", [e.path.stem for e in entries])
        for entry in entries:
            if entry.path.suffix != ".json" or entry.kind != "file":
                self._note(entry.path, "stray_file", _SKIPPED, "not a persona .json file")
                continue
            data = self._read_json_object(entry, "invalid_persona")
            if data is None:
                continue
            if not data:
                self._note(entry.path, "empty_file", _SKIPPED, "empty persona file: nothing to import")
                continue
            legacy = data.get("persona_id") if isinstance(data.get("persona_id"), str) else entry.path.stem
            persona_id = mapper.map(legacy, self._rel(entry.path))
            personas.append(FFLegacyPersonaDTO(persona_id=persona_id, legacy_id=None if persona_id == legacy else legacy,
                                               relative_path=self._rel(entry.path), data=data))
        return personas

    def _scan_user(self, user_dir: Path, user_id: str, vector_dirs: list[tuple[str, Path]]) -> FFLegacyUserDTO | None:
        legacy = user_dir.name
        user = FFLegacyUserDTO(user_id=user_id, legacy_id=None if legacy == user_id else legacy)
        entries = self._entries(user_dir)
        sessions = FFIdMapper(self._id_map, "session", [e.name for e in entries if e.kind == "dir"])
        has_profile = False
        for entry in entries:
            if entry.name == PROFILE_NAME:
                has_profile = True
                profile = self._read_json_object(entry, "invalid_profile")
                if profile == {}:
                    self._note(entry.path, "empty_file", _SKIPPED,
                               "empty profile.json: nothing to import; the user is created from the directory name")
                    profile = None
                problem = profile_problem(profile, legacy) if profile is not None else ""
                if problem:
                    self._note(entry.path, "invalid_profile", _SKIPPED, problem)
                    profile = None
                user.profile = profile
            elif entry.kind == "dir" and entry.name == "sessions" and entry_kind(entry.path / MESSAGES_NAME) is None:
                # The vector store nests sessions one level deeper: users/<u>/sessions/<sid>/vectors/.
                for sub in self._entries(entry.path):
                    children = self._entries(sub.path) if sub.kind == "dir" else []
                    if any(c.name == VECTORS_DIR and c.kind == "dir" for c in children):
                        vector_dirs.append((user.user_id, sub.path))
                        for child in children:
                            if child.name != VECTORS_DIR:
                                self._note(child.path, "stray_file", _SKIPPED, "unexpected beside vectors/")
                    else:
                        self._note(sub.path, "stray_file", _SKIPPED, "not a vector store session directory")
            elif entry.kind == "dir":
                session = self._scan_session(user.user_id, entry.path, sessions.map(entry.name, self._rel(entry.path)))
                if session is not None:
                    user.sessions.append(session)
            else:
                self._note(entry.path, "stray_file", _SKIPPED, "a file in a user directory that is not profile.json")
        if user.profile is None and not user.sessions and not has_profile:
            self._note(user_dir, "no_user_data", FFIrregularAction.EXPLAINED,
                       "no profile and no sessions: only vector stores, imported under their sessions' owners")
            return None
        if user.profile is None and not has_profile:
            self._note(user_dir, "no_profile", FFIrregularAction.IMPORTED,
                       "user has no profile.json: the user is created from the directory name")
        return user

    def _scan_session(self, user_id: str, session_dir: Path, session_id: str) -> FFLegacySessionDTO | None:
        rel = self._rel(session_dir)
        legacy = session_dir.name
        entries = self._entries(session_dir)
        if not entries:
            if not any(i.path.startswith(rel + "/") for i in self._irregular):
                self._note(session_dir, "empty_session", _SKIPPED, "empty directory: no session.json and no messages")
            return None
        session = FFLegacySessionDTO(user_id=user_id, session_id=session_id, relative_dir=rel, kind="chat",
                                     legacy_id=None if legacy == session_id else legacy)
        has_json = False
        for entry in entries:
            name = entry.name
            if name == SESSION_NAME:
                has_json = True
                session.session_json = self._read_json_object(entry, "invalid_session_json")
                if session.session_json == {}:
                    self._note(entry.path, "empty_file", _SKIPPED,
                               "empty session.json: nothing to import; the session is imported as if it were missing")
                    session.session_json, has_json = None, False
                problem = session_problem(session.session_json) if session.session_json is not None else ""
                if problem:
                    self._note(entry.path, "invalid_session_json", _SKIPPED, problem + ": imported as if it were missing")
                    session.session_json = None
            elif name == MESSAGES_NAME and entry.kind == "file":
                session.messages_file = self._rel(entry.path)
                session.messages_bytes = entry.path.lstat().st_size
            elif name == MESSAGES_NAME:
                self._note(entry.path, "unreadable", _SKIPPED, "messages.jsonl is not a regular file")
            elif name.endswith(TRANSCRIPT_SUFFIX) and entry.kind == "file":
                session.transcripts[name[: -len(TRANSCRIPT_SUFFIX)]] = self._rel(entry.path)
            elif name == DOCUMENTS_DIR and entry.kind == "dir":
                session.documents = self._scan_documents(entry.path)
            else:
                self._note(entry.path, "stray_file", _SKIPPED, "not part of a legacy session directory")
        classify_session(session)
        good = 0
        for record in iter_session_records(self, session, note=True):
            if record.transcript is None:
                good += 1
                summarise_message(session, record.line.record)
        session.message_count = good
        meta = session.session_json or {}
        if session.session_json is None and not has_json:
            self._note(session_dir, "no_session_json", FFIrregularAction.IMPORTED,
                       "no session.json: imported with title, created_at and updated_at taken from its messages")
        if session.messages_file is None:
            self._note(session_dir, "no_messages", FFIrregularAction.IMPORTED,
                       "session.json without messages.jsonl: imported as a session with no messages")
        elif good == 0:
            self._note(self.root / session.messages_file, "empty_messages", FFIrregularAction.IMPORTED,
                       "messages.jsonl holds no records: imported as a session with no messages")
        if session.session_json is not None and isinstance(meta.get("message_count"), int) and session.messages_file and meta["message_count"] != good:
            self._note(session_dir / SESSION_NAME, "stale_message_count", FFIrregularAction.IMPORTED,
                       f"session.json says message_count {meta['message_count']}, messages.jsonl holds {good}; the field is kept as legacy metadata")
        return session
