"""Reading JSONL logs: stream, tail, check, count and repair, never crashing on a bad line.

Readers (:func:`ff_read_jsonl`, :func:`ff_tail_jsonl`) skip a corrupt line or a torn last line
(a crash mid-append) and report it through ``on_bad_line`` instead of crashing;
:func:`ff_repair_jsonl` truncates a torn tail under the file's lock. Public names are
re-exported by :mod:`ff_utils.ff_json_utils`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ff_utils.ff_errors import FFNotFoundError, ff_translate_errors
from ff_utils.ff_file_ops import ff_open_read
from ff_utils.ff_locks import ff_file_lock
from ff_utils.ff_logging import get_logger

__all__ = [
    "FFBadLine",
    "FFJsonlHealth",
    "ff_read_jsonl",
    "ff_tail_jsonl",
    "ff_tail_jsonl_page",
    "TAIL_PAGE_BYTES",
    "ff_check_jsonl",
    "ff_count_jsonl_lines",
    "ff_repair_jsonl",
]

_TAIL_BLOCK = 16 * 1024
_log = get_logger("json")


@dataclass(frozen=True, slots=True)
class FFBadLine:
    """A JSONL line a reader skipped: where it is and why."""

    path: Path
    offset: int
    reason: str
    torn: bool = False
    line_number: int | None = None


@dataclass(frozen=True, slots=True)
class FFJsonlHealth:
    """What :func:`ff_check_jsonl` found in one JSONL file."""

    path: Path
    records: int
    bad_lines: tuple[FFBadLine, ...]
    torn_tail_bytes: int

    @property
    def healthy(self) -> bool:
        return not self.bad_lines


def _report(on_bad_line: Callable[[FFBadLine], None] | None, bad: FFBadLine) -> None:
    if on_bad_line is None:
        _log.warning("skipped %s line at byte %d of %s: %s", "torn" if bad.torn else "corrupt", bad.offset, bad.path, bad.reason)
    else:
        on_bad_line(bad)


LineDecoder = Callable[[bytes], bytes]
"""Turns a stored line back into its JSON bytes (a storage middleware: decryption); raises
ValueError for a line it cannot decode, which is then reported as a bad line."""


def _parse_coded(
    line: bytes, path: Path, offset: int, line_number: int | None, decode: LineDecoder | None
) -> tuple[Any, FFBadLine | None]:
    """Undo the middleware's line encoding (if any), then parse; an undecodable line is a bad line."""
    if decode is not None:
        try:
            line = decode(line.rstrip(b"\r\n"))
        except ValueError as exc:
            return None, FFBadLine(path, offset, f"undecodable record: {exc}", False, line_number)
    return _parse_line(line, path, offset, line_number)


def _parse_line(line: bytes, path: Path, offset: int, line_number: int | None) -> tuple[Any, FFBadLine | None]:
    try:
        return orjson.loads(line), None
    except orjson.JSONDecodeError as exc:
        return None, FFBadLine(path, offset, f"invalid JSON: {exc}", False, line_number)


def _open(target: Path, root: Path | str | None, buffering: int = -1) -> Any:
    """The file opened for reading without following a symlink (FFNotFoundError when missing).

    ``os.fdopen`` refuses a directory (EISDIR) without closing the descriptor it was given: the
    error is translated here and the descriptor closed, so a reader pointed at a folder gets an
    FFStorageError and leaks nothing."""
    fd = ff_open_read(target, root)
    try:
        with ff_translate_errors("open file", target):
            return os.fdopen(fd, "rb", buffering=buffering)
    except BaseException:
        os.close(fd)
        raise


def ff_read_jsonl(
    path: Path | str,
    *,
    on_bad_line: Callable[[FFBadLine], None] | None = None,
    root: Path | str | None = None,
    decode: LineDecoder | None = None,
) -> Iterator[Any]:
    """Stream the records of a JSONL file, oldest first, in constant memory.

    A missing file reads as empty. Corrupt lines and a torn last line are skipped and passed to
    ``on_bad_line`` (or logged). Blank lines are ignored. The file is opened without following
    a symlink (below ``root`` when given); ``decode`` undoes a middleware's line encoding.
    """
    target = Path(path)
    try:
        handle = _open(target, root)
    except FFNotFoundError:
        return
    with handle:
        offset = 0
        for number, line in enumerate(handle, start=1):
            line_offset, offset = offset, offset + len(line)
            if not line.endswith(b"\n"):
                _report(on_bad_line, FFBadLine(target, line_offset, "torn last line (no newline)", True, number))
                return
            if not line.strip():
                continue
            record, bad = _parse_coded(line, target, line_offset, number, decode)
            if bad is not None:
                _report(on_bad_line, bad)
            else:
                yield record


def _reverse_lines(handle: Any, size: int) -> Iterator[tuple[int, bytes, bool]]:
    """Yield ``(offset, line, torn)`` from the end of the file backwards, one block at a time.

    Only the file's last line can be torn (no newline after it). It is flagged by position, not
    by block: a torn tail longer than one block spans several reads and must still be flagged.
    """
    position = size
    carry = b""
    at_last_line = True  # the next piece yielded is the text after the file's final newline
    while position > 0:
        step = min(_TAIL_BLOCK, position)
        position -= step
        handle.seek(position)
        chunk = handle.read(step) + carry
        pieces = chunk.split(b"\n")
        carry = pieces[0]
        end = position + len(chunk)
        for piece in reversed(pieces[1:]):
            start = end - len(piece)
            if at_last_line:
                at_last_line = False
                if piece:  # a well-formed file ends with a newline, leaving nothing after it
                    yield (start, piece, True)
            else:
                yield (start, piece, False)
            end = start - 1  # the newline before it
    if carry:
        yield (0, carry, at_last_line)  # the first line (torn if it is also the only one)


def ff_tail_jsonl(
    path: Path | str,
    n: int,
    *,
    on_bad_line: Callable[[FFBadLine], None] | None = None,
    root: Path | str | None = None,
    decode: LineDecoder | None = None,
) -> list[Any]:
    """The last ``n`` good records, oldest first, reading backwards from the end.

    The cost depends on ``n`` and the record size, not on the file's length. A missing file
    reads as empty; bad lines are skipped (and reported), so up to ``n`` good records return.
    """
    if n <= 0:
        return []
    target = Path(path)
    try:
        handle = _open(target, root)
    except FFNotFoundError:
        return []
    found: list[Any] = []
    with handle:
        size = os.fstat(handle.fileno()).st_size
        for offset, line, torn in _reverse_lines(handle, size):
            if torn:
                _report(on_bad_line, FFBadLine(target, offset, "torn last line (no newline)", True))
                continue
            if not line.strip():
                continue
            record, bad = _parse_coded(line, target, offset, None, decode)
            if bad is not None:
                _report(on_bad_line, bad)
                continue
            found.append(record)
            if len(found) == n:
                break
    found.reverse()
    return found


def ff_check_jsonl(path: Path | str) -> FFJsonlHealth:
    """Count good records and list every bad line (a full scan)."""
    target = Path(path)
    bad: list[FFBadLine] = []
    records = sum(1 for _ in ff_read_jsonl(target, on_bad_line=bad.append))
    torn = sum(1 for b in bad if b.torn)
    torn_bytes = (target.stat().st_size - next(b.offset for b in bad if b.torn)) if torn else 0
    return FFJsonlHealth(target, records, tuple(bad), torn_bytes)


def ff_count_jsonl_lines(path: Path | str, *, root: Path | str | None = None) -> int:
    """Count the complete (newline-terminated) lines of a JSONL file without parsing them.

    A fast, constant-memory count (1 MiB blocks, counted in C) for "how many records" questions
    that must not parse every record. A torn last line is not counted; a corrupt complete line
    is (a full parse, :func:`ff_check_jsonl`, tells them apart). A missing file counts 0.
    """
    target = Path(path)
    try:
        handle = _open(target, root, buffering=0)
    except FFNotFoundError:
        return 0
    count = 0
    with handle, ff_translate_errors("count JSONL lines", target):
        while block := handle.read(1024 * 1024):
            count += block.count(b"\n")
    return count


def ff_repair_jsonl(path: Path | str, *, root: Path | str | None = None) -> int:
    """Truncate a torn last line (left by a crash mid-write); return the bytes removed.

    Runs under the file's lock, so it never races an appender. Corrupt complete lines in the
    middle are left alone: they are reported by readers, and deleting data is not a repair.
    The file is opened without following a symlink (below ``root`` when given).
    """
    target = Path(path)
    try:
        os.close(ff_open_read(target, root))  # exists, and is no symlink
    except FFNotFoundError:
        return 0
    with ff_file_lock(target, root=root), ff_translate_errors("repair JSONL", target):
        with os.fdopen(ff_open_read(target, root, writable=True), "r+b") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                return 0
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                return 0
            # Find the last newline; everything after it is the torn fragment.
            keep = 0
            position = size
            while position > 0:
                step = min(_TAIL_BLOCK, position)
                position -= step
                handle.seek(position)
                index = handle.read(step).rfind(b"\n")
                if index >= 0:
                    keep = position + index + 1
                    break
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
            removed = size - keep
    _log.warning("repaired %s: removed a torn tail of %d bytes", target, removed)
    return removed


TAIL_PAGE_BYTES = 64 * 1024
"""One read from the end: 50 records of up to ~1.3 KB each. Longer pages take the general path."""
_OPEN, _CLOSE = ord("{"), ord("}")


def ff_tail_jsonl_page(
    path: Path | str, limit: int, *, root: Path | str | None = None, page_bytes: int = TAIL_PAGE_BYTES
) -> tuple[bytes, int] | None:
    """The last ``limit`` lines of ``path`` (all of them when it holds fewer), from one read of
    its last ``page_bytes``: the bytes without the final newline, and how many lines they are.

    Each line must look like one JSON object (open with ``{``, close with ``}``). None when one
    read cannot vouch for the answer: the file is missing or empty, its last line has no newline
    (torn), a line is blank or of another shape, or the page holds fewer than ``limit`` lines
    and the file goes on before it. The file is opened without following a symlink (below
    ``root``, when given, no component may be one).
    """
    try:
        fd = ff_open_read(path, root)
    except FFNotFoundError:
        return None
    with ff_translate_errors("read file", path):
        try:
            size = os.fstat(fd).st_size
            start = max(0, size - page_bytes)
            data = os.pread(fd, size - start, start)
        finally:
            os.close(fd)
    if not data.endswith(b"\n"):
        return None  # empty, or a torn last line: the general reader reports it
    end = len(data) - 1  # the newline that ends the line being looked at, last line first
    for count in range(1, limit + 1):
        cut = data.rfind(b"\n", 0, end)  # the newline before it (-1: it is the page's first line)
        if cut < 0 and start > 0:
            return None  # the line may begin before the page
        if end == cut + 1 or data[end - 1] != _CLOSE or data[cut + 1] != _OPEN:
            return None  # blank, or not one object
        if cut < 0:
            return data[:-1], count  # the page is the whole file: fewer than ``limit`` lines
        end = cut
    return data[end + 1 : -1], limit
