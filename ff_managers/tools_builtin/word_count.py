"""word_count: words, characters, lines, sentences, paragraphs and the most frequent words."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from ._protocol import read_text_argument, run_tool
from ._text import STOP_WORDS, split_sentences, words

__all__ = ["count"]


def count(text: str, *, top: int = 5) -> dict[str, Any]:
    """Counts of ``text``; ``top_words`` skips stop words and ties break alphabetically."""
    found = words(text)
    lowered = [w.lower() for w in found]
    frequent = Counter(w for w in lowered if w not in STOP_WORDS and not w[0].isdigit())
    ranked = sorted(frequent.items(), key=lambda item: (-item[1], item[0]))[:top]
    return {
        "words": len(found),
        "unique_words": len(set(lowered)),
        "characters": len(text),
        "characters_no_spaces": sum(1 for ch in text if not ch.isspace()),
        "lines": len(text.splitlines()),
        "sentences": len(split_sentences(text)),
        "paragraphs": len([p for p in re.split(r"\n\s*\n", text) if p.strip()]),
        "top_words": [[word, n] for word, n in ranked],
    }


def _handle(args: dict[str, Any]) -> dict[str, Any]:
    return count(read_text_argument(args), top=int(args.get("top", 5)))


if __name__ == "__main__":
    run_tool(_handle)
