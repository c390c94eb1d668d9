"""Appends through one FFStore, with the two things a hot append path adds: cached paths and flush.

Metric samples and analytics events are appended with ``batch`` durability by default (see
FFMetricsConfigDTO): each kind of log gets its own ``FFStore.with_settings(durability=...)``, and
the group-commit appender fsyncs at most every ``storage.batch_fsync_interval_ms``.
:meth:`FFAppendFiles.flush` fsyncs the files appended to through this object (not every file of
the process, which ``FFStore.flush()`` without a path would do), which is what the manager's
``flush()`` and shutdown promise.

Bucket paths are checked by ``FFStore.path`` once per bucket and cached (see
:meth:`FFAppendFiles.cached_path` for why that is safe).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from ff_managers._metrics.buckets import overflow_name
from ff_utils.ff_locks import FFLockBusy, ff_locks_fail_fast
from ff_utils.ff_store import FFStore

__all__ = ["FFAppendFiles"]

_PATH_CACHE_SIZE = 4096


class FFAppendFiles:
    """One store's appends: checked paths cached per file, files left un-fsynced remembered."""

    def __init__(self, store: FFStore) -> None:
        self.store = store
        self._paths: dict[tuple[str, ...], Path] = {}  # path parts -> path checked by store.path
        self._unflushed: set[Path] = set()  # files appended with batch/never durability
        self._guard = threading.Lock()
        self.overflowed = 0
        """Records written to this process's overflow files because a shared file was locked."""

    def cached_path(self, *parts: str) -> Path:
        """A bucket file's path, built by ``store.path`` once per bucket (hot paths only).

        ``store.path`` (ff_safe_path) resolves and lstat-walks the path (about a quarter of a
        millisecond here), which on every sample would cost a large share of the append itself.
        Its answer only changes when someone swaps a directory under the root for a symlink,
        which a fresh check would not prevent either (the swap can follow the check), so one
        check per bucket file is kept. The cache is cleared when it grows past a few thousand
        buckets.
        """
        path = self._paths.get(parts)
        if path is None:
            path = self.store.path(*parts)
            with self._guard:
                if len(self._paths) >= _PATH_CACHE_SIZE:
                    self._paths.clear()  # old buckets are rarely written again
                self._paths[parts] = path
        return path

    def append(self, path: Path, record: Any) -> None:
        """Append one record as a line; remember the file when its durability leaves it un-fsynced.

        Every process appends to the same bucket file, and a publisher (``add_message``) waits
        for its samples. So the shared file's lock is tried once: when another process (or
        thread) holds it -- a process frozen by SIGSTOP holds it for as long as it is stopped --
        the record goes to this process's own file of the bucket (``overflow_name``), which no
        other live process writes, instead of stalling every writer of every instance behind
        the holder. Readers read both (``buckets.file_stem``).
        """
        try:
            with ff_locks_fail_fast():
                self.store.append(path, record)
        except FFLockBusy:
            path = path.with_name(overflow_name(path.name, os.getpid()))
            self.store.append(path, record)
            self.overflowed += 1
        if self.store.durability != "always":
            with self._guard:
                self._unflushed.add(path)

    def flush(self) -> None:
        """fsync every file appended to with ``batch``/``never`` durability since the last flush."""
        with self._guard:
            paths, self._unflushed = self._unflushed, set()
        for path in paths:
            self.store.flush(path)
