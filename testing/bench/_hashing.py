"""Workload 4, manifest hashing: SHA-256 of every file of a directory (about 2,000 files, 100 MB).

Ours: ``ff_utils.ff_hashing.ff_build_manifest`` (one thread per core pulling files from a shared
list: hashlib releases the GIL while it hashes, so the threads use every core). Peers: coreutils
``sha256sum`` over the same files (one process, given every path at once) and single-threaded
``hashlib`` with 1 MiB reads. The files were just written, so all of them read from the page
cache: this measures hashing and file handling, not the disk.

Scaling, in the same run: ``ours_1w`` is our manifest on one thread, and ``ram_1t``/``ram_2t``
hash an in-memory buffer on one and two threads. ``ram_2t / ram_1t`` is how much of a second
core the machine gave in this run (about 2 when idle, about 1 when other work holds a core),
the ceiling for ``ours / ours_1w``; on a loaded machine a missed ``ours / hashlib_1t`` target
shows there, beside the figure.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from ff_utils.ff_file_ops import ff_atomic_write
from ff_utils.ff_hashing import ff_build_manifest
from testing.bench._core import FFBenchCase, FFBenchSizes, FFComparisonSpec, FFMetric

__all__ = ["NAME", "COMPARISONS", "PARTS", "workload", "make_tree"]

NAME = "manifest_hashing"
PARTS = 4
_RATE = FFMetric("mb_per_s", "MB/s", True)
COMPARISONS = (
    FFComparisonSpec("mb_per_s", "ours", "sha256sum", ">=", 2.5),
    FFComparisonSpec("mb_per_s", "ours", "hashlib_1t", ">=", 1.5),
)
_MIB = 1024 * 1024
_RAM_BLOCK = 8 * _MIB
_RAM_BLOCKS = 24  # 192 MiB hashed per run, about as long as hashing the tree


def make_tree(root: Path, files: int, total_bytes: int, seed: int = 8) -> list[Path]:
    """``files`` files of varied sizes adding up to ``total_bytes``, spread over ``PARTS`` folders."""
    rng = random.Random(seed)
    weights = [rng.uniform(0.2, 1.8) for _ in range(files)]
    scale = total_bytes / sum(weights)
    sizes = [max(1, int(w * scale)) for w in weights]
    sizes[-1] += total_bytes - sum(sizes)
    block = rng.randbytes(4 * _MIB)
    paths = []
    for i, size in enumerate(sizes):
        path = root / f"part{i % PARTS}" / f"file_{i:05d}.bin"
        offset = rng.randrange(len(block))
        data = (block[offset:] + block)[:size] if size <= len(block) else (block * (size // len(block) + 1))[:size]
        data = i.to_bytes(4, "little") + data[4:]  # no two files alike
        ff_atomic_write(path, data, fsync=False)
        paths.append(path)
    return paths


def _ours(root: Path, total: int) -> dict[str, float]:
    started = time.perf_counter()
    manifest = ff_build_manifest(root)
    elapsed = time.perf_counter() - started
    if manifest.total_bytes != total:
        raise RuntimeError(f"manifest covers {manifest.total_bytes} bytes, expected {total}")
    return {"mb_per_s": total / _MIB / elapsed}


def _sha256sum(root: Path, relative: list[str], total: int) -> dict[str, float]:
    started = time.perf_counter()
    done = subprocess.run(["sha256sum", "--", *relative], cwd=root, capture_output=True, check=True)
    elapsed = time.perf_counter() - started
    if done.stdout.count(b"\n") != len(relative):
        raise RuntimeError("sha256sum did not hash every file")
    return {"mb_per_s": total / _MIB / elapsed}


def _hashlib(paths: list[Path], total: int) -> dict[str, float]:
    started = time.perf_counter()
    buffer = bytearray(_MIB)
    view = memoryview(buffer)
    for path in paths:
        digest = hashlib.sha256()
        with path.open("rb", buffering=0) as handle:
            while read := handle.readinto(buffer):
                digest.update(view[:read])
        digest.hexdigest()
    return {"mb_per_s": total / _MIB / (time.perf_counter() - started)}


def _ours_one_worker(root: Path, total: int) -> dict[str, float]:
    """The same manifest on one thread: ours' own 1 -> 2 core scaling, in the same run."""
    started = time.perf_counter()
    manifest = ff_build_manifest(root, workers=1)
    elapsed = time.perf_counter() - started
    if manifest.total_bytes != total:
        raise RuntimeError(f"manifest covers {manifest.total_bytes} bytes, expected {total}")
    return {"mb_per_s": total / _MIB / elapsed}


def _ram(threads: int) -> dict[str, float]:
    """SHA-256 of an in-memory buffer on ``threads`` threads: what the machine's cores give now.

    No files, no Python per block worth counting: the ceiling of any threaded hashing in this
    run. On two idle cores ``ram_2t`` is about twice ``ram_1t``; when other work holds a core,
    it is not, and no manifest can scale further than this does.
    """
    block = bytes(_RAM_BLOCK)

    def work() -> None:
        for _ in range(_RAM_BLOCKS // threads):
            hashlib.sha256(block).digest()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"mb_per_s": _RAM_BLOCKS * _RAM_BLOCK / _MIB / (time.perf_counter() - started)}


@contextlib.contextmanager
def workload(sizes: FFBenchSizes, work: Path) -> Iterator[list[FFBenchCase]]:
    root = work / "hash_tree"
    paths = make_tree(root, sizes.hash_files, sizes.hash_bytes)
    relative = [p.relative_to(root).as_posix() for p in paths]
    total = sizes.hash_bytes
    label = f"{len(paths):,} files, {total / _MIB:.0f} MiB"
    cases = [
        FFBenchCase("ours", "ours", (_RATE,), lambda: _ours(root, total), f"ff_build_manifest; {label}"),
        FFBenchCase("hashlib_1t", "hashlib", (_RATE,), lambda: _hashlib(paths, total), "one thread, 1 MiB reads"),
        FFBenchCase("ours_1w", "ours", (_RATE,), lambda: _ours_one_worker(root, total), "ff_build_manifest(workers=1)"),
        FFBenchCase("ram_1t", "hashlib", (_RATE,), lambda: _ram(1), "in-memory 8 MiB blocks, 1 thread: the core's rate"),
        FFBenchCase("ram_2t", "hashlib", (_RATE,), lambda: _ram(2), "the same on 2 threads: the cores free in this run"),
    ]
    if shutil.which("sha256sum"):
        cases.insert(1, FFBenchCase("sha256sum", "sha256sum", (_RATE,), lambda: _sha256sum(root, relative, total), "coreutils, one process"))
    try:
        yield cases
    finally:
        shutil.rmtree(root, ignore_errors=True)
