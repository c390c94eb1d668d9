"""Retrieval quality on a real corpus: CPython's pydoc topics and natural questions about them.

Run with ``-s`` to see the figures:
``.venv/bin/python -m pytest tests/test_kb_retrieval_quality.py -s -q``

hit@5: the share of questions whose answering topic is among the document titles of the top 5
hits. Latency percentiles are printed for information only (timings are not asserted).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_managers import FFKnowledgeBaseManager
from testing.data import PYDOC_QUESTIONS, load_pydoc_corpus

TARGET_HIT_AT_5 = 0.85
# Regression guard: the figure measured when this test was written was 0.67 (40/60). A change
# that loses more than a few questions fails here.
REGRESSION_FLOOR = 0.62


@dataclass(frozen=True)
class QualityRun:
    hit_at_5: float
    misses: list[tuple[str, str, list[str]]]
    latencies_ms: list[float]
    documents: int
    chunks: int


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def _measure(root: Path) -> QualityRun:
    corpus = load_pydoc_corpus()
    kb = FFKnowledgeBaseManager(load_config(base_path=root, environ={}))
    base = await kb.create_knowledge_base("reader", "python docs")
    for topic, text in corpus.items():
        # The topic key is the document id: "if" and "else" share their text, and the legacy-id
        # path keeps both as separate documents.
        await kb.add_document("reader", base.kb_id, content=text, title=topic, document_id=topic)
    stats = await kb.refresh_index("reader", base.kb_id)
    hits_found = 0
    misses: list[tuple[str, str, list[str]]] = []
    latencies: list[float] = []
    for question, topic in PYDOC_QUESTIONS:
        started = time.perf_counter()
        hits = await kb.search("reader", base.kb_id, question, top_k=5)
        latencies.append((time.perf_counter() - started) * 1000)
        titles = [h.document_title for h in hits]
        if topic in titles:
            hits_found += 1
        else:
            misses.append((question, topic, titles))
    return QualityRun(hits_found / len(PYDOC_QUESTIONS), misses, latencies, len(corpus), stats.chunk_count)


@pytest.fixture(scope="module")
def quality(tmp_path_factory: pytest.TempPathFactory) -> QualityRun:
    pytest.importorskip("pydoc_data.topics", reason="this Python was built without pydoc_data")
    run = asyncio.run(_measure(tmp_path_factory.mktemp("kb_quality")))
    print(
        f"\npydoc retrieval: {run.documents} documents, {run.chunks} chunks, {len(PYDOC_QUESTIONS)} questions"
        f"\nhit@5 = {run.hit_at_5:.3f} ({len(PYDOC_QUESTIONS) - len(run.misses)}/{len(PYDOC_QUESTIONS)})"
        f"\nsearch latency over the question set: p50 {_percentile(run.latencies_ms, 0.50):.3f} ms, "
        f"p95 {_percentile(run.latencies_ms, 0.95):.3f} ms, mean {statistics.fmean(run.latencies_ms):.3f} ms"
    )
    for question, topic, titles in run.misses:
        print(f"  miss: {topic!r:22} <- {question!r} got {titles}")
    return run


def test_question_set_is_large_and_names_real_topics() -> None:
    corpus = pytest.importorskip("pydoc_data.topics").topics
    assert len(PYDOC_QUESTIONS) >= 40
    assert all(topic in corpus for _, topic in PYDOC_QUESTIONS)
    assert len({q for q, _ in PYDOC_QUESTIONS}) == len(PYDOC_QUESTIONS)


def test_hit_at_5_holds_its_measured_level(quality: QualityRun) -> None:
    assert quality.hit_at_5 >= REGRESSION_FLOOR


@pytest.mark.xfail(
    strict=True,
    reason="BM25 (bm25s, stemmed, question words dropped) measures hit@5 = 0.67 (40/60) on these honest "
    "questions: most misses ask in words the answering topic does not use (a file 'closed "
    "automatically' for the with statement) or land on CPython's umbrella topics ('compound', "
    "'specialnames', 'types') that repeat the focused topic's text. Reaching 0.85 needs "
    "vocabulary bridging (e.g. embeddings), not a retuned question set.",
)
def test_hit_at_5_meets_the_target(quality: QualityRun) -> None:
    assert quality.hit_at_5 >= TARGET_HIT_AT_5
