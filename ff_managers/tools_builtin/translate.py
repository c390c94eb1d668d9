"""translate: glossary translation between English and Spanish, French or German.

Word by word with the built-in glossary (:mod:`._glossary`); the case of each word is carried
over (lower, Title, UPPER); punctuation and spacing are kept; unknown words stay as they are and
are listed, so a caller can see exactly what was and was not translated.
"""

from __future__ import annotations

import re
from typing import Any

from ._glossary import GLOSSARY, LANGUAGES
from ._protocol import ToolError, run_tool

__all__ = ["translate"]

_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def _with_case(source: str, target: str) -> str:
    if len(source) > 1 and source.isupper():
        return target.upper()
    if source[:1].isupper():
        return target[:1].upper() + target[1:]
    return target


def translate(text: str, source: str, target: str) -> dict[str, Any]:
    if source == target:
        raise ToolError("source and target language are the same")
    table = GLOSSARY.get((source, target))
    if table is None:
        pairs = ", ".join(f"{a}->{b}" for a, b in sorted(GLOSSARY))
        raise ToolError(f"no glossary for {source}->{target}; available: {pairs}")
    unknown: list[str] = []
    translated = 0
    total = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal translated, total
        word = match.group(0)
        total += 1
        found = table.get(word.lower())
        if found is None:
            if word.lower() not in unknown:
                unknown.append(word.lower())
            return word
        translated += 1
        return _with_case(word, found)

    output = _TOKEN.sub(replace, text)
    return {
        "translation": output,
        "source_language": source,
        "target_language": target,
        "translated_words": translated,
        "total_words": total,
        "unknown_words": unknown,
        "coverage": round(translated / total, 4) if total else 1.0,
    }


def _handle(args: dict[str, Any]) -> dict[str, Any]:
    text, source, target = args.get("text"), args.get("source", "en"), args.get("target")
    if not isinstance(text, str) or source not in LANGUAGES or target not in LANGUAGES:
        raise ToolError(f"need 'text' and 'source'/'target' among {', '.join(LANGUAGES)}")
    return translate(text, source, target)


if __name__ == "__main__":
    run_tool(_handle)
