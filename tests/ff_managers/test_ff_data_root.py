"""ff_data_root: ff_meta.json and the status summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from ff_class_configs import FF_SCHEMA_VERSION
from ff_managers.ff_data_root import FF_META_NAME, ff_data_root_status, ff_ensure_data_root, ff_read_meta
from ff_utils.ff_errors import FFCorruptionError, FFValidationError


def test_meta_created_once(tmp_path: Path) -> None:
    root = tmp_path / "root"
    assert ff_read_meta(root) is None
    first = ff_ensure_data_root(root)
    content = (root / FF_META_NAME).read_bytes()
    second = ff_ensure_data_root(root)
    assert first == second and first.schema_version == FF_SCHEMA_VERSION
    assert (root / FF_META_NAME).read_bytes() == content  # never re-created, created_at kept
    assert ff_read_meta(root) == first


def test_existing_meta_is_respected(tmp_path: Path) -> None:
    (tmp_path / FF_META_NAME).write_text('{"schema_version": 1, "created_at": "2020-01-01T00:00:00Z"}')
    assert ff_ensure_data_root(tmp_path).schema_version == 1  # migrations decide, not initialisation


def test_bad_meta(tmp_path: Path) -> None:
    (tmp_path / FF_META_NAME).write_text("{broken")
    with pytest.raises(FFCorruptionError):
        ff_ensure_data_root(tmp_path)
    with pytest.raises(FFCorruptionError):
        ff_read_meta(tmp_path)
    (tmp_path / FF_META_NAME).write_text('{"schema_version": "two"}')
    with pytest.raises(FFCorruptionError):  # stored data of the wrong shape is corruption, not bad input
        ff_read_meta(tmp_path)


def test_status_counts(tmp_path: Path) -> None:
    ff_ensure_data_root(tmp_path)
    for user in ("alice", "bob"):
        (tmp_path / "users" / user / "sessions").mkdir(parents=True)
        (tmp_path / "users" / user / "profile.json").write_text("{}")  # 2 bytes
    (tmp_path / "users" / "alice" / "sessions" / "m.jsonl").write_text("1234567890")
    (tmp_path / "users" / "alice" / ".profile.json.lock").write_text("")  # hidden: not counted
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "x.jsonl").write_text("abc")
    meta_size = (tmp_path / FF_META_NAME).stat().st_size
    status = ff_data_root_status(tmp_path)
    assert status.schema_version == FF_SCHEMA_VERSION and status.users == 2
    assert status.files == 5 and status.bytes == meta_size + 2 + 2 + 10 + 3
    assert status.areas == {".": 1, "users": 3, "metrics": 1}


def test_status_of_uninitialised_and_missing_roots(tmp_path: Path) -> None:
    status = ff_data_root_status(tmp_path)
    assert (status.schema_version, status.users, status.files, status.bytes) == (None, 0, 0, 0)
    with pytest.raises(FFValidationError):
        ff_data_root_status(tmp_path / "missing")


def test_status_does_not_follow_symlinks(tmp_path: Path) -> None:
    # Regression: a dangling symlink crashed status with a raw FileNotFoundError, and a link to
    # a directory outside the root counted as a user.
    root, outside = tmp_path / "root", tmp_path / "outside"
    ff_ensure_data_root(root)
    outside.mkdir()
    (outside / "big").write_bytes(b"x" * 10_000)
    (root / "users").mkdir()
    (root / "users" / "dangling").symlink_to(root / "nowhere")
    (root / "users" / "intruder").symlink_to(outside)
    (root / "big").symlink_to(outside / "big")
    status = ff_data_root_status(root)
    assert status.users == 0
    assert status.bytes < 10_000



def test_a_wrong_shape_meta_is_corruption_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / FF_META_NAME).write_text('{"schema_version": "two"}')
    for call in (ff_read_meta, ff_ensure_data_root):
        with pytest.raises(FFCorruptionError) as caught:
            call(tmp_path)
        assert caught.value.path == tmp_path / FF_META_NAME


# ---------------------------------------------------------------------------- encryption at rest


def test_a_new_root_records_the_key_id_and_checks_it_on_every_open(tmp_path: Path) -> None:
    from ff_utils.ff_errors import FFConfigError

    meta = ff_ensure_data_root(tmp_path, key_id="0123456789abcdef")
    assert meta.encryption is not None and meta.encryption.key_id == "0123456789abcdef"
    assert b"0123456789abcdef" in (tmp_path / FF_META_NAME).read_bytes()  # the id, never a key
    assert ff_ensure_data_root(tmp_path, key_id="0123456789abcdef") == meta
    with pytest.raises(FFConfigError, match="no key is configured"):
        ff_ensure_data_root(tmp_path, key_id=None)
    with pytest.raises(FFConfigError, match="configured key has id ffffffffffffffff"):
        ff_ensure_data_root(tmp_path, key_id="ffffffffffffffff")
    assert ff_ensure_data_root(tmp_path) == meta  # status tools: neither recorded nor checked


def test_a_plaintext_root_refuses_a_key_and_a_rotation_in_progress_refuses_everyone(tmp_path: Path) -> None:
    from ff_managers.ff_data_root import FFEncryptionMetaDTO, ff_set_encryption
    from ff_utils.ff_errors import FFConfigError

    assert ff_ensure_data_root(tmp_path, key_id=None).encryption is None
    (tmp_path / "users").mkdir()
    (tmp_path / "users" / "profile.json").write_text("{}")  # plaintext data: a key is not adopted
    with pytest.raises(FFConfigError, match="not encrypted, but an encryption key"):
        ff_ensure_data_root(tmp_path, key_id="0123456789abcdef")
    ff_set_encryption(tmp_path, FFEncryptionMetaDTO(key_id=None, rotating_to="0123456789abcdef"))
    for key_id in (None, "0123456789abcdef"):
        with pytest.raises(FFConfigError, match="middle of a key rotation"):
            ff_ensure_data_root(tmp_path, key_id=key_id)


async def test_a_manager_will_not_open_an_encrypted_root_without_its_key(tmp_path: Path) -> None:
    from ff_class_configs import load_config
    from ff_managers import FFMemoryLayerManager
    from ff_utils.ff_encryption import FFEncryptionMiddleware, ff_generate_key_text, ff_parse_key
    from ff_utils.ff_errors import FFConfigError
    from ff_utils.ff_store import FFStore

    config = load_config(environ={}, overrides={"storage": {"base_path": str(tmp_path)}})
    key = ff_parse_key(ff_generate_key_text(), source="test")
    async with FFMemoryLayerManager(config, store=FFStore(tmp_path, middleware=FFEncryptionMiddleware(key))) as memory:
        session = await memory.create_session("alice", title="secret")
        await memory.add_message("alice", session.session_id, "user", "hello")
    with pytest.raises(FFConfigError, match="is encrypted"):
        await FFMemoryLayerManager(config, store=FFStore(tmp_path)).initialize()
    async with FFMemoryLayerManager(config, store=FFStore(tmp_path, middleware=FFEncryptionMiddleware(key))) as memory:
        assert [m.content for m in await memory.get_messages("alice", session.session_id)] == ["hello"]


def test_an_empty_plaintext_root_adopts_the_first_key_but_one_with_data_does_not(tmp_path: Path) -> None:
    from ff_utils.ff_errors import FFConfigError

    ff_ensure_data_root(tmp_path)  # `main.py init` without a key
    (tmp_path / "users").mkdir()
    (tmp_path / "users" / ".x.lock").write_bytes(b"")
    meta = ff_ensure_data_root(tmp_path, key_id="0123456789abcdef")
    assert meta.encryption is not None and meta.encryption.key_id == "0123456789abcdef"
    other = tmp_path / "other"
    ff_ensure_data_root(other, key_id=None)
    (other / "users").mkdir()
    (other / "users" / "profile.json").write_text("{}")
    with pytest.raises(FFConfigError, match="not encrypted"):
        ff_ensure_data_root(other, key_id="0123456789abcdef")
