"""Planted defects inside ``ff_managers._knowledge`` (collected by ``tests/planted_defects``).

They replace one method of the private package for the length of a suite run; the component
suite test each names must turn red on it (``stray_files_ignored`` for the listing,
``knowledge_contracts`` for the batch defects and ``knowledge_detail_contracts`` for the ingest,
extraction and search defects grown from surviving mutants, issue 20).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ff_managers._knowledge import catalog, checks, extract, index, ingest
from ff_managers._knowledge.catalog import CATALOG_NAME, FFKbCatalog
from ff_utils.ff_errors import FFValidationError
from tests._planted import PlantedDefect

__all__ = ["DEFECTS"]


def _list_bases_with_hidden_folders(self: FFKbCatalog, user_id: str) -> list[Any]:
    """list_knowledge_bases reads every folder with a catalog, hidden ones too: a staging copy
    left by a crash (``.<kb_id>.staging.tmp``) lists the knowledge base twice."""
    knowledge = self.knowledge_dir(user_id)
    if not self.store.exists(knowledge):
        return []
    bases = []
    for entry in self.store.list_dir(knowledge):
        if not entry.is_dir:
            continue
        data = self.store.read_json(entry.path / CATALOG_NAME, None)
        if data is None or data.get("deleted"):
            continue
        bases.append(self._base_dto(data, entry.path / CATALOG_NAME))
    bases.sort(key=lambda b: (b.created_at, b.kb_id))
    return bases


_write_many = ingest.FFKbIngest.write_many


def _write_many_without_source(self: ingest.FFKbIngest, user_id: str, kb_id: str, prepared: list[Any], items: list[Any]) -> list[Any]:
    """add_documents stores every batch item without its ``source`` (the batch path builds the
    document from ``ready`` and ``item.metadata`` but passes None for the source)."""
    return _write_many(self, user_id, kb_id, prepared, [dataclasses.replace(item, source=None) for item in items])


def _check_batch_from_two(items: object, maximum: int) -> list[Any]:
    """add_documents refuses a batch of one document (``1 < len(items)`` for ``1 <=``)."""
    if isinstance(items, (str, bytes, bytearray, dict)) or not isinstance(items, (list, tuple)):
        raise FFValidationError("documents must be a list of mappings", field="documents")
    if not 1 < len(items) <= maximum:
        raise FFValidationError(f"a batch holds 1 to {maximum:,} documents, not {len(items):,}", field="documents", value=len(items))
    return list(items)


def _checksums_keyed_by_nothing(documents: dict[str, Any]) -> dict[Any, Any]:
    """add_document without an id stores a second copy of bytes the knowledge base already holds
    under an explicit ``document_id`` (the checksum index is keyed by None, so only the default,
    checksum-derived id finds a repeat)."""
    found: dict[Any, Any] = {}
    for entry in documents.values():
        found.setdefault(None, entry)
    return found


def _first_word(text: str, max_chars: int) -> str:
    """A document given no title is titled by its first word, not its first line (the text is
    split on any whitespace instead of on newlines)."""
    for line in text.split(None):
        stripped = " ".join(line.split())
        if stripped:
            return stripped[:max_chars]
    return "Untitled"


def _bom_kept(text: str) -> str:
    """A UTF-8 byte-order mark stays at the start of the extracted text (the BOM test looks for
    another prefix), so every chunk offset is one character off the text the caller gave."""
    if text.startswith("XX\ufeffXX"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


_resolve_format = extract.resolve_format


def _format_refusal_unnamed(fmt: str | None, *, has_bytes: bool) -> Any:
    """add_document(data=...) without a format is refused naming no field (``field="format"`` lost)."""
    if fmt is None and has_bytes:
        raise FFValidationError("data= needs format= (one of text, markdown, pdf or their MIME types)")
    return _resolve_format(fmt, has_bytes=has_bytes)


_extract_text = extract.extract_text


def _pdf_content_parsed(*, content: str | None, data: bytes | None, fmt: str | None, max_bytes: int, limits: Any = None) -> Any:
    """A PDF given as ``content=`` text is not refused as such (``== "PDF"`` for ``== "pdf"``): its
    UTF-8 bytes go to the PDF parser, which refuses them as ``data`` that is not a PDF."""
    if isinstance(content, str) and data is None and _resolve_format(fmt, has_bytes=False) == "pdf":
        return _extract_text(content=None, data=content.encode("utf-8"), fmt=fmt, max_bytes=max_bytes, limits=limits)
    return _extract_text(content=content, data=data, fmt=fmt, max_bytes=max_bytes, limits=limits)


def _best_rows_cut_one_late(candidates: np.ndarray, scores: np.ndarray, window: int) -> np.ndarray:
    """A search asking for all but one of its matches fails (IndexError): the tie-keeping cut reads
    the partitioned scores at ``window + 1`` instead of ``window - 1``."""
    if candidates.size <= window:
        return candidates
    values = scores[candidates]
    cut = -np.partition(-values, window - 1)[window + 1]
    return candidates[values >= cut]


def _doc(function: Any) -> str:
    return " ".join((function.__doc__ or "").split())


DEFECTS: tuple[PlantedDefect, ...] = (
    PlantedDefect(
        name="kb_listing_takes_hidden_folders", what=" ".join((_list_bases_with_hidden_folders.__doc__ or "").split()),
        origin="README", suite="component", test="stray_files_ignored",
        patches=((catalog.FFKbCatalog, "list_bases", _list_bases_with_hidden_folders),),
    ),
    PlantedDefect(
        name="kb_batch_drops_source", what=_doc(_write_many_without_source),
        origin="mutant ff_managers._knowledge.ingest.xǁFFKbIngestǁwrite_many__mutmut_59", suite="component", test="knowledge_contracts",
        patches=((ingest.FFKbIngest, "write_many", _write_many_without_source),),
    ),
    PlantedDefect(
        name="kb_batch_of_one_refused", what=_doc(_check_batch_from_two),
        origin="mutant ff_managers._knowledge.checks.x_check_batch__mutmut_13", suite="component", test="knowledge_contracts",
        patches=((checks, "check_batch", _check_batch_from_two),),
    ),
    PlantedDefect(
        name="kb_same_bytes_stored_twice", what=_doc(_checksums_keyed_by_nothing),
        origin="mutant ff_managers._knowledge.ingest.x__checksums__mutmut_2", suite="component", test="knowledge_detail_contracts",
        patches=((ingest, "_checksums", _checksums_keyed_by_nothing),),
    ),
    PlantedDefect(
        name="kb_default_title_first_word", what=_doc(_first_word),
        origin="mutant ff_managers._knowledge.ingest.x__first_line__mutmut_1", suite="component", test="knowledge_detail_contracts",
        patches=((ingest, "_first_line", _first_word),),
    ),
    PlantedDefect(
        name="kb_byte_order_mark_kept", what=_doc(_bom_kept),
        origin="mutant ff_managers._knowledge.extract.x_normalise_text__mutmut_2", suite="component", test="knowledge_detail_contracts",
        patches=((extract, "normalise_text", _bom_kept),),
    ),
    PlantedDefect(
        name="kb_format_refusal_unnamed", what=_doc(_format_refusal_unnamed),
        origin="mutant ff_managers._knowledge.extract.x_resolve_format__mutmut_5", suite="component", test="knowledge_detail_contracts",
        patches=((extract, "resolve_format", _format_refusal_unnamed),),
    ),
    PlantedDefect(
        name="kb_pdf_content_parsed", what=_doc(_pdf_content_parsed),
        origin="mutant ff_managers._knowledge.extract.x_extract_text__mutmut_49", suite="component", test="knowledge_detail_contracts",
        patches=((ingest, "extract_text", _pdf_content_parsed),),
    ),
    PlantedDefect(
        name="kb_search_all_but_one_fails", what=_doc(_best_rows_cut_one_late),
        origin="mutant ff_managers._knowledge.index.x__best_rows__mutmut_13", suite="component", test="knowledge_detail_contracts",
        patches=((index, "_best_rows", _best_rows_cut_one_late),),
    ),
)
