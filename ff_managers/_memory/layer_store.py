"""The disk side of memory layers: one append-only JSONL file per layer, plus an archive.

Layout under ``users/<user_id>/memory/``::

    immediate.jsonl  short_term.jsonl  medium_term.jsonl  long_term.jsonl  permanent.jsonl
    archive.jsonl        every entry that left the active layers, with why and when
    retention_log.jsonl  one line per retention pass that changed something (counts, ids)

Why JSONL per layer: :meth:`MemoryStore.append` is one :meth:`FFStore.append`, so storing a
memory costs the same with ten or ten thousand entries in the layer. Retention is the only
writer that rewrites a layer: it holds the locks of every layer file (always taken in
``MEMORY_LAYERS`` order, so two passes cannot deadlock) while it reads, plans and replaces them
atomically; an append arriving meanwhile waits on the same lock (the store's append takes it
per write) and then lands in the new file, so it is never lost. Archive records are appended
*before* layers are rewritten, and destination layers are rewritten before source layers:
a crash in between leaves a duplicate (removed by the next pass), never a loss.

Reads are cached per file and keyed by ``(inode, size, mtime)``: an append changes the size, an
atomic rewrite changes the inode, so a stale cache entry cannot be served (``FFStore.stat``:
no symlink followed).
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ff_class_configs.ff_memory_config import MEMORY_LAYERS, RETENTION_CHAIN, FFMemoryConfigDTO, MemoryLayer
from ff_class_configs.ff_memory_dtos import MEMORY_SCHEMA_VERSION, FFArchivedMemoryDTO, FFMemoryEntryDTO
from ff_managers._core.errors import translate_errors
from ff_managers._memory.retention import RetentionPlan, RetentionPlanner, dedupe_layers
from ff_managers._memory.stored import load_records, tail_records
from ff_utils.ff_errors import FFCorruptionError, FFNotFoundError
from ff_utils.ff_file_ops import ff_safe_path
from ff_utils.ff_json_utils import FFBadLine, ff_dumps
from ff_utils.ff_logging import get_logger
from ff_utils.ff_store import FFStore

__all__ = ["ARCHIVE_LOG", "RETENTION_LOG", "MemoryStore"]

ARCHIVE_LOG = "archive.jsonl"
RETENTION_LOG = "retention_log.jsonl"
_log = get_logger("memory")

_CacheKey = tuple[int, int, int]
_CACHE_FILES = 512  # layer files kept parsed in memory (least recently used dropped first)


class MemoryStore:
    """One user's memory folder. Cheap to create; the read cache is shared per process."""

    _cache: OrderedDict[Path, tuple[_CacheKey, list[FFMemoryEntryDTO]]] = OrderedDict()
    _cache_guard = threading.Lock()

    def __init__(self, directory: Path, store: FFStore) -> None:
        self.directory = directory
        self.store = store

    # ------------------------------------------------------------------ paths

    def layer_path(self, layer: MemoryLayer) -> Path:
        return ff_safe_path(self.directory, f"{layer}.jsonl")

    @property
    def archive_path(self) -> Path:
        return ff_safe_path(self.directory, ARCHIVE_LOG)

    @property
    def retention_log_path(self) -> Path:
        return ff_safe_path(self.directory, RETENTION_LOG)

    # ------------------------------------------------------------------ reads

    def _parse_layer(self, path: Path, *, strict: bool) -> list[FFMemoryEntryDTO]:
        bad: list[FFBadLine] = []
        records = self.store.read_jsonl(path, on_bad_line=bad.append)
        entries = load_records(self.store, FFMemoryEntryDTO, records, path, on_bad_line=bad.append)
        if bad and strict:
            raise FFCorruptionError(
                f"{len(bad)} unreadable line(s) in a memory layer (first at byte {bad[0].offset}: {bad[0].reason}); "
                "retention will not rewrite it until it is repaired",
                path=path,
            )
        for line in bad:  # reads go on without them (and log them once: the result is cached)
            _log.warning("skipped corrupt line at byte %d of %s: %s", line.offset, path, line.reason)
        return entries

    def load_layer(self, layer: MemoryLayer) -> list[FFMemoryEntryDTO]:
        """Every entry of ``layer`` in stored order (unreadable lines are skipped and logged)."""
        path = self.layer_path(layer)
        try:
            with translate_errors("stat memory layer", path):
                info = self.store.stat(path)
        except FFNotFoundError:
            return []
        key = (info.st_ino, info.st_size, info.st_mtime_ns)
        with self._cache_guard:
            cached = self._cache.get(path)
            if cached is not None:
                self._cache.move_to_end(path)
        if cached is not None and cached[0] == key:
            return list(cached[1])
        entries = self._parse_layer(path, strict=False)
        with self._cache_guard:
            self._cache[path] = (key, entries)
            while len(self._cache) > _CACHE_FILES:
                self._cache.popitem(last=False)
        return list(entries)

    def load_active(self, layers: tuple[MemoryLayer, ...] = MEMORY_LAYERS) -> list[FFMemoryEntryDTO]:
        """The entries of ``layers``, each id once (see :func:`dedupe_layers`)."""
        cleaned, _changed, _dropped = dedupe_layers({layer: self.load_layer(layer) for layer in MEMORY_LAYERS})
        return [entry for layer in layers for entry in cleaned[layer]]

    def tail_archive(self, limit: int) -> list[FFArchivedMemoryDTO]:
        path = self.archive_path
        return tail_records(self.store, FFArchivedMemoryDTO, path, limit)

    def archived_ids(self) -> set[str]:
        """Distinct ids in the archive (a full scan; used by stats, not on hot paths)."""
        path = self.archive_path
        archived = load_records(self.store, FFArchivedMemoryDTO, self.store.read_jsonl(path), path)
        return {record.entry.memory_id for record in archived}

    # ------------------------------------------------------------------ writes

    def append(self, entry: FFMemoryEntryDTO) -> None:
        """Store one entry: one append to its layer's log."""
        self.store.append(self.layer_path(entry.layer), entry.model_dump(mode="json"))

    def _rewrite(self, layer: MemoryLayer, entries: list[FFMemoryEntryDTO]) -> None:
        # Caller holds this layer's lock; write_bytes does not take it, so no self-deadlock.
        payload = b"".join(ff_dumps(entry.model_dump(mode="json")) + b"\n" for entry in entries)
        self.store.write_bytes(self.layer_path(layer), payload)

    def apply_retention(
        self,
        now: datetime,
        policy: FFMemoryConfigDTO,
        *,
        max_content_chars: int,
        new_id: Callable[[], str],
        planner: RetentionPlanner,
    ) -> tuple[RetentionPlan, dict[str, int]]:
        """Plan and apply one retention pass for this user; return the plan and the counts before.

        ``planner`` decides the pass (:func:`~ff_managers._memory.retention.plan_retention`).
        Raises FFCorruptionError (writing nothing) if a layer has unreadable lines beyond a torn
        tail, because rewriting it would silently drop them.
        """
        paths = {layer: self.layer_path(layer) for layer in MEMORY_LAYERS}
        for path in paths.values():
            self.store.repair_jsonl(path)  # a torn tail is an append that never returned: safe to drop
        with contextlib.ExitStack() as held:
            for layer in MEMORY_LAYERS:  # one fixed order for every pass: no deadlock
                held.enter_context(self.store.lock(paths[layer]))
            current = {layer: self._parse_layer(paths[layer], strict=True) for layer in MEMORY_LAYERS}
            before = {layer: len(entries) for layer, entries in current.items()}
            plan = planner(current, now, policy, max_content_chars=max_content_chars, new_id=new_id)
            if plan.archived:
                self.store.append_many(self.archive_path, [record.model_dump(mode="json") for record in plan.archived])
            # Destinations first (moves only go down the chain), sources last: see module docstring.
            for layer in ("permanent", *reversed(RETENTION_CHAIN)):
                if layer in plan.changed:
                    self._rewrite(layer, plan.layers[layer])
        if plan.changed:
            self.store.append(
                self.retention_log_path,
                {
                    "schema_version": MEMORY_SCHEMA_VERSION,
                    "now": now.isoformat(),
                    "moved": [m.memory_id for m in plan.moved],
                    "archived": [a.entry.memory_id for a in plan.archived],
                    "summaries": [c.summary_id for c in plan.compressed],
                    "duplicates_removed": plan.duplicates_removed,
                    "counts_before": before,
                    "counts_after": {layer: len(entries) for layer, entries in plan.layers.items()},
                },
            )
        return plan, before
