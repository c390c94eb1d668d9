"""FFArtifactStore against a real S3 API (moto's server on 127.0.0.1): write once, verify every read."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from ff_utils.ff_artifact_store import SHA256_METADATA, FFArtifactStore, is_store_url
from ff_utils.ff_errors import FFArtifactStoreError, FFStorageError, FFValidationError
from ff_utils.ff_hashing import ff_sha256_bytes
from tests._s3 import SECRET, S3Endpoint


def _store(s3: S3Endpoint, prefix: str = "artifacts") -> FFArtifactStore:
    return FFArtifactStore(s3.url(prefix), s3.options)


def test_bytes_and_files_round_trip_with_their_checksums(s3: S3Endpoint, tmp_path: Path) -> None:
    store = _store(s3)
    store.check()
    ref = store.put_bytes("reports/a.json", b'{"a": 1}')
    assert ref.url == f"s3://{s3.bucket}/artifacts/reports/a.json" and ref.sha256 == ff_sha256_bytes(b'{"a": 1}')
    head = s3.client().head_object(Bucket=s3.bucket, Key="artifacts/reports/a.json")
    assert head["Metadata"][SHA256_METADATA] == ref.sha256
    assert store.get_bytes("reports/a.json") == b'{"a": 1}'
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 4096)  # 1 MiB
    assert store.put_file("backups/big.bin", big).size == big.stat().st_size
    fetched = store.get_file("backups/big.bin", tmp_path / "out" / "big.bin")
    assert (tmp_path / "out" / "big.bin").read_bytes() == big.read_bytes() and fetched.sha256 == ff_sha256_bytes(big.read_bytes())
    assert store.list() == ["backups/big.bin", "reports/a.json"] and store.list("reports") == ["reports/a.json"]
    assert store.list("nothing-here") == []


def test_an_artifact_is_written_once_a_retry_is_a_no_op_and_other_bytes_are_refused(s3: S3Endpoint) -> None:
    store = _store(s3)
    first = store.put_bytes("x/one", b"first")
    assert store.put_bytes("x/one", b"first") == first  # a retried upload of the same bytes
    with pytest.raises(FFArtifactStoreError) as caught:
        store.put_bytes("x/one", b"second")
    assert caught.value.reason == "conflict"
    assert store.get_bytes("x/one") == b"first"


def test_a_corrupted_object_is_a_typed_error_and_get_file_leaves_nothing(s3: S3Endpoint, tmp_path: Path) -> None:
    store = _store(s3)
    ref = store.put_bytes("x/report.json", b"the real bytes")
    # Planted defect: the object's body is swapped behind our back, its recorded checksum kept.
    s3.client().put_object(Bucket=s3.bucket, Key="artifacts/x/report.json", Body=b"the evil bytes", Metadata={SHA256_METADATA: ref.sha256})
    with pytest.raises(FFArtifactStoreError) as caught:
        store.get_bytes("x/report.json")
    assert caught.value.reason == "checksum_mismatch" and "corrupt" in str(caught.value)
    with pytest.raises(FFArtifactStoreError):
        store.get_file("x/report.json", tmp_path / "report.json")
    assert list(tmp_path.iterdir()) == []  # no destination, no temp file
    # An object written without our checksum is not trusted either.
    s3.client().put_object(Bucket=s3.bucket, Key="artifacts/x/foreign", Body=b"foreign")
    with pytest.raises(FFArtifactStoreError, match="no checksum"):
        store.get_bytes("x/foreign")


def test_a_local_file_that_no_longer_matches_its_checksum_is_not_uploaded(s3: S3Endpoint, tmp_path: Path) -> None:
    store = _store(s3)
    source = tmp_path / "backup.tar"
    source.write_bytes(b"as written")
    with pytest.raises(FFArtifactStoreError) as caught:
        store.put_file("b/backup.tar", source, sha256=ff_sha256_bytes(b"as it was meant to be"))
    assert caught.value.reason == "checksum_mismatch" and s3.keys("artifacts/") == []


def test_missing_bucket_and_missing_object_are_one_readable_line(s3: S3Endpoint) -> None:
    store = FFArtifactStore(f"s3://{s3.bucket}-missing/x", s3.options)
    with pytest.raises(FFArtifactStoreError) as caught:
        store.check()
    assert caught.value.reason == "bucket_missing" and "\n" not in str(caught.value)
    assert isinstance(caught.value, FFStorageError)
    with pytest.raises(FFArtifactStoreError) as missing:
        _store(s3).get_bytes("nope/none.json")
    assert missing.value.reason == "not_found" and "nope/none.json" in str(missing.value)


def test_an_endpoint_that_is_down_is_unreachable_and_the_secret_never_shows(
    s3: S3Endpoint, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = _store(s3)
    store.put_bytes("x/a", b"a")
    s3.stop()
    caplog.set_level(logging.DEBUG)
    for attempt in (store.check, lambda: store.get_bytes("x/a"), lambda: store.put_bytes("x/b", b"b")):
        with pytest.raises(FFArtifactStoreError) as caught:
            attempt()
        text = str(caught.value)
        assert caught.value.reason == "unreachable" and "\n" not in text and "127.0.0.1" in text
        assert SECRET not in text and SECRET not in repr(caught.value.context)
    assert SECRET not in caplog.text
    assert SECRET not in repr(FFArtifactStore(s3.url("x"), {"secret": SECRET}))


class _Denied:
    """A filesystem that refuses everything, as S3 does for a caller without the right policy."""

    def invalidate_cache(self) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise PermissionError("Access Denied")

        return refuse


def test_access_denied_is_its_own_reason() -> None:
    store = FFArtifactStore("s3://bucket/prefix", filesystem=_Denied())
    for attempt in (store.check, lambda: store.get_bytes("a"), lambda: store.put_bytes("a", b"a")):
        with pytest.raises(FFArtifactStoreError) as caught:
            attempt()
        assert caught.value.reason == "access_denied" and "access denied" in str(caught.value)


@pytest.mark.parametrize("key", ["", "/abs", "a//b", "../up", "a/../b", "a/.", "sp ace", "a\\b"])
def test_keys_are_checked(key: str) -> None:
    with pytest.raises(FFValidationError):
        FFArtifactStore("s3://bucket/prefix", filesystem=_Denied()).url_of(key)


@pytest.mark.parametrize(("location", "remote"), [
    ("s3://bucket/prefix", True), ("gs://b", True), ("memory://x", True), ("ff_reports", False),
    ("/tmp/x", False), ("file:///tmp/x", False), ("C:/x", False), ("s3:/bucket", False),
])
def test_which_locations_are_stores(location: str, remote: bool) -> None:
    assert is_store_url(location) is remote


@pytest.mark.parametrize("url", ["ff_reports", "s3://", "s3:///", "gs://bucket/x", "memory://x"])
def test_a_store_needs_a_scheme_and_a_bucket(url: str) -> None:
    with pytest.raises(FFValidationError):
        FFArtifactStore(url)
