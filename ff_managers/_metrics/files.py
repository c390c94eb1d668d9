"""The files the metrics manager appends to: checked paths, appends, and the fsync of batches.

Metric samples and analytics events are appended with ``batch`` durability by default (see
FFMetricsConfigDTO): the bytes are written at once and fsynced by the group-commit appender at
most every ``storage.batch_fsync_interval_ms``. :meth:`FFMetricsFiles.flush` fsyncs the files
this manager appended to (not every file of the process), which is what ``flush()`` and
shutdown promise.

Bucket paths are checked by ff_safe_path once per bucket and cached (see
:meth:`FFMetricsFiles.bucket_path` for why that is safe).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from ff_class_configs.ff_storage_config import FFStorageConfigDTO
from ff_utils.ff_file_ops import ff_safe_path
from ff_utils.ff_json_utils import Durability, ff_append_jsonl, ff_flush_jsonl

__all__ = ["FFMetricsFiles"]

_PATH_CACHE_SIZE = 4096


class FFMetricsFiles:
    """Paths under the data root and group-committed appends with the storage settings."""

    def __init__(self, root: Path, storage: FFStorageConfigDTO) -> None:
        self.root = root
        self._storage = storage
        self._paths: dict[tuple[str, ...], Path] = {}  # path parts -> path checked by ff_safe_path
        self.unflushed: set[Path] = set()  # files appended with batch/never durability
        self._guard = threading.Lock()

    def path(self, *parts: str) -> Path:
        """A path under the data root built from validated parts (see ff_safe_path)."""
        return ff_safe_path(self.root, *parts)

    def bucket_path(self, *parts: str) -> Path:
        """A bucket file's path, built by ff_safe_path once per bucket (hot paths only).

        ff_safe_path resolves and lstat-walks the path (about a quarter of a millisecond here),
        which on every sample would cost a large share of the append itself. Its answer only
        changes when someone swaps a directory under the root for a symlink, which a fresh check
        would not prevent either (the swap can follow the check), so one check per bucket file
        is kept. The cache is cleared when it grows past a few thousand buckets.
        """
        path = self._paths.get(parts)
        if path is None:
            path = self.path(*parts)
            with self._guard:
                if len(self._paths) >= _PATH_CACHE_SIZE:
                    self._paths.clear()  # old buckets are rarely written again
                self._paths[parts] = path
        return path

    def append(self, path: Path, record: Any, durability: Durability) -> None:
        """Append one record as a line (group-committed); remember the file if it needs a flush."""
        ff_append_jsonl(
            path,
            record,
            durability=durability,
            max_record_bytes=self._storage.max_record_bytes,
            batch_interval=self._storage.batch_fsync_interval_ms / 1000,
        )
        if durability != "always":
            with self._guard:
                self.unflushed.add(path)

    def flush(self) -> None:
        """fsync every file appended to with ``batch``/``never`` durability since the last flush."""
        with self._guard:
            paths, self.unflushed = self.unflushed, set()
        for path in paths:
            ff_flush_jsonl(path)
