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
