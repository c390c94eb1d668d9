"""Safe paths and atomic file replacement: the only module that decides where bytes land.

Two invariants every manager relies on:

* :func:`ff_safe_path` is the one way to turn a data root plus untrusted parts into a path. It
  refuses ``..``, absolute parts, NUL, backslashes and any existing symlink below the root, then
  resolves the result and checks it is still inside the root.
* :func:`ff_atomic_write` replaces a file so a reader sees the old bytes or the new bytes, never
  a mix: temp file in the same directory, write, flush, fsync, ``os.replace``, fsync the directory.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path

from ff_utils.ff_errors import FFStorageError, FFValidationError, ff_translate_errors

__all__ = [
    "ff_safe_path",
    "ff_atomic_write",
    "ff_ensure_directory",
    "ff_fsync_directory",
    "ff_read_bytes",
    "ff_remove_tree",
]

_MAX_PATH_BYTES = 4096


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
    if len(encoded) > 255:
        raise _refuse("path segment longer than 255 bytes", part)
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


def ff_ensure_directory(path: Path | str) -> Path:
    """Create ``path`` (and parents) if missing; return it. Raises FFStorageError on failure."""
    directory = Path(path)
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


def ff_atomic_write(path: Path | str, data: bytes, *, fsync: bool = True, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` atomically.

    With ``fsync=False`` the replace is still atomic for readers and for a crashing process, but
    not against power loss; that is the ``never``/``batch`` durability trade. ``mode`` is set
    explicitly because the temp file is created 0600, and JSONL logs are created 0644 too.
    """
    target = Path(path)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FFValidationError("ff_atomic_write takes bytes", field="data", value=type(data).__name__)
    ff_ensure_directory(target.parent)
    with ff_translate_errors("write file", target):
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                if fsync:
                    os.fsync(handle.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            try:
                os.unlink(tmp_name)
            except FileNotFoundError:
                pass
            raise
    if fsync:
        ff_fsync_directory(target.parent)


def ff_read_bytes(path: Path | str, *, max_bytes: int | None = None) -> bytes:
    """Read a whole file (attachments, blobs).

    Raises FFNotFoundError when it is missing, FFValidationError when it is larger than
    ``max_bytes`` (checked before reading, so a huge file is never pulled into memory), and
    FFStorageError on other I/O failures.
    """
    target = Path(path)
    with ff_translate_errors("read file", target), target.open("rb") as handle:
        if max_bytes is not None:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise FFValidationError(
                    f"file of {size:,} bytes exceeds the limit of {max_bytes:,}", field="path", value=str(target)
                )
        return handle.read()


def ff_remove_tree(path: Path | str) -> None:
    """Delete a directory tree (used for knowledge bases, staging copies). Missing is fine."""
    import shutil

    target = Path(path)
    if target.is_symlink():
        raise FFStorageError("refusing to delete through a symlink", path=target)
    with ff_translate_errors("remove directory", target):
        shutil.rmtree(target, ignore_errors=False) if target.exists() else None
