"""Reading, owning and changing the shard routing table (``FFShardRoutingTableDTO``).

:class:`FFShardTable` answers "which shard owns this user": ``overrides`` first, else the ketama
continuum of the shard ids (the communication manager's :class:`FFConsistentHashBalancer`, so
clients and the mover agree on every user). :func:`ff_update_table` is the one writer: it reads
the document under its lock, applies a change, bumps ``version`` and replaces the file
atomically, so two movers never lose each other's change and a reader sees one version or the
next. A table may also be read from an http(s) URL (:func:`ff_parse_table` on the body); it is
written only as a file.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import orjson
from pydantic import ValidationError

from ff_class_configs.ff_shard_dtos import FFShardRoutingTableDTO
from ff_managers._comm.balancing import FFConsistentHashBalancer
from ff_utils.ff_errors import FFCorruptionError, FFNotFoundError, ff_stored_error, ff_translate_errors
from ff_utils.ff_file_ops import ff_atomic_write
from ff_utils.ff_locks import ff_file_lock

__all__ = ["FFShardTable", "ff_parse_table", "ff_read_table", "ff_update_table", "ff_write_new_table"]

_REPLICAS = 160  # libketama's 40 virtual nodes x 4 points per shard


class FFShardTable:
    """One version of the routing table with its ring."""

    def __init__(self, document: FFShardRoutingTableDTO) -> None:
        self.document = document
        self._ring = FFConsistentHashBalancer(replicas=_REPLICAS, rng=random.Random(0), strict=True)
        self._ring.set_members({sid: shard.weight for sid, shard in document.shards.items()})

    @property
    def version(self) -> int:
        return self.document.version

    def ring_owner(self, user_id: str) -> str:
        owner = self._ring.owner(user_id)
        assert owner is not None  # the table has at least one shard
        return owner

    def owner(self, user_id: str) -> str:
        """The shard that owns ``user_id``: its override, else its place on the ring."""
        return self.document.overrides.get(user_id) or self.ring_owner(user_id)

    def shard_of_location(self, location: str) -> str | None:
        """The shard whose url or data_root is ``location`` (trailing slashes and ``..`` ignored)."""
        for sid, shard in self.document.shards.items():
            if shard.url.rstrip("/") == location.rstrip("/"):
                return sid
            if shard.data_root and not location.startswith(("http://", "https://")) \
                    and Path(shard.data_root).resolve() == Path(location).resolve():  # fmt: skip
                return sid
        return None


def ff_parse_table(raw: bytes, *, source: str) -> FFShardTable:
    """The table in ``raw`` (FFCorruptionError naming ``source`` when it is not one)."""
    try:
        return FFShardTable(FFShardRoutingTableDTO.model_validate(orjson.loads(raw)))
    except orjson.JSONDecodeError as exc:
        raise FFCorruptionError(f"routing table {source} is not JSON: {exc}", path=source) from exc
    except ValidationError as exc:
        raise ff_stored_error(exc, model="shard routing table", path=source) from exc


def ff_read_table(path: Path | str) -> FFShardTable:
    """Read the table file (FFNotFoundError when missing)."""
    target = Path(path)
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        raise FFNotFoundError(f"no routing table at {target}", kind="routing table", key=str(target)) from None
    except OSError:
        with ff_translate_errors("read routing table", target):
            raise
    return ff_parse_table(raw, source=str(target))


def _write(path: Path, document: FFShardRoutingTableDTO) -> None:
    ff_atomic_write(path, orjson.dumps(document.model_dump(mode="json"), option=orjson.OPT_INDENT_2) + b"\n")


def ff_write_new_table(path: Path | str, document: FFShardRoutingTableDTO) -> FFShardTable:
    """Write a first table (or replace one), under the same lock as updates."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with ff_file_lock(target):
        _write(target, document)
    return FFShardTable(document)


def ff_update_table(path: Path | str, change: Callable[[FFShardRoutingTableDTO], FFShardRoutingTableDTO | None]) -> FFShardTable:
    """Apply ``change`` to the current table under its lock; write it with ``version + 1``.

    ``change`` returns the new document, or None for "nothing to change" (nothing is written and
    the version stays): re-running a step that already happened bumps nothing.
    """
    target = Path(path)
    with ff_file_lock(target):
        current = ff_read_table(target).document
        changed = change(current.model_copy(deep=True))
        if changed is None:
            return FFShardTable(current)
        document = FFShardRoutingTableDTO.model_validate(
            {**changed.model_dump(), "version": current.version + 1, "updated_at": datetime.now(UTC)}
        )
        _write(target, document)
    return FFShardTable(document)
