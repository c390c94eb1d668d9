"""Exact refusals of ff_read_bytes and ff_read_key_file (mutation review, issue #20)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from ff_utils.ff_encryption import ff_read_key_file
from ff_utils.ff_errors import FFConfigError, FFCorruptionError, FFStorageError, FFValidationError
from ff_utils.ff_file_ops import ff_read_bytes


def test_read_bytes_over_the_limit_is_refused_exactly(tmp_path: Path) -> None:
    (tmp_path / "blob").write_bytes(b"x" * 1001)
    with pytest.raises(FFValidationError) as caught:
        ff_read_bytes(tmp_path / "blob", max_bytes=1000)
    assert (caught.value.message, caught.value.field, caught.value.value) == (
        "file of 1,001 bytes exceeds the limit of 1,000",
        "path",
        str(tmp_path / "blob"),
    )


def test_read_bytes_at_the_limit_reads_the_file(tmp_path: Path) -> None:
    (tmp_path / "blob").write_bytes(b"x" * 1000)
    assert ff_read_bytes(tmp_path / "blob", max_bytes=1000) == b"x" * 1000


def test_read_bytes_of_a_directory_names_the_action_and_the_path(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(FFStorageError) as caught:
        ff_read_bytes(tmp_path / "d")
    assert caught.value.message == "cannot read file: Is a directory [EISDIR]"
    assert caught.value.path == tmp_path / "d"


def _key_text() -> str:
    return base64.urlsafe_b64encode(bytes(range(32))).decode("ascii")


def test_a_key_file_inside_the_data_root_is_refused_exactly(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    key_file = tmp_path / "data" / "key"
    key_file.write_text(_key_text())
    with pytest.raises(FFConfigError) as caught:
        ff_read_key_file(key_file, data_root=tmp_path / "data")
    assert caught.value.message == f"the encryption key file {key_file} is inside the data root; keep it elsewhere"
    assert caught.value.field == "encryption_key_file"


def test_a_key_file_outside_the_data_root_is_read(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "key").write_text(_key_text() + "\n")
    assert ff_read_key_file(tmp_path / "key", data_root=tmp_path / "data").secret == bytes(range(32))


def test_a_key_file_of_the_wrong_length_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "key").write_text(base64.urlsafe_b64encode(b"short").decode("ascii"))
    with pytest.raises(FFConfigError) as caught:
        ff_read_key_file(tmp_path / "key")
    assert (caught.value.message, caught.value.field) == (
        f"key file {tmp_path / 'key'} holds 5 bytes; an encryption key is 32",
        "encryption_key",
    )


def test_a_key_file_that_is_not_ascii_is_a_corruption_naming_the_action_and_the_file(tmp_path: Path) -> None:
    (tmp_path / "key").write_bytes("clé".encode("utf-8"))
    with pytest.raises(FFCorruptionError) as caught:
        ff_read_key_file(tmp_path / "key")
    assert caught.value.message.startswith("cannot read encryption key file: ")
    assert caught.value.path == tmp_path / "key"
