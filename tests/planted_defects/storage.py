"""Planted defects in the storage layer (ff_utils): the bugs a storage developer plausibly writes.

Each replaces one function (or class attribute) of ff_utils for the length of a run, in every
module that holds it under its name (``from ff_utils.x import f`` binds a copy of the name), so
the managers, the store and the suites all meet the same bug, as they would in a release. The
suite test named with each must turn red: most are caught by the component suite's
``storage_contracts``, the crash-path ones by the failure suite. Collected by ``tests/planted_defects``.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

import testing.ff_integration_test_manager
import testing.suites.component
import testing.suites.failure  # noqa: F401
from ff_utils import (
    _jsonl_append,
    _jsonl_read,
    _store_listing,
    ff_encryption,
    ff_file_ops,
    ff_hashing,
    ff_key_rotation,
    ff_locks,
)
from ff_utils._dir_fd import NOFOLLOW, ff_open_parent
from ff_utils._json_codec import ff_dumps
from ff_utils._jsonl_read import FFBadLine
from ff_utils.ff_errors import FFNotFoundError, FFStorageError, FFValidationError, ff_translate_errors
from ff_utils.ff_store import FFStore
from tests._planted import PlantedDefect

__all__ = ["DEFECTS"]

_Patch = tuple[Any, str, Any]
_PREFIXES = ("ff_utils", "ff_managers", "ff_class_configs", "testing")


def _everywhere(original: Any, replacement: Any) -> tuple[_Patch, ...]:
    """A patch of ``original`` in every loaded project module that holds it under its own name."""
    name = original.__name__
    return tuple(
        (module, name, replacement)
        for module_name, module in sorted(sys.modules.items())
        if module is not None and module_name.startswith(_PREFIXES) and getattr(module, name, None) is original
    )


# ====================================================================== atomic replace

_atomic_write = ff_file_ops.ff_atomic_write


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(bytes(data))
    while view:
        view = view[ff_file_ops.os.write(fd, view) :]


def atomic_write_in_place(path: Path | str, data: bytes, *, fsync: bool = True, mode: int = 0o644, root: Path | str | None = None) -> None:
    """ff_atomic_write writes the file in place (O_TRUNC, write, fsync): no temp file and no rename,
    so a reader or a crash in between sees a truncated or half-written document."""
    target = Path(path)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FFValidationError("ff_atomic_write takes bytes", field="data", value=type(data).__name__)
    with ff_open_parent(target, root, create=True) as (parent, name), ff_translate_errors("write file", target):
        fd = ff_file_ops.os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | NOFOLLOW, mode, dir_fd=parent)
        try:
            _write_all(fd, data)
            if fsync:
                ff_file_ops.os.fsync(fd)
        finally:
            ff_file_ops.os.close(fd)


def _temp_replace(path: Path | str, data: bytes, root: Path | str | None, *, sync: bool, cleanup: bool) -> None:
    target = Path(path)
    with ff_open_parent(target, root, create=True) as (parent, name), ff_translate_errors("write file", target):
        tmp_name = f".{name}.{os.urandom(6).hex()}.tmp"
        fd = ff_file_ops.os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, 0o644, dir_fd=parent)
        try:
            _write_all(fd, data)
            if sync:
                ff_file_ops.os.fsync(fd)
            ff_file_ops.os.close(fd)
            ff_file_ops.os.replace(tmp_name, name, src_dir_fd=parent, dst_dir_fd=parent)
        except BaseException:
            if cleanup:
                ff_file_ops.os.unlink(tmp_name, dir_fd=parent)
            raise
        if sync:
            ff_file_ops.os.fsync(parent)


def atomic_write_never_fsyncs(path: Path | str, data: bytes, *, fsync: bool = True, mode: int = 0o644, root: Path | str | None = None) -> None:
    """ff_atomic_write renames a temp file into place but never fsyncs it nor the directory:
    after a power loss the "durable" document may be empty."""
    _temp_replace(path, data, root, sync=False, cleanup=True)


def atomic_write_leaves_temp(path: Path | str, data: bytes, *, fsync: bool = True, mode: int = 0o644, root: Path | str | None = None) -> None:
    """ff_atomic_write leaves its temp file behind when the write fails (no unlink on the error path)."""
    _temp_replace(path, data, root, sync=fsync, cleanup=False)


# ====================================================================== JSONL appends

class _NoLock:
    """The appender's lock replaced by nothing: appends race a repair or another process."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None


def _lock_within_process_only(handle: Any) -> None:
    """The cross-process lock is never taken (the flock call dropped, only the in-process thread
    lock remains): two processes append, repair and update the same file at once."""


def _write_group_without_rollback(self: Any, payload: bytes, durability: str, batch_interval: float, *, held: bool = False) -> None:
    """A failed append is not rolled back: half a line (or a line its writer was told failed) stays."""
    import time

    os_module = _jsonl_append.os
    self._durability_needs_dir_sync = durability != "never"
    lock = _jsonl_append._HELD if held else _jsonl_append.ff_file_lock(self._name, root=self.root)
    with lock, ff_translate_errors("append JSONL", self.path), self._fd_lock:
        fd, start, _created = self._open_for_append()
        if start and start != self._end and os_module.pread(fd, 1, start - 1) != b"\n":
            payload = b"\n" + payload
        now = time.monotonic()
        sync = durability == "always" or (durability == "batch" and now - self._last_fsync >= batch_interval)
        try:
            view = memoryview(payload)
            while view:
                view = view[os_module.write(fd, view) :]
            if sync:
                os_module.fsync(fd)
        except BaseException:
            self._close_fd()
            raise
        self._end = start + len(payload)
        if sync:
            self._last_fsync = now
            self._dirty = False
        else:
            self._dirty = True


def _encode_line_one_early(record: Any, max_record_bytes: int, encode: Any) -> bytes:
    """max_record_bytes enforced with ``>=``: a record of exactly the limit is refused."""
    line = ff_dumps(record)
    if len(line) >= max_record_bytes:
        raise FFValidationError(f"record of {len(line):,} bytes exceeds the limit of {max_record_bytes:,}", field="record")
    return (line if encode is None else encode(line)) + b"\n"


# ====================================================================== JSONL reads

_read_jsonl, _tail_jsonl, _tail_page = _jsonl_read.ff_read_jsonl, _jsonl_read.ff_tail_jsonl, _jsonl_read.ff_tail_jsonl_page
_count_lines, _repair = _jsonl_read.ff_count_jsonl_lines, _jsonl_read.ff_repair_jsonl


def read_keeps_torn_line(path: Path | str, *, on_bad_line: Callable[[FFBadLine], None] | None = None,
                         root: Path | str | None = None, decode: Any = None) -> Iterator[Any]:
    """A final line without its newline is parsed and returned when it is valid JSON: a record
    whose append never completed (never acknowledged) is read back."""
    torn: list[FFBadLine] = []

    def keep(bad: FFBadLine) -> None:
        if bad.torn:
            torn.append(bad)
        elif on_bad_line is not None:
            on_bad_line(bad)

    yield from _read_jsonl(path, on_bad_line=keep, root=root, decode=decode)
    for bad in torn:
        with open(bad.path, "rb") as handle:
            handle.seek(bad.offset)
            fragment = handle.read()
        try:
            yield orjson.loads(decode(fragment) if decode is not None else fragment)
        except ValueError:
            if on_bad_line is not None:
                on_bad_line(bad)


def tail_one_short(path: Path | str, n: int, **kwargs: Any) -> list[Any]:
    """ff_tail_jsonl stops one record early (``len(found) == n - 1``) when the file holds n or more."""
    found = _tail_jsonl(path, n, **kwargs)
    return found[1:] if n > 1 and len(found) == n else found


def tail_page_one_short(path: Path | str, limit: int, **kwargs: Any) -> tuple[bytes, int] | None:
    """ff_tail_jsonl_page's loop runs ``range(1, limit)``: a full page holds limit - 1 lines."""
    page = _tail_page(path, limit, **kwargs)
    if page is None or page[1] < limit or limit < 2:
        return page
    return page[0].split(b"\n", 1)[1], limit - 1


def count_includes_torn(path: Path | str, *, root: Path | str | None = None) -> int:
    """ff_count_jsonl_lines counts the pieces between newlines: a torn last line counts as a record."""
    count = _count_lines(path, root=root)
    try:
        with open(path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return count + (handle.read(1) != b"\n")
    except OSError:
        return count


def repair_cuts_last_newline(path: Path | str, *, root: Path | str | None = None) -> int:
    """ff_repair_jsonl truncates at the last newline instead of after it: the last good record
    loses its newline and becomes the next torn line."""
    removed = _repair(path, root=root)
    if removed:
        size = os.path.getsize(path)
        os.truncate(path, size - 1)
        removed += 1
    return removed


# ====================================================================== encryption, manifests, listings

_aad = ff_encryption._aad


def _unbound_aad(relative: str) -> bytes:
    """The associated data does not name the file: a record copied into another user's log decrypts there."""
    return ff_encryption._AAD_PREFIX


def _path_nonce(key_id: bytes, relative: str) -> bytes:
    return hashlib.sha256(key_id + relative.encode()).digest()[: ff_encryption._NONCE_BYTES]


def _seal_reusing_nonce(self: Any, relative: str, data: bytes) -> bytes:
    """AES-GCM nonce derived from the file's path: every write to one file reuses the nonce."""
    nonce = _path_nonce(self._id_bytes, relative)
    return ff_encryption._MAGIC + self._id_bytes + nonce + self._aead.encrypt(nonce, bytes(data), ff_encryption._aad(relative))


def _line_encoder_reusing_nonce(self: Any, relative: str) -> Callable[[bytes], bytes]:
    import base64

    def encode(line: bytes) -> bytes:
        return b"ffe1:" + base64.urlsafe_b64encode(_seal_reusing_nonce(self, relative, line))

    return encode


_walk, _hash_files, _diff = ff_hashing._walk, ff_hashing._hash_files, ff_hashing.ff_diff_manifests


def _walk_skipping_hidden(root: Path, exclude: Callable[[str], bool]) -> Iterator[tuple[str, str]]:
    """The manifest walk skips dot files (meant for locks and temp files, it also drops real hidden files)."""
    return ((relative, full) for relative, full in _walk(root, exclude) if not relative.rsplit("/", 1)[-1].startswith("."))


def _walk_stopping_at_symlink(root: Path, exclude: Callable[[str], bool]) -> Iterator[tuple[str, str]]:
    """The manifest walk meets a symlink with ``break``, not ``continue``: the files and folders
    named after it in its folder are left out of the manifest."""
    pending = [(os.fspath(root), "")]
    while pending:
        directory, prefix = pending.pop()
        with ff_translate_errors("list directory", Path(directory)), os.scandir(directory) as listing:
            entries = sorted(listing, key=lambda e: e.name)
        subdirs = []
        for entry in entries:
            if entry.is_symlink():
                break
            relative = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                subdirs.append((entry.path, relative + "/"))
            elif entry.is_file(follow_symlinks=False) and not exclude(relative):
                yield relative, entry.path
        pending.extend(reversed(subdirs))


def _hash_skipping_empty(files: Iterator[tuple[str, str]], out: list[Any]) -> None:
    """Empty files are left out of the manifest (a ``while read := ...`` that never appends them)."""
    mine: list[Any] = []
    _hash_files(files, mine)
    out.extend(entry for entry in mine if entry[1] > 0)


def _diff_by_size(expected: Any, actual: Any) -> Any:
    """Manifests compared by size only: a same-size change (a flipped byte, a swapped digit) passes."""
    diff = _diff(expected, actual)
    sizes = {e.path: e.size for e in expected.entries}
    diff.changed = [p for p in diff.changed if sizes[p] != next(e.size for e in actual.entries if e.path == p)]
    return diff


_list_dir = _store_listing.ff_list_dir
_remove_tree = ff_file_ops.ff_remove_tree


def remove_tree_following_links_on_the_way(path: Path | str, *, root: Path | str | None = None) -> None:
    """ff_remove_tree checks the path with a plain ``lstat`` even under a root: a symlinked folder
    on the way is followed, and a tree outside the data root is deleted through it."""
    import shutil
    import stat

    target = Path(path)
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        raise FFStorageError("refusing to delete through a symlink", path=target)
    with ff_translate_errors("remove directory", target):
        shutil.rmtree(target, ignore_errors=False)


def repair_missing_newline_at_block_start(path: Path | str, *, root: Path | str | None = None) -> int:
    """ff_repair_jsonl's backward scan takes a newline only after a block's first byte (``index >
    0``): when the last newline is the first byte of the block read last, the last good record is
    cut with the torn tail."""
    target = Path(path)
    try:
        os.close(ff_file_ops.ff_open_read(target, root))
    except FFNotFoundError:
        return 0
    with ff_locks.ff_file_lock(target, root=root), ff_translate_errors("repair JSONL", target):
        with os.fdopen(ff_file_ops.ff_open_read(target, root, writable=True), "r+b") as handle:
            size = os.fstat(handle.fileno()).st_size
            handle.seek(max(size - 1, 0))
            if size == 0 or handle.read(1) == b"\n":
                return 0
            keep, position = 0, size
            while position > 0:
                step = min(_jsonl_read._TAIL_BLOCK, position)
                position -= step
                handle.seek(position)
                index = handle.read(step).rfind(b"\n")
                if index > 0:
                    keep = position + index + 1
                    break
            handle.truncate(keep)
            return size - keep


def _list_following_links(path: Path | str, root: str | None) -> list[Any]:
    """Listing entries typed with ``stat`` instead of ``lstat``: a symlink to a folder lists as a folder."""
    return [
        _store_listing.FFDirEntry(e.name, e.path, e.path.is_dir(), e.path.is_file(), False) if e.is_symlink else e
        for e in _list_dir(path, root)
    ]


_safe_path = ff_file_ops.ff_safe_path


def _safe_path_ignoring_links(root: Path | str, *parts: str) -> Path:
    """ff_safe_path checks ``..`` and the prefix but not the symlinks below the root (and the store
    walks no longer refuse them): a planted link leads reads and writes out of the root."""
    joined = os.path.join(os.path.realpath(root), *parts)
    if any(seg in ("", ".", "..") for part in parts for seg in part.split("/")):
        return _safe_path(root, *parts)
    return Path(joined)


_rotation_log = ff_key_rotation._Recoder.log


def _rotation_skips_dot_files(relative: str, name: str) -> bool:
    """Key rotation skips every dot file (meant for locks and temp files): a hidden document stays under the old key."""
    return relative == "ff_meta.json" or name.startswith(".")


def _rotation_drops_torn_tail(self: Any, relative: str, data: bytes) -> tuple[bytes | None, int, int]:
    """Key rotation rewrites a log without its torn last line (evidence of the crash lost, not reported)."""
    rewritten, changed, kept = _rotation_log(self, relative, data)
    if rewritten is not None and not rewritten.endswith(b"\n"):
        rewritten = rewritten[: rewritten.rfind(b"\n") + 1]
        kept = max(0, kept - 1)
    return rewritten, changed, kept


# ====================================================================== FFStore forgetting its own settings


def _store_remove_tree_without_root(self: FFStore, path: Path) -> None:
    """FFStore.remove_tree calls ff_remove_tree without the store's root: a symlinked folder on
    the way below the root is followed, and the tree behind it (outside the data root) deleted."""
    ff_file_ops.ff_remove_tree(path)


def _store_tail_page_without_root(self: FFStore, path: Path, n: int, *, page_bytes: int = _jsonl_read.TAIL_PAGE_BYTES) -> Any:
    """FFStore.tail_jsonl_page opens the log without the store's root: only the final name is
    checked, so recent history is read through a symlinked folder below the root."""
    if self.middleware.encrypted:
        return None
    return _jsonl_read.ff_tail_jsonl_page(path, n, page_bytes=page_bytes)


def _store_lock_without_root(self: FFStore, path: Path) -> Any:
    """FFStore.lock takes the lock without the store's root: a symlinked folder on the way below
    the root is followed, and the lock file created behind it, outside the data root."""
    return ff_locks.ff_file_lock(path, timeout=self.settings.lock_timeout_s)


def _from_config_ignoring_key_env(cls: type[FFStore], config: Any) -> FFStore:
    """FFStore.from_config looks for the key in FF_ENCRYPTION_KEY whatever variable
    storage.encryption_key_env names: a deployment that names its own stores in plaintext."""
    storage = getattr(config, "storage", config)
    key = ff_encryption.ff_resolve_key(getattr(storage, "encryption_key_file", None), data_root=storage.base_path)
    return cls(storage.base_path, durability=storage.durability, max_record_bytes=storage.max_record_bytes,
               batch_interval_s=storage.batch_fsync_interval_ms / 1000, lock_timeout_s=storage.lock_timeout_seconds,
               middleware=ff_encryption.FFEncryptionMiddleware(key) if key is not None else None)


# ====================================================================== path names and lock errors (sample 2026-12-06)

_check_segment = ff_file_ops._check_segment
_acquire = ff_locks._acquire


def _check_segment_refusing_space(segment: str, part: str) -> None:
    """ff_safe_path's control-character test is one too wide (``ord(ch) <= 32``): a space is
    refused, so a name such as "my notes.txt" can never be stored."""
    if any(ord(ch) == 32 for ch in segment):
        raise ff_file_ops._refuse(f"control character in {part[:60]!r}", part)
    _check_segment(segment, part)


def _refuse_without_value(message: str, part: object) -> FFValidationError:
    """Every unsafe-path refusal loses its ``value``: the caller is not told which part was refused."""
    return FFValidationError(f"unsafe path: {message}", field="path", value=None)


def _acquire_losing_path(path: Path | str, timeout: float, root: Path | str | None = None) -> Any:
    """A lock not acquired within its timeout raises an FFStorageError naming no file: the
    operator cannot tell which document or log was stuck."""
    try:
        return _acquire(path, timeout, root)
    except ff_locks.FFLockBusy:
        raise
    except FFStorageError as exc:
        raise FFStorageError(exc.message) from None


_open_lock_file = ff_locks._open_lock_file


def _open_lock_file_losing_path(lock_file: str, root: Path | str | None) -> Any:
    """A lock file that cannot be opened (a folder at its name, no permission) raises an
    FFStorageError naming no file: the operator cannot tell which lock file is in the way."""
    try:
        return _open_lock_file(lock_file, root)
    except FFStorageError as exc:
        raise FFStorageError(exc.message) from None


def _store_update_json_ignoring_default(self: FFStore, path: Path, updater: Callable[[Any], Any], *, default: Any = None) -> Any:
    """FFStore.update_json reads a missing document with ``None`` instead of the caller's
    ``default``: an updater that starts a counter or a list from its default crashes or loses it."""
    self.ensure_dir(path.parent)
    with self.lock(path):
        updated = updater(self.read_json(path, None))
        self.write_json(path, updated)
        return updated


# ====================================================================== the catalogue entries


def _d(name: str, replacement: Any, patches: tuple[_Patch, ...], *, suite: str = "component", test: str = "storage_contracts",
       origin: str = "README") -> PlantedDefect:
    if not patches:
        raise FFStorageError(f"planted defect {name}: nothing to patch")
    what = (replacement.__doc__ or "").strip()
    return PlantedDefect(name=name, what=" ".join(what.split()), origin=origin, suite=suite, test=test, patches=patches)


DEFECTS: tuple[PlantedDefect, ...] = (
    _d("atomic_write_in_place", atomic_write_in_place, _everywhere(_atomic_write, atomic_write_in_place)),
    _d("atomic_write_never_fsyncs", atomic_write_never_fsyncs, _everywhere(_atomic_write, atomic_write_never_fsyncs),
       suite="failure", test="failed_document_replace"),
    _d("atomic_write_leaves_temp", atomic_write_leaves_temp, _everywhere(_atomic_write, atomic_write_leaves_temp),
       suite="failure", test="failed_document_replace"),
    _d("append_without_lock", _NoLock, ((_jsonl_append, "ff_file_lock", _NoLock),)),
    _d("lock_within_process_only", _lock_within_process_only, ((ff_locks, "_try_lock", _lock_within_process_only),)),
    _d("append_not_rolled_back", _write_group_without_rollback,
       ((_jsonl_append._GroupCommitAppender, "_write_group", _write_group_without_rollback),), suite="failure", test="disk_full_append"),
    _d("record_limit_one_early", _encode_line_one_early, ((_jsonl_append, "_encode_line", _encode_line_one_early),)),
    _d("read_keeps_torn_line", read_keeps_torn_line, _everywhere(_read_jsonl, read_keeps_torn_line)),
    _d("tail_one_short", tail_one_short, _everywhere(_tail_jsonl, tail_one_short)),
    _d("tail_page_one_short", tail_page_one_short, _everywhere(_tail_page, tail_page_one_short)),
    _d("count_includes_torn_line", count_includes_torn, _everywhere(_count_lines, count_includes_torn)),
    _d("repair_cuts_last_newline", repair_cuts_last_newline, _everywhere(_repair, repair_cuts_last_newline)),
    _d("encryption_aad_not_bound_to_file", _unbound_aad, ((ff_encryption, "_aad", _unbound_aad),)),
    _d("encryption_nonce_reused_per_file", _seal_reusing_nonce,
       ((ff_encryption.FFEncryptionMiddleware, "seal", _seal_reusing_nonce),
        (ff_encryption.FFEncryptionMiddleware, "line_encoder", _line_encoder_reusing_nonce))),
    _d("rotation_skips_hidden_files", _rotation_skips_dot_files, ((ff_key_rotation, "_skipped", _rotation_skips_dot_files),)),
    _d("rotation_drops_torn_tail", _rotation_drops_torn_tail, ((ff_key_rotation._Recoder, "log", _rotation_drops_torn_tail),)),
    _d("manifest_skips_hidden_files", _walk_skipping_hidden, ((ff_hashing, "_walk", _walk_skipping_hidden),)),
    _d("manifest_stops_at_symlink", _walk_stopping_at_symlink, ((ff_hashing, "_walk", _walk_stopping_at_symlink),),
       origin="mutant ff_utils.ff_hashing.x__walk__mutmut_20"),
    _d("manifest_skips_empty_files", _hash_skipping_empty, ((ff_hashing, "_hash_files", _hash_skipping_empty),)),
    _d("manifest_compared_by_size", _diff_by_size, _everywhere(_diff, _diff_by_size)),
    _d("listing_follows_symlinks", _list_following_links, _everywhere(_list_dir, _list_following_links)),
    _d("remove_tree_follows_link_on_the_way", remove_tree_following_links_on_the_way,
       _everywhere(_remove_tree, remove_tree_following_links_on_the_way), origin="mutant ff_utils.ff_file_ops.x_ff_remove_tree__mutmut_4"),
    _d("repair_misses_newline_at_block_start", repair_missing_newline_at_block_start,
       _everywhere(_repair, repair_missing_newline_at_block_start), origin="mutant ff_utils._jsonl_read.x_ff_repair_jsonl__mutmut_64"),
    _d("store_remove_tree_without_root", _store_remove_tree_without_root,
       ((FFStore, "remove_tree", _store_remove_tree_without_root),), origin="mutant ff_utils.ff_store.xǁFFStoreǁremove_tree__mutmut_2"),
    _d("store_tail_page_without_root", _store_tail_page_without_root,
       ((FFStore, "tail_jsonl_page", _store_tail_page_without_root),), origin="mutant ff_utils.ff_store.xǁFFStoreǁtail_jsonl_page__mutmut_3"),
    _d("store_lock_without_root", _store_lock_without_root,
       ((FFStore, "lock", _store_lock_without_root),), origin="mutant ff_utils.ff_store.xǁFFStoreǁlock__mutmut_3"),
    _d("store_key_variable_ignored", _from_config_ignoring_key_env,
       ((FFStore, "from_config", classmethod(_from_config_ignoring_key_env)),), origin="mutant ff_utils.ff_store.xǁFFStoreǁfrom_config__mutmut_16"),
    _d("symlinks_below_root_followed", _safe_path_ignoring_links,
       (*_everywhere(_safe_path, _safe_path_ignoring_links), (FFStore, "confine_to_root", False))),
    _d("space_refused_in_names", _check_segment_refusing_space,
       ((ff_file_ops, "_check_segment", _check_segment_refusing_space),), origin="mutant ff_utils.ff_file_ops.x__check_segment__mutmut_30"),
    _d("path_refusal_without_value", _refuse_without_value,
       ((ff_file_ops, "_refuse", _refuse_without_value),), origin="mutant ff_utils.ff_file_ops.x__refuse__mutmut_3"),
    _d("lock_timeout_without_path", _acquire_losing_path,
       ((ff_locks, "_acquire", _acquire_losing_path),), origin="mutant ff_utils.ff_locks.x__acquire__mutmut_24"),
    _d("lock_open_error_without_path", _open_lock_file_losing_path,
       ((ff_locks, "_open_lock_file", _open_lock_file_losing_path),), origin="mutant ff_utils.ff_locks.x__open_lock_file__mutmut_9"),
    _d("store_update_json_ignores_default", _store_update_json_ignoring_default,
       ((FFStore, "update_json", _store_update_json_ignoring_default),), origin="mutant ff_utils.ff_store.xǁFFStoreǁupdate_json__mutmut_6"),
)
