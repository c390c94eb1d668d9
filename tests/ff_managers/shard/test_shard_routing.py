"""The routing table: overrides first, else the ketama ring; every change one version, none lost."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from uhashring import HashRing

from ff_class_configs import FFShardRoutingTableDTO
from ff_managers._shard.routing import FFShardTable, ff_read_table, ff_update_table, ff_write_new_table
from ff_utils.ff_errors import FFCorruptionError, FFNotFoundError


def _table(**overrides: str) -> FFShardRoutingTableDTO:
    shards = {sid: {"url": f"http://127.0.0.1:{8000 + n}"} for n, sid in enumerate(("s1", "s2", "s3"))}
    return FFShardRoutingTableDTO.model_validate({"shards": shards, "overrides": overrides})


def test_the_owner_is_the_override_else_the_ketama_point() -> None:
    table = FFShardTable(_table(alice="s3"))
    ring = HashRing({sid: {"weight": 1} for sid in ("s1", "s2", "s3")}, hash_fn="ketama", vnodes=40)
    users = [f"user{n}" for n in range(300)]
    assert all(table.ring_owner(u) == ring.get_node(u) for u in users)  # libketama's continuum, as uhashring builds it
    assert table.owner("alice") == "s3"
    assert all(table.owner(u) == table.ring_owner(u) for u in users)
    assert {table.owner(u) for u in users} == {"s1", "s2", "s3"}


def test_an_override_naming_no_shard_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown shards"):
        _table(alice="s9")
    (tmp_path / "t.json").write_text('{"shards": {}}')
    with pytest.raises(FFCorruptionError):
        ff_read_table(tmp_path / "t.json")
    with pytest.raises(FFNotFoundError):
        ff_read_table(tmp_path / "missing.json")


def test_concurrent_changes_each_bump_the_version_and_none_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "routing.json"
    ff_write_new_table(path, _table())

    def move(n: int) -> None:
        def change(document: FFShardRoutingTableDTO) -> FFShardRoutingTableDTO:
            document.overrides[f"user{n}"] = "s2"
            return document

        ff_update_table(path, change)

    threads = [threading.Thread(target=move, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    table = ff_read_table(path)
    assert table.version == 21 and len(table.document.overrides) == 20
    assert ff_update_table(path, lambda document: None).version == 21  # no change: no new version
