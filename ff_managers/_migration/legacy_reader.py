"""Read the legacy (schema version 1) flat-file chat layout into DTOs; never write.

The legacy store (insightprism's flatfile_chat_database) left real data messy: sessions without
``session.json``, ``session.json`` without messages, per-persona transcripts beside the shared
``messages.jsonl``, vector indexes under a ``default`` user, stray leftovers, a line prefixed with
stray bytes. :meth:`FFLegacyReader.scan` walks a root once, streaming every JSONL file line by
line (constant memory), and returns an inventory plus a list of irregular items, each with the
reason and what the import will do with it. :meth:`FFLegacyReader.iter_messages` streams the
records of one file again for the import, applying the same salvage rule. The layout and the
rules for single records are in :mod:`.legacy_format`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from ff_class_configs.ff_migration_dtos import (
    FFIrregularAction,
    FFIrregularItemDTO,
    FFLegacyDocumentDTO,
    FFLegacyInventoryDTO,
    FFLegacyPersonaDTO,
    FFLegacySessionDTO,
    FFLegacyUserDTO,
    FFLegacyVectorSetDTO,
)
from ff_managers._migration.legacy_format import (
    DOCUMENTS_DIR,
    DOCUMENTS_META,
    MESSAGES_NAME,
    NPY_NAME,
    PROFILE_NAME,
    ROOT_KNOWN,
    SESSION_NAME,
    TRANSCRIPT_SUFFIX,
    VECTOR_INDEX_NAME,
    VECTORS_DIR,
    FFLegacyLine,
    classify_session,
    is_legacy_root,
    message_problem,
    parse_line,
    parse_npy_header,
    profile_problem,
    session_problem,
    summarise_message,
)
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_ids import ff_is_valid_id

__all__ = ["FFLegacyReader"]


class FFLegacyReader:
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
        self._newest = ""

    # ------------------------------------------------------------------ helpers

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _note(self, path: Path, kind: str, action: FFIrregularAction, reason: str, line: int | None = None) -> None:
        self._irregular.append(
            FFIrregularItemDTO(path=self._rel(path), kind=kind, action=action, reason=reason, line_number=line)
        )

    def _read_json_object(self, path: Path, kind: str) -> dict[str, Any] | None:
        """A JSON document that must be an object, or None after noting why it is not."""
        if not path.is_file():
            self._note(path, "unreadable", FFIrregularAction.SKIPPED, f"expected a file, found {'a directory' if path.is_dir() else 'something else'}")
            return None
        try:
            raw = path.read_bytes()
        except OSError as exc:
            self._note(path, "unreadable", FFIrregularAction.SKIPPED, f"cannot read: {exc.strerror or exc}")
            return None
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            self._note(path, kind, FFIrregularAction.SKIPPED, f"not valid JSON: {exc}")
            return None
        if not isinstance(value, dict):
            self._note(path, kind, FFIrregularAction.SKIPPED, f"expected a JSON object, found {type(value).__name__}")
            return None
        return value

    def iter_lines(self, path: Path, *, note: bool = False, messages: bool = True) -> Iterator[FFLegacyLine]:
        """Stream the good records of a JSONL file, line by line, salvaging stray leading bytes.

        With ``note=True`` bad lines become irregular items (the scan); the import calls it with
        ``note=False`` and gets exactly the records the scan counted.
        """
        try:
            handle = path.open("rb")
        except OSError as exc:
            if note:
                self._note(path, "unreadable", FFIrregularAction.SKIPPED, f"cannot read: {exc.strerror or exc}")
            return
        with handle:
            for number, raw in enumerate(handle, start=1):
                complete = raw.endswith(b"\n")
                if not raw.strip():
                    continue
                record, stray, error = parse_line(raw)
                if record is None:
                    if note:
                        kind = "torn_line" if not complete else "corrupt_line"
                        reason = ("last line has no newline and is not complete JSON (torn write)" if not complete else error)
                        self._note(path, kind, FFIrregularAction.SKIPPED, reason, number)
                    continue
                kind, problem = message_problem(record) if messages else ("", "")
                if problem:
                    if note:
                        self._note(path, kind, FFIrregularAction.SKIPPED, problem, number)
                    continue
                stamp = record.get("timestamp")
                if note and isinstance(stamp, str) and stamp > self._newest:
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
        self._irregular = []
        self._newest = ""
        inventory = FFLegacyInventoryDTO(root=str(self.root))
        for entry in sorted(self.root.iterdir()):
            if entry.name not in ROOT_KNOWN:
                self._note(entry, "stray_file", FFIrregularAction.SKIPPED, "not part of the legacy layout (users/, personas_global/)")
        personas_dir = self.root / "personas_global"
        if personas_dir.is_dir():
            inventory.personas = self._scan_personas(personas_dir)
        users_dir = self.root / "users"
        session_owner: dict[str, str] = {}
        vector_dirs: list[tuple[str, Path]] = []
        if users_dir.is_dir():
            for user_dir in sorted(users_dir.iterdir()):
                if not user_dir.is_dir():
                    self._note(user_dir, "stray_file", FFIrregularAction.SKIPPED, "a file where a user directory is expected")
                    continue
                if not ff_is_valid_id(user_dir.name):
                    self._note(user_dir, "invalid_id", FFIrregularAction.SKIPPED, "user directory name is not a valid v2 id")
                    continue
                user = self._scan_user(user_dir, vector_dirs)
                if user is not None:
                    inventory.users.append(user)
                    for session in user.sessions:
                        session_owner.setdefault(session.session_id, user.user_id)
        inventory.vector_sets = [self._scan_vectors(user_id, d, session_owner) for user_id, d in vector_dirs]
        inventory.vector_sets = [v for v in inventory.vector_sets if v is not None]
        files = size = 0
        for directory, _dirs, names in os.walk(self.root):
            for name in names:
                files += 1
                size += os.lstat(os.path.join(directory, name)).st_size
        inventory.files, inventory.bytes = files, size
        inventory.irregular = list(self._irregular)
        inventory.newest_timestamp = self._newest
        return inventory

    def _scan_personas(self, directory: Path) -> list[FFLegacyPersonaDTO]:
        personas: list[FFLegacyPersonaDTO] = []
        for path in sorted(directory.iterdir()):
            if path.suffix != ".json":
                self._note(path, "stray_file", FFIrregularAction.SKIPPED, "not a persona .json file")
                continue
            data = self._read_json_object(path, "invalid_persona")
            if data is None:
                continue
            persona_id = data.get("persona_id") if isinstance(data.get("persona_id"), str) else path.stem
            if not ff_is_valid_id(persona_id):
                self._note(path, "invalid_persona", FFIrregularAction.SKIPPED, f"persona id {persona_id!r} is not a valid v2 id")
                continue
            personas.append(FFLegacyPersonaDTO(persona_id=persona_id, relative_path=self._rel(path), data=data))
        return personas

    def _scan_user(self, user_dir: Path, vector_dirs: list[tuple[str, Path]]) -> FFLegacyUserDTO | None:
        user = FFLegacyUserDTO(user_id=user_dir.name)
        for entry in sorted(user_dir.iterdir()):
            if entry.name == PROFILE_NAME:
                profile = self._read_json_object(entry, "invalid_profile")
                problem = profile_problem(profile, user.user_id) if profile is not None else ""
                if problem:
                    self._note(entry, "invalid_profile", FFIrregularAction.SKIPPED, problem)
                    profile = None
                user.profile = profile
            elif entry.is_dir() and entry.name == "sessions" and not (entry / MESSAGES_NAME).exists():
                # The vector store nests sessions one level deeper: users/<u>/sessions/<sid>/vectors/.
                for sub in sorted(entry.iterdir()):
                    if sub.is_dir() and (sub / VECTORS_DIR).is_dir():
                        vector_dirs.append((user.user_id, sub))
                        extra = sorted(p.name for p in sub.iterdir() if p.name != VECTORS_DIR)
                        for name in extra:
                            self._note(sub / name, "stray_file", FFIrregularAction.SKIPPED, "unexpected beside vectors/")
                    else:
                        self._note(sub, "stray_file", FFIrregularAction.SKIPPED, "not a vector store session directory")
            elif entry.is_dir():
                session = self._scan_session(user.user_id, entry)
                if session is not None:
                    user.sessions.append(session)
            else:
                self._note(entry, "stray_file", FFIrregularAction.SKIPPED, "a file in a user directory that is not profile.json")
        if user.profile is None and not user.sessions and not (user_dir / PROFILE_NAME).exists():
            self._note(user_dir, "no_user_data", FFIrregularAction.EXPLAINED,
                       "no profile and no sessions: only vector stores, imported under their sessions' owners")
            return None
        if user.profile is None and not (user_dir / PROFILE_NAME).exists():
            self._note(user_dir, "no_profile", FFIrregularAction.IMPORTED,
                       "user has no profile.json: the user is created from the directory name")
        return user

    def _scan_session(self, user_id: str, session_dir: Path) -> FFLegacySessionDTO | None:
        rel = self._rel(session_dir)
        if not ff_is_valid_id(session_dir.name):
            self._note(session_dir, "invalid_id", FFIrregularAction.SKIPPED, "session directory name is not a valid v2 id")
            return None
        entries = sorted(session_dir.iterdir())
        if not entries:
            self._note(session_dir, "empty_session", FFIrregularAction.SKIPPED, "empty directory: no session.json and no messages")
            return None
        session = FFLegacySessionDTO(user_id=user_id, session_id=session_dir.name, relative_dir=rel, kind="chat")
        for entry in entries:
            name = entry.name
            if name == SESSION_NAME:
                session.session_json = self._read_json_object(entry, "invalid_session_json")
                problem = session_problem(session.session_json) if session.session_json is not None else ""
                if problem:
                    self._note(entry, "invalid_session_json", FFIrregularAction.SKIPPED, problem + ": imported as if it were missing")
                    session.session_json = None
            elif name == MESSAGES_NAME:
                if not entry.is_file():
                    self._note(entry, "unreadable", FFIrregularAction.SKIPPED, "messages.jsonl is not a regular file")
                    continue
                session.messages_file = self._rel(entry)
                session.messages_bytes = entry.stat().st_size
            elif name.endswith(TRANSCRIPT_SUFFIX) and entry.is_file():
                session.transcripts[name[: -len(TRANSCRIPT_SUFFIX)]] = self._rel(entry)
            elif name == DOCUMENTS_DIR and entry.is_dir():
                session.documents = self._scan_documents(entry)
            else:
                self._note(entry, "stray_file", FFIrregularAction.SKIPPED, "not part of a legacy session directory")
        classify_session(session)
        good = 0
        if session.messages_file is not None:
            for line in self.iter_lines(self.root / session.messages_file, note=True):
                good += 1
                summarise_message(session, line.record)
        session.message_count = good
        meta = session.session_json or {}
        for transcript in session.transcripts.values():
            for _ in self.iter_lines(self.root / transcript, note=True):
                pass
        if session.session_json is None and (session_dir / SESSION_NAME).exists():
            pass  # already noted as invalid_session_json / unreadable
        elif session.session_json is None:
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

    def _scan_documents(self, directory: Path) -> list[FFLegacyDocumentDTO]:
        meta_path = directory / DOCUMENTS_META
        metadata: dict[str, Any] = {}
        if meta_path.exists():
            metadata = self._read_json_object(meta_path, "invalid_documents_metadata") or {}
        documents: list[FFLegacyDocumentDTO] = []
        for path in sorted(directory.iterdir()):
            if path.name == DOCUMENTS_META:
                continue
            if not path.is_file():
                self._note(path, "unreadable", FFIrregularAction.SKIPPED, "a directory where a document file is expected")
                continue
            entry = metadata.get(path.name)
            entry = entry if isinstance(entry, dict) else None
            size = path.stat().st_size
            if entry is None:
                self._note(path, "document_without_metadata", FFIrregularAction.IMPORTED,
                           "no entry in documents/metadata.json: imported with its file name as title")
            elif isinstance(entry.get("size"), int) and entry["size"] != size:
                self._note(path, "document_size_mismatch", FFIrregularAction.IMPORTED,
                           f"metadata.json says {entry['size']} bytes, the file has {size}; the file's bytes are imported, the recorded size kept as legacy metadata")
            documents.append(FFLegacyDocumentDTO(stored_name=path.name, relative_path=self._rel(path), size=size, metadata=entry))
        for name in sorted(set(metadata) - {d.stored_name for d in documents}):
            self._note(meta_path, "document_missing", FFIrregularAction.SKIPPED,
                       f"metadata.json lists {name!r} but the file is not there")
        return documents

    def _scan_vectors(self, user_id: str, session_dir: Path, owners: dict[str, str]) -> FFLegacyVectorSetDTO | None:
        vectors = session_dir / VECTORS_DIR
        files: dict[str, int] = {}
        dtype, shape = "", []
        index_lines = 0
        for path in sorted(vectors.iterdir()):
            if not path.is_file():
                self._note(path, "unreadable", FFIrregularAction.SKIPPED, "a directory where a vector file is expected")
                continue
            if path.name == NPY_NAME:
                try:
                    dtype, shape = parse_npy_header(path)
                except FFValidationError as exc:
                    self._note(path, "invalid_vectors", FFIrregularAction.SKIPPED, exc.message)
                    continue
            elif path.name == VECTOR_INDEX_NAME:
                index_lines = sum(1 for _ in self.iter_lines(path, note=True, messages=False))
            else:
                self._note(path, "stray_file", FFIrregularAction.SKIPPED, "not embeddings.npy or vector_index.jsonl")
                continue
            files[path.name] = path.stat().st_size
        if not files:
            return None
        if shape and index_lines and shape[0] != index_lines:
            self._note(vectors, "vector_count_mismatch", FFIrregularAction.IMPORTED,
                       f"{shape[0]} embeddings but {index_lines} index lines; both files copied byte-identical")
        owner = owners.get(session_dir.name, user_id)
        return FFLegacyVectorSetDTO(
            session_id=session_dir.name, owner_user_id=owner, relative_dir=self._rel(vectors),
            files=files, dtype=dtype, shape=shape, index_lines=index_lines,
        )
