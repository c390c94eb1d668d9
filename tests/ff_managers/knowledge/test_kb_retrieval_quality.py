"""Retrieval quality on a real corpus: CPython's pydoc topics and natural questions about them.

Run with ``-s`` to see the figures:
``.venv/bin/python -m pytest tests/ff_managers/knowledge/test_kb_retrieval_quality.py -s -q``

hit@5 is the share of questions with a relevant topic among the documents of the top 5 hits
(one hit per document, the default cap). Two judgements are printed (see
testing/data/pydoc_questions.py): *strict* counts only the labelled topic; *qrels* also counts
topics that embed the labelled topic's whole text verbatim, a rule computed from the corpus.
The target is asserted on the qrels figure; the strict figure has its own regression floor.

For comparison the same chunks go into SQLite FTS5 (porter stemmer, bm25() ranking, same
question-word filtering, same one-hit-per-document cap), the usual zero-dependency alternative.
Latency percentiles are printed for information only (timings are not asserted: the machine
may be shared).

Measured history (strict / qrels hit@5 on 60 questions, CPython 3.11):
  plain BM25, two chunks per document                    0.667 / 0.750
  + one chunk per document (the new default)             0.683 / 0.750
  + near-duplicate passages folded into their owner      0.717 / 0.783
  + RM3 pseudo-relevance feedback (10 chunks, 10 terms)  0.817 / 0.883
  (RM3 alone, without folding: 0.800 / 0.867.) RM3 parameter sensitivity, qrels: 5 feedback
  chunks 0.850, 20 chunks 0.900, 20 terms 0.833, df cap 0.2 0.900, 0.3 0.883.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_managers import FFKnowledgeBaseManager
from ff_managers._core.tokenizer import QUESTION_WORDS
from testing.data import PYDOC_QUESTIONS, load_pydoc_corpus, relevant_topics

TARGET_HIT_AT_5 = 0.85
# Regression guards below the figures measured when they were set (strict 0.817, qrels 0.883):
# a change that loses more than a few questions fails here.
STRICT_FLOOR = 0.77
QRELS_FLOOR = 0.85


@dataclass(frozen=True)
class QualityRun:
    strict: float
    qrels: float
    misses: list[tuple[str, str, list[str], bool]]
    latencies_ms: list[float]


@dataclass(frozen=True)
class Measurement:
    ours: QualityRun
    fts5: QualityRun | None
    documents: int
    chunks: int


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _score(ranked: Callable[[str], list[str]], corpus: dict[str, str]) -> QualityRun:
    strict = qrels = 0
    misses: list[tuple[str, str, list[str], bool]] = []
    latencies: list[float] = []
    for question, topic in PYDOC_QUESTIONS:
        started = time.perf_counter()
        docs = ranked(question)[:5]
        latencies.append((time.perf_counter() - started) * 1000)
        strict_hit = topic in docs
        qrels_hit = bool(relevant_topics(topic, corpus) & set(docs))
        strict += strict_hit
        qrels += qrels_hit
        if not strict_hit:
            misses.append((question, topic, docs, qrels_hit))
    n = len(PYDOC_QUESTIONS)
    return QualityRun(strict / n, qrels / n, misses, latencies)


def _fts5_ranker(corpus: dict[str, str], kb: FFKnowledgeBaseManager) -> Callable[[str], list[str]]:
    """SQLite FTS5 over the same chunks (title, heading path and text, as our index sees them)."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE chunks USING fts5(doc_id UNINDEXED, body, tokenize='porter unicode61')")
    for topic, text in corpus.items():
        for span in kb.chunk_text(text):
            db.execute("INSERT INTO chunks VALUES (?, ?)", (topic, f"{topic}\n{span.heading}\n{text[span.start:span.end]}"))

    def ranked(question: str) -> list[str]:
        words = [w for w in re.findall(r"\w\w+", question.lower()) if w not in QUESTION_WORDS]
        match = " OR ".join(f'"{w}"' for w in words)
        docs: list[str] = []
        for (doc_id,) in db.execute("SELECT doc_id FROM chunks WHERE chunks MATCH ? ORDER BY bm25(chunks) LIMIT 100", (match,)):
            if doc_id not in docs:
                docs.append(doc_id)
                if len(docs) == 5:
                    break
        return docs

    return ranked


async def _measure(root: Path) -> Measurement:
    corpus = load_pydoc_corpus()
    config = load_config(base_path=root, environ={})
    kb = FFKnowledgeBaseManager(config)
    base = await kb.create_knowledge_base("reader", "python docs")
    for topic, text in corpus.items():
        # The topic key is the document id: "if" and "else" share their text, and the legacy-id
        # path keeps both as separate documents.
        await kb.add_document("reader", base.kb_id, content=text, title=topic, document_id=topic)
    stats = await kb.refresh_index("reader", base.kb_id)
    answers: dict[str, list[str]] = {}
    latencies: list[float] = []
    for question, _ in PYDOC_QUESTIONS:
        started = time.perf_counter()
        hits = await kb.search("reader", base.kb_id, question, top_k=5)
        latencies.append((time.perf_counter() - started) * 1000)
        answers[question] = [h.doc_id for h in hits]
    ours = _score(answers.__getitem__, corpus)
    ours = QualityRun(ours.strict, ours.qrels, ours.misses, latencies)
    try:
        fts5 = _score(_fts5_ranker(corpus, kb), corpus)
    except sqlite3.OperationalError:
        fts5 = None  # this SQLite was built without FTS5: the comparison is skipped, not failed
    return Measurement(ours, fts5, len(corpus), stats.chunk_count)


def _report(label: str, run: QualityRun) -> str:
    n = len(PYDOC_QUESTIONS)
    return (
        f"{label}: hit@5 strict {run.strict:.3f} ({round(run.strict * n)}/{n}), qrels {run.qrels:.3f} "
        f"({round(run.qrels * n)}/{n}); search p50 {_percentile(run.latencies_ms, 0.50):.3f} ms, "
        f"p95 {_percentile(run.latencies_ms, 0.95):.3f} ms, mean {statistics.fmean(run.latencies_ms):.3f} ms"
    )


@pytest.fixture(scope="module")
def quality(tmp_path_factory: pytest.TempPathFactory) -> Measurement:
    pytest.importorskip("pydoc_data.topics", reason="this Python was built without pydoc_data")
    measured = asyncio.run(_measure(tmp_path_factory.mktemp("kb_quality")))
    print(f"\npydoc retrieval: {measured.documents} documents, {measured.chunks} chunks, {len(PYDOC_QUESTIONS)} questions")
    print(_report("bm25s + folding + RM3", measured.ours))
    if measured.fts5 is not None:
        print(_report("SQLite FTS5 (same chunks)", measured.fts5))
    for question, topic, docs, qrels_hit in measured.ours.misses:
        note = "qrels hit" if qrels_hit else "miss"
        print(f"  {note:9}: {topic!r:22} <- {question!r} got {docs}")
    return measured


def test_question_set_is_large_and_names_real_topics() -> None:
    corpus = pytest.importorskip("pydoc_data.topics").topics
    assert len(PYDOC_QUESTIONS) >= 40
    assert all(topic in corpus for _, topic in PYDOC_QUESTIONS)
    assert len({q for q, _ in PYDOC_QUESTIONS}) == len(PYDOC_QUESTIONS)


def test_relevance_rule_is_mechanical_and_one_way() -> None:
    corpus = load_pydoc_corpus()
    assert relevant_topics("pass", corpus) == {"pass"}
    assert "compound" in relevant_topics("try", corpus)
    assert "try" not in relevant_topics("compound", corpus), "the umbrella is not answered by one of its parts"
    made_up = {"small": "Small\n*****\n\n" + "A paragraph long enough to count as one of the topic's own. " * 2, "other": "x"}
    assert relevant_topics("small", made_up) == {"small"}
    made_up["big"] = "Big\n***\n\nIntro.\n\n" + made_up["small"]
    assert relevant_topics("small", made_up) == {"small", "big"}


def test_strict_hit_at_5_holds_its_measured_level(quality: Measurement) -> None:
    assert quality.ours.strict >= STRICT_FLOOR


def test_qrels_hit_at_5_meets_the_target(quality: Measurement) -> None:
    assert quality.ours.qrels >= max(TARGET_HIT_AT_5, QRELS_FLOOR)
