"""The knowledge base manager's implementation; the public door is ``ff_managers.ff_knowledge_base_manager``.

Private: nothing outside ``ff_managers/`` imports it (its own unit tests in
``tests/ff_managers/knowledge/`` excepted). Pure steps of ingest and ranking:

* :mod:`.extract`  text, Markdown or PDF bytes -> normalised plain text;
* :mod:`.chunking` text -> chunks that follow headings and paragraphs;
* :mod:`.dedup`    which document owns a passage several documents hold verbatim;
* :mod:`.feedback` RM3 pseudo-relevance feedback over the index's arrays;
* :mod:`.index`    the BM25 index of one knowledge base: tokenise, build, score, save, load.
"""

from __future__ import annotations

__all__: list[str] = []
