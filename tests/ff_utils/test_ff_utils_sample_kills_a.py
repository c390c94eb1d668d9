"""Survivors of the 2026-12-06 sample of ``ff_utils`` (stores and hashing), killed.

Written for mutation testing (docs/MUTATION.md, "``ff_utils``: sampled survivors, stores and
hashing"): each test pins what a surviving mutant of ``ff_artifact_store``, ``ff_hashing``,
``ff_ids``, ``ff_json_utils`` or ``ff_store`` changed, as a caller sees it: the action and key a
translated object-store error names, how an error out of fsspec/s3fs/botocore is classified, the
value a refusal carries, a manifest that lists every file after a symlink, the words of a hashing
or listing error, an id shown cut at 40 characters, a write refused when its folder became a
symlink while the updater ran, a store lock refusing a symlinked folder on the way, and a
middleware's line codecs ignored when it does not encrypt.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from ff_utils.ff_artifact_store import SHA256_METADATA, FFArtifactStore
from ff_utils.ff_errors import FFArtifactStoreError, FFError, FFNotFoundError, FFStorageError, FFValidationError
from ff_utils.ff_hashing import ff_build_manifest, ff_sha256_bytes
from ff_utils.ff_ids import ff_validate_id
from ff_utils.ff_json_utils import ff_read_json, ff_update_json, ff_write_json
from ff_utils.ff_store import FFStore
from ff_utils.ff_store_middleware import FFStoreMiddleware
from tests._s3 import S3Endpoint

DENIED = "access denied (check the credentials and the bucket policy)"


# ------------------------------------------------------------------ ff_artifact_store


class _Scripted:
    """A filesystem whose listed calls raise ``PermissionError("Access Denied")``; the rest work
    on an in-memory dict of ``path -> (bytes, sha)``."""

    def __init__(self, *refused: str) -> None:
        self.refused = set(refused)
        self.objects: dict[str, tuple[bytes, str]] = {}

    def _maybe_refuse(self, name: str) -> None:
        if name in self.refused:
            raise PermissionError("Access Denied")

    def invalidate_cache(self) -> None:
        return None

    def pipe_file(self, path: str, data: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        self._maybe_refuse("pipe_file")
        self.objects[path] = (data, kwargs["Metadata"][SHA256_METADATA])

    def info(self, path: str, refresh: bool = False) -> dict[str, Any]:
        self._maybe_refuse("info")
        return {"size": len(self.objects[path][0])}

    def metadata(self, path: str, refresh: bool = False) -> dict[str, str]:
        self._maybe_refuse("metadata")
        return {SHA256_METADATA: self.objects[path][1]} if path in self.objects else {}

    def cat_file(self, path: str) -> bytes:
        self._maybe_refuse("cat_file")
        return self.objects[path][0]


@pytest.mark.parametrize(
    ("refused", "action"),
    [("pipe_file", "write"), ("info", "check"), ("metadata", "read metadata of"), ("cat_file", "read")],
)
def test_the_action_named_by_a_translated_error_of_put_and_get_bytes(refused: str, action: str) -> None:
    fake = _Scripted()
    store = FFArtifactStore("s3://bucket/prefix", filesystem=fake)
    store.put_bytes("k/a.bin", b"bytes")  # the object exists: each call below reaches the refused step
    fake.refused.add(refused)
    with pytest.raises(FFArtifactStoreError) as caught:
        if refused in ("pipe_file", "info"):
            store.put_bytes("k/b.bin", b"other")
        else:
            store.get_bytes("k/a.bin")
    key = "k/b.bin" if refused in ("pipe_file", "info") else "k/a.bin"
    assert caught.value.message == f"artifact store s3://bucket/prefix: {DENIED} ({action} {key})"
    assert caught.value.reason == "access_denied" and caught.value.context == {"key": key}


def test_an_error_opening_the_store_names_the_action_and_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    import fsspec

    def broken(protocol: str, **options: Any) -> Any:
        raise ValueError("bad storage option")

    monkeypatch.setattr(fsspec, "filesystem", broken)
    monkeypatch.delenv("FF_S3_ENDPOINT_URL", raising=False)
    store = FFArtifactStore("s3://bucket/prefix")
    with pytest.raises(FFArtifactStoreError) as caught:
        store.exists("k/a.bin")
    assert caught.value.message == "artifact store s3://bucket/prefix: ValueError: bad storage option (open store)"
    assert caught.value.reason == "error" and caught.value.context == {"key": ""}


class _Raises:
    """A filesystem whose every call raises ``exc``."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __getattr__(self, name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise self.exc

        return refuse


@pytest.mark.parametrize(
    ("exc", "reason", "what"),
    [
        # conflicts worded by botocore/s3fs without a FileExistsError, each phrase on its own
        (OSError("An error occurred (PreconditionFailed) when calling the PutObject operation"), "conflict",
         "the object already exists"),
        (OSError("At least one of the pre-conditions you specified did not hold"), "conflict", "the object already exists"),
        # a refusal worded "Forbidden" that is not a PermissionError
        (OSError("An error occurred (403) when calling the HeadObject operation: Forbidden"), "access_denied", DENIED),
        # an endpoint that is down, worded by botocore without a ConnectionError
        (OSError('Could not connect to the endpoint URL: "http://127.0.0.1:9/bucket"'), "unreachable",
         "the endpoint cannot be reached"),
    ],
)
def test_errors_are_classified_by_their_words_alone(exc: BaseException, reason: str, what: str) -> None:
    store = FFArtifactStore("s3://bucket/prefix", filesystem=_Raises(exc))
    with pytest.raises(FFArtifactStoreError) as caught:
        store.exists("k/a")
    assert (caught.value.reason, caught.value.message) == (reason, f"artifact store s3://bucket/prefix: {what} (look up k/a)")


def test_refusals_of_a_key_and_of_a_url_without_a_bucket_carry_the_refused_value() -> None:
    store = FFArtifactStore("s3://bucket/prefix", filesystem=_Raises(AssertionError("not reached")))
    with pytest.raises(FFValidationError) as caught:
        store.url_of("../escape")
    assert (caught.value.field, caught.value.value) == ("key", "../escape")
    with pytest.raises(FFValidationError) as caught:
        FFArtifactStore("s3:///")
    assert (caught.value.field, caught.value.value) == ("url", "s3:///")
    assert caught.value.message == "object store URL names no bucket: 's3:///'"


def test_the_endpoint_may_come_from_ff_s3_endpoint_url_alone(s3: S3Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FF_S3_ENDPOINT_URL", s3.endpoint)
    store = FFArtifactStore(s3.url("env"))  # no endpoint_url in the options
    ref = store.put_bytes("e/a.bin", b"through the variable")
    assert ref.sha256 == ff_sha256_bytes(b"through the variable")
    assert s3.keys("env/") == ["env/e/a.bin"]
    assert store.get_bytes("e/a.bin") == b"through the variable"


# ------------------------------------------------------------------ ff_hashing


def test_a_manifest_lists_the_files_named_after_a_symlink(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "a.txt").write_bytes(b"a")
    os.symlink(root / "a.txt", root / "b-link")
    (root / "c.txt").write_bytes(b"c")
    (root / "d").mkdir()
    (root / "d" / "e.txt").write_bytes(b"e")
    for workers in (1, 2):
        manifest = ff_build_manifest(root, workers=workers)
        assert [entry.path for entry in manifest.entries] == ["a.txt", "c.txt", "d/e.txt"], workers


def test_a_file_gone_between_the_walk_and_its_hashing_is_a_hash_file_error(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "gone.txt").write_bytes(b"soon gone")

    def exclude(relative: str) -> bool:  # called by the walk just before it hands the file over
        (root / relative).unlink()
        return False

    with pytest.raises(FFNotFoundError) as caught:
        ff_build_manifest(root, exclude=exclude, workers=1)
    assert caught.value.message == "cannot hash file: no such file"
    assert caught.value.path == root / "gone.txt"


def test_a_folder_gone_before_it_is_listed_is_a_list_directory_error(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    (root / "z").mkdir(parents=True)
    (root / "a.txt").write_bytes(b"a")

    def exclude(relative: str) -> bool:  # the walk has seen z/ but not listed it yet
        if relative == "a.txt":
            shutil.rmtree(root / "z")
        return False

    with pytest.raises(FFNotFoundError) as caught:
        ff_build_manifest(root, exclude=exclude, workers=1)
    assert caught.value.message == "cannot list directory: no such file"
    assert caught.value.path == root / "z"


def test_a_manifest_of_a_file_names_the_root_field(tmp_path: Path) -> None:
    file = tmp_path / "file.txt"
    file.write_bytes(b"x")
    with pytest.raises(FFValidationError) as caught:
        ff_build_manifest(file)
    assert (caught.value.field, caught.value.path, caught.value.message) == ("root", file, f"not a directory: {file}")


# ------------------------------------------------------------------ ff_ids


def test_an_invalid_id_of_41_characters_is_shown_cut_at_40() -> None:
    value = "!" + "a" * 40
    with pytest.raises(FFValidationError) as caught:
        ff_validate_id(value, "user_id")
    assert caught.value.message.startswith(f"invalid user_id {value[:40] + '...'!r}: use 1-128")
    forty = "!" + "a" * 39
    with pytest.raises(FFValidationError) as caught:
        ff_validate_id(forty, "user_id")
    assert caught.value.message.startswith(f"invalid user_id {forty!r}: use 1-128")


# ------------------------------------------------------------------ ff_json_utils


def test_update_json_refuses_to_write_through_a_folder_swapped_for_a_symlink_by_the_updater(tmp_path: Path) -> None:
    root = tmp_path / "root"
    folder = root / "docs"
    folder.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    ff_write_json(folder / "doc.json", {"n": 1}, root=root)

    def swap(current: Any) -> Any:  # after the folder was checked, the lock taken and the document read
        folder.rename(tmp_path / "moved")
        os.symlink(outside, folder)
        return {"n": current["n"] + 1}

    with pytest.raises(FFError):
        ff_update_json(folder / "doc.json", swap, root=root)
    assert list(outside.iterdir()) == []
    assert ff_read_json(tmp_path / "moved" / "doc.json") == {"n": 1}


# ------------------------------------------------------------------ ff_store


def test_store_lock_refuses_a_symlinked_folder_on_the_way(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, root / "via")
    store = FFStore(root)
    with pytest.raises((FFValidationError, FFStorageError)), store.lock(root / "via" / "doc.json"):
        pass
    assert list(outside.iterdir()) == []


class _MarkedLines(FFStoreMiddleware):
    """A middleware that does not encrypt but has line codecs: the store must use neither."""

    def line_encoder(self, relative: str) -> Any:
        return lambda line: b"#" + line

    def line_decoder(self, relative: str) -> Any:
        def decode(line: bytes) -> bytes:
            if not line.startswith(b"#"):
                raise ValueError("not marked")
            return line[1:]

        return decode


def test_a_middleware_that_does_not_encrypt_has_its_line_codecs_ignored_on_read_as_on_append(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    store = FFStore(root, middleware=_MarkedLines())
    log = store.path("log.jsonl")
    store.append(log, {"a": 1})
    assert log.read_bytes() == b'{"a":1}\n'  # appended as is
    bad: list[Any] = []
    assert list(store.read_jsonl(log, on_bad_line=bad.append)) == [{"a": 1}]
    assert store.tail_jsonl(log, 1, on_bad_line=bad.append) == [{"a": 1}]
    assert bad == []
