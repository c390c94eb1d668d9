"""Planted defects inside ``ff_managers._knowledge`` (collected by ``tests/planted_defects``).

They replace one method of the private package for the length of a suite run; the component
suite test each names must turn red on it (``stray_files_ignored`` for the listing,
``knowledge_contracts`` for the batch defects and ``knowledge_detail_contracts`` for the ingest,
extraction and search defects grown from surviving mutants, issue 20; ``knowledge_input_contracts``
for the ten grown from the census and the 2026-12-07 sample: format names, line ends, refusals
naming their field, an untitled document's title, a capped search).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ff_managers._knowledge import catalog, checks, extract, index, ingest
from ff_managers._knowledge.catalog import CATALOG_NAME, FFKbCatalog
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_ids import ff_validate_id
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


# ---------------------------------------------------------------- from the census and the 2026-12-07 sample
# (killed by tests/ff_managers/knowledge/test_knowledge_census_kb_a.py, _kb_b.py, test_knowledge_fresh_review.py;
# caught by the component suite's knowledge_input_contracts)


def _format_disagreement_unnamed(fmt: str | None, mime_type: str | None) -> str | None:
    """A document whose ``format`` and ``mime_type`` disagree is refused naming no field
    (``field=None``), so a form cannot point at the argument to fix."""
    if fmt is not None and mime_type is not None and extract.resolve_format(fmt, has_bytes=True) != extract.resolve_format(
        mime_type, has_bytes=True
    ):
        raise FFValidationError("format and mime_type disagree", field=None, value=(fmt, mime_type))
    return fmt or mime_type


def _extra_ids_named_id(user_id: str, kb_id: str, **others: str | None) -> None:
    """A bad ``doc_id``, ``chunk_id`` or ``document_id`` is refused as a bad ``id`` (the id's own
    name not handed to the check), so the caller is not told which argument was wrong."""
    ff_validate_id(user_id, "user_id")
    ff_validate_id(kb_id, "kb_id")
    for value in others.values():
        if value is not None:
            ff_validate_id(value)


def _resolve_with(key_of: Any) -> Any:
    """``resolve_format`` with its lookup key computed by ``key_of`` (the rest verbatim)."""

    def resolve_format(fmt: str | None, *, has_bytes: bool) -> Any:
        if fmt is None or not isinstance(fmt, str):
            return _resolve_format(fmt, has_bytes=has_bytes)
        found = extract._ALIASES.get(key_of(fmt))
        if found is None:
            allowed = ", ".join(sorted(set(extract._ALIASES)))
            raise FFValidationError(f"unsupported document format {fmt[:60]!r}; use one of {allowed}", field="format", value=fmt)
        return found

    return resolve_format


def _dotted_extension_refused(fmt: str) -> str:
    """A format named by its file extension (``format=".md"``) is refused as unsupported: only
    whitespace is stripped from the front of the name, not the extension's dot."""
    return fmt.strip().lower().split(";", 1)[0].strip().lstrip(None)


def _mime_parameters_cut_from_the_end(fmt: str) -> str:
    """A MIME type with two parameters (``text/markdown;charset=utf-8;variant=gfm``) is refused:
    only the last parameter is cut off (``rsplit`` for ``split``)."""
    return fmt.strip().lower().rsplit(";", 1)[0].strip().lstrip(".")


def _lone_carriage_return_marked(text: str) -> str:
    """A lone carriage return (an old Mac line end) does not become one newline: it becomes
    ``XX\\nXX`` in the stored text, every offset after it shifted."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "XX\nXX")


_check_text = extract._check_text


def _nul_refusal_misnamed(text: str) -> str:
    """Text with a NUL character is refused naming a field that does not exist (``XXcontentXX``)."""
    if "\x00" in text:
        raise FFValidationError("document text contains NUL bytes: binary data sent as text?", field="XXcontentXX")
    return _check_text(text)


def _refusal_changed(message: str, **changes: Any) -> Any:
    """``extract_text`` verbatim, but its refusal with ``message`` raised with ``changes``."""

    def extract_text(*, content: str | None, data: bytes | None, fmt: str | None, max_bytes: int, limits: Any = None) -> Any:
        try:
            return _extract_text(content=content, data=data, fmt=fmt, max_bytes=max_bytes, limits=limits)
        except FFValidationError as exc:
            if exc.message != message:
                raise
            field = changes["field"](exc.field) if callable(changes.get("field")) else changes.get("field", exc.field)
            raise FFValidationError(exc.message, field=field, value=exc.value, **exc.context) from None

    return extract_text


_first_line = ingest._first_line


def _first_line_uncut(text: str, max_chars: int) -> str:
    """A document given no title is titled by its whole first line, however long: the cut to
    ``max_title_chars`` gets ``None`` (``_first_line(extracted.text, None)``)."""
    return _first_line(text, None)  # type: ignore[arg-type]


def _search_answering_short(self: index.FFKbIndex, query_tokens: list[str], top_k: int, *, per_document: int | None = None,
                            feedback: Any = None) -> list[Any]:
    """A search with a per-document cap answers fewer hits than ``top_k`` though other documents
    match: when one long document fills the first window, the window is not widened
    (``len(chosen) != top_k`` for ``==``)."""
    if self.retriever is None or top_k <= 0:
        return []
    query: dict[int, float] = {}
    for token in query_tokens:
        term = self._vocab.get(token)
        if term is not None:
            query[term] = query.get(term, 0.0) + 1.0
    if not query:
        return []
    rows = len(self.records)
    scores = index.weighted_scores(self._data, self._indices, self._indptr, rows, query)
    if feedback is not None and self.feedback is not None and rows >= feedback.min_rows:
        expanded = index.expand_query(query, scores, self.feedback, len(self._indptr) - 1, feedback)
        if expanded is not query:
            scores = index.weighted_scores(self._data, self._indices, self._indptr, rows, expanded)
    candidates = np.flatnonzero(scores > 0)
    window = top_k if per_document is None else 4 * top_k
    while True:
        part = index._best_rows(candidates, scores, window)
        chosen = self._pick(part, scores, top_k, per_document)
        if len(chosen) != top_k or part.size == candidates.size:
            return chosen
        window *= 2


_INPUT = "knowledge_input_contracts"


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
    # from the census and the 2026-12-07 sample: caught by knowledge_input_contracts
    PlantedDefect(
        name="kb_format_disagreement_unnamed", what=_doc(_format_disagreement_unnamed),
        origin="mutant ff_managers._knowledge.checks.x_check_format__mutmut_17", suite="component", test=_INPUT,
        patches=((checks, "check_format", _format_disagreement_unnamed),),
    ),
    PlantedDefect(
        name="kb_bad_document_id_named_id", what=_doc(_extra_ids_named_id),
        origin="mutant ff_managers._knowledge.checks.x_check_ids__mutmut_17", suite="component", test=_INPUT,
        patches=((checks, "check_ids", _extra_ids_named_id),),
    ),
    PlantedDefect(
        name="kb_dotted_extension_refused", what=_doc(_dotted_extension_refused),
        origin="mutant ff_managers._knowledge.extract.x_resolve_format__mutmut_25", suite="component", test=_INPUT,
        patches=((extract, "resolve_format", _resolve_with(_dotted_extension_refused)),
                 (checks, "resolve_format", _resolve_with(_dotted_extension_refused))),
    ),
    PlantedDefect(
        name="kb_mime_type_with_two_parameters_refused", what=_doc(_mime_parameters_cut_from_the_end),
        origin="mutant ff_managers._knowledge.extract.x_resolve_format__mutmut_31", suite="component", test=_INPUT,
        patches=((extract, "resolve_format", _resolve_with(_mime_parameters_cut_from_the_end)),
                 (checks, "resolve_format", _resolve_with(_mime_parameters_cut_from_the_end))),
    ),
    PlantedDefect(
        name="kb_lone_carriage_return_not_a_newline", what=_doc(_lone_carriage_return_marked),
        origin="mutant ff_managers._knowledge.extract.x_normalise_text__mutmut_16", suite="component", test=_INPUT,
        patches=((extract, "normalise_text", _lone_carriage_return_marked),),
    ),
    PlantedDefect(
        name="kb_nul_refusal_misnamed", what=_doc(_nul_refusal_misnamed),
        origin="mutant ff_managers._knowledge.extract.x__check_text__mutmut_10", suite="component", test=_INPUT,
        patches=((extract, "_check_text", _nul_refusal_misnamed),),
    ),
    PlantedDefect(
        name="kb_data_not_bytes_unnamed", what="data= that is not bytes (text passed by mistake) is refused naming no field (field=None)",
        origin="mutant ff_managers._knowledge.extract.x_extract_text__mutmut_30", suite="component", test=_INPUT,
        patches=((ingest, "extract_text", _refusal_changed("data must be bytes", field=None)),),
    ),
    PlantedDefect(
        name="kb_empty_document_named_the_other_way",
        what="an empty document is refused naming the argument it did not come in: empty data= as content, empty content= as data "
             "(content is None for is not None)",
        origin="mutant ff_managers._knowledge.extract.x_extract_text__mutmut_85", suite="component", test=_INPUT,
        patches=((ingest, "extract_text", _refusal_changed("document is empty", field=lambda f: "data" if f == "content" else "content")),),
    ),
    PlantedDefect(
        name="kb_untitled_title_not_cut", what=_doc(_first_line_uncut),
        origin="mutant ff_managers._knowledge.ingest.xǁFFKbIngestǁprepare__mutmut_32", suite="component", test=_INPUT,
        patches=((ingest, "_first_line", _first_line_uncut),),
    ),
    PlantedDefect(
        name="kb_capped_search_answers_short", what=_doc(_search_answering_short),
        origin="mutant ff_managers._knowledge.index.xǁFFKbIndexǁsearch__mutmut_88", suite="component", test=_INPUT,
        patches=((index.FFKbIndex, "search", _search_answering_short),),
    ),
)
