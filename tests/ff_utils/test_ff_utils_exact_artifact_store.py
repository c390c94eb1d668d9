"""FFArtifactStore's edges, exactly: a file uploaded twice (the same bytes: a no-op; other bytes:
a conflict that changes nothing), the wording and key of its own refusals, what ``get_file`` and
``exists`` return, and the action and key every translated error names.

Written for mutation testing (docs/MUTATION.md, ``ff_utils``): each test pins what a surviving
mutant of ``ff_artifact_store.py`` changed. The S3 tests use moto's server (``s3`` fixture); the
error wording uses in-process fake filesystems.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ff_utils.ff_artifact_store import SHA256_METADATA, FFArtifactStore
from ff_utils.ff_errors import FFArtifactStoreError
from ff_utils.ff_hashing import ff_sha256_bytes
from tests._s3 import S3Endpoint

DENIED = "access denied (check the credentials and the bucket policy)"


def test_put_file_twice_is_a_no_op_and_other_bytes_are_a_conflict_that_changes_nothing(s3: S3Endpoint, tmp_path: Path) -> None:
    store = FFArtifactStore(s3.url("files"), s3.options)
    source = tmp_path / "a.bin"
    source.write_bytes(b"first bytes")
    first = store.put_file("f/a.bin", source)
    assert first == store.put_file("f/a.bin", source, sha256=ff_sha256_bytes(b"first bytes"))  # a retried upload
    other = tmp_path / "b.bin"
    other.write_bytes(b"other bytes")
    with pytest.raises(FFArtifactStoreError) as caught:
        store.put_file("f/a.bin", other)
    assert caught.value.reason == "conflict" and caught.value.context == {"key": "f/a.bin"}
    assert caught.value.message == f"artifact store {store.url}: f/a.bin already holds different bytes; artifacts are never replaced"
    assert store.get_bytes("f/a.bin") == b"first bytes" and store.stored_sha256("f/a.bin") == first.sha256


def test_put_file_of_a_changed_local_file_is_refused_naming_it_and_the_key(s3: S3Endpoint, tmp_path: Path) -> None:
    store = FFArtifactStore(s3.url("files"), s3.options)
    source = tmp_path / "backup.tar"
    source.write_bytes(b"as written")
    with pytest.raises(FFArtifactStoreError) as caught:
        store.put_file("b/backup.tar", source, sha256=ff_sha256_bytes(b"as meant"))
    assert caught.value.message == f"artifact store {store.url}: local file {source} no longer matches its checksum; not uploaded"
    assert caught.value.reason == "checksum_mismatch" and caught.value.context == {"key": "b/backup.tar"}


def test_get_file_returns_the_url_key_checksum_and_size_and_exists_answers(s3: S3Endpoint, tmp_path: Path) -> None:
    store = FFArtifactStore(s3.url("files"), s3.options)
    data = b"x" * 1000
    store.put_bytes("g/data.bin", data)
    ref = store.get_file("g/data.bin", tmp_path / "data.bin")
    assert (ref.url, ref.key, ref.sha256, ref.size) == (f"{store.url}/g/data.bin", "g/data.bin", ff_sha256_bytes(data), 1000)
    assert store.exists("g/data.bin") is True and store.exists("g/other.bin") is False


class _Fake:
    """A filesystem whose metadata reads work and everything else is refused (recording ``get_file``'s target)."""

    def __init__(self) -> None:
        self.downloads: list[str] = []

    def invalidate_cache(self) -> None:
        return None

    def metadata(self, path: str, refresh: bool = False) -> dict[str, str]:
        return {SHA256_METADATA: "0" * 64}

    def get_file(self, remote: str, local: str) -> None:
        self.downloads.append(local)
        Path(local).write_bytes(b"half")
        raise PermissionError("Access Denied")

    def __getattr__(self, name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise PermissionError("Access Denied")

        return refuse


def test_every_translated_error_names_the_action_and_the_key(tmp_path: Path) -> None:
    fake = _Fake()
    store = FFArtifactStore("s3://bucket/prefix", filesystem=fake)
    source = tmp_path / "up.bin"
    source.write_bytes(b"up")
    attempts = {
        "look up k/a": lambda: store.exists("k/a"),
        "list k": lambda: store.list("k"),
        "upload k/up": lambda: store.put_file("k/up", source),
        "download k/down": lambda: store.get_file("k/down", tmp_path / "out" / "down.bin"),
    }
    for action, attempt in attempts.items():
        with pytest.raises(FFArtifactStoreError) as caught:
            attempt()
        assert caught.value.message == f"artifact store s3://bucket/prefix: {DENIED} ({action})", action
        assert caught.value.reason == "access_denied" and caught.value.context == {"key": action.split(" ")[-1]}, action


def test_a_download_goes_to_a_part_file_beside_the_destination_and_nothing_stays(tmp_path: Path) -> None:
    fake = _Fake()
    store = FFArtifactStore("s3://bucket/prefix", filesystem=fake)
    destination = tmp_path / "out" / "down.bin"
    with pytest.raises(FFArtifactStoreError):
        store.get_file("k/down", destination)
    [part] = fake.downloads
    assert Path(part).parent == destination.parent and Path(part).name.endswith(".part")
    assert list(destination.parent.iterdir()) == []
