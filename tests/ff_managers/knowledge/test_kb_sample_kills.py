"""Survivors of the 2026-12-06 uniform sample of ``_knowledge`` (issue 20), pinned by behaviour.

A catalog of another layout is corruption; a base deleted elsewhere while a delete waits for the
writers' lock is not deleted twice; an over-long line is not a heading; document refusals name
their field, value, limit and message; a BOM is dropped; ``chunks.json`` holds the offsets and no
copy of the text; an index asked for nothing answers nothing, and for all but one of its matches
answers them (the tie-keeping cut of the best rows); RM3 with no feedback terms leaves the query
as it is.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from ff_class_configs.ff_knowledge_dtos import KB_SCHEMA_VERSION
from ff_managers import FFEvent, FFEventBus, FFKnowledgeBaseManager
from ff_managers._knowledge.chunking import chunk_text
from ff_managers._knowledge.extract import FFExtractLimits, extract_text
from ff_managers._knowledge.feedback import FFFeedbackRows, FFFeedbackSettings, expand_query
from ff_managers._knowledge.index import FFChunkRecord, FFKbTokenizer, build_index
from ff_utils.ff_errors import FFCorruptionError, FFNotFoundError, FFValidationError

TEXT = "# Optics\n\nLenses bend light; a prism splits white light into a spectrum of colours.\n"


async def _base(kb: FFKnowledgeBaseManager) -> str:
    return (await kb.create_knowledge_base("alice", "Physics")).kb_id


# ---------------------------------------------------------------- catalog


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"schema_version": KB_SCHEMA_VERSION + 1}, id="newer-schema"),
        pytest.param({"documents": []}, id="documents-not-a-mapping"),
    ],
)
async def test_a_catalog_of_another_layout_is_corruption(config, change) -> None:
    """``catalog.live`` 7 (``or`` -> ``and``): a newer schema with a documents mapping was served."""
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = await _base(kb)
        path = kb._catalog.catalog_path("alice", kb_id)
        catalog = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps({**catalog, **change}), encoding="utf-8")
        for call in (kb.get_knowledge_base, kb.list_documents):
            with pytest.raises(FFCorruptionError) as caught:
                await call("alice", kb_id)
            assert caught.value.message == f"catalog of knowledge base {kb_id!r} has an unknown layout", call.__name__


async def test_a_base_deleted_elsewhere_while_a_delete_waits_for_the_lock_is_not_found(config, monkeypatch) -> None:
    """``catalog.delete`` 12 (the marker's own "already deleted" check read ``get(None)``).

    Another process marks the base deleted (its commit point) between this delete's first read
    and its taking the writers' lock, and has not removed the folder yet: this delete must not
    count and announce the base a second time.
    """
    bus = FFEventBus()
    seen: list[FFEvent] = []
    bus.subscribe("knowledge.base_deleted", seen.append)
    async with FFKnowledgeBaseManager(config, bus=bus) as kb:
        kb_id = await _base(kb)
        await kb.add_document("alice", kb_id, content=TEXT, format="markdown")
        catalog = kb._catalog
        real_lock = catalog.write_lock
        path = catalog.catalog_path("alice", kb_id)

        def lock_after_another_delete(user_id: str, base_id: str):
            current = json.loads(path.read_text(encoding="utf-8"))
            path.write_text(json.dumps({**current, "deleted": True, "revision": current["revision"] + 1}), encoding="utf-8")
            return real_lock(user_id, base_id)

        monkeypatch.setattr(catalog, "write_lock", lock_after_another_delete)
        with pytest.raises(FFNotFoundError) as caught:
            await kb.delete_knowledge_base("alice", kb_id)
        assert (caught.value.message, caught.value.kind, caught.value.key) == (f"no knowledge base {kb_id!r}", "knowledge_base", kb_id)
        assert seen == []


# ---------------------------------------------------------------- chunking


def _headings(text: str) -> list[tuple[str, str]]:
    return [(c.heading, text[c.start : c.end]) for c in chunk_text(text, size=2_000, overlap=0)]


def test_an_underlined_line_is_a_heading_up_to_150_characters() -> None:
    """``_headings`` 29 (``not title or len > max`` -> ``and``): long and blank lines became headings."""
    title = "T" * 150
    assert _headings(f"Intro.\n\n{title}\n=====\n\nBody.\n") == [("", "Intro."), (title, f"{title}\n=====\n\nBody.")]
    too_long = "T" * 151
    text = f"Intro.\n\n{too_long}\n=====\n\nBody.\n"
    assert _headings(text) == [("", text.strip())]
    blank_over_rule = "Intro.\n\n\n=====\n\nBody.\n"
    assert _headings(blank_over_rule) == [("", blank_over_rule.strip())]


# ---------------------------------------------------------------- extraction refusals


@pytest.mark.parametrize(
    ("kwargs", "field", "message", "value"),
    [
        pytest.param({"content": "   \n\t "}, "content", "document is empty (no text after extraction)", None, id="blank"),
        pytest.param({"content": b"bytes"}, "content", "content must be str (use data= for bytes)", "bytes", id="bytes-as-content"),
        pytest.param({"content": "hello", "format": "pdf"}, "format", "a PDF must be given as data= bytes, not content=", None, id="pdf-as-text"),
        pytest.param({"data": b"hello"}, "format", "data= needs format= (one of text, markdown, pdf or their MIME types)", None, id="bytes-without-format"),
        pytest.param({"content": "hello", "format": 5}, "format", "format must be a string", 5, id="format-not-text"),
    ],
)
async def test_document_refusals_name_their_field_value_and_reason(config, kwargs, field, message, value) -> None:
    """``_check_text`` 15, ``extract_text`` 25 and 49, ``resolve_format`` 5 and 15."""
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = await _base(kb)
        with pytest.raises(FFValidationError) as caught:
            await kb.add_document("alice", kb_id, **kwargs)
        assert (caught.value.field, caught.value.message, caught.value.value) == (field, message, value)
        assert await kb.list_documents("alice", kb_id) == []


@pytest.mark.parametrize("given", ["content", "data"])
def test_text_over_the_character_limit_names_the_setting(given) -> None:
    """``extract_text`` 135: the ``limit`` of a text over ``extract_max_chars``."""
    text = "é" * 11
    kwargs = {"content": text} if given == "content" else {"data": text.encode("utf-8"), "fmt": "text"}
    with pytest.raises(FFValidationError) as caught:
        extract_text(**{"content": None, "data": None, "fmt": None, **kwargs}, max_bytes=1_000, limits=FFExtractLimits(max_chars=10))
    assert (caught.value.field, caught.value.context.get("limit")) == (given, "extract_max_chars")
    assert caught.value.message == "document of 11 characters exceeds the limit of 10 (limit knowledge.extract_max_chars)"


async def test_a_byte_order_mark_is_not_part_of_the_text(config) -> None:
    """``normalise_text`` 2: a leading BOM was kept, shifting every offset by one."""
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = await _base(kb)
        doc = await kb.add_document("alice", kb_id, data=b"\xef\xbb\xbf" + TEXT.encode("utf-8"), format="markdown")
        assert await kb.get_document_text("alice", kb_id, doc.doc_id) == TEXT
        (hit,) = await kb.search("alice", kb_id, "prism spectrum")
        assert (hit.char_start, hit.char_end, hit.text) == (0, len(TEXT.strip()), TEXT.strip())


# ---------------------------------------------------------------- files written


async def test_chunks_json_holds_offsets_and_headings_not_the_text(config) -> None:
    """``_write_files`` 40: each chunk's text was written into ``chunks.json`` too (text.txt holds it)."""
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = await _base(kb)
        doc = await kb.add_document("alice", kb_id, content=TEXT, format="markdown")
        stored = json.loads((kb._catalog.document_dir("alice", kb_id, doc.doc_id) / "chunks.json").read_text(encoding="utf-8"))
        assert [sorted(c) for c in stored["chunks"]] == [
            ["also_in", "char_end", "char_start", "chunk_id", "chunk_index", "heading", "owner"]
        ] * doc.chunk_count


# ---------------------------------------------------------------- index and feedback

TEXTS = [
    "The with statement wraps a block in a context manager that closes the file automatically.",
    "Dictionaries map hashable keys to values; keys must be hashable.",
    "Open a file, read it and write it; close it when done.",
    "Lists support append, insert and reverse; a list is mutable.",
    "A file object is a context manager.",
]


def _index():
    tokenizer = FFKbTokenizer.create()
    records = [FFChunkRecord(f"ck-{i}", f"doc-{i}", 0, 0, len(t), "", t) for i, t in enumerate(TEXTS)]
    tokens = [tokenizer.chunks.tokens(t) for t in TEXTS]
    return tokenizer, build_index(1, "sig", records, tokens, k1=1.5, b=0.75, fold=False)


def test_an_index_asked_for_no_hits_answers_none() -> None:
    """``FFKbIndex.search`` 3 (``top_k <= 0`` -> ``< 0``): top_k 0 answered every match."""
    tokenizer, index = _index()
    assert index.search(tokenizer.queries.tokens("file"), 0) == []
    assert index.search(tokenizer.queries.tokens("file"), 0, per_document=1) == []


@pytest.mark.parametrize("per_document", [None, 1])
def test_all_but_one_of_the_matches_are_answered_best_first(per_document) -> None:
    """``_best_rows`` 13 (the cut read at ``window + 1``): one candidate more than the window failed."""
    tokenizer, index = _index()
    query = tokenizer.queries.tokens("file")
    every = index.search(query, 10, per_document=per_document)
    assert sorted(r.chunk_id for r, _ in every) == ["ck-0", "ck-2", "ck-4"]
    assert index.search(query, 2, per_document=per_document) == every[:2]
    assert index.search(query, 1, per_document=per_document) == every[:1]


def test_feedback_with_no_terms_leaves_the_query_as_it_is() -> None:
    """``expand_query`` 6 (``docs <= 0 or terms <= 0`` -> ``and``): no terms rescaled the query."""
    rows = [["context", "manager", "close", "file"], ["dict", "key"], ["file", "open", "read"]]
    vocab = {t: i for i, t in enumerate(dict.fromkeys(t for row in rows for t in row))}
    ids = [[vocab[t] for t in row] for row in rows]
    feedback = FFFeedbackRows.build(ids, len(vocab), max_df_ratio=1.0)
    query = {vocab["close"]: 1.0, vocab["file"]: 1.0}
    scores = np.array([2.0, 0.0, 1.0])
    for docs, terms in ((2, 0), (0, 2)):
        settings = FFFeedbackSettings(docs=docs, terms=terms, original_weight=0.5, max_df_ratio=1.0, min_rows=1)
        assert expand_query(query, scores, feedback, len(vocab), settings) is query, (docs, terms)
