"""PDF bombs, built on the fly by the security suite and the tests: text that expands to tens of MB, a flate bomb."""

from __future__ import annotations

import io
import zlib

from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject, NumberObject, StreamObject

__all__ = ["flate_bomb_pdf", "one_page_pdf", "stream_bomb_pdf", "text_bomb_pdf", "two_page_pdf"]


def _pdf_with_content(content: bytes, *, compressed: bytes | None = None) -> bytes:
    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    font = DictionaryObject(
        {NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"), NameObject("/BaseFont"): NameObject("/Helvetica")}
    )
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})})
    if compressed is None:
        stream = DecodedStreamObject()
        stream.set_data(content)
        stream = stream.flate_encode(level=9)
    else:
        stream = StreamObject()
        stream._data = compressed
        stream[NameObject("/Filter")] = NameObject("/FlateDecode")
        stream[NameObject("/Length")] = NumberObject(len(compressed))
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def stream_bomb_pdf(repeats: int = 25_000) -> bytes:
    """About 50 KB of PDF whose one content stream shows ``repeats`` lines of 1,000 characters (25 MB of text)."""
    line = b"(" + b"A" * 1000 + b") Tj T* "
    return _pdf_with_content(b"BT /F1 12 Tf 14 TL " + line * repeats + b"ET")


def text_bomb_pdf(draws: int = 2_500, lines: int = 10) -> bytes:
    """About 17 KB of PDF: a form XObject of ``lines`` x 1,000 characters drawn ``draws`` times (25 MB of text)."""
    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    font = DictionaryObject(
        {NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"), NameObject("/BaseFont"): NameObject("/Helvetica")}
    )
    font_ref = writer._add_object(font)
    form = DecodedStreamObject()
    form.set_data(b"BT /F1 12 Tf 14 TL " + (b"(" + bytes(range(65, 91)) * 38 + b"AB) Tj T* ") * lines + b"ET")
    form.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject([NumberObject(0), NumberObject(0), NumberObject(612), NumberObject(792)]),
            NameObject("/Resources"): DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})}),
        }
    )
    form_ref = writer._add_object(form)
    page[NameObject("/Resources")] = DictionaryObject(
        {
            NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref}),
            NameObject("/XObject"): DictionaryObject({NameObject("/X0"): form_ref}),
        }
    )
    content = DecodedStreamObject()
    content.set_data(b"/X0 Do\n" * draws)
    page[NameObject("/Contents")] = writer._add_object(content.flate_encode(level=9))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def flate_bomb_pdf(decoded_mb: int = 240) -> bytes:
    """About 0.24 MB of PDF whose content stream inflates to ``decoded_mb`` MB of spaces."""
    compressor = zlib.compressobj(9)
    block = b" " * (1024 * 1024)
    data = b"".join(compressor.compress(block) for _ in range(decoded_mb)) + compressor.flush()
    return _pdf_with_content(b"", compressed=data)


def one_page_pdf(text: bytes = b"hello pages") -> bytes:
    return _pdf_with_content(b"BT /F1 12 Tf (" + text + b") Tj ET")


def two_page_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.add_blank_page(100, 100)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
