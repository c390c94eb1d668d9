"""Stored JSONL records turned into DTOs, where one bad line must not break the whole read.

``FFStore.read_jsonl`` / ``tail_jsonl`` already skip a line that is not JSON (and log it). A line
that *is* JSON but not the record the log holds (a list, a message without ``content``, a memory
with a bad layer) used to escape as FFCorruptionError from ``FFStore.load`` and hide every good
record of the history, the layer or the archive. Here such a line is skipped and reported the
same way: passed to ``on_bad_line`` (as an :class:`FFBadLine` with the schema error as its
reason), or logged as a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import pydantic

from ff_utils.ff_errors import FFCorruptionError
from ff_utils.ff_json_utils import FFBadLine
from ff_utils.ff_logging import get_logger
from ff_utils.ff_store import FFStore

__all__ = ["load_records", "tail_records"]

M = TypeVar("M", bound=pydantic.BaseModel)
BadLineHandler = Callable[[FFBadLine], None]
_log = get_logger("memory")


def load_records(
    store: FFStore, model: type[M], records: Iterable[Any], path: Path, *, on_bad_line: BadLineHandler | None = None
) -> list[M]:
    """Each record that fits ``model``; the others are skipped and reported."""
    loaded: list[M] = []
    for record in records:
        try:
            loaded.append(store.load(model, record, path))
        except FFCorruptionError as exc:
            bad = FFBadLine(path, -1, f"not a {model.__name__}: {exc.message}")
            if on_bad_line is None:
                _log.warning("skipped corrupt line of %s: %s", path, bad.reason)
            else:
                on_bad_line(bad)
    return loaded


def tail_records(store: FFStore, model: type[M], path: Path, limit: int) -> list[M]:
    """The last ``limit`` records that fit ``model``, oldest first; bad lines are skipped and reported.

    Reads ``limit`` lines from the end and, for every line skipped, that many more, so a bad line
    costs a little extra reading and never a missing message.
    """
    wanted = limit
    while True:
        records = store.tail_jsonl(path, wanted)
        skipped: list[FFBadLine] = []
        loaded = load_records(store, model, records, path, on_bad_line=skipped.append)
        if len(loaded) >= limit or len(records) < wanted:
            for bad in skipped:
                _log.warning("skipped corrupt line of %s: %s", path, bad.reason)
            return loaded[len(loaded) - limit :] if len(loaded) > limit else loaded
        wanted += limit - len(loaded)
