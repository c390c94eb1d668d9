"""FFStore: the one storage object a manager is given (tinydb's ``Storage`` idea).

Before it, every manager called the free functions of :mod:`ff_utils.ff_json_utils` and
:mod:`ff_utils.ff_file_ops` and passed ``durability=``, ``max_record_bytes=`` and
``batch_interval=`` at each call, with the settings bundled three different ways. An ``FFStore``
owns the data root and those settings once, so:

* a manager's code says *what* it stores, never *how durably*: the settings live here;
* a stored record becomes a DTO in one place (:meth:`FFStore.load`), so a line that does not fit
  its schema is always ``FFCorruptionError`` naming the file, never a raw pydantic error;
* tests and the failure suite inject faults by subclassing ``FFStore`` and handing the instance
  to a manager (``Manager(config, store=...)``): the seam is an object, not a module to patch.

Every method is synchronous and may block on disk: managers call them from a worker thread
(``await self._io(self.store.write_json, path, data)``), never on the event loop.

Paths handed to the methods are expected to come from :meth:`FFStore.path`, which validates the
parts and keeps the result inside the root (see :func:`ff_utils.ff_file_ops.ff_safe_path`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pydantic

from ff_utils.ff_errors import FFConflictError, FFNotFoundError, ff_stored_error
from ff_utils.ff_file_ops import (
    ff_atomic_write,
    ff_ensure_directory,
    ff_read_bytes,
    ff_remove_tree,
    ff_safe_path,
)
from ff_utils.ff_json_utils import (
    DEFAULT_MAX_RECORD_BYTES,
    Durability,
    FFBadLine,
    ff_append_jsonl,
    ff_count_jsonl_lines,
    ff_dumps,
    ff_flush_jsonl,
    ff_read_json,
    ff_read_jsonl,
    ff_repair_jsonl,
    ff_tail_jsonl,
)
from ff_utils.ff_locks import ff_file_lock

__all__ = ["FFStore", "FFStoreSettings"]

M = TypeVar("M", bound=pydantic.BaseModel)
_MISSING: Any = object()
BadLineHandler = Callable[[FFBadLine], None]


@dataclasses.dataclass(frozen=True, slots=True)
class FFStoreSettings:
    """How durable and how large writes are; one value per store, never per call."""

    durability: Durability = "always"
    """always: fsync before a write returns; batch: fsync appends at most every
    ``batch_interval_s``; never: leave it to the OS. Atomic replace holds for all three."""
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    """Largest JSONL record, encoded; a larger one is refused before anything is written."""
    batch_interval_s: float = 0.2
    """With ``batch`` durability, the longest an append stays un-fsynced."""
    lock_timeout_s: float = 30.0
    """How long a file lock is waited for before FFStorageError."""


class FFStore:
    """A data root and its storage settings: safe paths, JSON documents, JSONL logs, bytes, locks."""

    def __init__(
        self,
        root: Path | str,
        *,
        durability: Durability = "always",
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        batch_interval_s: float = 0.2,
        lock_timeout_s: float = 30.0,
    ) -> None:
        self.root = Path(root).resolve()
        self.settings = FFStoreSettings(durability, max_record_bytes, batch_interval_s, lock_timeout_s)

    @classmethod
    def from_config(cls, config: Any) -> FFStore:
        """Build from the configuration (the whole config object or its ``storage`` section)."""
        storage = getattr(config, "storage", config)
        return cls(
            storage.base_path,
            durability=storage.durability,
            max_record_bytes=storage.max_record_bytes,
            batch_interval_s=storage.batch_fsync_interval_ms / 1000,
            lock_timeout_s=storage.lock_timeout_seconds,
        )

    def with_settings(self, **overrides: Any) -> FFStore:
        """The same root with other settings (metrics, for example, appends with ``batch``).

        Subclasses (fault injectors) are preserved: the copy is of ``type(self)``.
        """
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.settings = dataclasses.replace(self.settings, **overrides)
        return clone

    # The settings, read often enough on hot paths to deserve plain attributes.
    @property
    def durability(self) -> Durability:
        return self.settings.durability

    @property
    def max_record_bytes(self) -> int:
        return self.settings.max_record_bytes

    @property
    def batch_interval_s(self) -> float:
        return self.settings.batch_interval_s

    @property
    def lock_timeout_s(self) -> float:
        return self.settings.lock_timeout_s

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.root)!r}, durability={self.durability!r})"

    # ------------------------------------------------------------------ paths

    def path(self, *parts: str) -> Path:
        """``parts`` joined under the root: validated, symlink-free, inside the root (FFValidationError)."""
        return ff_safe_path(self.root, *parts)

    def exists(self, path: Path) -> bool:
        return path.exists()

    def ensure_dir(self, path: Path) -> Path:
        return ff_ensure_directory(path)

    def remove_tree(self, path: Path) -> None:
        """Delete a directory tree; missing is fine, a symlink is refused (FFStorageError)."""
        ff_remove_tree(path)

    # ------------------------------------------------------------------ JSON documents

    def read_json(self, path: Path, default: Any = _MISSING) -> Any:
        """A document's data; FFNotFoundError when missing (unless ``default``), FFCorruptionError when unparsable."""
        return ff_read_json(path) if default is _MISSING else ff_read_json(path, default)

    def write_json(self, path: Path, data: Any) -> None:
        """Replace the document atomically (indented, so people can read it)."""
        self._replace(path, ff_dumps(data, indent=True) + b"\n")

    def update_json(self, path: Path, updater: Callable[[Any], Any], *, default: Any = _MISSING) -> Any:
        """Read-modify-write under the file's lock; return what was written.

        ``updater`` gets the current plain data (``default`` when the file is missing) and returns
        the new data; if it raises, nothing is written. This is the one way to change a document.
        """
        self.ensure_dir(path.parent)
        with self.lock(path):
            updated = updater(self.read_json(path, default))
            self.write_json(path, updated)
            return updated

    def create_json(self, path: Path, data: Any, *, kind: str, key: str) -> None:
        """Write a new document; FFConflictError (checked under its lock) when it already exists."""

        def create(current: Any) -> Any:
            if current is not None:
                raise FFConflictError(f"{kind} {key!r} already exists", path=path)
            return data

        self.update_json(path, create, default=None)

    def update_existing_json(self, path: Path, change: Callable[[Any], Any], *, kind: str, key: str) -> Any:
        """Read-modify-write a document that must exist; FFNotFoundError(kind, key) when it does not."""

        def apply(current: Any) -> Any:
            if current is None:
                raise FFNotFoundError(f"{kind} {key!r} not found", kind=kind, key=key)
            return change(current)

        if not path.is_file():  # do not create the parent folder for nothing
            raise FFNotFoundError(f"{kind} {key!r} not found", kind=kind, key=key)
        return self.update_json(path, apply, default=None)

    def read_document(self, path: Path, *, kind: str, key: str) -> Any:
        """A document's data; FFNotFoundError naming ``kind`` and ``key`` (not the file) when missing."""
        data = self.read_json(path, None)
        if data is None:
            raise FFNotFoundError(f"{kind} {key!r} not found", kind=kind, key=key)
        return data

    def load(self, model: type[M], data: Any, path: Path) -> M:
        """Turn a stored record into ``model``; a record that does not fit is FFCorruptionError naming ``path``.

        Stored data that fails validation is not bad *input* (the caller did nothing wrong): it is
        a file that is not what this code wrote, so it must never surface as FFValidationError or
        as a raw pydantic error.
        """
        try:
            return model.model_validate(data)
        except pydantic.ValidationError as exc:
            raise ff_stored_error(exc, model=model.__name__, path=path) from exc

    # ------------------------------------------------------------------ JSONL logs

    def append(self, path: Path, record: Any) -> None:
        """Append one record as one line (group-committed; fsynced before return under ``always``)."""
        self.append_many(path, (record,))

    def append_many(self, path: Path, records: Iterable[Any]) -> None:
        """Append records in one write; every record is encoded first, so bad input writes nothing."""
        settings = self.settings
        ff_append_jsonl(
            path,
            records,
            many=True,
            durability=settings.durability,
            max_record_bytes=settings.max_record_bytes,
            batch_interval=settings.batch_interval_s,
        )

    def read_jsonl(self, path: Path, *, on_bad_line: BadLineHandler | None = None) -> Iterator[Any]:
        """Every record in file order; corrupt or torn lines are skipped and reported."""
        return ff_read_jsonl(path, on_bad_line=on_bad_line)

    def tail_jsonl(self, path: Path, n: int, *, on_bad_line: BadLineHandler | None = None) -> list[Any]:
        """The last ``n`` records, oldest first, reading from the end (cost flat in file size)."""
        return ff_tail_jsonl(path, n, on_bad_line=on_bad_line)

    def count_lines(self, path: Path) -> int:
        return ff_count_jsonl_lines(path)

    def repair_jsonl(self, path: Path) -> int:
        """Truncate a torn tail; return the bytes removed."""
        return ff_repair_jsonl(path)

    def flush(self, path: Path | None = None) -> None:
        """fsync what ``batch``/``never`` appends left in the page cache (one file, or all)."""
        ff_flush_jsonl(path)

    # ------------------------------------------------------------------ bytes

    def read_bytes(self, path: Path, *, max_bytes: int | None = None) -> bytes:
        return ff_read_bytes(path, max_bytes=max_bytes)

    def write_bytes(self, path: Path, data: bytes) -> None:
        """Replace a file's bytes atomically."""
        self._replace(path, data)

    def _replace(self, path: Path, data: bytes) -> None:
        # The one place whole files are written: fault injectors override this (or write_json).
        ff_atomic_write(path, data, fsync=self.settings.durability != "never")

    # ------------------------------------------------------------------ locks

    @contextlib.contextmanager
    def lock(self, path: Path) -> Iterator[None]:
        """Hold ``path``'s cross-process lock (not re-entrant) for the ``with`` body."""
        with ff_file_lock(path, timeout=self.settings.lock_timeout_s):
            yield
