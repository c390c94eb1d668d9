"""Exact behaviour of ff_encryption at its edges (mutation review, issue #20): the smallest
sealed blob (an empty plaintext) opens and one byte less is refused as not encrypted, the exact
reasons a blob or a line cannot be opened (they become a reader's bad-line reason), a relative
path that is not UTF-8, key ids of short blobs, and the exact refusals of a bad key."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from ff_utils import ff_encryption
from ff_utils.ff_encryption import FFEncryptionMiddleware, FFKey, ff_parse_key, ff_resolve_key
from ff_utils.ff_errors import FFConfigError, FFCorruptionError

_SECRET = bytes(range(32))
_TEXT = base64.urlsafe_b64encode(_SECRET).decode("ascii")
_NOT_SEALED = "not an encrypted record (written without the key?)"


@pytest.fixture(scope="module")
def middleware() -> FFEncryptionMiddleware:
    return FFEncryptionMiddleware(FFKey(_SECRET))


def test_the_smallest_sealed_blob_opens_and_one_byte_less_is_not_sealed(middleware: FFEncryptionMiddleware) -> None:
    blob = middleware.seal("a.json", b"")
    assert len(blob) == ff_encryption._HEADER + 16
    assert middleware.open("a.json", blob) == b""
    with pytest.raises(ValueError) as caught:
        middleware.open("a.json", blob[:-1])
    assert str(caught.value) == _NOT_SEALED


def test_a_short_blob_with_the_magic_is_not_sealed(middleware: FFEncryptionMiddleware) -> None:
    with pytest.raises(ValueError) as caught:
        middleware.open("a.json", ff_encryption._MAGIC + b"x")
    assert str(caught.value) == _NOT_SEALED


def test_a_blob_moved_to_another_file_does_not_decrypt_exactly(middleware: FFEncryptionMiddleware) -> None:
    blob = middleware.seal("a.json", b"secret")
    with pytest.raises(ValueError) as caught:
        middleware.open("b.json", blob)
    assert str(caught.value) == "does not decrypt: tampered, or moved here from another file"


def test_a_document_that_does_not_decrypt_is_a_corruption_naming_the_file(
    middleware: FFEncryptionMiddleware, tmp_path: Path
) -> None:
    with pytest.raises(FFCorruptionError) as caught:
        middleware.decode_document("a.json", b"{}", tmp_path / "a.json")
    assert (caught.value.message, caught.value.path) == (f"cannot decrypt: {_NOT_SEALED}", tmp_path / "a.json")


def test_a_relative_path_that_is_not_utf8_seals_and_opens(middleware: FFEncryptionMiddleware) -> None:
    relative = "docs/na\udcefme.json"  # a file name read from disk with surrogateescape
    assert middleware.open(relative, middleware.seal(relative, b"data")) == b"data"


@pytest.mark.parametrize(("line", "reason"), [(b'{"a":1}', _NOT_SEALED), (b"ffe1:abc", "not base64")])
def test_a_line_that_cannot_be_decoded_says_why(middleware: FFEncryptionMiddleware, line: bytes, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        middleware.line_decoder("log.jsonl")(line)
    assert str(caught.value) == reason


def test_key_id_of_needs_the_magic_and_a_whole_key_id() -> None:
    magic = ff_encryption._MAGIC
    assert FFEncryptionMiddleware.key_id_of(magic + bytes(range(7))) is None
    assert FFEncryptionMiddleware.key_id_of(magic + bytes(range(8))) == bytes(range(8)).hex()


def test_the_middleware_keeps_its_key_and_its_id(middleware: FFEncryptionMiddleware) -> None:
    assert (middleware.key.secret, middleware.key_id) == (_SECRET, FFKey(_SECRET).key_id)


def test_repr_names_the_class_and_the_key_id_only(middleware: FFEncryptionMiddleware) -> None:
    assert repr(middleware) == f"FFEncryptionMiddleware(key_id={FFKey(_SECRET).key_id!r})"


def test_a_key_of_the_wrong_length_is_refused_exactly() -> None:
    with pytest.raises(FFConfigError) as caught:
        FFKey(b"short")
    assert (caught.value.message, caught.value.field) == ("an encryption key is 32 bytes, not 5", "encryption_key")


def test_text_that_is_not_base64_is_refused_naming_its_source() -> None:
    with pytest.raises(FFConfigError) as caught:
        ff_parse_key("not base64!", source="$X")
    assert (caught.value.message, caught.value.field) == ("$X does not hold a base64 encryption key", "encryption_key")


def test_an_empty_key_file_setting_falls_back_to_the_environment() -> None:
    key = ff_resolve_key("", data_root=None, environ={"FF_ENCRYPTION_KEY": _TEXT})
    assert key is not None and key.secret == _SECRET


def test_a_bad_key_in_the_environment_names_the_variable() -> None:
    with pytest.raises(FFConfigError) as caught:
        ff_resolve_key(None, data_root=None, environ={"FF_ENCRYPTION_KEY": "c2hvcnQ="})
    assert caught.value.message == "$FF_ENCRYPTION_KEY holds 5 bytes; an encryption key is 32"
