"""Workload 3, knowledge search over CPython's pydoc topics with the question set of issue 3.

Ours: one knowledge base, every topic added as a document (title = topic) in one
``add_documents`` call (one durable commit for the batch), ``refresh_index``, then
``FFKnowledgeBaseManager.search(..., top_k=5)``. Peers index the very same chunks (our
chunker with the configured size and overlap, each indexed with its title and heading as ours
is): SQLite FTS5 with the ``porter`` tokenizer ranked by ``bm25()`` (the question's words
joined with OR: FTS5's default AND finds nothing for a natural question), and rank_bm25's
``BM25Okapi`` on lower-cased words. Build time covers ingesting (durably: FTS5 commits its one transaction with
``synchronous=FULL``) and indexing, until the first search can run; p50 and p95 are
over all questions of one repetition; hit@5 is the share of questions whose topic is the title
of one of the top 5 chunks.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ff_class_configs import load_config
from ff_managers import FFKnowledgeBaseManager
from testing._load import percentile
from testing.bench._core import FFBenchCase, FFBenchSizes, FFComparisonSpec, FFMetric
from testing.data import PYDOC_QUESTIONS, load_pydoc_corpus

__all__ = ["NAME", "COMPARISONS", "workload"]

NAME = "knowledge_search"
_METRICS = (
    FFMetric("build_ms", "ms", False),
    FFMetric("p50_ms", "ms", False),
    FFMetric("p95_ms", "ms", False),
    FFMetric("hit_at_5", "share", True),
)
COMPARISONS = (
    FFComparisonSpec("build_ms", "ours", "sqlite_fts5", "<=", 3.0),
    FFComparisonSpec("p95_ms", "ours", "sqlite_fts5", "<=", 0.5),
    FFComparisonSpec("hit_at_5", "ours", "sqlite_fts5", ">=", 1.0),
    FFComparisonSpec("p95_ms", "ours", "rank_bm25", "<=", 1.0),
    FFComparisonSpec("hit_at_5", "ours", "rank_bm25", ">=", 1.0),
)
_WORD = re.compile(r"[a-z0-9]+")
_TOP_K = 5


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _chunks(corpus: dict[str, str]) -> list[tuple[str, str]]:
    """(title, indexed text) of every chunk, cut exactly as our knowledge base cuts them."""
    kb = FFKnowledgeBaseManager(load_config(environ={}))  # only cuts text: no disk, no start-up
    out = []
    for title, text in corpus.items():
        for span in kb.chunk_text(text):
            out.append((title, f"{title}\n{span.heading}\n{text[span.start:span.end]}"))
    return out


def _score(search: Callable[[str], list[str]], build_ms: float) -> dict[str, float]:
    latencies, hits = [], 0
    for question, topic in PYDOC_QUESTIONS:
        started = time.perf_counter()
        titles = search(question)
        latencies.append((time.perf_counter() - started) * 1000)
        hits += topic in titles[:_TOP_K]
    latencies.sort()
    return {"build_ms": build_ms, "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
            "hit_at_5": hits / len(PYDOC_QUESTIONS)}


def _ours(work: Path, corpus: dict[str, str]) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="kb_", dir=work))
    config = load_config(base_path=root, environ={})

    async def main() -> dict[str, float]:
        async with FFKnowledgeBaseManager(config) as kb:
            started = time.perf_counter()
            base = await kb.create_knowledge_base("bench", "pydoc topics")
            items = [{"content": text, "title": topic, "document_id": topic} for topic, text in corpus.items()]
            await kb.add_documents("bench", base.kb_id, items)
            await kb.refresh_index("bench", base.kb_id)
            build_ms = (time.perf_counter() - started) * 1000
            latencies, hits = [], 0
            for question, topic in PYDOC_QUESTIONS:
                started = time.perf_counter()
                found = await kb.search("bench", base.kb_id, question, top_k=_TOP_K)
                latencies.append((time.perf_counter() - started) * 1000)
                hits += topic in [h.document_title for h in found]
            latencies.sort()
            return {"build_ms": build_ms, "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
                    "hit_at_5": hits / len(PYDOC_QUESTIONS)}

    return asyncio.run(main())


def _fts5(work: Path, chunks: list[tuple[str, str]]) -> dict[str, float]:
    path = Path(tempfile.mkdtemp(prefix="fts_", dir=work)) / "kb.db"
    started = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE VIRTUAL TABLE chunks USING fts5(title UNINDEXED, body, tokenize='porter unicode61')")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO chunks (title, body) VALUES (?, ?)", chunks)
    conn.execute("COMMIT")
    build_ms = (time.perf_counter() - started) * 1000

    def search(question: str) -> list[str]:
        terms = " OR ".join(f'"{w}"' for w in dict.fromkeys(_words(question)))
        rows = conn.execute(
            "SELECT title FROM chunks WHERE chunks MATCH ? ORDER BY bm25(chunks) LIMIT ?", (terms, _TOP_K)
        ).fetchall()
        return [r[0] for r in rows]

    try:
        return _score(search, build_ms)
    finally:
        conn.close()


def _rank_bm25(chunks: list[tuple[str, str]]) -> dict[str, float]:
    import numpy as np
    from rank_bm25 import BM25Okapi  # the optional "bench" extra

    started = time.perf_counter()
    titles = [title for title, _ in chunks]
    index = BM25Okapi([_words(text) for _, text in chunks])
    build_ms = (time.perf_counter() - started) * 1000

    def search(question: str) -> list[str]:
        scores = index.get_scores(_words(question))
        best = np.argsort(-scores, kind="stable")[:_TOP_K]
        return [titles[i] for i in best if scores[i] > 0]

    return _score(search, build_ms)


@contextlib.contextmanager
def workload(sizes: FFBenchSizes, work: Path) -> Iterator[list[FFBenchCase]]:
    del sizes  # the corpus and the questions are fixed
    corpus = load_pydoc_corpus()
    chunks = _chunks(corpus)
    n = f"{len(corpus)} topics, {len(chunks)} chunks, {len(PYDOC_QUESTIONS)} questions"
    yield [
        FFBenchCase("ours", "ours", _METRICS, lambda: _ours(work, corpus), f"add_documents + refresh_index + search; {n}"),
        FFBenchCase("sqlite_fts5", "sqlite", _METRICS, lambda: _fts5(work, chunks), "FTS5 porter, bm25(), words OR'd"),
        FFBenchCase("rank_bm25", "rank_bm25", _METRICS, lambda: _rank_bm25(chunks), "BM25Okapi, lower-cased words"),
    ]
