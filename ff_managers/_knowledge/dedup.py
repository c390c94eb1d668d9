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

Cost: one pass over the words of every chunk, set operations (in C) to find the shingles more
than one document holds, and a dictionary lookup per such shared shingle: linear in the size of
the knowledge base (tens of milliseconds for CPython's 600 kB of help topics; counting every
shingle of every chunk in Python was a third of "ingest until searchable").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["FFPassageOwnership", "find_passage_owners", "SHINGLE_WORDS"]

SHINGLE_WORDS = 5
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class FFPassageOwnership:
    """Where one chunk's passage lives: the document that owns it and the others that hold it."""

    owner: str
    also_in: int


def _shingles(text: str) -> set[int]:
    """The hashes of the text's word 5-grams (a set built in C: no Python loop per shingle)."""
    words = _WORD.findall(text.lower())
    if len(words) < SHINGLE_WORDS:
        return {hash(tuple(words))} if words else set()
    return set(map(hash, zip(*(words[i:] for i in range(SHINGLE_WORDS)))))


def _shared_holders(chunks: Sequence[tuple[str, str]], chunk_shingles: list[set[int]]) -> dict[int, list[str]]:
    """The documents holding each shingle that more than one document holds.

    Most shingles belong to one document only and can never make a chunk held elsewhere, so
    they are set aside with set operations (in C) before anything is counted per shingle.
    """
    per_document: dict[str, set[int]] = {}
    for (doc_id, _), shingles in zip(chunks, chunk_shingles, strict=True):
        per_document.setdefault(doc_id, set()).update(shingles)
    seen: set[int] = set()
    shared: set[int] = set()
    for shingles in per_document.values():
        shared |= shingles & seen
        seen |= shingles
    holders: dict[int, list[str]] = {}
    for doc_id, shingles in per_document.items():
        for shingle in shingles & shared:
            holders.setdefault(shingle, []).append(doc_id)
    return holders


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
    holders_of = _shared_holders(chunks, chunk_shingles)
    shared = set(holders_of)
    result: list[FFPassageOwnership] = []
    for (doc_id, _), shingles in zip(chunks, chunk_shingles, strict=True):
        if len(shingles) < min_shingles:
            result.append(FFPassageOwnership(doc_id, ()))
            continue
        # Another document can only hold a shingle this chunk's document holds too, so only
        # shared shingles count towards the others.
        counts: dict[str, int] = {}
        for shingle in shingles & shared:
            for holder in holders_of[shingle]:
                counts[holder] = counts.get(holder, 0) + 1
        needed = threshold * len(shingles)
        holders = sorted(
            {d for d, n in counts.items() if n >= needed} | {doc_id},
            key=lambda d: (doc_lengths.get(d, 0), order[d]),
        )
        owner = holders[0]
        result.append(FFPassageOwnership(owner, tuple(d for d in holders if d != owner)))
    return result
