"""The BM25 index of one knowledge base is the same in every process (no hash-seed dependence)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ff_managers._knowledge.index import FFChunkRecord, FFFeedbackSettings, FFKbTokenizer, build_index

TEXTS = [
    "The with statement wraps a block in a context manager that closes the file automatically.",
    "A context manager defines enter and exit; the file object is one, and so is a lock.",
    "Dictionaries map hashable keys to values; keys must be hashable.",
    "Lists support append, insert and reverse; a list is mutable.",
    "Open a file, read it and write it; close it when done, or use with.",
]
_SCRIPT = """
from tests.ff_managers.knowledge.test_kb_index import answer
print(answer())
"""


def _index():
    tokenizer = FFKbTokenizer.create()
    records = [FFChunkRecord(f"ck-{i}", f"doc-{i}", 0, 0, len(t), "", t) for i, t in enumerate(TEXTS)]
    tokens = [tokenizer.chunks.tokens(t) for t in TEXTS]
    return tokenizer, build_index(1, "sig", records, tokens, k1=1.5, b=0.75, fold=False, feedback_max_df_ratio=0.5)


def answer() -> str:
    """The vocabulary and a feedback search's ranked rows, as text."""
    tokenizer, index = _index()
    settings = FFFeedbackSettings(docs=2, terms=3, original_weight=0.5, max_df_ratio=0.5, min_rows=1)
    found = index.search(tokenizer.queries.tokens("how do I close a file automatically"), 5, feedback=settings)
    assert index.retriever is not None
    return repr((list(index.retriever.vocab_dict.items()), [(r.chunk_id, round(s, 12)) for r, s in found]))


def test_terms_are_numbered_in_order_of_first_appearance() -> None:
    tokenizer, index = _index()
    assert index.retriever is not None
    seen: list[str] = []
    for text in TEXTS:
        seen.extend(t for t in tokenizer.chunks.tokens(text) if t not in seen)
    assert list(index.retriever.vocab_dict) == [*seen, ""]


def test_vocabulary_and_ranking_are_the_same_under_any_hash_seed() -> None:
    root = Path(__file__).resolve().parents[3]
    outputs = set()
    for seed in ("0", "1", "2", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}
        run = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, env=env, check=True, cwd=root)
        outputs.add(run.stdout)
    assert len(outputs) == 1
    assert answer() + "\n" in outputs
