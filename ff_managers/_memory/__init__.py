"""The memory manager's implementation, one module per job (private: import FFMemoryLayerManager).

``ff_managers/ff_memory_layer_manager.py`` is the public façade: it checks input, calls one
object of this package and publishes one event. The objects it owns, one per seam:

* ``conversations.Sessions``: session documents, with counts derived from the message log;
* ``messages.Messages``: message logs, attachment bytes and the coalesced per-session appends;
* ``profiles.Profiles``: one profile document per user;
* ``layers.MemoryLayers``: memories stored, read, searched and turned into prompt context;
* ``retention_pass.MemoryRetention``: a retention pass over every user, and its report.

They share ``layout.MemoryLayout`` (every path) and the manager's ``FFStore``. Below them:
``layer_store`` (one user's layer files and their crash-safety), ``ranking`` (BM25),
``retention`` (the pure retention plan), ``summary`` (extractive summaries) and ``validation``
(the input checks that are memory's own; the shared rules, the error mapping, the batcher and
the tokenizer come from ``ff_managers/_core``). Only the façade and the package's own tests
import from here.
"""

from __future__ import annotations

__all__: list[str] = []
