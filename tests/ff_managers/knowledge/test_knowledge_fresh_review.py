"""Survivors of the 2026-12-07 uniform sample of ``_knowledge`` (feedback, ingest), pinned by behaviour.

RM3 feeds back a chunk's words in proportion to how often the chunk uses them (tf / chunk length),
and keeps the ``terms`` words with the *most* feedback weight; ingest holds a text document to the
configured ``extract_max_chars`` and cuts an untitled document's first line to ``max_title_chars``.
The equivalent survivors of the same sample are listed in
docs/mutation/equivalent/_knowledge/fresh-review.toml.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ff_class_configs import load_config
from ff_managers import FFKnowledgeBaseManager
from ff_managers._knowledge.feedback import FFFeedbackRows, FFFeedbackSettings, expand_query
from ff_utils.ff_errors import FFValidationError


def _kb(root: Path, **knowledge: object) -> FFKnowledgeBaseManager:
    return FFKnowledgeBaseManager(load_config(base_path=root, environ={}, overrides={"knowledge": knowledge}))


# ---------------------------------------------------------------- feedback


def test_feedback_rows_weigh_a_term_by_its_share_of_the_row() -> None:
    """``FFFeedbackRows.build`` 55 (``counts * length`` for ``counts / length``)."""
    rows = FFFeedbackRows.build([[1, 1, 2, 3], [4, 4]], vocab_size=6, max_df_ratio=1.0)
    assert rows.indptr.tolist() == [0, 3, 4]
    assert rows.term_ids.tolist() == [1, 2, 3, 4]
    assert rows.weights.tolist() == [0.5, 0.25, 0.25, 1.0]


def test_the_expansion_keeps_the_heaviest_feedback_terms() -> None:
    """``expand_query`` 64 (``argpartition(+model)``: the lightest terms kept instead of the heaviest)."""
    # One matching row using term 1 four times, term 2 twice, terms 3 and 4 once (length 8).
    feedback = FFFeedbackRows.build([[1, 1, 1, 1, 2, 2, 3, 4], [5]], vocab_size=6, max_df_ratio=1.0)
    settings = FFFeedbackSettings(docs=1, terms=2, original_weight=0.5)
    expanded = expand_query({5: 1.0}, np.array([2.0, 0.0]), feedback, 6, settings)
    # The model is {1: 0.5, 2: 0.25, 3: 0.125, 4: 0.125}: terms 1 and 2 share the other half 2:1.
    assert sorted(expanded) == [1, 2, 5]
    assert expanded[5] == 0.5
    assert expanded[1] == pytest.approx(0.5 * 0.5 / 0.75)
    assert expanded[2] == pytest.approx(0.5 * 0.25 / 0.75)


# ---------------------------------------------------------------- ingest


async def test_a_text_document_is_held_to_the_configured_character_limit(tmp_path: Path) -> None:
    """``FFKbIngest.prepare`` 6 and 11 (the extraction limits not taken from the settings)."""
    kb = _kb(tmp_path / "root", extract_max_chars=10)
    try:
        kb_id = (await kb.create_knowledge_base("alice", "Physics")).kb_id
        with pytest.raises(FFValidationError) as caught:
            await kb.add_document("alice", kb_id, content="Lenses bend")  # 11 characters
        assert caught.value.message == "document of 11 characters exceeds the limit of 10 (limit knowledge.extract_max_chars)"
        assert (caught.value.field, caught.value.context.get("limit")) == ("content", "extract_max_chars")
        assert await kb.list_documents("alice", kb_id) == []
        stored = await kb.add_document("alice", kb_id, content="Lenses ben")  # 10 characters: allowed
        assert stored.title == "Lenses ben"
    finally:
        await kb.shutdown()


async def test_an_untitled_document_is_named_by_its_first_line_cut_to_max_title_chars(tmp_path: Path) -> None:
    """``FFKbIngest.prepare`` 32 (the first line not cut: ``_first_line(text, None)``)."""
    kb = _kb(tmp_path / "root", max_title_chars=6)
    try:
        kb_id = (await kb.create_knowledge_base("alice", "Physics")).kb_id
        document = await kb.add_document("alice", kb_id, content="\n  Optics   and lenses\n\nLenses bend light.\n")
        assert document.title == "Optics"
        assert [d.title for d in await kb.list_documents("alice", kb_id)] == ["Optics"]
        titled = await kb.add_document("alice", kb_id, content="Prisms split light.", title="Prisms")
        assert titled.title == "Prisms"
    finally:
        await kb.shutdown()
