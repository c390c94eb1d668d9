"""Opening files under a data root without ever following a symlink below it.

A checked path is only as good as the moment it was checked: ``ff_safe_path`` looks at every
segment once, but a directory swapped for a symlink afterwards (or a log file replaced by a
link) would redirect a later ``open(path)`` anywhere the process may write. So every open under
a root goes through :func:`ff_open_parent`, which starts from the root's directory descriptor
and opens each directory component *relative to the previous one* with
``O_DIRECTORY | O_NOFOLLOW``; the caller then opens the final name with ``O_NOFOLLOW`` relative
to the parent's descriptor (``os.open(name, flags, dir_fd=parent)``). Nothing is resolved by
path text after the root, so no later swap can redirect the open: a symlink met on the way is
refused with the same FFValidationError ``ff_safe_path`` raises.

The root itself may be a symlink (``/tmp`` often is); the guarantee covers what is below it.
Callers that give no root get the final component's guarantee only (the parent is opened as
given). The walk costs one ``openat`` and one ``close`` per directory level, a few microseconds,
and is done per open so that no descriptor outlives a check.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

from ff_utils.ff_errors import FFValidationError, ff_translate_errors

__all__ = ["NOFOLLOW", "ff_open_parent", "ff_walk_parent", "ff_relative_parts", "ff_refuse_link", "ff_lstat_under"]

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
"""The flag that refuses a symlink as the last component (a module attribute: the planted-defect
tests set it to 0 to show the refusals go red without it)."""
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


def ff_refuse_link(name: str, path: Path | str | None = None) -> FFValidationError:
    """The error for a symlink met below the root (the same type and wording as ``ff_safe_path``)."""
    return FFValidationError(f"unsafe path: symlink {name!r} below the data root", field="path", value=str(path or name))


def ff_relative_parts(root: str, path: str) -> list[str]:
    """``path``'s components below ``root``; FFValidationError when it is not under ``root``."""
    prefix = root.rstrip("/") + "/"
    if not path.startswith(prefix) or root == "":
        raise FFValidationError("unsafe path: path escapes the data root", field="path", value=path)
    parts = path[len(prefix) :].split("/")
    if "" in parts or "." in parts or ".." in parts:
        raise FFValidationError(f"unsafe path: segment in {path[:80]!r}", field="path", value=path)
    return parts


def _open_dir_at(name: str, parent: int, path: str, create: bool) -> int:
    """Open directory ``name`` under ``parent`` without following it; create it when asked."""
    flags = _DIR_FLAGS | NOFOLLOW
    for _attempt in range(2):
        try:
            return os.open(name, flags, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                raise
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o755, dir_fd=parent)
        except OSError as exc:
            # ELOOP (or ENOTDIR with O_DIRECTORY) on a symlink: say which, as ff_safe_path does.
            try:
                mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
            except OSError:
                raise exc from None
            if stat.S_ISLNK(mode):
                raise ff_refuse_link(name, path) from None
            raise
    return os.open(name, flags, dir_fd=parent)


def ff_walk_parent(path: Path | str, root: Path | str | None, *, create: bool = False) -> tuple[int, str]:
    """``(parent directory descriptor, final name)`` for ``path``, walked from ``root``; the caller closes it.

    Every directory below ``root`` is opened relative to the one above it, without following
    symlinks (a symlink is FFValidationError; a missing directory is FFNotFoundError unless
    ``create``). A plain function, not a context manager: it is on every append's path.
    """
    text = os.fspath(path)
    if root is None:
        directory, name = os.path.split(text)
        try:
            if create:
                os.makedirs(directory or ".", exist_ok=True)
            return os.open(directory or ".", _DIR_FLAGS), name
        except OSError as exc:
            _raise_translated(exc, directory)
    parts = ff_relative_parts(os.fspath(root), text)
    try:
        fd = os.open(os.fspath(root), _DIR_FLAGS)
    except OSError as exc:
        _raise_translated(exc, root)
    try:
        for name in parts[:-1]:
            child = _open_dir_at(name, fd, text, create)
            os.close(fd)
            fd = child
    except OSError as exc:
        os.close(fd)
        _raise_translated(exc, text)
    except BaseException:
        os.close(fd)
        raise
    return fd, parts[-1]


def _raise_translated(exc: OSError, path: object) -> NoReturn:
    with ff_translate_errors("open directory", str(path)):
        raise exc
    raise exc  # unreachable: ff_translate_errors always raises an FFError for an OSError


@contextlib.contextmanager
def ff_open_parent(path: Path | str, root: Path | str | None, *, create: bool = False) -> Iterator[tuple[int, str]]:
    """:func:`ff_walk_parent` as a ``with`` block that closes the descriptor."""
    fd, name = ff_walk_parent(path, root, create=create)
    try:
        yield fd, name
    finally:
        os.close(fd)


def ff_lstat_under(path: Path | str, root: Path | str | None) -> os.stat_result:
    """``lstat`` of ``path`` reached by the no-follow walk (FFNotFoundError when missing)."""
    with ff_open_parent(path, root) as (parent, name), ff_translate_errors("stat", path):
        return os.stat(name, dir_fd=parent, follow_symlinks=False)
