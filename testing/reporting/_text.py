"""Text that every report format can encode: lone surrogates become U+FFFD at the writer boundary.

A Python ``str`` may hold a lone surrogate (``"\\ud800"``: from ``os.fsdecode`` of a bad file
name, ``surrogateescape`` decoding, or a test that builds one on purpose). UTF-8 cannot encode it,
so orjson, ``str.encode("utf-8")`` and WeasyPrint refuse the whole document, and one odd test
message would cost the run every report file. The writers pass their text through here instead:
the character is shown as U+FFFD (the Unicode replacement character), everything else is kept.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["REPLACEMENT", "clean_data", "clean_text"]

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` with every surrogate code point replaced by U+FFFD (the same object when there is none)."""
    return _SURROGATE.sub(REPLACEMENT, text) if _SURROGATE.search(text) else text


def clean_data(value: Any) -> Any:
    """JSON-like data (dicts, lists, strings, scalars) with every string, keys included, cleaned."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k: clean_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_data(v) for v in value]
    return value
