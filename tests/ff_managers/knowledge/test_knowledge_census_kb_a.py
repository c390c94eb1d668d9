"""Census of ``_knowledge.index``, ``checks`` and ``search`` (issue 20): survivors pinned by behaviour.

The tokenizers follow their settings (English stop words, question words kept on request) and
name them in the index signature; BM25 weights follow ``k1`` and ``b`` (Lucene's formula, worked
out by hand); a per-document cap that the first window cannot fill widens the window instead of
answering short; the refusals of ``format``/``mime_type`` and of every id name their field.
"""

from __future__ import annotations

import math

import pytest

from ff_managers import FFKnowledgeBaseManager
from ff_managers._knowledge.checks import check_format, check_ids
from ff_managers._knowledge.feedback import FFFeedbackSettings
from ff_managers._knowledge.index import FFChunkRecord, FFKbTokenizer, build_index
from ff_utils.ff_errors import FFValidationError

TEXT = "# Optics\n\nLenses bend light; a prism splits white light into a spectrum of colours.\n"


def _records(texts: dict[str, str]) -> tuple[list[FFChunkRecord], list[list[str]]]:
    records = [FFChunkRecord(f"{doc}-0", doc, 0, 0, len(text), "", text) for doc, text in texts.items()]
    return records, [text.split() for text in texts.values()]


# ---------------------------------------------------------------- tokenizers


def test_the_tokenizers_follow_their_settings_and_name_them_in_the_signature() -> None:
    """``FFKbTokenizer.create`` 10 (stop words not passed), 13 (question words always dropped), 17 (no signature)."""
    plain = FFKbTokenizer.create()
    assert plain.chunks.tokens("How the cats run") == ["how", "the", "cat", "run"]
    assert plain.queries.tokens("How the cats run") == ["the", "cat", "run"]
    assert plain.signature == "v3:stem=english:stop=none"

    english = FFKbTokenizer.create(stopwords="english")
    assert english.chunks.tokens("How the cats run") == ["how", "cat", "run"]
    assert english.queries.tokens("How the cats run") == ["cat", "run"]
    assert english.signature == "v3:stem=english:stop=english"

    asked = FFKbTokenizer.create(question_words=False)
    assert asked.queries.tokens("How the cats run") == ["how", "the", "cat", "run"]
    assert asked.signature == "v3:stem=english:stop=none"

    unstemmed = FFKbTokenizer.create(stemming="none")
    assert unstemmed.chunks.tokens("cats running") == ["cats", "running"]
    assert unstemmed.signature == "v3:stem=none:stop=none"


# ---------------------------------------------------------------- scoring


@pytest.mark.parametrize(("k1", "b"), [(0.9, 0.4), (2.5, 1.0), (1.2, 0.0)])
def test_scores_are_lucene_bm25_with_the_given_k1_and_b(k1: float, b: float) -> None:
    """``build_index`` 41 / 42 (``k1`` or ``b`` not passed to bm25s: its defaults 1.5 / 0.75 used)."""
    texts = {"a": "lens lens light prism", "b": "lens mirror", "c": "mirror glass glass glass glass glass"}
    records, tokens = _records(texts)
    index = build_index(1, "sig", records, tokens, k1=k1, b=b, fold=False)
    hits = index.search(["lens"], 3)
    average = sum(map(len, tokens)) / len(tokens)
    idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))
    expected = {
        doc: idf * row.count("lens") / (row.count("lens") + k1 * (1 - b + b * len(row) / average))
        for doc, row in zip(texts, tokens, strict=True)
        if "lens" in row
    }
    assert [record.doc_id for record, _ in hits] == sorted(expected, key=lambda d: -expected[d])
    for record, score in hits:
        assert score == pytest.approx(expected[record.doc_id], rel=1e-5), record.doc_id


def test_a_cap_the_first_window_cannot_fill_widens_the_window() -> None:
    """``FFKbIndex.search`` 88 (``len(chosen) != top_k``: answered short after the first window).

    With ``top_k`` 2 and one chunk per document the first window holds 8 rows: all nine chunks
    of the long document outscore the short one, so the window must grow to reach it.
    """
    records = [FFChunkRecord(f"long-{i}", "long", i, i * 20, i * 20 + 20, "", "lens lens lens") for i in range(9)]
    records.append(FFChunkRecord("short-0", "short", 0, 0, 40, "", "lens glass mirror prism colour"))
    tokens = [record.text.split() for record in records]
    index = build_index(1, "sig", records, tokens, k1=1.5, b=0.75, fold=False)
    hits = index.search(["lens"], 2, per_document=1)
    assert [record.chunk_id for record, _ in hits] == ["long-0", "short-0"]
    assert hits[0][1] > hits[1][1] > 0
    assert [record.chunk_id for record, _ in index.search(["lens"], 3, per_document=2)] == ["long-0", "long-1", "short-0"]


# ---------------------------------------------------------------- refusals


def test_a_format_and_mime_type_that_disagree_are_refused_naming_format() -> None:
    """``check_format`` 17 (the refusal named no field)."""
    with pytest.raises(FFValidationError) as caught:
        check_format("pdf", "text/plain")
    assert caught.value.message == "format and mime_type disagree"
    assert caught.value.field == "format"
    assert caught.value.value == ("pdf", "text/plain")
    assert check_format("markdown", "text/markdown") == "markdown"
    assert check_format(None, "text/plain") == "text/plain"
    assert check_format("text", None) == "text"
    assert check_format(None, None) is None


@pytest.mark.parametrize("name", ["doc_id", "chunk_id", "document_id"])
def test_each_extra_id_is_refused_under_its_own_name(name: str) -> None:
    """``check_ids`` 15 / 17 (the extra id's refusal named ``None`` / ``id``)."""
    check_ids("alice", "kb-1", **{name: None})
    check_ids("alice", "kb-1", **{name: "fine-id"})
    with pytest.raises(FFValidationError) as caught:
        check_ids("alice", "kb-1", **{name: "bad/id"})
    assert caught.value.field == name
    assert caught.value.value == "bad/id"
    assert caught.value.message.startswith(f"invalid {name} 'bad/id': ")


async def test_the_manager_names_the_id_it_refuses(config) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = (await kb.create_knowledge_base("alice", "Physics")).kb_id
        await kb.add_document("alice", kb_id, content=TEXT, format="markdown")
        calls = {
            "doc_id": lambda: kb.get_document("alice", kb_id, "bad/id"),
            "chunk_id": lambda: kb.get_chunk("alice", kb_id, "bad/id"),
            "document_id": lambda: kb.add_document("alice", kb_id, content=TEXT, document_id="bad/id"),
        }
        for name, call in calls.items():
            with pytest.raises(FFValidationError) as caught:
                await call()
            assert caught.value.field == name
        with pytest.raises(FFValidationError) as caught:
            await kb.add_document("alice", kb_id, content=TEXT, format="pdf", mime_type="text/markdown")
        assert caught.value.field == "format"


# ---------------------------------------------------------------- RM3 settings reach the search

FEEDBACK_DOCS = {
    "Optics": "Lenses bend light. A prism splits light into a spectrum of colours and rainbows.",
    "Rainbows": "Rainbows appear when sunlight meets raindrops: each drop acts as a prism for colours.",
    "Mirrors": "Mirrors reflect light; curved mirrors focus light like lenses do, without colours.",
    "Sound": "Sound waves travel through air; an echo is sound reflected by a wall.",
    "Heat": "Heat flows from warm bodies to cold ones by conduction, convection and radiation.",
}


async def _feedback_hits(tmp_path, name: str, knowledge: dict) -> tuple[list[tuple[str, float]], dict]:
    from ff_class_configs import load_config

    config = load_config(base_path=tmp_path / name, environ={}, overrides={"knowledge": knowledge})
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = (await kb.create_knowledge_base("alice", "Physics")).kb_id
        for title, text in FEEDBACK_DOCS.items():
            await kb.add_document("alice", kb_id, content=text, title=title)
        hits = await kb.search("alice", kb_id, "prism light", top_k=10, per_document=0)
        state = kb._search._states[("alice", kb_id)]
        tokens = kb._search._tokenizer.queries.tokens("prism light")
        by_settings = {
            label: [(r.chunk_id, s) for r, s in state.index.search(tokens, 10, feedback=settings)]
            for label, settings in {
                "plain": None,
                "asked": FFFeedbackSettings(docs=1, terms=2, original_weight=0.3, min_rows=0),
                "docs10": FFFeedbackSettings(docs=10, terms=2, original_weight=0.3, min_rows=0),
                "terms10": FFFeedbackSettings(docs=1, terms=10, original_weight=0.3, min_rows=0),
                "weight05": FFFeedbackSettings(docs=1, terms=2, original_weight=0.5, min_rows=0),
            }.items()
        }
    return [(h.chunk_id, h.score) for h in hits], by_settings


async def test_the_configured_rm3_settings_reach_the_search(tmp_path) -> None:
    """``_feedback_settings`` 3 (one feedback chunk turned RM3 off), 6-8, 10-13, 15 (a setting
    replaced by None or by the dataclass default): the manager's scores are those of the index
    searched with exactly the configured docs, terms, weight and minimum."""
    asked = {
        "feedback_min_chunks": 0,
        "feedback_max_df_ratio": 1.0,
        "feedback_docs": 1,
        "feedback_terms": 2,
        "feedback_query_weight": 0.3,
    }
    hits, by_settings = await _feedback_hits(tmp_path, "asked", asked)
    others = [by_settings[label] for label in ("plain", "docs10", "terms10", "weight05")]
    assert all(other != by_settings["asked"] for other in others)
    assert hits == by_settings["asked"]


@pytest.mark.parametrize("knowledge", [{"feedback_docs": 0}, {"feedback_query_weight": 1.0}], ids=["no-docs", "weight-1"])
async def test_rm3_turned_off_answers_plain_bm25(tmp_path, knowledge: dict) -> None:
    hits, by_settings = await _feedback_hits(tmp_path, "off", {"feedback_min_chunks": 0, "feedback_max_df_ratio": 1.0, **knowledge})
    assert hits == by_settings["plain"]


def test_a_repeated_query_word_counts_once_per_repetition() -> None:
    """``FFKbIndex.search`` 11 / 15 / 16 (each query term counted once, from 1, or by 2)."""
    texts = {"a": "lens lens light prism", "b": "lens mirror", "c": "mirror glass light"}
    records, tokens = _records(texts)
    index = build_index(1, "sig", records, tokens, k1=1.2, b=0.75, fold=False)
    single = {r.doc_id: s for r, s in index.search(["lens"], 3)}
    light = {r.doc_id: s for r, s in index.search(["light"], 3)}
    repeated = {r.doc_id: s for r, s in index.search(["lens", "unknown", "lens", "light"], 3)}
    assert set(repeated) == {"a", "b", "c"}
    for doc, score in repeated.items():
        assert score == pytest.approx(2 * single.get(doc, 0.0) + light.get(doc, 0.0), rel=1e-5), doc


def test_rm3_runs_from_exactly_its_minimum_of_rows() -> None:
    """``FFKbIndex.search`` 34 (``rows > min_rows``: a base of exactly the minimum got no feedback)."""
    texts = {doc: text for doc, text in zip("abcde", FEEDBACK_DOCS.values(), strict=True)}
    records, tokens = _records({d: " ".join(FFKbTokenizer.create().chunks.tokens(t)) for d, t in texts.items()})
    index = build_index(1, "sig", records, tokens, k1=1.5, b=0.75, fold=False, feedback_max_df_ratio=1.0)
    query = ["prism", "light"]

    def ranked(min_rows: int | None) -> list[tuple[str, float]]:
        settings = None if min_rows is None else FFFeedbackSettings(docs=1, terms=2, original_weight=0.3, min_rows=min_rows)
        return [(r.doc_id, round(s, 9)) for r, s in index.search(query, 5, feedback=settings)]

    assert ranked(len(index)) == ranked(0) != ranked(None)
    assert ranked(len(index) + 1) == ranked(None)


# ---------------------------------------------------------------- build_index's own contract

SHARED = "the prism splits white light into a spectrum of colours seen in every rainbow after rain"


def test_build_index_folds_by_default_and_unfolds_marked_rows_when_told_not_to() -> None:
    """``build_index`` 1 (``fold`` defaulting to False), 21 (marked rows kept marked without folding)."""
    records = [
        FFChunkRecord("short-0", "short", 0, 0, len(SHARED), "", SHARED),
        FFChunkRecord("long-0", "long", 0, 0, len(SHARED), "", SHARED),
        FFChunkRecord("long-1", "long", 1, len(SHARED), 3 * len(SHARED), "", "mirrors and lenses " * 5),
    ]
    tokens = [record.text.split() for record in records]
    folded = build_index(1, "sig", records, tokens, k1=1.5, b=0.75)
    by_id = {record.chunk_id: record for record in folded.records}
    assert by_id["long-0"].folded and by_id["long-0"].owner == "short"
    assert by_id["short-0"].also_in == ("long",)
    assert [r.chunk_id for r, _ in folded.search(["prism"], 5, per_document=None)] == ["short-0"]

    plain = build_index(1, "sig", folded.records, tokens, k1=1.5, b=0.75, fold=False)
    assert [(r.owner, r.also_in) for r in plain.records] == [("", ())] * 3
    assert [r.chunk_id for r, _ in plain.search(["prism"], 5)] == ["short-0", "long-0"]


def test_build_index_refuses_records_and_tokens_that_do_not_align() -> None:
    """``build_index`` 5 / 6 (the refusal's message)."""
    records, tokens = _records({"a": "lens light"})
    with pytest.raises(ValueError) as caught:
        build_index(1, "sig", records, tokens + [["extra"]], k1=1.5, b=0.75)
    assert str(caught.value) == "records and tokens must align"
