"""summarize: a deterministic extractive summary.

Each content word scores its frequency in the text divided by the top frequency; a sentence
scores the sum over its content words divided by the square root of their number (so long
sentences do not win by length alone). The ``max_sentences`` best are kept in their original
order; ties go to the earlier sentence.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from ._protocol import ToolError, read_text_argument, run_tool
from ._text import STOP_WORDS, split_sentences, words

__all__ = ["summarize"]


def _content(sentence: str) -> list[str]:
    return [w.lower() for w in words(sentence) if w.lower() not in STOP_WORDS and not w[0].isdigit()]


def summarize(text: str, *, max_sentences: int = 3) -> dict[str, Any]:
    sentences = split_sentences(text)
    if not sentences:
        raise ToolError("nothing to summarise: the text has no sentences")
    frequency = Counter(w for s in sentences for w in _content(s))
    top = max(frequency.values(), default=1)
    scored = []
    for index, sentence in enumerate(sentences):
        content = _content(sentence)
        score = sum(frequency[w] / top for w in content) / math.sqrt(len(content)) if content else 0.0
        scored.append((round(score, 6), index, sentence))
    best = sorted(scored, key=lambda item: (-item[0], item[1]))[: max(1, max_sentences)]
    kept = sorted(best, key=lambda item: item[1])
    summary = " ".join(s for _, _, s in kept)
    return {
        "summary": summary,
        "sentences": [{"index": i, "text": s, "score": score} for score, i, s in kept],
        "sentence_count": len(sentences),
        "keywords": [w for w, _ in sorted(frequency.items(), key=lambda kv: (-kv[1], kv[0]))[:8]],
        "compression_ratio": round(len(summary) / max(1, len(" ".join(sentences))), 4),
    }


def _handle(args: dict[str, Any]) -> dict[str, Any]:
    return summarize(read_text_argument(args), max_sentences=int(args.get("max_sentences", 3)))


if __name__ == "__main__":
    run_tool(_handle)
