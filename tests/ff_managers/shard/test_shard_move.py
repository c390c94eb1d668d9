"""`shard move`: copy, freeze, verify, switch, release, remove; interrupted at every step, then re-run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ff_managers import FFShardManager
from ff_managers._shard import mover
from ff_managers._shard.copy import FFCopyStats, ff_mirror
from ff_managers._shard.errors import FFMoveError
from ff_managers._shard.fence import FFUserFence
from ff_managers._shard.mover import STEPS
from ff_managers._shard.routing import ff_read_table
from ff_utils.ff_errors import FFCorruptionError, FFValidationError
from tests.ff_managers.shard._helpers import accepting_writes, fill_user, tree_manifest, user_on_ring

REPO = Path(__file__).resolve().parents[3]


class Crashed(Exception):
    """Stands for the kill: raised after a step's effect, before its journal entry."""


@pytest.fixture
def shards(tmp_path: Path) -> tuple[FFShardManager, dict[str, Path]]:
    roots = {"a": tmp_path / "a", "b": tmp_path / "b"}
    for root in roots.values():
        root.mkdir()
    manager = FFShardManager(tmp_path / "routing.json")
    manager.create_table({sid: {"url": f"http://127.0.0.1:{8000 + n}", "data_root": str(root)} for n, (sid, root) in enumerate(roots.items())})
    return manager, roots


def test_a_move_copies_verifies_switches_and_removes(shards: tuple[FFShardManager, dict[str, Path]]) -> None:
    manager, roots = shards
    user = user_on_ring(manager.routing, "a")
    original = fill_user(roots["a"], user)
    journal = manager.move_user(user, str(roots["a"]), "http://127.0.0.1:8001")  # a URL of the table resolves to its root
    table = ff_read_table(manager.routing)
    assert table.owner(user) == "b" and table.version == 2 and table.document.overrides == {user: "b"}
    assert tree_manifest(roots["b"], user).same_content(original)
    assert not (roots["a"] / "users" / user).exists()
    assert FFUserFence(roots["a"]).state(user)["state"] == "moved" and FFUserFence(roots["b"]).state(user) is None
    assert journal["step"] == "removed" and journal["files"] == original.file_count and journal["bytes"] == original.total_bytes
    assert accepting_writes(roots, user) == {"b"}
    back = manager.move_user(user, str(roots["b"]), str(roots["a"]))  # and home again: the override goes, the tombstone too
    assert back["step"] == "removed" and ff_read_table(manager.routing).document.overrides == {}
    assert accepting_writes(roots, user) == {"a"} and tree_manifest(roots["a"], user).same_content(original)


@pytest.mark.parametrize("step", STEPS[1:])
def test_an_interrupted_move_leaves_one_owner_and_a_rerun_completes_it(shards: tuple[FFShardManager, dict[str, Path]], step: str) -> None:
    manager, roots = shards
    user = user_on_ring(manager.routing, "a")
    original = fill_user(roots["a"], user)

    def crash(at: str) -> None:
        if at == step:
            raise Crashed(at)

    with pytest.raises(Crashed):
        manager.move_user(user, str(roots["a"]), str(roots["b"]), crash=crash)
    owner = ff_read_table(manager.routing).owner(user)
    assert owner == ("a" if STEPS.index(step) < STEPS.index("switched") else "b")
    assert tree_manifest(roots[owner], user).same_content(original)  # the owner holds every byte
    assert accepting_writes(roots, user) <= {owner}  # nobody else takes a write (the owner may be frozen: 503, retryable)
    if step == "copied":
        assert accepting_writes(roots, user) == {"a"}  # before the freeze the source serves on
    journal = manager.move_user(user, str(roots["a"]), str(roots["b"]))
    assert journal["resumed_from"] == STEPS[STEPS.index(step) - 1]
    assert ff_read_table(manager.routing).owner(user) == "b" and accepting_writes(roots, user) == {"b"}
    assert tree_manifest(roots["b"], user).same_content(original) and not (roots["a"] / "users" / user).exists()


def test_a_killed_process_is_resumed_by_the_cli(shards: tuple[FFShardManager, dict[str, Path]]) -> None:
    """The real kill: FF_SHARD_CRASH_AT ends the `shard move` process (os._exit) right after the switch."""
    manager, roots = shards
    user = user_on_ring(manager.routing, "a")
    original = fill_user(roots["a"], user)
    args = [sys.executable, "main.py", "shard", "move", user, "--from", str(roots["a"]), "--to", str(roots["b"]),
            "--routing", str(manager.routing)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO), "FF_SHARD_CRASH_AT": "switched"}
    killed = subprocess.run(args, check=False, cwd=REPO, env=env, capture_output=True, timeout=120)
    assert killed.returncode == 75, killed.stderr
    assert accepting_writes(roots, user) == set() and ff_read_table(manager.routing).owner(user) == "b"
    env.pop("FF_SHARD_CRASH_AT")
    done = subprocess.run(args, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "resumed after verified" in done.stdout
    assert accepting_writes(roots, user) == {"b"} and tree_manifest(roots["b"], user).same_content(original)


def test_a_copy_that_does_not_match_is_never_switched_nor_removed(shards: tuple[FFShardManager, dict[str, Path]],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Planted defect: a mirror that drops the last file. The manifests differ, so the move stops frozen."""
    manager, roots = shards
    user = user_on_ring(manager.routing, "a")
    original = fill_user(roots["a"], user)

    def lossy(source: Path, destination: Path) -> FFCopyStats:
        stats = ff_mirror(source, destination)
        victim = max(destination.rglob("*.jsonl"))
        victim.unlink()
        return stats

    monkeypatch.setattr(mover, "ff_mirror", lossy)
    with pytest.raises(FFCorruptionError, match="differs from its source"):
        manager.move_user(user, str(roots["a"]), str(roots["b"]))
    assert ff_read_table(manager.routing).owner(user) == "a" and ff_read_table(manager.routing).version == 1
    assert tree_manifest(roots["a"], user).same_content(original)
    monkeypatch.undo()
    rolled = manager.abort_move(user, str(roots["a"]), str(roots["b"]))
    assert rolled["aborted_from"] == "frozen"
    assert accepting_writes(roots, user) == {"a"} and not (roots["b"] / "users" / user).exists()


def test_abort_is_refused_once_ownership_has_switched(shards: tuple[FFShardManager, dict[str, Path]]) -> None:
    manager, roots = shards
    user = user_on_ring(manager.routing, "a")
    fill_user(roots["a"], user)

    def crash(at: str) -> None:
        if at == "released":
            raise Crashed(at)

    with pytest.raises(Crashed):
        manager.move_user(user, str(roots["a"]), str(roots["b"]), crash=crash)
    with pytest.raises(FFMoveError, match="switched ownership"):
        manager.abort_move(user, str(roots["a"]), str(roots["b"]))


def test_moves_that_cannot_start_write_nothing(shards: tuple[FFShardManager, dict[str, Path]], tmp_path: Path) -> None:
    manager, roots = shards
    user = user_on_ring(manager.routing, "a")
    fill_user(roots["a"], user)
    fill_user(roots["b"], user, sessions=1, messages=1)
    with pytest.raises(FFMoveError, match="already holds"):
        manager.move_user(user, str(roots["a"]), str(roots["b"]))
    stranger = user_on_ring(manager.routing, "b", prefix="s")
    fill_user(roots["a"], stranger, sessions=1, messages=1)
    with pytest.raises(FFMoveError, match="belongs to b"):
        manager.move_user(stranger, str(roots["a"]), str(roots["b"]))
    with pytest.raises(FFValidationError, match="no shard of the routing table"):
        manager.move_user(user, "http://127.0.0.1:9", str(roots["b"]))
    with pytest.raises(FFValidationError, match="is a URL"):
        FFShardManager(None).move_user(user, "http://127.0.0.1:8000", str(roots["b"]))
    assert ff_read_table(manager.routing).version == 1
    assert FFUserFence(roots["a"]).state(user) is None and FFUserFence(roots["b"]).state(user) is None
