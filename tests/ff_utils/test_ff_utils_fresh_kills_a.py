"""Survivors of the second sample of ``ff_utils`` (seed 20261207; stores and hashing), killed.

Written for mutation testing (docs/MUTATION.md, "``ff_utils``: second sample (seed 20261207),
stores and hashing"): each test pins what a surviving mutant of ``ff_artifact_store``,
``ff_hashing``, ``ff_ids``, ``ff_json_utils`` or ``ff_store`` changed, as a caller sees it: how a
missing bucket and a connect timeout are classified, the options the object store is opened with
(botocore's timeouts, no shared fsspec instance), an object whose size cannot be read back, the
field of a refused ``workers``, the default id prefix and id kind, a document read or updated
through a symlinked folder below the root, and the default a store's updater gets.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from ff_utils.ff_artifact_store import SHA256_METADATA, FFArtifactStore
from ff_utils.ff_errors import FFArtifactStoreError, FFValidationError
from ff_utils.ff_hashing import ff_build_manifest
from ff_utils.ff_ids import ff_is_valid_id, ff_new_id, ff_validate_id
from ff_utils.ff_json_utils import ff_read_json, ff_update_json, ff_write_json
from ff_utils.ff_store import FFStore

# ------------------------------------------------------------------ ff_artifact_store


class _Raises:
    """A filesystem whose every call raises ``exc``."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __getattr__(self, name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise self.exc

        return refuse


@pytest.mark.parametrize(
    "exc",
    [
        # s3fs maps NoSuchBucket to FileNotFoundError carrying botocore's words
        FileNotFoundError("An error occurred (NoSuchBucket) when calling the ListObjectsV2 operation"),
        FileNotFoundError("NoSuchBucket"),
    ],
)
def test_a_missing_object_worded_no_such_bucket_is_a_missing_bucket(exc: BaseException) -> None:
    store = FFArtifactStore("s3://bucket/prefix", filesystem=_Raises(exc))
    with pytest.raises(FFArtifactStoreError) as caught:
        store.exists("k/a")
    assert caught.value.reason == "bucket_missing"
    assert caught.value.message == "artifact store s3://bucket/prefix: the bucket does not exist (look up k/a)"


def test_a_botocore_connect_timeout_is_an_unreachable_endpoint() -> None:
    from botocore.exceptions import ConnectTimeoutError

    # "Connect timeout on endpoint URL: ...": neither a builtin ConnectionError nor "Could not connect"
    exc = ConnectTimeoutError(endpoint_url="http://127.0.0.1:9")
    assert not isinstance(exc, ConnectionError) and "Could not connect" not in str(exc)
    store = FFArtifactStore("s3://bucket/prefix", filesystem=_Raises(exc))
    with pytest.raises(FFArtifactStoreError) as caught:
        store.exists("k/a")
    assert caught.value.reason == "unreachable"
    assert caught.value.message == "artifact store s3://bucket/prefix: the endpoint cannot be reached (look up k/a)"


class _Empty:
    def exists(self, path: str) -> bool:
        return False


def test_an_s3_store_is_opened_with_botocore_timeouts_and_its_own_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    """What fsspec is asked for: botocore's timeouts and retries (so an endpoint that is down fails
    in seconds) and a filesystem instance of its own (not one cached and shared with another
    store of the same options); options the caller gave win."""
    import fsspec

    opened: list[tuple[str, dict[str, Any]]] = []

    def recording(protocol: str, **options: Any) -> Any:
        opened.append((protocol, options))
        return _Empty()

    monkeypatch.setattr(fsspec, "filesystem", recording)
    monkeypatch.delenv("FF_S3_ENDPOINT_URL", raising=False)
    assert FFArtifactStore("s3://bucket/prefix").exists("k/a") is False
    protocol, options = opened[0]
    assert protocol == "s3"
    assert options["skip_instance_cache"] is True
    config = options["config_kwargs"]
    assert (config["connect_timeout"], config["read_timeout"], config["retries"]["mode"]) == (5, 60, "standard")
    # botocore's Config rewrites the dict it was given in place, once a real s3fs store has been
    # opened in this process: 3 retries become "total_max_attempts": 4, the same setting
    retries = config["retries"]
    assert retries.get("total_max_attempts", retries.get("max_attempts", 0) + 1) == 4
    mine = {"connect_timeout": 1}
    FFArtifactStore("s3://bucket/prefix", {"config_kwargs": mine, "skip_instance_cache": False}).exists("k/a")
    assert opened[1][1]["config_kwargs"] == mine and opened[1][1]["skip_instance_cache"] is False


class _NoSize:
    """Stores objects, but its ``info`` reports no size (as a broken S3-compatible store may)."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}

    def pipe_file(self, path: str, data: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        self.objects[path] = (data, kwargs["Metadata"][SHA256_METADATA])

    def info(self, path: str, refresh: bool = False) -> dict[str, Any]:
        return {"name": path}

    def metadata(self, path: str, refresh: bool = False) -> dict[str, str]:
        return {SHA256_METADATA: self.objects[path][1]}


def test_an_object_whose_size_is_not_read_back_is_not_vouched_for() -> None:
    store = FFArtifactStore("s3://bucket/prefix", filesystem=_NoSize())
    with pytest.raises(FFArtifactStoreError) as caught:
        store.put_bytes("k/a.bin", b"bytes")
    assert caught.value.reason == "checksum_mismatch" and caught.value.context == {"key": "k/a.bin"}
    assert caught.value.message == "artifact store s3://bucket/prefix: k/a.bin does not read back as written"


# ------------------------------------------------------------------ ff_hashing


@pytest.mark.parametrize("workers", [0, -1])
def test_a_refused_worker_count_names_the_workers_field(tmp_path: Path, workers: int) -> None:
    with pytest.raises(FFValidationError) as caught:
        ff_build_manifest(tmp_path, workers=workers)
    assert (caught.value.field, caught.value.value) == ("workers", workers)
    assert caught.value.message == "workers must be at least 1"


# ------------------------------------------------------------------ ff_ids


def test_a_new_id_has_no_prefix_by_default() -> None:
    value = ff_new_id()
    assert re.fullmatch(r"[0-9a-f]{32}", value), value
    assert ff_new_id("msg_").startswith("msg_") and len(ff_new_id("msg_")) == 36


def test_an_invalid_id_is_called_an_id_by_default() -> None:
    assert not ff_is_valid_id("a..b")
    with pytest.raises(FFValidationError) as caught:
        ff_validate_id("a..b")
    assert caught.value.field == "id" and caught.value.value == "a..b"
    assert caught.value.message.startswith("invalid id 'a..b': use 1-128 of")


# ------------------------------------------------------------------ ff_json_utils


def _root_with_link(tmp_path: Path) -> tuple[Path, Path]:
    """``root/via`` is a symlink to a folder outside the root."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    os.symlink(outside, root / "via")
    return root, outside


def test_read_json_refuses_a_symlinked_folder_below_the_root(tmp_path: Path) -> None:
    root, outside = _root_with_link(tmp_path)
    ff_write_json(outside / "doc.json", {"secret": 1})
    with pytest.raises(FFValidationError):
        ff_read_json(root / "via" / "doc.json", root=root)
    with pytest.raises(FFValidationError):  # a default is for a missing file, not a refused path
        ff_read_json(root / "via" / "doc.json", {}, root=root)


def test_update_json_creates_no_folder_through_a_symlinked_folder_below_the_root(tmp_path: Path) -> None:
    root, outside = _root_with_link(tmp_path)
    with pytest.raises(FFValidationError):
        ff_update_json(root / "via" / "sub" / "doc.json", lambda d: {"n": 1}, default={}, root=root)
    assert list(outside.iterdir()) == []


# ------------------------------------------------------------------ ff_store


def test_store_update_json_hands_the_updater_its_default_for_a_missing_document(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    store = FFStore(tmp_path / "data")
    path = store.path("docs", "counter.json")
    seen: list[Any] = []

    def bump(current: Any) -> Any:
        seen.append(current)
        return {**current, "n": current.get("n", 0) + 1}

    assert store.update_json(path, bump, default={"start": True}) == {"start": True, "n": 1}
    assert store.update_json(path, bump, default={"start": True}) == {"start": True, "n": 2}
    assert seen == [{"start": True}, {"start": True, "n": 1}]
    assert store.read_json(path) == {"start": True, "n": 2}
