"""Storage middlewares: what FFStore does to bytes on their way to and from the disk.

The idea is tinydb's (``CachingMiddleware(JSONStorage)``): the storage writes and reads, and a
middleware sits between the data and the disk. Here it works on the two shapes FFStore stores:

* a *document* (a JSON document, or bytes through ``read_bytes``/``write_bytes``) is encoded as
  a whole: :meth:`FFStoreMiddleware.encode_document` / :meth:`decode_document`;
* a *JSONL record* is encoded line by line, so appends stay appends and tail reads stay tail
  reads: :meth:`line_encoder` / :meth:`line_decoder` give the per-file functions the appender and
  readers apply to each line.

Every call names the file by its path relative to the data root, so a middleware may bind the
bytes to where they live. :class:`FFStoreMiddleware` itself stores bytes as given;
:class:`ff_utils.ff_encryption.FFEncryptionMiddleware` encrypts them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

__all__ = ["FFStoreMiddleware", "LineCodec"]

LineCodec = Callable[[bytes], bytes]


class FFStoreMiddleware:
    """The identity middleware: bytes are stored exactly as the store serialised them."""

    encrypted: bool = False
    key_id: str | None = None

    def encode_document(self, relative: str, data: bytes) -> bytes:
        return data

    def decode_document(self, relative: str, data: bytes, path: Path) -> bytes:
        return data

    def line_encoder(self, relative: str) -> LineCodec | None:
        """Per-line encoder for the JSONL file at ``relative`` (None: store the JSON as is)."""
        return None

    def line_decoder(self, relative: str) -> LineCodec | None:
        """Per-line decoder; it raises ValueError for a line it cannot decode (a bad line)."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
