"""Payload compression on the wire: gzip above a threshold, and a bounded inflate against zip bombs.

Only transports whose server can undo it compress: HTTP request bodies go out with
``Content-Encoding: gzip`` (the service's HTTP app inflates them, bounded by its body limit),
WebSocket negotiates permessage-deflate (RFC 7692) on its own, and the CloudEvents form of a
message carries a large payload as gzip in ``data_base64`` with the ``ffencoding`` extension.
TCP lines and UDP datagrams go as they are (the JSON-RPC and StatsD servers read plain text).
"""

from __future__ import annotations

import gzip

from ff_utils.ff_gzip import ff_gunzip_bounded

__all__ = ["ff_gunzip_bounded", "ff_maybe_gzip"]


def ff_maybe_gzip(data: bytes, threshold: int) -> tuple[bytes, str | None]:
    """``(bytes to send, "gzip" or None)``: compressed when longer than ``threshold`` (0: never) and smaller so."""
    if threshold <= 0 or len(data) <= threshold:
        return data, None
    packed = gzip.compress(data, compresslevel=6, mtime=0)
    return (packed, "gzip") if len(packed) < len(data) else (data, None)
