"""The legacy reader's scans of the stores beside the chats: uploaded documents and vector sets.

A mixin of :class:`~ff_managers._migration.legacy_reader.FFLegacyReader` (split out to keep each
module small); it uses the reader's symlink-safe listing and its notes, so a linked document or
vector file is listed as skipped exactly like any other link.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ff_class_configs.ff_migration_dtos import (
    FFIdMappingDTO,
    FFIrregularAction,
    FFIrregularItemDTO,
    FFLegacyDocumentDTO,
    FFLegacyVectorSetDTO,
)
from ff_managers._migration.legacy_files import FFEntry
from ff_managers._migration.legacy_format import (
    DOCUMENTS_META,
    NPY_NAME,
    VECTOR_INDEX_NAME,
    VECTORS_DIR,
    FFLegacyLine,
    parse_npy_header,
)
from ff_managers._migration.legacy_ids import mapped_id
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_ids import ff_is_valid_id

__all__ = ["FFLegacyStoreScans"]

_SKIPPED = FFIrregularAction.SKIPPED


class FFLegacyStoreScans:
    """Documents and vector sets of a legacy root (mixed into the reader)."""

    root: Path

    if TYPE_CHECKING:  # provided by the reader
        _irregular: list[FFIrregularItemDTO]
        _id_map: list[FFIdMappingDTO]

        def _rel(self, path: Path) -> str: ...
        def _note(self, path: Path, kind: str, action: FFIrregularAction, reason: str, line: int | None = None) -> None: ...
        def _entries(self, directory: Path) -> list[FFEntry]: ...
        def _read_json_object(self, entry: FFEntry, kind: str) -> dict[str, Any] | None: ...
        def iter_lines(self, path: Path, *, note: bool = False, messages: bool = True) -> Iterator[FFLegacyLine]: ...

    def _scan_documents(self, directory: Path) -> list[FFLegacyDocumentDTO]:
        entries = self._entries(directory)
        metadata: dict[str, Any] = {}
        meta_entry = next((e for e in entries if e.name == DOCUMENTS_META), None)
        if meta_entry is not None:
            metadata = self._read_json_object(meta_entry, "invalid_documents_metadata") or {}
        documents: list[FFLegacyDocumentDTO] = []
        for entry in entries:
            path = entry.path
            if entry.name == DOCUMENTS_META:
                continue
            if entry.kind != "file":
                self._note(path, "unreadable", _SKIPPED, "a directory where a document file is expected")
                continue
            meta = metadata.get(entry.name)
            meta = meta if isinstance(meta, dict) else None
            size = path.lstat().st_size
            if meta is None:
                self._note(path, "document_without_metadata", FFIrregularAction.IMPORTED,
                           "no entry in documents/metadata.json: imported with its file name as title")
            elif isinstance(meta.get("size"), int) and meta["size"] != size:
                self._note(path, "document_size_mismatch", FFIrregularAction.IMPORTED,
                           f"metadata.json says {meta['size']} bytes, the file has {size}; the file's bytes are imported, the recorded size kept as legacy metadata")
            documents.append(FFLegacyDocumentDTO(stored_name=entry.name, relative_path=self._rel(path), size=size, metadata=meta))
        present = {e.name for e in entries} | {e.name for e in self._linked(directory)}
        for name in sorted(set(metadata) - present):
            self._note(directory / DOCUMENTS_META, "document_missing", _SKIPPED,
                       f"metadata.json lists {name!r} but the file is not there")
        return documents

    def _linked(self, directory: Path) -> list[FFEntry]:
        """Entries of ``directory`` skipped as links (already noted; named so metadata does not call them missing)."""
        prefix = self._rel(directory) + "/"
        return [FFEntry(self.root / item.path, "symlink") for item in self._irregular
                if item.kind == "symlink" and item.path.startswith(prefix) and "/" not in item.path[len(prefix):]]

    def _scan_vectors(self, user_id: str, session_dir: Path, owners: dict[str, tuple[str, str]]) -> FFLegacyVectorSetDTO | None:
        vectors = session_dir / VECTORS_DIR
        files: dict[str, int] = {}
        dtype, shape = "", []
        index_lines = 0
        for entry in self._entries(vectors):
            path = entry.path
            if entry.kind != "file":
                self._note(path, "unreadable", _SKIPPED, "a directory where a vector file is expected")
                continue
            if entry.name == NPY_NAME:
                try:
                    dtype, shape = parse_npy_header(path)
                except FFValidationError as exc:
                    self._note(path, "invalid_vectors", _SKIPPED, exc.message)
                    continue
            elif entry.name == VECTOR_INDEX_NAME:
                index_lines = sum(1 for _ in self.iter_lines(path, note=True, messages=False))
            else:
                self._note(path, "stray_file", _SKIPPED, "not embeddings.npy or vector_index.jsonl")
                continue
            files[entry.name] = path.lstat().st_size
        if not files:
            return None
        if shape and index_lines and shape[0] != index_lines:
            self._note(vectors, "vector_count_mismatch", FFIrregularAction.IMPORTED,
                       f"{shape[0]} embeddings but {index_lines} index lines; both files copied byte-identical")
        # the session's owner and v2 id; a folder name no session has is mapped like any id
        owner, session_id = owners.get(session_dir.name, (user_id, session_dir.name))
        if not ff_is_valid_id(session_id):
            session_id = mapped_id(session_id)
            self._id_map.append(FFIdMappingDTO(kind="session", legacy_id=session_dir.name, v2_id=session_id,
                                               path=self._rel(session_dir)))
        return FFLegacyVectorSetDTO(
            session_id=session_id, owner_user_id=owner, relative_dir=self._rel(vectors),
            files=files, dtype=dtype, shape=shape, index_lines=index_lines,
        )
