"""Encryption at rest: AES-256-GCM per JSON document and per JSONL record, as a store middleware.

Chat logs, memories, panels and documents are personal data; file permissions alone protect them
only as long as nobody copies the disk. With a key configured, :class:`FFEncryptionMiddleware`
sits in every FFStore (:mod:`ff_utils.ff_store_middleware`) and encrypts

* each document (a JSON document or a ``write_bytes`` file) as one sealed blob:
  ``FFE1 | key id (8 bytes) | nonce (12) | ciphertext+tag``;
* each JSONL record on its own line: ``ffe1:`` + base64url of the same blob. Lines stay lines,
  so appends are still single writes, a torn line still only loses itself, and tail reads still
  read from the end.

The associated data is the file's path relative to the data root, so a record or a document
copied into another file (another user's log, another session) does not decrypt: it reads as a
bad line or a corrupt document. The key id in every blob lets a rotation read old and new
records side by side. Keys are 32 random bytes, written as base64url text; they come from a key
file or an environment variable, never from the data root (:func:`ff_resolve_key`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ff_utils.ff_errors import FFConfigError, FFCorruptionError, ff_translate_errors
from ff_utils.ff_store_middleware import FFStoreMiddleware, LineCodec

__all__ = [
    "FFKey",
    "FFEncryptionMiddleware",
    "FF_KEY_ENV",
    "ff_generate_key_text",
    "ff_parse_key",
    "ff_read_key_file",
    "ff_resolve_key",
]

FF_KEY_ENV = "FF_ENCRYPTION_KEY"
_MAGIC = b"FFE1"
_LINE_PREFIX = b"ffe1:"
_KEY_ID_BYTES = 8
_NONCE_BYTES = 12
_HEADER = len(_MAGIC) + _KEY_ID_BYTES + _NONCE_BYTES
_AAD_PREFIX = b"ff-platform/v1\x00"


@dataclass(frozen=True, slots=True)
class FFKey:
    """An AES-256 key and its public id (a fingerprint: safe to log and store, the key is not)."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != 32:
            raise FFConfigError(f"an encryption key is 32 bytes, not {len(self.secret)}", field="encryption_key")

    @property
    def key_id(self) -> str:
        return hashlib.sha256(b"ff-key-id\x00" + self.secret).hexdigest()[: 2 * _KEY_ID_BYTES]


def ff_generate_key_text() -> str:
    """A new random key as the text a key file or ``FF_ENCRYPTION_KEY`` holds."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def ff_parse_key(text: str, *, source: str) -> FFKey:
    """The key written as base64 text (``source`` names where it came from, for the error)."""
    try:
        secret = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise FFConfigError(f"{source} does not hold a base64 encryption key", field="encryption_key") from exc
    if len(secret) != 32:
        raise FFConfigError(f"{source} holds {len(secret)} bytes; an encryption key is 32", field="encryption_key")
    return FFKey(secret)


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def ff_read_key_file(path: Path | str, *, data_root: Path | str | None = None) -> FFKey:
    """Read a key file; FFConfigError when it lies inside the data root (a key stored with the
    data it protects protects nothing) or does not hold a key."""
    target = Path(path).expanduser().resolve()
    if data_root is not None and _inside(target, Path(data_root).resolve()):
        raise FFConfigError(
            f"the encryption key file {target} is inside the data root; keep it elsewhere", field="encryption_key_file"
        )
    with ff_translate_errors("read encryption key file", target):
        text = target.read_text(encoding="ascii")
    return ff_parse_key(text, source=f"key file {target}")


def ff_resolve_key(
    key_file: Path | str | None,
    *,
    data_root: Path | str | None,
    env_var: str = FF_KEY_ENV,
    environ: Mapping[str, str] | None = None,
) -> FFKey | None:
    """The configured key: the key file when one is set, else the environment variable, else None."""
    if key_file is not None and str(key_file) != "":
        return ff_read_key_file(key_file, data_root=data_root)
    text = (os.environ if environ is None else environ).get(env_var, "")
    return ff_parse_key(text, source=f"${env_var}") if text.strip() else None


def _aad(relative: str) -> bytes:
    return _AAD_PREFIX + relative.encode("utf-8", "surrogateescape")


class FFEncryptionMiddleware(FFStoreMiddleware):
    """Encrypts with ``key``; decrypts with it or any of ``also_reads`` (a rotation's old key)."""

    encrypted = True

    def __init__(self, key: FFKey, also_reads: Iterable[FFKey] = ()) -> None:
        # Imported here: a store without a key (most of them) never pays for loading OpenSSL.
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._invalid_tag = InvalidTag
        self.key = key
        self.key_id = key.key_id
        self._aead = AESGCM(key.secret)
        self._id_bytes = bytes.fromhex(self.key_id)
        self._readers = {bytes.fromhex(k.key_id): AESGCM(k.secret) for k in (key, *also_reads)}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key_id={self.key_id!r})"

    # ------------------------------------------------------------------ the sealed blob

    def seal(self, relative: str, data: bytes) -> bytes:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return _MAGIC + self._id_bytes + nonce + self._aead.encrypt(nonce, bytes(data), _aad(relative))

    def open(self, relative: str, blob: bytes) -> bytes:
        """The plaintext of a sealed blob; ValueError saying why it cannot be opened."""
        if len(blob) < _HEADER + 16 or not blob.startswith(_MAGIC):
            raise ValueError("not an encrypted record (written without the key?)")
        key_id = blob[len(_MAGIC) : len(_MAGIC) + _KEY_ID_BYTES]
        aead = self._readers.get(key_id)
        if aead is None:
            raise ValueError(f"encrypted with another key (id {key_id.hex()})")
        nonce = blob[len(_MAGIC) + _KEY_ID_BYTES : _HEADER]
        try:
            return aead.decrypt(nonce, blob[_HEADER:], _aad(relative))
        except self._invalid_tag:
            raise ValueError("does not decrypt: tampered, or moved here from another file") from None

    @staticmethod
    def key_id_of(blob: bytes) -> str | None:
        """The key id a document blob or an encoded line was sealed with (None: not sealed)."""
        if blob.startswith(_LINE_PREFIX):
            try:
                blob = base64.urlsafe_b64decode(blob[len(_LINE_PREFIX) : len(_LINE_PREFIX) + 28])
            except (binascii.Error, ValueError):
                return None
        if not blob.startswith(_MAGIC) or len(blob) < len(_MAGIC) + _KEY_ID_BYTES:
            return None
        return blob[len(_MAGIC) : len(_MAGIC) + _KEY_ID_BYTES].hex()

    # ------------------------------------------------------------------ the middleware

    def encode_document(self, relative: str, data: bytes) -> bytes:
        return self.seal(relative, data)

    def decode_document(self, relative: str, data: bytes, path: Path) -> bytes:
        try:
            return self.open(relative, data)
        except ValueError as exc:
            raise FFCorruptionError(f"cannot decrypt: {exc}", path=path) from None

    def line_encoder(self, relative: str) -> LineCodec:
        aad = _aad(relative)
        aead, id_bytes = self._aead, self._id_bytes

        def encode(line: bytes) -> bytes:
            nonce = secrets.token_bytes(_NONCE_BYTES)
            blob = _MAGIC + id_bytes + nonce + aead.encrypt(nonce, line, aad)
            return _LINE_PREFIX + base64.urlsafe_b64encode(blob)

        return encode

    def line_decoder(self, relative: str) -> LineCodec:
        def decode(line: bytes) -> bytes:
            if not line.startswith(_LINE_PREFIX):
                raise ValueError("not an encrypted record (written without the key?)")
            try:
                blob = base64.urlsafe_b64decode(line[len(_LINE_PREFIX) :])
            except (binascii.Error, ValueError):
                raise ValueError("not base64") from None
            return self.open(relative, blob)

        return decode
