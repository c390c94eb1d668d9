"""The knowledge base manager's implementation; the public door is ``ff_managers.ff_knowledge_base_manager``.

Private: nothing outside ``ff_managers/`` imports it (its own unit tests in
``tests/ff_managers/knowledge/`` excepted). The façade owns one object of each of the three
stateful parts and calls one of their methods per public call:

* :mod:`.catalog`   ``FFKbCatalog``: the knowledge bases, their folders, ``kb.json`` (the commit
  point) and the writers' lock;
* :mod:`.documents` ``FFKbDocuments``: ingest (through :mod:`.ingest` ``FFKbIngest``: extract,
  chunk, tokenise, write, register; one document or a batch), read, delete, and the token lists
  kept in memory per document;
* :mod:`.search`    ``FFKbSearch``: the index of each knowledge base in memory, kept current
  with its catalog, and the hits it answers.

Below them, pure steps with no state of their own:

* :mod:`.checks`   which rule of :mod:`ff_managers._core.checks` each argument follows;
* :mod:`.extract`  text, Markdown or PDF bytes -> normalised plain text;
* :mod:`.chunking` text -> chunks that follow headings and paragraphs;
* :mod:`.dedup`    which document owns a passage several documents hold verbatim;
* :mod:`.feedback` RM3 pseudo-relevance feedback over the index's arrays;
* :mod:`.index`    the BM25 index of one knowledge base: its tokenizers (from
  :mod:`ff_managers._core.tokenizer`), build, score, save, load.
"""

from __future__ import annotations

__all__: list[str] = []
