"""The last page of a JSONL log as DTOs in one read and one validation, for recent history.

``get_messages(limit=50)`` is the hottest read of the memory manager. The general reader
(:func:`ff_managers._memory.stored.tail_records` over :meth:`FFStore.tail_jsonl`) reads 16 KiB
blocks backwards, parses each line with orjson and validates each record on its own: about 60%
of the read went to per-line Python (profile of the recent_history benchmark, 1,000 messages).
Here the common case costs one ``pread`` of the log's last 64 KiB (:meth:`FFStore.tail_jsonl_page`, so
a store subclass or middleware sees this read as it sees :meth:`FFStore.tail_jsonl`) and one call into
pydantic-core: the last ``limit`` lines are joined into one JSON array and validated by a cached
``TypeAdapter(list[model])``, parsed and checked in Rust.

The fast path answers only when the answer is certainly the one the general reader would give;
anything unusual falls back to it (and its per-line skipping and reporting of bad lines):

* the store encrypts at rest (lines must be decoded one by one: :meth:`FFStore.tail_jsonl`);
* the log is missing or empty, or its last line is torn (no final newline);
* the page holds fewer than ``limit`` complete lines and is not the whole file (long records);
* any of the chosen lines is blank, is not one JSON object on its own (it must open with ``{``
  and close with ``}``), or fails validation (a corrupt line, a record of another shape), or
  the array does not hold exactly one record per line.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TypeVar

import pydantic

from ff_managers._memory.stored import tail_records
from ff_utils.ff_store import FFStore

__all__ = ["tail_page"]

M = TypeVar("M", bound=pydantic.BaseModel)


@cache
def _page_adapter(model: type[pydantic.BaseModel]) -> pydantic.TypeAdapter[list[pydantic.BaseModel]]:
    return pydantic.TypeAdapter(list[model])  # type: ignore[valid-type]


def tail_page(store: FFStore, model: type[M], path: Path, limit: int) -> list[M]:
    """The last ``limit`` records of ``path`` that fit ``model``, oldest first.

    The same answer as :func:`tail_records`, which it falls back to whenever the fast path
    cannot vouch for it (see the module docstring).
    """
    if limit > 0:
        page = store.tail_jsonl_page(path, limit)  # None for an encrypted store, or when one read cannot vouch
        if page is not None:
            lines, count = page
            try:
                loaded = _page_adapter(model).validate_json(b"[" + lines.replace(b"\n", b",") + b"]")
            except pydantic.ValidationError:
                pass  # a bad line somewhere in the page: the general reader skips and reports it
            else:
                if len(loaded) == count:  # one record per line, no line holding two
                    return loaded  # type: ignore[return-value]
    return tail_records(store, model, path, limit)
