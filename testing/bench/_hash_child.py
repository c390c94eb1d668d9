"""Child process: ``python -m testing.bench._hash_child DIR``: build DIR's manifest, print peak RSS.

Run apart from the benchmark so the figure is the hashing's own (``VmHWM`` of this process,
see :func:`testing.migration._worker.peak_rss_mb`), not the parent's.
"""

from __future__ import annotations

import sys

import orjson

from ff_utils.ff_hashing import ff_build_manifest
from testing.migration._worker import peak_rss_mb

__all__ = ["main"]


def main(argv: list[str]) -> int:
    manifest = ff_build_manifest(argv[0])
    sys.stdout.write(orjson.dumps({"peak_rss_mb": peak_rss_mb(), "bytes": manifest.total_bytes, "files": manifest.file_count}).decode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
