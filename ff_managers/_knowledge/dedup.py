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

Cost: linear in the size of the knowledge base, and done in numpy rather than per shingle in
Python. A chunk's word 5-grams are hashed as one vector operation over its words' string hashes;
the documents' shingle sets are sorted once together, so the shingles more than one document
holds and who holds them come from one ``unique``; how many of a chunk's shingles each other
document holds is one count over (chunk, holder) pairs. Counting per shingle in Python dicts
was 40 % of "ingest until searchable" for CPython's help topics (about 140 ms of 680 chunks;
this takes about a tenth of that).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["FFPassageOwnership", "find_passage_owners", "SHINGLE_WORDS"]

SHINGLE_WORDS = 5
_WORD = re.compile(r"\w+")
# One odd 64-bit multiplier per position in a 5-gram (arithmetic wraps modulo 2**64), so the
# same words in another order hash differently; texts of fewer than five words hash as one
# shingle, salted by their length so they never equal a 5-gram of the same words.
_POSITION = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD], dtype=np.uint64
)
_SHORT_SALT = np.array([0, 0x2545F4914F6CDD1D, 0x4F1BBCDCBFA53E0B, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9], dtype=np.uint64)
_NO_SHINGLES = np.empty(0, dtype=np.uint64)


@dataclass(frozen=True, slots=True)
class FFPassageOwnership:
    """Where one chunk's passage lives: the document that owns it and the others that hold it."""

    owner: str
    also_in: tuple[str, ...]


def _shingles(text: str) -> np.ndarray:
    """The sorted distinct hashes of one text's word 5-grams (see :func:`_all_shingles`)."""
    return _all_shingles([text])[0]


def _all_shingles(texts: Sequence[str]) -> list[np.ndarray]:
    """Each text's sorted distinct word 5-gram hashes (uint64), computed for all texts at once.

    The words' string hashes of every text go into one array; each 5-gram's hash is a sum of
    its five word hashes times per-position multipliers (one vector operation over the whole
    array), windows that would cross from one text into the next are dropped, and one sort of
    (text, hash) pairs dedupes every text's shingles together: per-text numpy calls cost more
    than the arithmetic.
    """
    word_lists = [_WORD.findall(text.lower()) for text in texts]
    counts = np.fromiter(map(len, word_lists), dtype=np.int64, count=len(word_lists))
    total = int(counts.sum())
    hashes = np.fromiter(map(hash, itertools.chain.from_iterable(word_lists)), dtype=np.int64, count=total).view(np.uint64)
    starts = np.cumsum(counts) - counts
    width = total - SHINGLE_WORDS + 1
    if width > 0:
        combined = hashes[:width] * _POSITION[0]
        for offset in range(1, SHINGLE_WORDS):
            combined += hashes[offset : offset + width] * _POSITION[offset]
        owner = np.repeat(np.arange(len(texts)), counts)[:width]
        valid = np.arange(width) - starts[owner] <= counts[owner] - SHINGLE_WORDS  # the window ends in its own text
        owner, combined = owner[valid], combined[valid]
    else:
        owner, combined = np.empty(0, dtype=np.int64), _NO_SHINGLES
    short = np.flatnonzero((counts > 0) & (counts < SHINGLE_WORDS))
    if len(short):  # texts of one to four words: one shingle each
        extra = [
            np.bitwise_xor.reduce(hashes[start : start + n] * _POSITION[:n]) ^ _SHORT_SALT[n]
            for start, n in zip(starts[short].tolist(), counts[short].tolist(), strict=True)
        ]
        owner = np.concatenate([owner, short])
        combined = np.concatenate([combined, np.array(extra, dtype=np.uint64)])
    order = np.lexsort((combined, owner))
    owner, combined = owner[order], combined[order]
    keep = np.ones(len(combined), dtype=bool)
    keep[1:] = (combined[1:] != combined[:-1]) | (owner[1:] != owner[:-1])
    owner, combined = owner[keep], combined[keep]
    bounds = np.searchsorted(owner, np.arange(len(texts) + 1))
    return [combined[bounds[i] : bounds[i + 1]] for i in range(len(texts))]


def _held_counts(chunk_docs: np.ndarray, chunk_shingles: list[np.ndarray], documents: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(chunk, document, count)`` for every chunk and every document holding ``count`` > 0 of
    its shingles, found among the shingles more than one document holds (only those can make a
    chunk held elsewhere)."""
    lengths = np.array([len(s) for s in chunk_shingles])
    flat = np.concatenate(chunk_shingles)
    flat_chunks = np.repeat(np.arange(len(chunk_shingles)), lengths)
    # Every document's shingle set at once: (hash, document) pairs sorted by hash, repeats dropped.
    pair_holders = chunk_docs[flat_chunks]
    order = np.lexsort((pair_holders, flat))
    hashes, holders = flat[order], pair_holders[order]
    keep = np.ones(len(hashes), dtype=bool)
    keep[1:] = (hashes[1:] != hashes[:-1]) | (holders[1:] != holders[:-1])
    hashes, holders = hashes[keep], holders[keep]
    distinct, first, held_by = np.unique(hashes, return_index=True, return_counts=True)
    shared = held_by > 1
    shared_hashes, shared_first, shared_held_by = distinct[shared], first[shared], held_by[shared]
    empty = np.empty(0, dtype=np.int64)
    if not len(shared_hashes):
        return empty, empty, empty
    where = np.minimum(np.searchsorted(shared_hashes, flat), len(shared_hashes) - 1)
    hit = shared_hashes[where] == flat
    chunks, slots = flat_chunks[hit], where[hit]
    # Each (chunk, shared shingle) pair expands to one pair per document holding the shingle.
    repeats = shared_held_by[slots]
    ends = np.cumsum(repeats)
    within = np.arange(int(ends[-1]) if len(ends) else 0) - np.repeat(ends - repeats, repeats)
    pair_docs = holders[np.repeat(shared_first[slots], repeats) + within]
    keys, counts = np.unique(np.repeat(chunks, repeats) * documents + pair_docs, return_counts=True)
    return keys // documents, keys % documents, counts


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
    if not chunks:
        return []
    names = list(order)
    chunk_docs = np.array([order[doc_id] for doc_id, _ in chunks], dtype=np.int64)
    chunk_shingles = _all_shingles([text for _, text in chunks])
    sizes = np.array([len(s) for s in chunk_shingles])
    pair_chunks, pair_docs, counts = _held_counts(chunk_docs, chunk_shingles, len(names))
    # Held elsewhere: another document, enough of the shingles, and a chunk long enough to fold.
    held = (pair_docs != chunk_docs[pair_chunks]) & (counts >= threshold * sizes[pair_chunks]) & (
        sizes[pair_chunks] >= min_shingles
    )
    others: dict[int, list[str]] = {}
    for chunk, doc in zip(pair_chunks[held].tolist(), pair_docs[held].tolist(), strict=True):
        others.setdefault(chunk, []).append(names[doc])
    result: list[FFPassageOwnership] = []
    for index, (doc_id, _) in enumerate(chunks):
        extra = others.get(index)
        if extra is None:
            result.append(FFPassageOwnership(doc_id, ()))
            continue
        holders = sorted([doc_id, *extra], key=lambda d: (doc_lengths.get(d, 0), order[d]))
        result.append(FFPassageOwnership(holders[0], tuple(holders[1:])))
    return result
