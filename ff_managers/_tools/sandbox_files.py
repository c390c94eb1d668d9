"""Files in and out of a sandboxed run, through memfds the tool never sees.

The sandbox's work dir is a tmpfs that exists only while the run does, and no host directory is
writable from inside. So the manager frames the staged input files into a memfd the supervisor
unpacks (as the tool's uid) before the tool starts, and the supervisor frames the work dir's
regular files into another memfd after every process of the run is gone. The frame is the one
:mod:`ff_managers._core.sandbox_frames` writes: a header line ``b"<name length> <size>\n"``, the
name's bytes, then the file's bytes (plain text, so the supervisor needs no ``json`` import, and
length-prefixed, so a name with a newline cannot shift the frame). Reading back is bounded by the
copy-back cap, and every name is checked again here, because the tool chose them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

__all__ = ["ff_read_packed", "ff_write_packed"]

_MAX_HEADER = 64
_MAX_NAME = 4096


def ff_write_packed(files: Iterable[tuple[str, bytes]]) -> int:
    """A new memfd (offset 0) holding ``files`` framed; the caller passes it to the run and closes it."""
    fd = os.memfd_create("ff-tool-in", os.MFD_CLOEXEC)
    try:
        for name, data in files:
            encoded = name.encode()
            os.write(fd, b"%d %d\n" % (len(encoded), len(data)) + encoded)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        os.lseek(fd, 0, os.SEEK_SET)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _safe_relative(name: object) -> str | None:
    if not isinstance(name, str) or not name or "\x00" in name or name.startswith("/"):
        return None
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    return name


def ff_read_packed(fd: int, cap: int) -> list[tuple[str, bytes]]:
    """The framed files in ``fd`` (from offset 0), at most ``cap`` bytes of content; unsafe names dropped."""
    files: list[tuple[str, bytes]] = []
    offset = total = 0
    end = os.fstat(fd).st_size
    while offset < end:
        head = os.pread(fd, _MAX_HEADER, offset)
        newline = head.find(b"\n")
        if newline < 0:
            break
        try:
            name_length, size = (int(part) for part in head[:newline].split(b" "))
        except ValueError:
            break
        offset += newline + 1
        if not 0 < name_length <= _MAX_NAME or size < 0 or total + size > cap or offset + name_length + size > end:
            break
        raw_name = os.pread(fd, name_length, offset)
        offset += name_length
        data = os.pread(fd, size, offset)
        offset += size
        total += size
        try:
            name = _safe_relative(raw_name.decode("utf-8"))
        except UnicodeDecodeError:  # a name that is not UTF-8 cannot be stored: skipped, the rest still read
            name = None
        if name is not None:
            files.append((name, data))
    return files
