"""JSON documents (replaced atomically) and JSONL logs (append-only), with orjson.

JSON documents: :func:`ff_write_json` replaces the whole file atomically; :func:`ff_update_json`
is the one way to change a document (lock, read, apply a function to plain data, write), so
locking and atomic replace live in one place (tinydb's ``_update_table`` idea).

JSONL logs: :func:`ff_append_jsonl` appends whole lines. orjson escapes newlines inside strings,
so one record is always one line. Appends to one file from many threads are *group committed*:
the first writer to arrive becomes the leader, takes every line queued so far, writes them with
one ``write()`` under the cross-process file lock and, with durability ``always``, one ``fsync``
for the whole group; followers wait for their group and return only once it is durable. Readers
(:func:`ff_read_jsonl`, :func:`ff_tail_jsonl`) skip a corrupt line or a torn last line and report
it through ``on_bad_line`` instead of crashing; :func:`ff_repair_jsonl` truncates a torn tail.

This module is the public door and holds the document helpers; the rest lives in one module per
job, re-exported here: :mod:`ff_utils._json_codec` (``ff_dumps`` / ``ff_loads``),
:mod:`ff_utils._jsonl_append` (the group-commit appender) and :mod:`ff_utils._jsonl_read`
(readers, check, count, repair).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ff_utils._json_codec import (
    DEFAULT_MAX_RECORD_BYTES,
    Durability,
    ff_dumps,
    ff_loads,
)
from ff_utils._jsonl_append import ff_append_jsonl, ff_flush_jsonl
from ff_utils._jsonl_read import (
    TAIL_PAGE_BYTES,
    FFBadLine,
    FFJsonlHealth,
    ff_check_jsonl,
    ff_count_jsonl_lines,
    ff_read_jsonl,
    ff_repair_jsonl,
    ff_tail_jsonl,
    ff_tail_jsonl_page,
)
from ff_utils.ff_errors import FFNotFoundError
from ff_utils.ff_file_ops import ff_atomic_write, ff_ensure_directory, ff_read_bytes
from ff_utils.ff_locks import ff_file_lock

__all__ = [
    "Durability",
    "FFBadLine",
    "FFJsonlHealth",
    "ff_dumps",
    "ff_loads",
    "ff_write_json",
    "ff_read_json",
    "ff_update_json",
    "ff_append_jsonl",
    "ff_read_jsonl",
    "ff_tail_jsonl",
    "ff_tail_jsonl_page",
    "TAIL_PAGE_BYTES",
    "ff_check_jsonl",
    "ff_count_jsonl_lines",
    "ff_repair_jsonl",
    "ff_flush_jsonl",
    "DEFAULT_MAX_RECORD_BYTES",
]

_MISSING: Any = object()


# --------------------------------------------------------------------------- JSON documents


def ff_write_json(
    path: Path | str, data: Any, *, durability: Durability = "always", root: Path | str | None = None
) -> None:
    """Replace the JSON document at ``path`` atomically (indented, so people can read it)."""
    ff_atomic_write(path, ff_dumps(data, indent=True) + b"\n", fsync=durability != "never", root=root)


def ff_read_json(path: Path | str, default: Any = _MISSING, *, root: Path | str | None = None) -> Any:
    """Read a JSON document, never through a symlink (below ``root`` when given).

    Raises FFNotFoundError when it is missing and no ``default`` is given, FFCorruptionError
    naming the file when it does not parse.
    """
    target = Path(path)
    try:
        raw = ff_read_bytes(target, root=root)
    except FFNotFoundError:
        if default is _MISSING:
            raise
        return default
    return ff_loads(raw, path=target)


def ff_update_json(
    path: Path | str,
    updater: Callable[[Any], Any],
    *,
    default: Any = _MISSING,
    durability: Durability = "always",
    root: Path | str | None = None,
) -> Any:
    """Read-modify-write a JSON document under its lock; return what was written.

    ``updater`` gets the current plain data (or ``default`` when the file is missing) and returns
    the new data. If it raises, nothing is written.
    """
    target = Path(path)
    ff_ensure_directory(target.parent, root=root)
    with ff_file_lock(target, root=root):
        current = ff_read_json(target, default, root=root)
        updated = updater(current)
        ff_write_json(target, updated, durability=durability, root=root)
        return updated
