"""Small real media files for the multimodal scenarios: a PNG, a WAV and a PDF, built in memory.

The PNG and WAV are written with the standard library (zlib/struct, wave), so their bytes are
valid files any viewer opens; the PDF is rendered by WeasyPrint (the project's report renderer)
from HTML, so it carries a real text layer for the extract_text tool to read. Rendering is
blocking and WeasyPrint's import alone takes seconds, so :func:`pdf_bytes` runs in a worker thread
and caches by HTML.
"""

from __future__ import annotations

import asyncio
import functools
import io
import math
import struct
import wave
import zlib

__all__ = ["pdf_bytes", "png_bytes", "png_size", "wav_bytes"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid 8-bit RGB PNG of one colour."""
    row = b"\x00" + bytes(rgb) * width  # filter type 0 per scanline
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        _PNG_SIGNATURE
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(row * height))
        + _png_chunk(b"IEND", b"")
    )


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) read from a PNG's IHDR, or None when ``data`` is not a PNG."""
    if not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def wav_bytes(duration_ms: int, *, sample_rate: int = 8000, frequency: float = 440.0) -> bytes:
    """A mono 16-bit PCM WAV of a sine tone."""
    frames = sample_rate * duration_ms // 1000
    samples = b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * frequency * i / sample_rate))) for i in range(frames)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(samples)
    return buffer.getvalue()


@functools.lru_cache(maxsize=16)
def _render_pdf(html: str) -> bytes:
    import weasyprint  # imported on first use: the import takes seconds

    return weasyprint.HTML(string=html).write_pdf()


async def pdf_bytes(html: str) -> bytes:
    """A PDF rendered from ``html`` (in a worker thread; cached per HTML)."""
    return await asyncio.to_thread(_render_pdf, html)
