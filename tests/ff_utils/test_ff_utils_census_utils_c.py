"""Survivors of the census of ``ff_artifact_store`` (every mutant checked), killed.

Written for mutation testing (docs/MUTATION.md, issue 20 "Detection power"): each test pins what a
surviving mutant of ``ff_artifact_store.py`` changed, as a caller sees it (the words, reason and
key of an error; what a store returns and refuses; which endpoint it is opened with; a read-back
that must get past s3fs' listing cache). In-process fake filesystems stand in for S3. Equivalent
survivors: docs/mutation/equivalent/ff_utils/utils-c.toml.
"""

from __future__ import annotations

from typing import Any

import pytest

from ff_utils.ff_artifact_store import FFArtifactRef, FFArtifactStore, is_store_url
from ff_utils.ff_errors import FFArtifactStoreError, FFValidationError
from ff_utils.ff_hashing import ff_sha256_bytes

DENIED = "access denied (check the credentials and the bucket policy)"


class _Refusing:
    """A filesystem refusing every call as S3 refuses a forbidden one."""

    def __getattr__(self, name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise PermissionError("Access Denied")

        return refuse


@pytest.mark.parametrize(
    ("endpoint", "where"),
    [
        ("http://minio.local:9000", "s3://bucket/p at minio.local:9000"),
        ("http://minio.local", "s3://bucket/p at minio.local"),
        ("https://user:pw@minio.local:9443/path", "s3://bucket/p at minio.local:9443"),
    ],
)
def test_an_error_names_the_endpoint_host_and_port_only(endpoint: str, where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FF_S3_ENDPOINT_URL", raising=False)
    store = FFArtifactStore("s3://bucket/p", {"endpoint_url": endpoint}, filesystem=_Refusing())
    with pytest.raises(FFArtifactStoreError) as caught:
        store.exists("k/a")
    assert caught.value.message == f"artifact store {where}: {DENIED} (look up k/a)"


class _Raising:
    """A filesystem whose every call raises the one error it was given."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise self.error

        return fail


def _refusal(error: BaseException) -> FFArtifactStoreError:
    store = FFArtifactStore("s3://bucket/p", filesystem=_Raising(error))
    with pytest.raises(FFArtifactStoreError) as caught:
        store.exists("k/a")
    return caught.value


def test_an_unclassified_error_shows_its_first_200_characters_on_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FF_S3_ENDPOINT_URL", raising=False)
    error = _refusal(RuntimeError("first  line\n\tsecond " + "z" * 300))
    text = ("first line second " + "z" * 300)[:200]
    assert error.reason == "error" and error.context == {"key": "k/a"}
    assert error.message == f"artifact store s3://bucket/p: RuntimeError: {text} (look up k/a)"


def test_a_missing_object_worded_as_a_missing_bucket_is_a_missing_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FF_S3_ENDPOINT_URL", raising=False)
    error = _refusal(FileNotFoundError("The specified bucket does not exist"))
    assert error.reason == "bucket_missing"
    assert error.message == "artifact store s3://bucket/p: the bucket does not exist (look up k/a)"
    error = _refusal(FileNotFoundError("k/a"))
    assert error.reason == "not_found" and error.message == "artifact store s3://bucket/p: no such object (look up k/a)"


class NoCredentialsError(Exception):
    """Named as botocore names it; worded otherwise."""


NO_CREDENTIALS = "no credentials found (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or an instance role)"


def test_missing_credentials_are_known_by_the_class_name_or_by_the_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FF_S3_ENDPOINT_URL", raising=False)
    for raised in (NoCredentialsError("botocore gave up"), RuntimeError("Unable to locate credentials")):
        error = _refusal(raised)
        assert error.reason == "access_denied", raised
        assert error.message == f"artifact store s3://bucket/p: {NO_CREDENTIALS} (look up k/a)", raised


class EndpointConnectionError(Exception):
    """Named as botocore names it; worded otherwise."""


class ConnectTimeoutError(Exception):
    """Named as botocore names it; worded otherwise."""


UNREACHABLE = "the endpoint cannot be reached"


@pytest.mark.parametrize(
    ("raised", "reason", "what"),
    [
        (FileExistsError("k/a"), "conflict", "the object already exists"),
        (RuntimeError("An error occurred (PreconditionFailed) when calling PutObject"), "conflict", "the object already exists"),
        (RuntimeError("At least one of the pre-conditions you specified did not hold"), "conflict", "the object already exists"),
        (FileNotFoundError("NoSuchBucket: b"), "bucket_missing", "the bucket does not exist"),
        (PermissionError("nope"), "access_denied", DENIED),
        (RuntimeError("An error occurred (AccessDenied) when calling GetObject"), "access_denied", DENIED),
        (RuntimeError("403 Forbidden"), "access_denied", DENIED),
        (EndpointConnectionError("gone"), "unreachable", UNREACHABLE),
        (ConnectTimeoutError("slow"), "unreachable", UNREACHABLE),
        (RuntimeError("Could not connect to the endpoint URL"), "unreachable", UNREACHABLE),
        (ConnectionRefusedError("refused"), "unreachable", UNREACHABLE),
        (ValueError("odd"), "error", "ValueError: odd"),
    ],
)
def test_each_kind_of_store_error_is_known_by_one_sign_alone(
    raised: BaseException, reason: str, what: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FF_S3_ENDPOINT_URL", raising=False)
    error = _refusal(raised)
    assert (error.reason, error.message) == (reason, f"artifact store s3://bucket/p: {what} (look up k/a)")


def test_a_store_url_is_known_by_its_first_scheme() -> None:
    assert is_store_url("s3://bucket/a://b") is True
    store = FFArtifactStore("s3://bucket/a://b")
    assert (store.url, store.bucket) == ("s3://bucket/a://b", "bucket")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("bucket/prefix", "not an object store URL (scheme://bucket/prefix): 'bucket/prefix'"),
        ("gs://bucket/prefix", "only s3:// stores (AWS S3 or S3-compatible) are supported, not gs://"),
    ],
)
def test_a_refused_store_url_is_named_with_its_field_and_value(url: str, message: str) -> None:
    with pytest.raises(FFValidationError) as caught:
        FFArtifactStore(url)
    assert (caught.value.message, caught.value.field, caught.value.value) == (message, "url", url)


def test_only_slashes_are_stripped_from_the_store_root() -> None:
    store = FFArtifactStore("s3://Xbucket/pX/")
    assert (store.url, store.bucket, store.url_of("k")) == ("s3://Xbucket/pX", "Xbucket", "s3://Xbucket/pX/k")


def test_a_refused_key_is_named_in_the_message() -> None:
    store = FFArtifactStore("s3://bucket/p", filesystem=_Refusing())
    with pytest.raises(FFValidationError) as caught:
        store.url_of("a//b")
    assert (caught.value.message, caught.value.field, caught.value.value) == ("not an artifact key: 'a//b'", "key", "a//b")


def test_the_endpoint_option_wins_over_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    import fsspec

    opened: list[dict[str, Any]] = []

    def recording(protocol: str, **options: Any) -> Any:
        opened.append(options)
        return _Refusing()

    monkeypatch.setattr(fsspec, "filesystem", recording)
    monkeypatch.setenv("FF_S3_ENDPOINT_URL", "http://from-the-variable:9000")
    with pytest.raises(FFArtifactStoreError):
        FFArtifactStore("s3://bucket/p", {"endpoint_url": "http://from-the-option:9000"}).exists("k/a")
    assert opened[0]["endpoint_url"] == "http://from-the-option:9000"


def test_check_names_its_action_and_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FF_S3_ENDPOINT_URL", raising=False)
    store = FFArtifactStore("s3://bucket/p", filesystem=_Refusing())
    with pytest.raises(FFArtifactStoreError) as caught:
        store.check()
    assert caught.value.message == f"artifact store s3://bucket/p: {DENIED} (reach the bucket)"
    assert caught.value.reason == "access_denied" and caught.value.context == {"key": ""}


class _Caching:
    """An object store whose ``info`` and ``metadata`` answer from a stale cache unless asked to refresh
    (as s3fs answers from its listing cache)."""

    def __init__(self, *, size_known: bool = True) -> None:
        self.objects: dict[str, tuple[bytes, dict[str, str]]] = {}
        self.size_known = size_known

    def pipe_file(self, path: str, data: bytes, mode: str = "overwrite", Metadata: dict[str, str] | None = None) -> None:
        if mode == "create" and path in self.objects:
            raise FileExistsError(path)
        self.objects[path] = (data, dict(Metadata or {}))

    def info(self, path: str, refresh: bool = False) -> dict[str, Any]:
        if not refresh:
            return {"size": 0}  # the listing cache, from before the write
        return {"size": len(self.objects[path][0])} if self.size_known else {}

    def metadata(self, path: str, refresh: bool = False) -> dict[str, str]:
        return dict(self.objects[path][1]) if refresh else {}

    def cat_file(self, path: str) -> bytes:
        return self.objects[path][0]


def test_a_write_is_read_back_past_the_listing_cache_and_its_ref_names_the_key() -> None:
    store = FFArtifactStore("s3://bucket/p", filesystem=_Caching())
    ref = store.put_bytes("k/a.bin", b"abc")
    assert ref == FFArtifactRef("s3://bucket/p/k/a.bin", "k/a.bin", ff_sha256_bytes(b"abc"), 3)
    assert store.stored_sha256("k/a.bin") == ff_sha256_bytes(b"abc")
    assert store.get_bytes("k/a.bin") == b"abc"


def test_a_one_byte_object_whose_size_is_not_read_back_is_not_vouched_for() -> None:
    store = FFArtifactStore("s3://bucket/p", filesystem=_Caching(size_known=False))
    with pytest.raises(FFArtifactStoreError) as caught:
        store.put_bytes("k/one", b"x")
    assert caught.value.reason == "checksum_mismatch" and caught.value.context == {"key": "k/one"}
    assert caught.value.message == "artifact store s3://bucket/p: k/one does not read back as written"
