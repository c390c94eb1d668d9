"""No write (or read) through a symlink anywhere under the data root, however old the path.

Attack 5 of the Hardening issue: a path checked once and reused (memory and metrics cache them)
was written through after its directory was swapped for a symlink, and ``messages.jsonl`` itself
could be a symlink. Each test swaps or plants the link *after* the path was built and used, then
checks the store refuses with FFValidationError and nothing changes outside the root; the
``planted`` variants take the defence away (a store that does not walk from the root and opens
with follow) and must show the write landing outside.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import ff_utils._dir_fd as dir_fd
import ff_utils._jsonl_append as jsonl_append
import ff_utils._store_listing as store_listing
import ff_utils.ff_file_ops as file_ops
import ff_utils.ff_locks as locks
from ff_managers.ff_data_root import ff_ensure_data_root
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_store import FFStore


class _FollowingStore(FFStore):
    """The defence planted away: only the final name would be checked, and not even that (see below)."""

    confine_to_root = False


def _follow_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (dir_fd, jsonl_append, store_listing, file_ops, locks):
        monkeypatch.setattr(module, "NOFOLLOW", 0)
    monkeypatch.setattr(file_ops, "_refuse_existing_link", lambda parent, name, target: None)


def _session(store: FFStore) -> tuple[Path, Path]:
    log = store.path("users", "alice", "sessions", "s1", "messages.jsonl")
    store.append(log, {"n": 1})
    return log.parent, log


def _swap_for_link(directory: Path, outside: Path) -> Path:
    """Move ``directory`` outside the root and leave a symlink to it in its place."""
    moved = outside / directory.name
    os.rename(directory, moved)
    os.symlink(moved, directory)
    return moved


def _snapshot(top: Path) -> dict[str, bytes]:
    return {p.relative_to(top).as_posix(): p.read_bytes() for p in sorted(top.rglob("*")) if p.is_file()}


@pytest.fixture
def places(tmp_path: Path) -> tuple[Path, Path]:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    return root, outside


@pytest.mark.parametrize("store_class", [FFStore, _FollowingStore], ids=["defended", "planted"])
def test_a_session_directory_swapped_for_a_symlink_after_use_is_never_written_through(
    places: tuple[Path, Path], store_class: type[FFStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, outside = places
    store = store_class(root)
    session_dir, log = _session(store)
    document = session_dir / "session.json"
    store.write_json(document, {"title": "t"})
    moved = _swap_for_link(session_dir, outside)
    before = _snapshot(outside)
    if store_class is _FollowingStore:
        _follow_everything(monkeypatch)
        store.append(log, {"n": 2})  # the cached path is written through: the attack succeeds
        assert _snapshot(outside) != before
        return
    for write in (
        lambda: store.append(log, {"n": 2}),
        lambda: store.write_json(document, {"title": "new"}),
        lambda: store.write_bytes(session_dir / "attachments" / "a1", b"x"),
        lambda: store.update_json(document, lambda current: {"title": "u"}),
        lambda: store.ensure_dir(session_dir / "attachments"),
        lambda: store.repair_jsonl(log),
    ):
        with pytest.raises(FFValidationError, match="symlink"):
            write()
    for read in (
        lambda: store.read_json(document),
        lambda: list(store.read_jsonl(log)),
        lambda: store.tail_jsonl(log, 5),
        lambda: store.count_lines(log),
        lambda: store.list_dir(session_dir),
        lambda: store.stat(log),
    ):
        with pytest.raises(FFValidationError, match="symlink"):
            read()
    assert _snapshot(outside) == before
    assert (moved / "messages.jsonl").read_bytes().count(b"\n") == 1


@pytest.mark.parametrize("planted", [False, True], ids=["defended", "planted"])
def test_messages_jsonl_itself_a_symlink_is_refused(
    places: tuple[Path, Path], planted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, outside = places
    store = FFStore(root)
    _session_dir, log = _session(store)
    victim = outside / "victim.jsonl"
    victim.write_bytes(b'{"mine": true}\n')
    log.unlink()
    os.symlink(victim, log)  # the appender's cached descriptor now names another inode
    if planted:
        _follow_everything(monkeypatch)
        store.append(log, {"n": 2})
        assert victim.read_bytes() != b'{"mine": true}\n'
        return
    with pytest.raises(FFValidationError, match="symlink"):
        store.append(log, {"n": 2})
    with pytest.raises(FFValidationError, match="symlink"):
        store.tail_jsonl(log, 1)
    assert victim.read_bytes() == b'{"mine": true}\n'


@pytest.mark.parametrize("planted", [False, True], ids=["defended", "planted"])
def test_a_symlinked_ff_meta_json_is_refused(places: tuple[Path, Path], planted: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    root, outside = places
    secret = outside / "secret.json"
    secret.write_bytes(b'{"schema_version": 2, "created_at": "2024-01-01T00:00:00Z"}\n')
    os.symlink(secret, root / "ff_meta.json")
    if planted:
        _follow_everything(monkeypatch)
        ff_ensure_data_root(root, key_id=None)  # reads the file outside the root as if it were ours
        return
    with pytest.raises(FFValidationError, match="symlink"):
        ff_ensure_data_root(root, key_id=None)
    assert (root / "ff_meta.json").is_symlink()
    assert secret.read_bytes().startswith(b'{"schema_version": 2')


@pytest.mark.parametrize("planted", [False, True], ids=["defended", "planted"])
def test_a_symlinked_document_is_not_replaced_or_read(
    places: tuple[Path, Path], planted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, outside = places
    store = FFStore(root)
    head = store.path("audit", "audit_head.json")
    store.write_json(head, {"seq": 1})
    target = outside / "head.json"
    target.write_bytes(b'{"seq": 99}')
    head.unlink()
    os.symlink(target, head)
    if planted:
        _follow_everything(monkeypatch)
        assert store.read_json(head) == {"seq": 99}  # read through the link: the attack succeeds
        return
    with pytest.raises(FFValidationError, match="symlink"):
        store.read_json(head)
    with pytest.raises(FFValidationError, match="symlink"):
        store.write_json(head, {"seq": 2})
    assert head.is_symlink() and target.read_bytes() == b'{"seq": 99}'


def test_listing_and_stat_never_follow(places: tuple[Path, Path]) -> None:
    root, outside = places
    store = FFStore(root)
    folder = store.path("users", "alice")
    store.ensure_dir(folder / "real")
    (outside / "elsewhere").mkdir()
    os.symlink(outside / "elsewhere", folder / "link")
    entries = {entry.name: entry for entry in store.list_dir(folder)}
    assert entries["real"].is_dir and not entries["real"].is_symlink
    assert entries["link"].is_symlink and not entries["link"].is_dir
    assert store.exists(folder / "real") and not store.exists(folder / "missing")
    with pytest.raises(FFValidationError, match="symlink"):
        store.stat(folder / "link")
    with pytest.raises(FFValidationError, match="escapes"):
        store.list_dir(outside)


def test_a_path_outside_the_root_is_refused_and_nothing_is_written(places: tuple[Path, Path]) -> None:
    root, outside = places
    store = FFStore(root)
    with pytest.raises(FFValidationError, match="escapes"):
        store.append(outside / "x.jsonl", {"n": 1})
    with pytest.raises(FFValidationError, match="escapes"):
        store.write_bytes(outside / "x.bin", b"x")
    assert list(outside.iterdir()) == []


async def test_managers_refuse_to_write_after_a_swap_behind_their_back(places: tuple[Path, Path]) -> None:
    from ff_class_configs import load_config
    from ff_managers import FFMemoryLayerManager, FFMetricsCollectionManager

    root, outside = places
    config = load_config(environ={}, overrides={"storage": {"base_path": str(root)}})
    async with FFMemoryLayerManager(config) as memory, FFMetricsCollectionManager(config) as metrics:
        session = await memory.create_session("alice", title="t")
        await memory.add_message("alice", session.session_id, "user", "before")
        await metrics.audit("alice", "data.read", "x")
        _swap_for_link(root / "users" / "alice" / "sessions" / session.session_id, outside)
        audit = root / "audit" / "audit.jsonl"
        victim = outside / "audit.jsonl"
        victim.write_bytes(audit.read_bytes())
        audit.unlink()
        os.symlink(victim, audit)
        before = _snapshot(outside)
        with pytest.raises(FFValidationError, match="symlink"):
            await memory.add_message("alice", session.session_id, "user", "after")
        with pytest.raises(FFValidationError, match="symlink"):
            await metrics.audit("alice", "data.read", "y")
        assert _snapshot(outside) == before


def test_an_ancestor_renamed_and_replaced_by_a_link_inside_the_root_is_refused_too(places: tuple[Path, Path]) -> None:
    # The appender keeps its directory descriptor only while the kernel still names it by the
    # walked path; here it is renamed inside the root and a symlink takes the old name.
    root, _outside = places
    store = FFStore(root)
    _session_dir, log = _session(store)
    os.rename(root / "users" / "alice", root / "users" / "alice2")
    os.symlink(root / "users" / "alice2", root / "users" / "alice")
    with pytest.raises(FFValidationError, match="symlink"):
        store.append(log, {"n": 2})
    assert (root / "users" / "alice2" / "sessions" / "s1" / "messages.jsonl").read_bytes().count(b"\n") == 1
    os.unlink(root / "users" / "alice")
    os.rename(root / "users" / "alice2", root / "users" / "alice")  # back where it was: appends resume
    store.append(log, {"n": 3})
    assert [r["n"] for r in store.read_jsonl(log)] == [1, 3]
