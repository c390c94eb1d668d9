"""Immutable artifacts in an object store (S3 and S3-compatible stores, through fsspec and s3fs).

Reports, migration backups and attachment bytes are written once and never changed, which is
exactly what an object store does well. Each object is written with a conditional create
(``If-None-Match: *``, s3fs' ``mode="create"``), so two writers can never silently replace each
other's object, and carries the SHA-256 of its bytes in its user metadata (``ff-sha256``). Every
read hashes the bytes it got and compares: a damaged or swapped object is an
:class:`FFArtifactStoreError` with ``reason="checksum_mismatch"``, never data.

What is *not* kept here: the JSONL logs. S3 has no append (a "log" would be a read-modify-write of
the whole object per message) and no locks (two writers' read-modify-writes lose one another's
lines), so the logs stay on the local file system, where ``O_APPEND`` and ``flock`` give both.

Credentials come from the standard AWS chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``,
``AWS_PROFILE``, instance roles) or from fsspec storage options; the endpoint of an S3-compatible
store from the options' ``endpoint_url`` or ``FF_S3_ENDPOINT_URL``. Neither options nor
credentials are ever logged or put in an error message.

Synchronous on purpose (fsspec runs s3fs' event loop in its own thread): managers call it from
worker threads, like every other storage primitive here. s3fs is imported only when a store is
first used, so the package works without the ``scale`` extra until an ``s3://`` URL is set.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ff_utils.ff_errors import FFArtifactStoreError, FFValidationError
from ff_utils.ff_file_ops import ff_atomic_file
from ff_utils.ff_hashing import ff_sha256_bytes, ff_sha256_file
from ff_utils.ff_logging import get_logger

__all__ = ["ENDPOINT_ENV", "SHA256_METADATA", "FFArtifactRef", "FFArtifactStore", "is_store_url"]

ENDPOINT_ENV = "FF_S3_ENDPOINT_URL"
SHA256_METADATA = "ff-sha256"
_KEY_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=+:-]*$")
_LOCAL_PROTOCOLS = frozenset({"", "file", "local"})
_S3_PROTOCOLS = frozenset({"s3", "s3a"})
#: botocore's own retries and timeouts, so an endpoint that is down fails in seconds, not minutes.
_S3_CONFIG = {"connect_timeout": 5, "read_timeout": 60, "retries": {"max_attempts": 3, "mode": "standard"}}

_log = get_logger("artifact_store")


def is_store_url(location: str | os.PathLike[str]) -> bool:
    """True for ``scheme://...`` other than ``file://``: a location the artifact store writes."""
    text = os.fspath(location)
    scheme, sep, _rest = text.partition("://")
    return bool(sep) and scheme.lower() not in _LOCAL_PROTOCOLS and bool(re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme.lower()))


@dataclass(frozen=True, slots=True)
class FFArtifactRef:
    """Where one stored artifact is and what its bytes hash to."""

    url: str
    key: str
    sha256: str
    size: int


class FFArtifactStore:
    """Write-once, checksum-verified objects under one ``scheme://bucket/prefix`` URL."""

    def __init__(self, url: str, options: Mapping[str, Any] | None = None, *, filesystem: Any = None) -> None:
        """``options`` are fsspec storage options (``endpoint_url``, ``key``, ``secret``, ...).

        Raises FFValidationError for a URL without a scheme or a bucket. Nothing is contacted yet.
        """
        if not is_store_url(url):
            raise FFValidationError(f"not an object store URL (scheme://bucket/prefix): {url!r}", field="url", value=url)
        scheme, _, rest = url.partition("://")
        if scheme.lower() not in _S3_PROTOCOLS and filesystem is None:
            # Other fsspec stores keep no user metadata, so a checksum could not be recorded and checked.
            raise FFValidationError(f"only s3:// stores (AWS S3 or S3-compatible) are supported, not {scheme}://", field="url", value=url)
        root = rest.strip("/")
        if not root:
            raise FFValidationError(f"object store URL names no bucket: {url!r}", field="url", value=url)
        self._protocol = scheme.lower()
        self._root = root
        self._options = dict(options or {})
        self._fs = filesystem

    def __repr__(self) -> str:  # never the options: they may hold credentials
        return f"FFArtifactStore({self.url!r})"

    @property
    def url(self) -> str:
        return f"{self._protocol}://{self._root}"

    @property
    def bucket(self) -> str:
        return self._root.split("/", 1)[0]

    def url_of(self, key: str) -> str:
        return f"{self.url}/{_checked_key(key)}"

    # ------------------------------------------------------------------ connection

    def _where(self) -> str:
        """The store and, for an S3-compatible endpoint, its host:port (no user info)."""
        endpoint = self._options.get("endpoint_url") or os.environ.get(ENDPOINT_ENV)
        if endpoint:
            parts = urlsplit(str(endpoint))
            return f"{self.url} at {parts.hostname}{f':{parts.port}' if parts.port else ''}"
        return self.url

    def _filesystem(self) -> Any:
        if self._fs is None:
            with self._translated("open store", ""):
                import fsspec

                options = dict(self._options)
                if self._protocol in _S3_PROTOCOLS:
                    import s3fs  # noqa: F401 - the `scale` extra; its absence is a readable error

                    endpoint = options.pop("endpoint_url", None) or os.environ.get(ENDPOINT_ENV)
                    if endpoint:
                        options["endpoint_url"] = endpoint
                    options.setdefault("config_kwargs", _S3_CONFIG)
                options.setdefault("skip_instance_cache", True)
                self._fs = fsspec.filesystem(self._protocol, **options)
        return self._fs

    @contextlib.contextmanager
    def _translated(self, action: str, key: str) -> Iterator[None]:
        """Whatever fsspec, s3fs or botocore raise, as one FFArtifactStoreError of one line."""
        try:
            yield
        except FFArtifactStoreError:
            raise
        except ImportError as exc:
            raise FFArtifactStoreError(
                f"artifact store {self.url}: {exc.name or 'a module'} is not installed (pip install 'ff-platform[scale]')",
                reason="missing_dependency",
            ) from None
        except Exception as exc:  # noqa: BLE001 - fsspec, s3fs, botocore and aiohttp share no base class
            reason, what = _classify(exc)
            where = self._where()
            target = f" {key}" if key else ""
            raise FFArtifactStoreError(f"artifact store {where}: {what} ({action}{target})", reason=reason, key=key) from None

    def check(self) -> None:
        """Fail now, before any work, when the bucket is missing, forbidden or the endpoint down."""
        fs = self._filesystem()
        try:
            with self._translated("reach the bucket", ""):
                fs.invalidate_cache()
                fs.info(self.bucket)  # HEAD bucket: cheap, whatever the bucket holds
        except FFArtifactStoreError as exc:
            if exc.reason != "not_found":
                raise
            raise FFArtifactStoreError(f"artifact store {self._where()}: the bucket does not exist", reason="bucket_missing") from None

    # ------------------------------------------------------------------ writes

    def put_bytes(self, key: str, data: bytes) -> FFArtifactRef:
        """Store ``data`` under ``key`` once; return where it went and its SHA-256.

        Writing the same bytes again is a no-op (a retried upload); different bytes under an
        existing key raise FFArtifactStoreError(reason="conflict") and change nothing.
        """
        path = self._path(key)
        sha = ff_sha256_bytes(data)
        fs = self._filesystem()
        try:
            with self._translated("write", key):
                fs.pipe_file(path, data, mode="create", **self._metadata(sha))
        except FFArtifactStoreError as exc:
            if exc.reason != "conflict":
                raise
            self._same_or_conflict(key, sha)
        return self._verified_ref(key, sha, len(data))

    def put_file(self, key: str, source: Path | str, *, sha256: str | None = None) -> FFArtifactRef:
        """Upload a durable local file once (streamed); ``sha256``, when given, must be the file's.

        A local file that no longer hashes to ``sha256`` raises FFArtifactStoreError
        (``checksum_mismatch``) before a byte is sent.
        """
        source = Path(source)
        sha = ff_sha256_file(source)
        if sha256 is not None and sha != sha256:
            raise FFArtifactStoreError(f"artifact store {self.url}: local file {source} no longer matches its checksum; not uploaded",
                                       reason="checksum_mismatch", key=key)
        path = self._path(key)
        fs = self._filesystem()
        try:
            with self._translated("upload", key):
                fs.put_file(str(source), path, mode="create", **self._metadata(sha))
        except FFArtifactStoreError as exc:
            if exc.reason != "conflict":
                raise
            self._same_or_conflict(key, sha)
        return self._verified_ref(key, sha, source.stat().st_size)

    @staticmethod
    def _metadata(sha: str) -> dict[str, Any]:
        return {"Metadata": {SHA256_METADATA: sha}}

    def _same_or_conflict(self, key: str, sha: str) -> None:
        if self.stored_sha256(key) != sha:
            raise FFArtifactStoreError(f"artifact store {self.url}: {key} already holds different bytes; artifacts are never replaced",
                                       reason="conflict", key=key)

    def _verified_ref(self, key: str, sha: str, size: int) -> FFArtifactRef:
        """Read back the object's size and recorded checksum: the upload is done only if both match."""
        with self._translated("check", key):
            info = self._filesystem().info(self._path(key), refresh=True)
        if int(info.get("size", -1)) != size or self.stored_sha256(key) != sha:
            raise FFArtifactStoreError(f"artifact store {self.url}: {key} does not read back as written", reason="checksum_mismatch", key=key)
        return FFArtifactRef(self.url_of(key), key, sha, size)

    # ------------------------------------------------------------------ reads

    def stored_sha256(self, key: str) -> str:
        """The SHA-256 recorded when the object was written ('' when it carries none)."""
        fs = self._filesystem()
        path = self._path(key)
        with self._translated("read metadata of", key):
            return str(fs.metadata(path, refresh=True).get(SHA256_METADATA, ""))

    def get_bytes(self, key: str) -> bytes:
        """The object's bytes, verified against its recorded SHA-256."""
        expected = self.stored_sha256(key)
        with self._translated("read", key):
            data: bytes = self._filesystem().cat_file(self._path(key))
        self._verify(key, expected, ff_sha256_bytes(data))
        return data

    def get_file(self, key: str, destination: Path | str) -> FFArtifactRef:
        """Download to ``destination`` atomically (temp sibling, verify, fsync, rename).

        A checksum mismatch leaves nothing at ``destination``.
        """
        destination = Path(destination)
        expected = self.stored_sha256(key)
        with ff_atomic_file(destination, suffix=".part") as part:
            with self._translated("download", key):
                self._filesystem().get_file(self._path(key), str(part))
            actual = ff_sha256_file(part)
            self._verify(key, expected, actual)
        return FFArtifactRef(self.url_of(key), key, actual, destination.stat().st_size)

    def _verify(self, key: str, expected: str, actual: str) -> None:
        if not expected or expected != actual:
            _log.error("artifact %s: checksum mismatch (recorded %s, read %s)", self.url_of(key), expected or "none", actual)
            raise FFArtifactStoreError(
                f"artifact store {self.url}: {key} is corrupt: its bytes hash to {actual[:12]}…, "
                f"recorded {expected[:12] + '…' if expected else 'no checksum'}",
                reason="checksum_mismatch", key=key,
            )

    def exists(self, key: str) -> bool:
        with self._translated("look up", key):
            return bool(self._filesystem().exists(self._path(key)))

    def list(self, prefix: str = "") -> list[str]:
        """Every key under ``prefix`` (relative to the store's URL), sorted; [] when there are none."""
        fs = self._filesystem()
        base = self._path(prefix) if prefix else self._root
        with self._translated("list", prefix):
            fs.invalidate_cache()
            found = fs.find(base)
        start = len(self._root) + 1
        return sorted(str(path)[start:] for path in found if str(path).startswith(self._root + "/"))

    def _path(self, key: str) -> str:
        return f"{self._root}/{_checked_key(key)}"


def _checked_key(key: str) -> str:
    """``a/b/c``: relative, no empty, dot or odd segments. Raises FFValidationError."""
    parts = key.split("/")
    if not key or any(not _KEY_PART.match(part) or part in (".", "..") for part in parts):
        raise FFValidationError(f"not an artifact key: {key!r}", field="key", value=key)
    return key


def _classify(exc: BaseException) -> tuple[str, str]:
    """(reason, one-line text) for an error out of fsspec/s3fs/botocore/aiohttp."""
    text = " ".join(str(exc).split())[:200]
    name = type(exc).__name__
    if isinstance(exc, FileExistsError) or "PreconditionFailed" in text or "pre-conditions" in text:
        return "conflict", "the object already exists"
    if isinstance(exc, FileNotFoundError):
        if "bucket does not exist" in text or "NoSuchBucket" in text:
            return "bucket_missing", "the bucket does not exist"
        return "not_found", "no such object"
    if "NoCredentials" in name or "Unable to locate credentials" in text:
        return "access_denied", "no credentials found (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or an instance role)"
    if isinstance(exc, PermissionError) or "AccessDenied" in text or "Forbidden" in text:
        return "access_denied", "access denied (check the credentials and the bucket policy)"
    if "EndpointConnectionError" in name or "ConnectTimeout" in name or "Could not connect" in text or isinstance(exc, ConnectionError):
        return "unreachable", "the endpoint cannot be reached"
    return "error", f"{name}: {text}"
