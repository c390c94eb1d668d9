"""Bounded gzip inflate: a compressed body can never expand past the limit its reader sets.

Shared by the service's HTTP app (``Content-Encoding: gzip`` request bodies) and the
communication manager (CloudEvents ``data_base64`` payloads), so both refuse a zip bomb the same way.
"""

from __future__ import annotations

import zlib

from ff_utils.ff_errors import FFValidationError

__all__ = ["FFInflatedTooLargeError", "ff_gunzip_bounded"]


class FFInflatedTooLargeError(FFValidationError):
    """The data would inflate past the reader's limit (a zip bomb, or just too much)."""


def ff_gunzip_bounded(data: bytes, max_bytes: int) -> bytes:
    """Inflate gzip ``data`` to at most ``max_bytes``; FFValidationError past it or when it is not gzip.

    Inflates in steps with ``max_length``, so a small bomb never allocates more than the bound.
    """
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise FFValidationError(f"the payload is not valid gzip: {exc}", field="content-encoding") from exc
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise FFInflatedTooLargeError(f"the inflated payload exceeds {max_bytes} bytes", field="content-encoding", value=max_bytes)
    if not inflater.eof:
        raise FFValidationError("the gzip payload is truncated", field="content-encoding")
    return out
