"""Safe paths and atomic file replacement: the only module that decides where bytes land.

Two invariants every manager relies on:

* :func:`ff_safe_path` is the one way to turn a data root plus untrusted parts into a path. It
  refuses ``..``, absolute parts, NUL, backslashes and any existing symlink below the root, then
  resolves the result and checks it is still inside the root.
* :func:`ff_atomic_write` replaces a file so a reader sees the old bytes or the new bytes, never
  a mix: temp file in the same directory, write, flush, fsync, ``os.replace``, fsync the directory.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ff_utils._dir_fd import NOFOLLOW, ff_lstat_under, ff_open_parent, ff_refuse_link
from ff_utils.ff_errors import FFNotFoundError, FFStorageError, FFValidationError, ff_translate_errors

__all__ = [
    "ff_safe_path",
    "ff_atomic_write",
    "ff_atomic_file",
    "ff_ensure_directory",
    "ff_fsync_directory",
    "ff_open_read",
    "ff_read_bytes",
    "ff_remove_tree",
]

_MAX_PATH_BYTES = 4096
_NAME_MAX = 255  # bytes in one file name (NAME_MAX on Linux)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC
_READ_FLAGS = os.O_RDONLY | _CLOEXEC


def _refuse(message: str, part: object) -> FFValidationError:
    return FFValidationError(f"unsafe path: {message}", field="path", value=part)


_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}")


def _check_segment(segment: str, part: str) -> None:
    """Refuse a segment no file name under the root may be (the slow path of :func:`ff_safe_path`)."""
    if segment in ("", ".", ".."):
        raise _refuse(f"segment {segment!r} in {part[:60]!r}", part)
    try:
        encoded = segment.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate cannot become a file name
        raise _refuse(f"not valid Unicode in {part[:60]!r}", part) from exc
    if len(encoded) > _NAME_MAX:
        raise _refuse(f"path segment longer than {_NAME_MAX} bytes", part)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in segment):
        raise _refuse(f"control character in {part[:60]!r}", part)


def ff_safe_path(root: Path | str, *parts: str) -> Path:
    """Join ``parts`` under ``root`` and return the resolved path, or raise FFValidationError.

    Each part may hold several ``/``-separated segments (``"users/alice"``). Symlinks below the
    root are refused even when they point inside it, because a later swap of their target would
    redirect writes; the root itself may be a symlink (``/tmp`` often is).

    The result needs no second ``resolve()``: the root is resolved, no segment is ``.``, ``..``
    or empty, and every existing segment was checked not to be a symlink, so the joined path is
    already canonical. (Every manager call builds paths here, on the event loop: the second
    resolve and pathlib joins per segment were a third of ``add_message``'s own CPU time.)
    """
    root_text = os.path.realpath(root)
    segments: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise _refuse(f"path part must be a string, not {type(part).__name__}", part)
        if part == "":
            raise _refuse("empty path part", part)
        if "\x00" in part:
            raise _refuse("NUL byte in path part", part)
        if "\\" in part:
            raise _refuse("backslash in path part", part)
        if part.startswith("/") or (len(part) > 1 and part[1] == ":"):
            raise _refuse(f"absolute path part {part[:60]!r}", part)
        for segment in part.split("/"):
            if _PLAIN_SEGMENT.fullmatch(segment) is None:  # ids always match; anything else is checked in full
                _check_segment(segment, part)
            segments.append(segment)
    candidate = os.path.join(root_text, *segments)
    if len(os.fsencode(candidate)) > _MAX_PATH_BYTES:
        raise _refuse("path too long", candidate[:80])
    # Walk the existing prefix: any symlink (or special file) below the root is refused.
    current = root_text
    for segment in segments:
        current = os.path.join(current, segment)
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            break
        except OSError as exc:  # e.g. ENOTDIR: a file where a directory should be
            raise _refuse(f"cannot inspect {segment!r}: {exc.strerror}", segment) from exc
        if stat.S_ISLNK(mode):
            raise _refuse(f"symlink {segment!r} below the data root", segment)
    if candidate != root_text and not candidate.startswith(root_text.rstrip("/") + "/"):
        raise _refuse("path escapes the data root", candidate)
    return Path(candidate)


def ff_ensure_directory(path: Path | str, *, root: Path | str | None = None) -> Path:
    """Create ``path`` (and parents) if missing; return it. Raises FFStorageError on failure.

    With ``root``, every level below it is created and opened without following a symlink
    (FFValidationError when one is met), so a swapped directory cannot redirect the creation.
    """
    directory = Path(path)
    if root is not None and os.fspath(directory) != os.fspath(root):
        with ff_open_parent(directory / "_", root, create=True):
            pass
        return directory
    with ff_translate_errors("create directory", directory):
        directory.mkdir(parents=True, exist_ok=True)
    return directory


def ff_fsync_directory(directory: Path | str) -> None:
    """Make a rename or file creation in ``directory`` durable (POSIX needs the dir fsynced)."""
    with ff_translate_errors("fsync directory", directory):
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _refuse_existing_link(parent: int, name: str, target: Path) -> None:
    """A symlink at the final name is refused, not replaced: it was planted, and says so."""
    try:
        mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        raise ff_refuse_link(name, target)


def _temp_prefix(name: str, tail_bytes: int) -> str:
    """``.<name>.`` for a temp file beside ``name``, the name cut (on a character boundary) so that
    the prefix and ``tail_bytes`` more stay within the 255 bytes of a file name: every name the
    path check accepts can be written atomically."""
    room = _NAME_MAX - tail_bytes - 2
    encoded = name.encode()
    if len(encoded) > room:
        name = encoded[:room].decode(errors="ignore")
    return f".{name}."


def ff_atomic_write(
    path: Path | str, data: bytes, *, fsync: bool = True, mode: int = 0o644, root: Path | str | None = None
) -> None:
    """Replace ``path`` with ``data`` atomically.

    With ``fsync=False`` the replace is still atomic for readers and for a crashing process, but
    not against power loss; that is the ``never``/``batch`` durability trade. ``mode`` is set
    explicitly because the temp file is created 0600, and JSONL logs are created 0644 too.

    Everything happens relative to the parent's descriptor, reached by the no-follow walk from
    ``root`` (see :mod:`ff_utils._dir_fd`): the temp file is created ``O_EXCL | O_NOFOLLOW``,
    ``os.replace`` renames within that descriptor, and the same descriptor is fsynced. A symlink
    at the target name, or on the way to it, is FFValidationError and nothing is written.
    """
    target = Path(path)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FFValidationError("ff_atomic_write takes bytes", field="data", value=type(data).__name__)
    with ff_open_parent(target, root, create=True) as (parent, name):
        _refuse_existing_link(parent, name, target)
        with ff_translate_errors("write file", target):
            random_part = secrets.token_hex(6)
            tmp_name = f"{_temp_prefix(name, len(random_part) + 4)}{random_part}.tmp"
            fd = os.open(tmp_name, _CREATE_FLAGS | NOFOLLOW, 0o600, dir_fd=parent)
            try:
                os.fchmod(fd, mode)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    if fsync:
                        os.fsync(handle.fileno())
                os.replace(tmp_name, name, src_dir_fd=parent, dst_dir_fd=parent)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp_name, dir_fd=parent)
                raise
            if fsync:
                os.fsync(parent)


@contextlib.contextmanager
def ff_atomic_file(destination: Path | str, *, suffix: str = ".tmp") -> Iterator[Path]:
    """A temp file beside ``destination`` for a writer that fills a file through its own API (a
    download, a chunked copy), where :func:`ff_atomic_write`'s bytes in hand do not fit.

    On a clean exit the file is fsynced and renamed over ``destination`` and the directory
    fsynced: a reader or a crash sees no file or the whole file, never a prefix. On an error the
    temp file is removed and nothing is placed.
    """
    destination = Path(destination)
    ff_ensure_directory(destination.parent)
    prefix = _temp_prefix(destination.name, 8 + len(suffix.encode()))  # mkstemp puts 8 random characters before the suffix
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=destination.parent)
    os.close(fd)
    try:
        yield Path(name)
        fd = os.open(name, os.O_RDONLY | _CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(name, destination)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise
    ff_fsync_directory(destination.parent)


def ff_open_read(path: Path | str, root: Path | str | None = None, *, writable: bool = False) -> int:
    """A descriptor for reading (and, if ``writable``, writing) an existing ``path``, opened
    without following a symlink: neither at the final name nor, with ``root``, below the root."""
    flags = (os.O_RDWR | _CLOEXEC) if writable else _READ_FLAGS
    with ff_open_parent(path, root) as (parent, name), ff_translate_errors("open file", path):
        try:
            return os.open(name, flags | NOFOLLOW, dir_fd=parent)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EMLINK):
                raise ff_refuse_link(name, path) from None
            raise


def ff_read_bytes(path: Path | str, *, max_bytes: int | None = None, root: Path | str | None = None) -> bytes:
    """Read a whole file (attachments, blobs), never through a symlink.

    Raises FFNotFoundError when it is missing, FFValidationError when it is larger than
    ``max_bytes`` (checked before reading, so a huge file is never pulled into memory) or is a
    symlink, and FFStorageError on other I/O failures.
    """
    target = Path(path)
    fd = ff_open_read(target, root)
    with ff_translate_errors("read file", target), os.fdopen(fd, "rb") as handle:
        if max_bytes is not None:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise FFValidationError(
                    f"file of {size:,} bytes exceeds the limit of {max_bytes:,}", field="path", value=str(target)
                )
        return handle.read()


def ff_remove_tree(path: Path | str, *, root: Path | str | None = None) -> None:
    """Delete a directory tree (used for knowledge bases, staging copies). Missing is fine.

    A symlink (at ``path`` or, with ``root``, on the way to it) is refused; below ``path``
    ``shutil.rmtree`` works on directory descriptors and unlinks links without following them.
    """
    import shutil

    target = Path(path)
    try:
        mode = ff_lstat_under(target, root).st_mode if root is not None else os.lstat(target).st_mode
    except (FileNotFoundError, FFNotFoundError):
        return
    if stat.S_ISLNK(mode):
        raise FFStorageError("refusing to delete through a symlink", path=target)
    with ff_translate_errors("remove directory", target):
        shutil.rmtree(target, ignore_errors=False)
