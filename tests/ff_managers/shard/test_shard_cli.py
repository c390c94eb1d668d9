"""`main.py shard init|owner|move`: the table from the command line, the routing from the config, errors as exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from ff_managers._shard.routing import ff_read_table
from tests._cli import clean_cli_environment, run_cli
from tests.ff_managers.shard._helpers import fill_user, tree_manifest, user_on_ring


def test_init_owner_and_move_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_cli_environment(monkeypatch, tmp_path)
    a, b, routing = tmp_path / "a", tmp_path / "b", tmp_path / "routing.json"
    a.mkdir(), b.mkdir()
    code, printed = run_cli("shard", "init", "--routing", str(routing), "--shard", f"a=http://127.0.0.1:8001@{a}",
                            "--shard", f"b=http://127.0.0.1:8002@{b}")  # fmt: skip
    assert code == 0 and "version 1: a, b" in printed
    assert ff_read_table(routing).document.shards["b"].data_root == str(b)
    assert run_cli("shard", "init", "--routing", str(routing), "--shard", "c=http://x:1")[0] == 2  # exists: refused
    user = user_on_ring(routing, "a")
    original = fill_user(a, user)
    monkeypatch.setenv("FF_COMM__SHARD_ROUTING", str(routing))  # the configured table is the default --routing
    assert run_cli("shard", "owner", user) == (0, "a\n")
    code, printed = run_cli("shard", "move", user, "--from", "http://127.0.0.1:8001", "--to", str(b))
    assert code == 0 and f"moved {user}" in printed and "routing version 2" in printed, printed
    assert run_cli("shard", "owner", user) == (0, "b\n") and tree_manifest(b, user).same_content(original)
    code, _ = run_cli("shard", "move", user, "--from", str(a), "--to", str(b))  # nothing left to move: exit 2
    assert code == 2
    assert run_cli("shard", "move", user, "--from", str(b), "--to", str(a), "--abort")[0] == 2  # no unfinished move
