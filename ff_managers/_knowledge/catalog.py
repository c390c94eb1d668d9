"""The catalog of each knowledge base (``kb.json``): its paths, its writers' lock, every change to it.

The catalog is the commit point of a knowledge base (see the façade's module docstring for the
layout). It holds the base's own record, a ``revision`` bumped by every change, a ``deleted`` mark
and one entry per document; documents' files are written before their entry is registered and
removed after it is unregistered, so a crash leaves an unregistered folder, never an entry without
its files. Every read-modify-write of ``kb.json`` is here, each one ``store.update_json`` call.

Writers of one knowledge base serialise on a cross-process lock named after the base and kept
beside its folder (``knowledge/.<kb_id>.lock``), not on the catalog's own lock, which
``update_json`` takes itself. Living outside the folder, the lock file survives the folder's
deletion, so no two writers ever hold different inodes of it. Every writer reads the catalog
before taking the lock, so a call naming an unknown knowledge base creates nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any

from ff_class_configs.ff_knowledge_dtos import KB_SCHEMA_VERSION, FFKnowledgeBaseDTO, FFKnowledgeDocumentDTO
from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFNotFoundError
from ff_utils.ff_store import FFStore

__all__ = ["CATALOG_NAME", "FFKbCatalog"]

CATALOG_NAME = "kb.json"

Catalog = dict[str, Any]


def _no_base(kb_id: str) -> FFNotFoundError:
    return FFNotFoundError(f"no knowledge base {kb_id!r}", kind="knowledge_base", key=kb_id)


def _plain_int(value: object) -> bool:
    """An int that is not a bool (JSON ``true`` loads as one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_live(catalog: Any) -> bool:
    """A catalog that exists and is not marked deleted, whatever else it holds."""
    return isinstance(catalog, dict) and not catalog.get("deleted")


def _what_it_held(catalog: Catalog) -> dict[str, int]:
    """Documents and chunks of a catalog about to be deleted; what a damaged one cannot say counts 0."""
    documents = catalog.get("documents")
    if not isinstance(documents, dict):
        return {"documents": 0, "chunks": 0}
    chunks = 0
    for entry in documents.values():
        count = entry.get("chunk_count") if isinstance(entry, dict) else None
        chunks += count if _plain_int(count) and count > 0 else 0
    return {"documents": len(documents), "chunks": chunks}


def _entry_of(documents: dict[str, Any], kb_id: str, doc_id: str) -> dict[str, Any]:
    document = documents.get(doc_id)
    if document is None:
        raise FFNotFoundError(f"no document {doc_id!r} in knowledge base {kb_id!r}", kind="document", key=doc_id)
    return document


class FFKbCatalog:
    """The knowledge bases' folders and catalogs under one store."""

    def __init__(self, store: FFStore) -> None:
        self.store = store

    # ------------------------------------------------------------------ paths and lock

    def knowledge_dir(self, user_id: str) -> Path:
        return self.store.path("users", user_id, "knowledge")

    def kb_dir(self, user_id: str, kb_id: str) -> Path:
        return self.store.path("users", user_id, "knowledge", kb_id)

    def catalog_path(self, user_id: str, kb_id: str) -> Path:
        return self.kb_dir(user_id, kb_id) / CATALOG_NAME

    def document_dir(self, user_id: str, kb_id: str, doc_id: str) -> Path:
        return self.store.path("users", user_id, "knowledge", kb_id, "documents", doc_id)

    def write_lock(self, user_id: str, kb_id: str) -> AbstractContextManager[None]:
        """The writers' lock of one knowledge base (see the module docstring)."""
        return self.store.lock(self.kb_dir(user_id, kb_id))

    # ------------------------------------------------------------------ reading

    def read(self, user_id: str, kb_id: str) -> Catalog:
        """The live catalog; FFNotFoundError when missing or deleted, FFCorruptionError when unreadable."""
        path = self.catalog_path(user_id, kb_id)
        catalog = self.store.read_json(path, None)
        if catalog is None:
            raise _no_base(kb_id)
        return self.live(catalog, kb_id, path)

    @staticmethod
    def live(catalog: Any, kb_id: str, path: Path | None = None) -> Catalog:
        """``catalog`` if it is a live catalog of the current layout (else FFNotFoundError / FFCorruptionError)."""
        if not isinstance(catalog, dict) or catalog.get("deleted"):
            raise _no_base(kb_id)
        if (
            catalog.get("schema_version") != KB_SCHEMA_VERSION
            or not isinstance(catalog.get("documents"), dict)
            or not isinstance(catalog.get("kb"), dict)
            or not _plain_int(catalog.get("revision"))
        ):
            raise FFCorruptionError(f"catalog of knowledge base {kb_id!r} has an unknown layout", path=path)
        return catalog

    @staticmethod
    def entry(catalog: Catalog, kb_id: str, doc_id: str) -> dict[str, Any]:
        """One document's catalog entry; FFNotFoundError when the catalog has none."""
        return _entry_of(catalog["documents"], kb_id, doc_id)

    @staticmethod
    def titles(catalog: Catalog) -> dict[str, str]:
        """Document id -> title, in catalog order."""
        return {doc_id: str(d["title"]) for doc_id, d in catalog["documents"].items()}

    def document(self, user_id: str, kb_id: str, entry: dict[str, Any]) -> FFKnowledgeDocumentDTO:
        """A catalog entry as a DTO; FFCorruptionError naming ``kb.json`` when it does not fit."""
        return self.store.load(FFKnowledgeDocumentDTO, entry, self.catalog_path(user_id, kb_id))

    def base(self, user_id: str, kb_id: str) -> FFKnowledgeBaseDTO:
        """One knowledge base with its document and chunk counts (FFNotFoundError, FFCorruptionError)."""
        return self._base_dto(self.read(user_id, kb_id), self.catalog_path(user_id, kb_id))

    def list_bases(self, user_id: str) -> list[FFKnowledgeBaseDTO]:
        """The user's live knowledge bases, oldest first (an unknown user has none)."""
        knowledge = self.knowledge_dir(user_id)
        if not self.store.exists(knowledge):
            return []
        bases: list[FFKnowledgeBaseDTO] = []
        for entry in self.store.list_dir(knowledge):  # sorted; no symlink followed
            if entry.name.startswith(".") or not entry.is_dir:
                continue
            path = entry.path / CATALOG_NAME
            catalog = self.store.read_json(path, None)
            if catalog is None or (isinstance(catalog, dict) and catalog.get("deleted")):
                continue  # a folder left by a crash before its catalog was written, or a deletion
            # the layout check of get_knowledge_base: a kb.json one refuses, the other does not list
            bases.append(self._base_dto(self.live(catalog, entry.name, path), path))
        bases.sort(key=lambda b: (b.created_at, b.kb_id))
        return bases

    def _base_dto(self, catalog: Catalog, path: Path) -> FFKnowledgeBaseDTO:
        documents = catalog.get("documents", {})
        try:
            record = {
                **catalog["kb"],
                "document_count": len(documents),
                "chunk_count": sum(int(d["chunk_count"]) for d in documents.values()),
            }
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise FFCorruptionError(f"catalog does not match its layout: {exc!r}", path=path) from exc
        return self.store.load(FFKnowledgeBaseDTO, record, path)

    # ------------------------------------------------------------------ changing

    def create(self, user_id: str, kb_id: str, name: str, description: str, now: datetime) -> FFKnowledgeBaseDTO:
        """Write the catalog of a new, empty knowledge base; FFConflictError when ``kb_id`` is taken."""
        base = FFKnowledgeBaseDTO(
            kb_id=kb_id, user_id=user_id, name=name, description=description, created_at=now, updated_at=now
        )
        catalog = {
            "schema_version": KB_SCHEMA_VERSION,
            "kb": base.model_dump(mode="json", exclude={"document_count", "chunk_count"}),
            "revision": 0,
            "deleted": False,
            "documents": {},
        }

        def create(current: Catalog | None) -> Catalog:
            if current is not None:
                raise FFConflictError(f"knowledge base {kb_id!r} already exists", kb_id=kb_id)
            return catalog

        self.store.update_json(self.catalog_path(user_id, kb_id), create, default=None)
        return base

    def delete(self, user_id: str, kb_id: str) -> dict[str, int]:
        """Mark the catalog deleted (the commit point), then remove the folder; return what it held."""
        counts: dict[str, int] = {}
        if not _is_live(self.store.read_json(self.catalog_path(user_id, kb_id), None)):
            raise _no_base(kb_id)  # before any lock file is created; a damaged catalog can still be deleted

        with self.write_lock(user_id, kb_id):

            def mark(current: Catalog | None) -> Catalog:
                if not _is_live(current):
                    raise _no_base(kb_id)
                counts.update(_what_it_held(current))
                revision = current.get("revision")
                return {**current, "deleted": True, "revision": (revision if _plain_int(revision) else 0) + 1}

            self.store.update_json(self.catalog_path(user_id, kb_id), mark, default=None)
        self.store.remove_tree(self.kb_dir(user_id, kb_id))
        return counts

    def register(self, user_id: str, kb_id: str, entry: dict[str, Any]) -> None:
        """Add a document's entry (its files are written); the caller holds the writers' lock."""
        self._change(user_id, kb_id, entry["added_at"], lambda documents: {**documents, entry["doc_id"]: entry})

    def register_many(self, user_id: str, kb_id: str, entries: list[dict[str, Any]]) -> None:
        """Add many documents' entries in one catalog replace (one revision); the caller holds the lock."""
        if entries:
            added = {entry["doc_id"]: entry for entry in entries}
            self._change(user_id, kb_id, entries[-1]["added_at"], lambda documents: {**documents, **added})

    def unregister(self, user_id: str, kb_id: str, doc_id: str, now: datetime) -> dict[str, Any]:
        """Remove a document's entry and return it; the caller holds the writers' lock."""
        removed: list[dict[str, Any]] = []

        def drop(documents: dict[str, Any]) -> dict[str, Any]:
            removed.append(_entry_of(documents, kb_id, doc_id))
            return {d: e for d, e in documents.items() if d != doc_id}

        self._change(user_id, kb_id, now.isoformat(), drop)
        return removed[0]

    def _change(
        self, user_id: str, kb_id: str, updated_at: str, change: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> None:
        """One read-modify-write of a live catalog's documents: new ``updated_at``, next revision."""

        path = self.catalog_path(user_id, kb_id)

        def update(current: Any) -> Catalog:
            current = self.live(current, kb_id, path)
            return {
                **current,
                "kb": {**current["kb"], "updated_at": updated_at},
                "revision": current["revision"] + 1,
                "documents": change(current["documents"]),
            }

        self.store.update_json(path, update)
