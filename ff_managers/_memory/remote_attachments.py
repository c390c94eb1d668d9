"""Attachment bytes, also kept in the object store of ``storage.artifacts_url``.

An attachment is written once under a fresh id and never changed: an immutable artifact. With
``storage.artifacts_url`` set, each one is written to the local data root first (durable, as
always), read back and compared with the bytes the caller gave, and only then uploaded as a
write-once object carrying its SHA-256. The message that names the attachment is appended only
after the upload, so a message never names an attachment the store does not hold; when the
upload fails, the local files just written are removed and the typed error reaches the caller,
so nothing is left half-written.

The object holds exactly the bytes on local disk: with encryption at rest that is the ciphertext,
so the store never sees plaintext. A read whose local file is gone (a root rebuilt on a new
machine, a shard moved without its attachments) fetches the object, checks its SHA-256, puts it
back in place atomically and reads it through the store as usual.

Keys: ``attachments/<user_id>/<session_id>/<attachment_id>`` (ids already validated as path-safe).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ff_class_configs.ff_storage_config import FFStorageConfigDTO
from ff_utils.ff_artifact_store import FFArtifactStore
from ff_utils.ff_errors import FFCorruptionError
from ff_utils.ff_store import FFStore

__all__ = ["RemoteAttachments"]


class RemoteAttachments:
    """Upload after the durable local write; fetch back what the local disk lost."""

    def __init__(self, store: FFStore, artifacts: FFArtifactStore) -> None:
        self.store = store
        self.artifacts = artifacts

    @classmethod
    def from_config(cls, store: FFStore, storage: FFStorageConfigDTO) -> RemoteAttachments | None:
        """None when no ``artifacts_url`` is set. Nothing is contacted until the first attachment."""
        if not storage.artifacts_url:
            return None
        return cls(store, FFArtifactStore(storage.artifacts_url, storage.artifacts_options))

    @staticmethod
    def key(user_id: str, session_id: str, attachment_id: str) -> str:
        return f"attachments/{user_id}/{session_id}/{attachment_id}"

    def upload(self, path: Path, user_id: str, session_id: str, attachment_id: str, data: bytes) -> None:
        """Verify the local file holds ``data`` (read back through the store), then upload its bytes.

        Raises FFCorruptionError when the local copy does not read back as written (nothing is
        uploaded), FFArtifactStoreError when the store fails.
        """
        if self.store.read_bytes(path) != data:
            raise FFCorruptionError(f"attachment {attachment_id!r} does not read back as written; not uploaded", path=path)
        self.artifacts.put_file(self.key(user_id, session_id, attachment_id), path)

    def fetch(self, path: Path, user_id: str, session_id: str, attachment_id: str) -> None:
        """Put the stored object back at ``path`` (verified, atomic). FFArtifactStoreError when it fails."""
        self.artifacts.get_file(self.key(user_id, session_id, attachment_id), path)

    @staticmethod
    def discard(paths: list[Path]) -> None:
        """Remove local attachment files whose message was never appended (an upload failed)."""
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
