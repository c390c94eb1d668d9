"""Find passages that several documents of a knowledge base hold verbatim, and who owns each.

Document collections repeat themselves: a handbook chapter is also published as its own page,
CPython's help topic "compound" contains the whole text of "if", "for", "try" and "with". Indexed
as they are, every copy competes for the same result slots, and the big umbrella copy (longer,
with more incidental words) often pushes the focused page out of a top 5. Web search engines
collapse near-duplicates before ranking for the same reason.

The rule here, pure and deterministic: a chunk is *held* by every document that contains at least
``threshold`` of its word 5-gram shingles (so boundaries and heading lines may differ). Among the
holders its *owner* is the most specific one, the shortest document (ties: the earlier document
in catalog order). A chunk whose owner is another document is *folded*: it stays resolvable as a
citation but is not indexed, and the owner's chunk carries the other holders as ``also_in``.
Chunks under ``min_shingles`` shingles (a heading, a one-line note) are never folded: short
text repeats by coincidence.

Cost: one pass over the words of every chunk plus a dictionary lookup per shingle, linear in
the size of the knowledge base (tens of milliseconds for CPython's 600 kB of help topics).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["FFPassageOwnership", "find_passage_owners", "SHINGLE_WORDS"]

SHINGLE_WORDS = 5
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class FFPassageOwnership:
    """Where one chunk's passage lives: the document that owns it and the others that hold it."""

    owner: str
    also_in: tuple[str, ...]


def _shingles(text: str) -> set[int]:
    words = _WORD.findall(text.lower())
    if len(words) < SHINGLE_WORDS:
        return {hash(tuple(words))} if words else set()
    return {hash(tuple(words[i : i + SHINGLE_WORDS])) for i in range(len(words) - SHINGLE_WORDS + 1)}


def find_passage_owners(
    chunks: Sequence[tuple[str, str]],
    doc_lengths: dict[str, int],
    *,
    threshold: float = 0.9,
    min_shingles: int = 10,
) -> list[FFPassageOwnership]:
    """Ownership of each ``(doc_id, chunk text)`` in ``chunks`` (in catalog order).

    ``doc_lengths`` gives each document's length in characters (the specificity measure). A
    document holds a passage when it contains ``threshold`` of the passage's shingles; the
    chunk's own document always holds it. Raises ValueError for a threshold outside (0, 1].
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1]: {threshold}")
    order: dict[str, int] = {}
    for doc_id, _ in chunks:
        order.setdefault(doc_id, len(order))
    chunk_shingles = [_shingles(text) for _, text in chunks]
    holders_of: dict[int, set[str]] = {}
    for (doc_id, _), shingles in zip(chunks, chunk_shingles, strict=True):
        for shingle in shingles:
            holders_of.setdefault(shingle, set()).add(doc_id)
    result: list[FFPassageOwnership] = []
    for (doc_id, _), shingles in zip(chunks, chunk_shingles, strict=True):
        if len(shingles) < min_shingles:
            result.append(FFPassageOwnership(doc_id, ()))
            continue
        counts: Counter[str] = Counter()
        for shingle in shingles:
            counts.update(holders_of[shingle])
        needed = threshold * len(shingles)
        holders = sorted(
            {d for d, n in counts.items() if n >= needed} | {doc_id},
            key=lambda d: (doc_lengths.get(d, 0), order[d]),
        )
        owner = holders[0]
        result.append(FFPassageOwnership(owner, tuple(d for d in holders if d != owner)))
    return result
