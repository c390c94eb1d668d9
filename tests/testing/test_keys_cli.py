"""`main.py keys`: generate a key, encrypt a plaintext root, rotate it, resume a rotation killed half-way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import ff_utils.ff_key_rotation as rotation_module
from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager
from ff_managers.ff_data_root import ff_read_meta
from ff_utils.ff_errors import FFConfigError, FFStorageError
from tests._cli import clean_cli_environment, run_cli

SECRET = "my passport number is X1234567"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_cli_environment(monkeypatch, tmp_path)


_run = run_cli


def _memory(root: Path, key_file: Path | None) -> FFMemoryLayerManager:
    storage: dict[str, Any] = {"base_path": str(root)}
    if key_file is not None:
        storage["encryption_key_file"] = str(key_file)
    return FFMemoryLayerManager(load_config(environ={}, overrides={"storage": storage}))


async def _write(root: Path, key_file: Path | None) -> str:
    async with _memory(root, key_file) as memory:
        session = await memory.create_session("alice", title="t")
        for i in range(3):
            await memory.add_message("alice", session.session_id, "user", f"{SECRET} #{i}")
        return session.session_id


async def _read(root: Path, key_file: Path | None, session_id: str) -> list[str]:
    async with _memory(root, key_file) as memory:
        return [m.content for m in await memory.get_messages("alice", session_id)]


def _plaintext(root: Path) -> list[str]:
    return [p.name for p in root.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]


def test_generate_writes_a_private_key_file_once_and_never_inside_the_root(tmp_path: Path) -> None:
    code, out = _run("keys", "generate", "--out", str(tmp_path / "k1"))
    assert code == 0 and "key id" in out
    assert (tmp_path / "k1").stat().st_mode & 0o777 == 0o600
    assert _run("keys", "generate", "--out", str(tmp_path / "k1"))[0] == 2  # never overwrites a key
    (tmp_path / "root").mkdir()
    assert _run("keys", "generate", "--out", str(tmp_path / "root" / "k"), "--data-dir", str(tmp_path / "root"))[0] == 2
    code, out = _run("keys", "generate")
    assert code == 0 and len(out.strip()) == 44  # printed for FF_ENCRYPTION_KEY


async def test_encrypt_a_plaintext_root_then_rotate_it(tmp_path: Path) -> None:
    root, k1, k2 = tmp_path / "root", tmp_path / "k1", tmp_path / "k2"
    _run("keys", "generate", "--out", str(k1))
    _run("keys", "generate", "--out", str(k2))
    session_id = await _write(root, None)
    assert _plaintext(root)
    code, out = _run("keys", "rotate", "--data-dir", str(root), "--new-key-file", str(k1))
    assert code == 0, out
    assert _plaintext(root) == []
    assert await _read(root, k1, session_id) == [f"{SECRET} #{i}" for i in range(3)]
    with pytest.raises(FFConfigError, match="no key is configured"):
        await _read(root, None, session_id)
    code, out = _run("keys", "rotate", "--data-dir", str(root), "--new-key-file", str(k2))
    assert code == 2  # the root's current key (k1) was not given
    code, out = _run("keys", "rotate", "--data-dir", str(root), "--new-key-file", str(k2), "--old-key-file", str(k1))
    assert code == 0, out
    with pytest.raises(FFConfigError, match="configured key has id"):
        await _read(root, k1, session_id)
    assert await _read(root, k2, session_id) == [f"{SECRET} #{i}" for i in range(3)]
    code, out = _run("keys", "status", "--data-dir", str(root))
    assert code == 1 and "configured key: none" in out
    meta = ff_read_meta(root)
    assert meta is not None and meta.encryption is not None and meta.encryption.rotating_to is None


async def test_a_rotation_killed_half_way_blocks_the_root_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, k1, k2 = tmp_path / "root", tmp_path / "k1", tmp_path / "k2"
    _run("keys", "generate", "--out", str(k1))
    _run("keys", "generate", "--out", str(k2))
    session_id = await _write(root, k1)
    real_write = rotation_module.ff_atomic_write
    calls = 0

    def dies_on_the_second_file(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise FFStorageError("disk went away")
        real_write(*args, **kwargs)

    monkeypatch.setattr(rotation_module, "ff_atomic_write", dies_on_the_second_file)
    code, _out = _run("keys", "rotate", "--data-dir", str(root), "--new-key-file", str(k2), "--old-key-file", str(k1))
    assert code == 2
    meta = ff_read_meta(root)
    assert meta is not None and meta.encryption is not None and meta.encryption.rotating_to is not None
    for key_file in (k1, k2):
        with pytest.raises(FFConfigError, match="middle of a key rotation"):
            await _read(root, key_file, session_id)
    monkeypatch.setattr(rotation_module, "ff_atomic_write", real_write)
    code, out = _run("keys", "rotate", "--data-dir", str(root), "--new-key-file", str(k2), "--old-key-file", str(k1))
    assert code == 0, out
    assert "already under key" in out and not out.startswith("re-encrypted 0 ")
    assert await _read(root, k2, session_id) == [f"{SECRET} #{i}" for i in range(3)]
