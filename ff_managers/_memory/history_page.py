"""The last page of a JSONL log as DTOs in one read and one validation, for recent history.

``get_messages(limit=50)`` is the hottest read of the memory manager. The general reader
(:func:`ff_managers._memory.stored.tail_records` over :meth:`FFStore.tail_jsonl`) reads 16 KiB
blocks backwards, parses each line with orjson and validates each record on its own: about 60%
of the read went to per-line Python (profile of the recent_history benchmark, 1,000 messages).
Here the common case costs one ``pread`` of the log's last :data:`PAGE_BYTES` and one call into
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

import os
from functools import cache
from pathlib import Path
from typing import TypeVar

import pydantic

from ff_managers._memory.stored import tail_records
from ff_utils.ff_errors import FFNotFoundError, ff_translate_errors
from ff_utils.ff_file_ops import ff_open_read
from ff_utils.ff_store import FFStore

__all__ = ["PAGE_BYTES", "tail_page", "read_tail_lines"]

M = TypeVar("M", bound=pydantic.BaseModel)

PAGE_BYTES = 64 * 1024
"""One read from the end: 50 messages of up to ~1.3 KB each. Longer pages take the general path."""
_OPEN, _CLOSE = ord("{"), ord("}")


@cache
def _page_adapter(model: type[pydantic.BaseModel]) -> pydantic.TypeAdapter[list[pydantic.BaseModel]]:
    return pydantic.TypeAdapter(list[model])  # type: ignore[valid-type]


def read_tail_lines(store: FFStore, path: Path, limit: int, page_bytes: int = PAGE_BYTES) -> tuple[bytes, int] | None:
    """The last ``limit`` lines of ``path`` (all of them when it holds fewer), from one read of
    its last ``page_bytes``: the bytes without the final newline, and how many lines they are.

    Each line must look like one JSON object (open with ``{``, close with ``}``). None when one
    read cannot vouch for the answer: the file is missing or empty, its last line has no newline
    (torn), a line is blank or of another shape, or the page holds fewer than ``limit`` lines
    and the file goes on before it. The file is opened below the store's root without
    following a symlink.
    """
    try:
        fd = ff_open_read(path, store.root)
    except FFNotFoundError:
        return None
    with ff_translate_errors("read file", path):
        try:
            size = os.fstat(fd).st_size
            start = max(0, size - page_bytes)
            data = os.pread(fd, size - start, start)
        finally:
            os.close(fd)
    if not data.endswith(b"\n"):
        return None  # empty, or a torn last line: the general reader reports it
    end = len(data) - 1  # the newline that ends the line being looked at, last line first
    for count in range(1, limit + 1):
        cut = data.rfind(b"\n", 0, end)  # the newline before it (-1: it is the page's first line)
        if cut < 0 and start > 0:
            return None  # the line may begin before the page
        if end == cut + 1 or data[end - 1] != _CLOSE or data[cut + 1] != _OPEN:
            return None  # blank, or not one object
        if cut < 0:
            return data[:-1], count  # the page is the whole file: fewer than ``limit`` lines
        end = cut
    return data[end + 1 : -1], limit


def tail_page(store: FFStore, model: type[M], path: Path, limit: int) -> list[M]:
    """The last ``limit`` records of ``path`` that fit ``model``, oldest first.

    The same answer as :func:`tail_records`, which it falls back to whenever the fast path
    cannot vouch for it (see the module docstring).
    """
    if limit > 0 and not store.encrypted:
        page = read_tail_lines(store, path, limit)
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
