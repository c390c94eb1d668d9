"""Deterministic v2 ids for legacy ids the v2 id rule refuses, and the map that remembers them.

A legacy user folder called ``zoë`` or a session folder called ``my chat`` held real data; the v2
id rule (``[A-Za-z0-9][A-Za-z0-9._-]{0,127}``, no ``..``) refuses both names. Skipping them would
drop that data, so each one gets a *mapped* id instead: its ASCII transliteration (accents
dropped, any other character replaced by ``-``), then ``-`` and the first 10 hex digits of the
SHA-256 of the original name. ``zoë`` becomes ``zoe-<10 hex>``; the same name always gives the
same id, so a re-run writes the same bytes. The hash keeps two names that transliterate alike
(``zoë``, ``zoé``) apart; a mapped id that still meets an id already used in the same scope takes
a longer hash. The original id is kept in the record itself and in :data:`ID_MAP_NAME` at the
target's root, and the run's report lists every mapping.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

from ff_class_configs.ff_migration_dtos import FFIdMappingDTO
from ff_utils.ff_ids import ff_is_valid_id

__all__ = ["ID_MAP_NAME", "FFIdMapper", "mapped_id"]

#: The id map a migration writes at the target's root: every legacy id it had to replace.
ID_MAP_NAME = "ff_migration_id_map.json"
_SLUG_MAX = 100


def _slug(original: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", original).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_text).replace("..", "-")
    slug = re.sub(r"-{2,}", "-", slug).strip("-._")
    return slug[:_SLUG_MAX].rstrip("-._") or "id"


def mapped_id(original: str, digits: int = 10) -> str:
    """The mapped v2 id of an original the id rule refuses (pure; see the module docstring)."""
    digest = hashlib.sha256(original.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{_slug(original)}-{digest[:digits]}"


class FFIdMapper:
    """Maps the ids of one scope (the users of a root, the sessions of a user), remembering each mapping.

    ``taken`` are the ids of the scope that are valid already, so a mapped id never lands on one.
    """

    def __init__(self, mappings: list[FFIdMappingDTO], kind: str, taken: Iterable[str] = ()) -> None:
        self._mappings = mappings
        self._kind = kind
        self._taken = {t for t in taken if ff_is_valid_id(t)}

    def map(self, original: str, path: str) -> str:
        """The v2 id for ``original``: itself when valid, else a mapped id (recorded with ``path``)."""
        if ff_is_valid_id(original):
            return original
        digits = 10
        candidate = mapped_id(original, digits)
        while candidate in self._taken and digits < 64:
            digits += 6
            candidate = mapped_id(original, digits)
        self._taken.add(candidate)
        self._mappings.append(FFIdMappingDTO(kind=self._kind, legacy_id=original, v2_id=candidate, path=path))
        return candidate
