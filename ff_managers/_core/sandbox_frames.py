"""The supervisor's half of the file frames: stage the inputs in the sandbox, copy its files out.

Part of the supervisor (:mod:`ff_managers._core.sandbox_launcher`) and bound by the same rule: it
runs inside the sandbox, where only C modules may be imported (here ``posix``), so it must stay
stdlib-only and lean. It is a module of its own because it has one job the rest of the
supervisor does not care about: the frame format. The manager compiles it together with the
launcher into the one code blob a sandbox gets (:func:`ff_managers._core.bwrap.ff_launcher_code_fd`),
this module's code first, both run in the same namespace. The manager's half of the frames
(writing the inputs, reading the copy-back) is :mod:`ff_managers._tools.sandbox_files`.

A frame: a header line ``b"<name length> <size>\\n"``, the name, then the bytes. Names are
length-prefixed, so a newline in one cannot shift the frames after it.
"""

import posix

__all__ = ["pack_files", "unpack_files"]

_COPY_CHUNK = 1024 * 1024
_MAX_NAME = 4096


def _header(name: bytes, size: int) -> bytes:
    """The frame of one file: ``b"<name length> <size>\\n"``, then the name, then the bytes."""
    return b"%d %d\n" % (len(name), size)


def _regular_files(root: bytes) -> list[tuple[bytes, bytes, int]]:
    """(path, name relative to root, size) of every file under root, in name order; no link followed.

    Symlinks, devices and FIFOs come with size -1 so they can be counted as skipped. Iterative, so
    a tool's thousand nested folders cannot exhaust the recursion limit.
    """
    found: list[tuple[bytes, bytes, int]] = []
    pending = [(root, b"")]
    while pending:
        folder, prefix = pending.pop()
        try:
            with posix.scandir(folder) as entries:
                listed = sorted(entries, key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in listed:
            rel = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                pending.append((entry.path, rel + b"/"))
            elif entry.is_file(follow_symlinks=False):
                found.append((entry.path, rel, entry.stat(follow_symlinks=False).st_size))
            else:
                found.append((entry.path, rel, -1))
    return found


def pack_files(root: str, out_fd: int, cap: int) -> dict[str, object]:
    """Frame root's regular files (see :func:`_header`) into ``out_fd``; stop at ``cap`` bytes.

    Symlinks, devices and FIFOs are skipped (listed by count), nothing is followed, and a file is
    opened with ``O_NOFOLLOW`` so one swapped for a link after the listing is skipped too.
    """
    written = files = skipped = 0
    truncated = False
    with open(posix.dup(out_fd), "wb") as out:
        for path, rel, size in _regular_files(root.encode()):
            if size < 0:
                skipped += 1
                continue
            if written + size > cap:
                truncated = True
                continue
            try:
                fd = posix.open(path, posix.O_RDONLY | posix.O_NOFOLLOW | posix.O_NONBLOCK)
            except OSError:
                skipped += 1
                continue
            with open(fd, "rb") as source:
                data = source.read(size + 1)[:size]
            out.write(_header(rel, len(data)) + rel)
            out.write(data)
            written += len(data)
            files += 1
    return {"files_out": files, "bytes_out": written, "skipped_out": skipped, "out_truncated": truncated}


def _make_parents(root: bytes, rel: bytes) -> None:
    parts = rel.split(b"/")[:-1]
    for depth in range(1, len(parts) + 1):
        try:
            posix.mkdir(root + b"/" + b"/".join(parts[:depth]), 0o700)
        except FileExistsError:
            pass


def unpack_files(in_fd: int, root: str) -> None:
    """Write the files framed into ``in_fd`` (names already checked by the manager) into ``root``."""
    base = root.encode()
    with open(posix.dup(in_fd), "rb") as source:
        source.seek(0)
        while True:
            header = source.readline(64)
            if not header:
                return
            name_length, size = (int(part) for part in header.split())
            if not 0 < name_length <= _MAX_NAME or size < 0:
                raise ValueError(f"bad input frame {header!r}")
            rel = source.read(name_length)
            if rel.startswith(b"/") or b".." in rel.split(b"/") or b"\0" in rel:
                raise PermissionError(f"refused input path {rel!r}")
            _make_parents(base, rel)
            flags = posix.O_WRONLY | posix.O_CREAT | posix.O_EXCL | posix.O_NOFOLLOW
            with open(posix.open(base + b"/" + rel, flags, 0o600), "wb") as sink:
                remaining = size
                while remaining:
                    chunk = source.read(min(remaining, _COPY_CHUNK))
                    if not chunk:
                        raise EOFError(f"input {rel!r} is short")
                    sink.write(chunk)
                    remaining -= len(chunk)
