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
(``await self._io(self.store.write_json, path, data)``), never on the event loop. Appends on the
hot path go through the store's one long-lived I/O thread instead (:attr:`FFStore.io`, an
:class:`~ff_utils.ff_io_thread.FFIOThread`): one hop per call, and what queued meanwhile for
every log of the root is written in the same wake-up. ``await store.io.close()`` ends it.

Paths handed to the methods are expected to come from :meth:`FFStore.path`, which validates the
parts and keeps the result inside the root (see :func:`ff_utils.ff_file_ops.ff_safe_path`).

No symlink below the root is ever followed, by any method, however old the path is: every open
walks from the root's directory descriptor one directory at a time with ``O_NOFOLLOW``
(:mod:`ff_utils._dir_fd`), so a directory swapped for a symlink after a manager checked it, or a
log replaced by a link, is refused with FFValidationError and nothing is written or read through
it. :meth:`FFStore.list_dir` and :meth:`FFStore.stat` give managers the listings and stats they
need under the same rule.

A store may carry a middleware (:mod:`ff_utils.ff_store_middleware`), tinydb-style: with an
encryption key configured, :class:`~ff_utils.ff_encryption.FFEncryptionMiddleware` encrypts
every document and every JSONL record on its way to disk (see :meth:`FFStore.from_config`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import stat as stat_module
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pydantic

from ff_utils import ff_json_utils
from ff_utils._dir_fd import ff_lstat_under, ff_refuse_link
from ff_utils._store_listing import FFDirEntry, ff_list_dir
from ff_utils.ff_errors import (
    FFConflictError,
    FFNotFoundError,
    ff_stored_error,
    ff_translate_errors,
)
from ff_utils.ff_file_ops import (
    ff_atomic_write,
    ff_ensure_directory,
    ff_read_bytes,
    ff_remove_tree,
    ff_safe_path,
)
from ff_utils.ff_io_thread import FFIOThread
from ff_utils.ff_json_utils import (
    DEFAULT_MAX_RECORD_BYTES,
    TAIL_PAGE_BYTES,
    Durability,
    FFBadLine,
    ff_append_jsonl,
    ff_count_jsonl_lines,
    ff_dumps,
    ff_flush_jsonl,
    ff_read_jsonl,
    ff_repair_jsonl,
    ff_tail_jsonl,
    ff_tail_jsonl_page,
)
from ff_utils.ff_locks import ff_file_lock
from ff_utils.ff_store_middleware import FFStoreMiddleware

__all__ = ["FFStore", "FFStoreSettings", "FFDirEntry"]

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

    confine_to_root: bool = True
    """Walk every open from the root without following symlinks. Only the planted-defect tests
    turn it off (then only the final name is opened with O_NOFOLLOW)."""

    def __init__(
        self,
        root: Path | str,
        *,
        durability: Durability = "always",
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        batch_interval_s: float = 0.2,
        lock_timeout_s: float = 30.0,
        middleware: FFStoreMiddleware | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self._root_text = os.fspath(self.root)
        self._walk_root = self._root_text if self.confine_to_root else None  # where every no-follow walk starts
        self.settings = FFStoreSettings(durability, max_record_bytes, batch_interval_s, lock_timeout_s)
        self.middleware = middleware if middleware is not None else FFStoreMiddleware()
        self.io = FFIOThread(f"ff-io:{self.root.name}")
        """The store's I/O thread (started on first use); copies made by :meth:`with_settings`
        share it, so every append to this root goes through one queue."""

    @classmethod
    def from_config(cls, config: Any) -> FFStore:
        """Build from the configuration (the whole config object or its ``storage`` section).

        With ``storage.encryption_key_file`` set, or a key in the variable named by
        ``storage.encryption_key_env`` (``FF_ENCRYPTION_KEY``), the store encrypts at rest.
        """
        from ff_utils.ff_encryption import FFEncryptionMiddleware, ff_resolve_key

        storage = getattr(config, "storage", config)
        key = ff_resolve_key(
            getattr(storage, "encryption_key_file", None),
            data_root=storage.base_path,
            env_var=getattr(storage, "encryption_key_env", "FF_ENCRYPTION_KEY"),
        )
        return cls(
            storage.base_path,
            durability=storage.durability,
            max_record_bytes=storage.max_record_bytes,
            batch_interval_s=storage.batch_fsync_interval_ms / 1000,
            lock_timeout_s=storage.lock_timeout_seconds,
            middleware=FFEncryptionMiddleware(key) if key is not None else None,
        )

    def with_settings(self, **overrides: Any) -> FFStore:
        """The same root with other settings (metrics, for example, appends with ``batch``).

        Subclasses (fault injectors) are preserved: the copy is of ``type(self)``.
        """
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.settings = dataclasses.replace(self.settings, **overrides)
        return clone

    def with_middleware(self, middleware: FFStoreMiddleware | None) -> FFStore:
        """The same root and settings with another middleware (None: bytes as given).

        A plain copy is for scratch files a child process must read as they are (a tool run's
        input files, deleted after the run); everything users store goes through ``self``.
        """
        clone = self.with_settings()
        clone.middleware = middleware if middleware is not None else FFStoreMiddleware()
        return clone

    @property
    def encrypted(self) -> bool:
        """Whether what this store writes is encrypted at rest."""
        return self.middleware.encrypted

    def relative(self, path: Path | str) -> str:
        """``path`` relative to the root, POSIX style (what a middleware binds records to)."""
        text = os.fspath(path)
        root = self._root_text
        return text[len(root) + 1 :] if text.startswith(root + "/") else os.path.relpath(text, root)

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
        return f"{type(self).__name__}({str(self.root)!r}, durability={self.durability!r}, middleware={self.middleware!r})"

    # ------------------------------------------------------------------ paths

    def path(self, *parts: str) -> Path:
        """``parts`` joined under the root: validated, symlink-free, inside the root (FFValidationError)."""
        return ff_safe_path(self.root, *parts)

    def exists(self, path: Path) -> bool:
        """Whether ``path`` exists and is not a symlink (one ``lstat``: a question, not an open).

        It is on every ``add_message``'s path, so it does not walk the directories: whatever is
        then opened, read or written at ``path`` is walked without following symlinks, so a
        directory swapped for a link answers True here and is still refused there.
        """
        try:
            return not stat_module.S_ISLNK(os.lstat(path).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            with ff_translate_errors("stat", path):
                raise exc
            raise

    def stat(self, path: Path) -> os.stat_result:
        """``path``'s stat, reached without following a symlink; FFNotFoundError when missing,
        FFValidationError when it (or a directory on the way) is a symlink."""
        if os.fspath(path) == self._root_text:
            return os.stat(self._root_text)
        info = ff_lstat_under(path, self._walk_root)
        if stat_module.S_ISLNK(info.st_mode):
            raise ff_refuse_link(Path(path).name, path)
        return info

    def list_dir(self, path: Path) -> list[FFDirEntry]:
        """The entries of directory ``path``, sorted by name, opened without following a symlink.

        Each entry says (without following links) whether it is a directory, a regular file or
        a symlink; FFNotFoundError when ``path`` is missing.
        """
        return ff_list_dir(path, self._walk_root)

    def ensure_dir(self, path: Path) -> Path:
        return ff_ensure_directory(path, root=self._walk_root)

    def remove_tree(self, path: Path) -> None:
        """Delete a directory tree; missing is fine, a symlink is refused (FFStorageError)."""
        ff_remove_tree(path, root=self._walk_root)

    # ------------------------------------------------------------------ JSON documents

    def read_json(self, path: Path, default: Any = _MISSING) -> Any:
        """A document's data; FFNotFoundError when missing (unless ``default``), FFCorruptionError when unparsable."""
        try:
            raw = self.read_bytes(path)
        except FFNotFoundError:
            if default is _MISSING:
                raise
            return default
        return ff_json_utils.ff_loads(raw, path=Path(path))  # looked up per call: the failure suite plants a raw loads

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

        if not self.exists(path):  # do not create the parent folder for nothing
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
        middleware = self.middleware
        ff_append_jsonl(
            path,
            records,
            many=True,
            durability=settings.durability,
            max_record_bytes=settings.max_record_bytes,
            batch_interval=settings.batch_interval_s,
            root=self._walk_root,
            encode=middleware.line_encoder(self.relative(path)) if middleware.encrypted else None,
        )

    def read_jsonl(self, path: Path, *, on_bad_line: BadLineHandler | None = None) -> Iterator[Any]:
        """Every record in file order; corrupt, undecryptable or torn lines are skipped and reported."""
        return ff_read_jsonl(path, on_bad_line=on_bad_line, root=self._walk_root, decode=self._line_decoder(path))

    def tail_jsonl(self, path: Path, n: int, *, on_bad_line: BadLineHandler | None = None) -> list[Any]:
        """The last ``n`` records, oldest first, reading from the end (cost flat in file size)."""
        return ff_tail_jsonl(path, n, on_bad_line=on_bad_line, root=self._walk_root, decode=self._line_decoder(path))

    def tail_jsonl_page(self, path: Path, n: int, *, page_bytes: int = TAIL_PAGE_BYTES) -> tuple[bytes, int] | None:
        """The last ``n`` lines as raw bytes from one read of the file's end, and how many they are,
        or None when one read cannot vouch for them (see :func:`ff_tail_jsonl_page`) or the store
        encrypts (lines are then decoded one by one: :meth:`tail_jsonl`). The fast path of recent
        history; a subclass that changes what :meth:`tail_jsonl` returns must change this too.
        """
        if self.middleware.encrypted:
            return None
        return ff_tail_jsonl_page(path, n, root=self._walk_root, page_bytes=page_bytes)

    def _line_decoder(self, path: Path) -> Callable[[bytes], bytes] | None:
        return self.middleware.line_decoder(self.relative(path)) if self.middleware.encrypted else None

    def count_lines(self, path: Path) -> int:
        return ff_count_jsonl_lines(path, root=self._walk_root)

    def repair_jsonl(self, path: Path) -> int:
        """Truncate a torn tail; return the bytes removed."""
        return ff_repair_jsonl(path, root=self._walk_root)

    def flush(self, path: Path | None = None) -> None:
        """fsync what ``batch``/``never`` appends left in the page cache (one file, or all)."""
        ff_flush_jsonl(path)

    # ------------------------------------------------------------------ bytes

    def read_bytes(self, path: Path, *, max_bytes: int | None = None) -> bytes:
        """A file's bytes (decrypted when the store encrypts), never read through a symlink."""
        raw = ff_read_bytes(path, max_bytes=max_bytes, root=self._walk_root)
        if not self.middleware.encrypted:
            return raw
        return self.middleware.decode_document(self.relative(path), raw, Path(path))

    def write_bytes(self, path: Path, data: bytes) -> None:
        """Replace a file's bytes atomically."""
        self._replace(path, data)

    def _replace(self, path: Path, data: bytes) -> None:
        # The one place whole files are written: fault injectors override this (or write_json).
        if self.middleware.encrypted:
            data = self.middleware.encode_document(self.relative(path), data)
        ff_atomic_write(path, data, fsync=self.settings.durability != "never", root=self._walk_root)

    # ------------------------------------------------------------------ locks

    def lock(self, path: Path) -> contextlib.AbstractContextManager[None]:
        """Hold ``path``'s cross-process lock (not re-entrant) for the ``with`` body.

        An append to ``path`` made by the holding thread inside the body does not take the lock
        again (:func:`ff_utils.ff_locks.ff_lock_held`): "check, then append" is one step.
        """
        return ff_file_lock(path, timeout=self.settings.lock_timeout_s, root=self._walk_root)
