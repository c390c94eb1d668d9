"""Re-encrypting a data root under a new key, one file at a time, resumable after a crash.

A rotation must never leave a file half in one key and half in another *without saying so*, and
must survive being killed at any point. So each file is rewritten whole into a temp file and
renamed over the old one (:func:`ff_utils.ff_file_ops.ff_atomic_write`): a crash leaves every
file either entirely as it was or entirely re-encrypted. Every sealed blob names its key id, so a
second run reads old and new files alike and skips what is already under the new key; the data
root's ``ff_meta.json`` records that a rotation is under way (both key ids; see
:func:`ff_managers.ff_data_root.ff_set_encryption`), which the caller sets before and clears after.

The old key may be None: that encrypts a plaintext root. JSONL logs are rewritten line by line
(each line its own record, under the file's lock); a line that cannot be decoded (already corrupt,
or torn by a crash) is kept byte for byte and counted, since dropping it would lose evidence.
Symlinks are neither followed nor rewritten; lock files, temp files and the root's ``ff_meta.json``
are left alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ff_utils.ff_encryption import FFEncryptionMiddleware, FFKey
from ff_utils.ff_errors import ff_translate_errors
from ff_utils.ff_file_ops import ff_atomic_write, ff_read_bytes
from ff_utils.ff_locks import FF_LOCK_SUFFIX, ff_file_lock

__all__ = ["FFRotationReport", "ff_reencrypt_tree"]

_LINE_PREFIX = b"ffe1:"


@dataclass(slots=True)
class FFRotationReport:
    """What one pass did: files rewritten, files already under the new key, what could not be read."""

    files_rewritten: int = 0
    files_already_done: int = 0
    records_rewritten: int = 0
    unreadable: list[str] = field(default_factory=list)


class _Recoder:
    """Decodes with the old key (or reads plaintext when there is none) or the new one; encodes with the new."""

    def __init__(self, old: FFKey | None, new: FFKey) -> None:
        self.new = FFEncryptionMiddleware(new, also_reads=(old,) if old is not None else ())
        self.new_id = new.key_id
        self.plain_source = old is None

    def document(self, relative: str, data: bytes) -> bytes | None:
        """The document under the new key; None when it already is. ValueError when unreadable."""
        key_id = FFEncryptionMiddleware.key_id_of(data)
        if key_id == self.new_id:
            return None
        plain = data if key_id is None and self.plain_source else self.new.open(relative, data)
        return self.new.seal(relative, plain)

    def log(self, relative: str, data: bytes) -> tuple[bytes | None, int, int]:
        """(the log under the new key or None when unchanged, records re-encoded, lines kept as they were)."""
        decode, encode = self.new.line_decoder(relative), self.new.line_encoder(relative)
        *complete, tail = data.split(b"\n")  # ``tail`` is b"" unless a crash tore the last line
        out: list[bytes] = []
        changed = kept = 0
        for line in complete:
            if not line.strip() or FFEncryptionMiddleware.key_id_of(line) == self.new_id:
                out.append(line)
                continue
            try:
                plain = line if self.plain_source and not line.startswith(_LINE_PREFIX) else decode(line)
            except ValueError:
                out.append(line)  # corrupt before the rotation: kept as evidence, still unreadable
                kept += 1
                continue
            out.append(encode(plain))
            changed += 1
        if tail:
            kept += 1
        if not changed:
            return None, 0, kept
        return b"\n".join(out) + b"\n" + tail, changed, kept


def _skipped(relative: str, name: str) -> bool:
    return relative == "ff_meta.json" or (name.startswith(".") and (name.endswith(FF_LOCK_SUFFIX) or name.endswith(".tmp")))


def _files(root: str) -> list[tuple[str, str]]:
    """(relative path, full path) of every regular file under ``root``; symlinks are not followed."""
    found: list[tuple[str, str]] = []
    pending = [(root, "")]
    while pending:
        directory, prefix = pending.pop()
        with ff_translate_errors("list directory", directory), os.scandir(directory) as listing:
            for entry in listing:
                relative = prefix + entry.name
                if entry.is_symlink():
                    continue
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, relative + "/"))
                elif entry.is_file(follow_symlinks=False) and not _skipped(relative, entry.name):
                    found.append((relative, entry.path))
    found.sort()
    return found


def ff_reencrypt_tree(root: Path | str, *, old: FFKey | None, new: FFKey, fsync: bool = True) -> FFRotationReport:
    """Rewrite every file under ``root`` from ``old`` (None: plaintext) to ``new``; safe to run again.

    Files ending in ``.jsonl`` are logs (one record per line), everything else a document.
    """
    base = os.fspath(Path(root).resolve())
    recoder = _Recoder(old, new)
    report = FFRotationReport()
    for relative, full in _files(base):
        if relative.endswith(".jsonl"):
            with ff_file_lock(full, root=base):
                rewritten, records, kept = recoder.log(relative, ff_read_bytes(full, root=base))
                if rewritten is not None:
                    ff_atomic_write(full, rewritten, fsync=fsync, root=base)
            if kept:
                report.unreadable.append(f"{relative}: {kept} line(s) kept as they were (corrupt or torn)")
        else:
            try:
                rewritten = recoder.document(relative, ff_read_bytes(full, root=base))
            except ValueError as exc:
                report.unreadable.append(f"{relative}: {exc}")
                continue
            records = 1 if rewritten is not None else 0
            if rewritten is not None:
                ff_atomic_write(full, rewritten, fsync=fsync, root=base)
        if rewritten is None:
            report.files_already_done += 1
        else:
            report.files_rewritten += 1
            report.records_rewritten += records
    return report
