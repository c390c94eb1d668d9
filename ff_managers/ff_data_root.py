"""The data root itself: its ``ff_meta.json`` (schema version) and a summary of what it holds.

Every on-disk format carries a schema version; the root's ``ff_meta.json`` names the layout
version, so migrations know where they start.

It also says whether the root is encrypted at rest, and with which key (by its id, a fingerprint;
never the key). ``ff_meta.json`` itself stays plaintext so that this can be read without a key:
opening an encrypted root without its key, with another key, or a plaintext root with a key is one
clear FFConfigError (:func:`ff_check_encryption`), never a stream of undecryptable records. A key
rotation in progress is recorded too (both key ids), so an interrupted ``keys rotate`` is resumed
by running it again.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from ff_class_configs.ff_storage_config import FF_SCHEMA_VERSION
from ff_utils.ff_errors import FFConfigError, FFValidationError, ff_stored_error
from ff_utils.ff_file_ops import ff_ensure_directory
from ff_utils.ff_json_utils import ff_read_json, ff_update_json

__all__ = [
    "FF_META_NAME",
    "FFEncryptionMetaDTO",
    "FFDataRootMetaDTO",
    "FFDataRootStatusDTO",
    "ff_ensure_data_root",
    "ff_read_meta",
    "ff_check_encryption",
    "ff_set_encryption",
    "ff_data_root_status",
]

FF_META_NAME = "ff_meta.json"
_UNCHECKED: object = object()


class FFEncryptionMetaDTO(BaseModel):
    """How a data root is encrypted at rest: the algorithm and the key's id, never the key."""

    algorithm: str = "AES-256-GCM"
    key_id: str | None = Field(None, description="id of the key every file is encrypted with (None: plaintext, mid-rotation only)")
    rotating_to: str | None = Field(None, description="id of the new key while a rotation is under way")
    rotation_started_at: datetime | None = None


class FFDataRootMetaDTO(BaseModel):
    """Contents of ``ff_meta.json``."""

    schema_version: int = Field(description="layout version of this data root")
    created_at: datetime
    created_by: str = "ff-platform"
    migrations_applied: list[str] = Field(default_factory=list)
    encryption: FFEncryptionMetaDTO | None = Field(None, description="None: the root is stored in plaintext")


class FFDataRootStatusDTO(BaseModel):
    """What a data root holds, for ``main.py status``."""

    path: str
    schema_version: int | None
    users: int
    files: int
    bytes: int
    areas: dict[str, int] = Field(default_factory=dict, description="files per top-level folder")


def ff_ensure_data_root(root: Path | str, *, key_id: str | None | object = _UNCHECKED) -> FFDataRootMetaDTO:
    """Create the data root and its ``ff_meta.json`` if missing; return the meta.

    ``key_id`` is the id of the key the caller's store encrypts with (None: it stores plaintext).
    A new root records it; an existing one must match it (:func:`ff_check_encryption`). Without
    ``key_id`` the encryption is neither recorded nor checked (status and listing tools).
    """
    base = ff_ensure_directory(Path(root)).resolve()

    def create_if_missing(current: dict | None) -> dict:
        if current is not None:
            return current
        encryption = FFEncryptionMetaDTO(key_id=key_id) if isinstance(key_id, str) else None
        return FFDataRootMetaDTO(
            schema_version=FF_SCHEMA_VERSION, created_at=datetime.now(UTC), encryption=encryption
        ).model_dump(mode="json", exclude_none=True)

    data = ff_update_json(base / FF_META_NAME, create_if_missing, default=None, root=base)
    meta = _load_meta(data, base / FF_META_NAME)
    if key_id is not _UNCHECKED:
        if isinstance(key_id, str) and meta.encryption is None and not _holds_data(base):
            # A root made by `init` (or a manager) without a key and still empty: nothing to
            # re-encrypt, so the first keyed open adopts its key instead of refusing.
            meta = ff_set_encryption(base, FFEncryptionMetaDTO(key_id=key_id))
        ff_check_encryption(meta, key_id if isinstance(key_id, str) else None, base)
    return meta


def _holds_data(base: Path) -> bool:
    """Whether any file but ff_meta.json and hidden lock/temp files is under the root."""
    for directory, _dirs, names in os.walk(base):
        if any(not name.startswith(".") and not (name == FF_META_NAME and directory == str(base)) for name in names):
            return True
    return False


def ff_check_encryption(meta: FFDataRootMetaDTO, key_id: str | None, root: Path | str) -> None:
    """FFConfigError unless the key the store holds (by id; None: none) is the root's key."""
    encryption = meta.encryption
    if encryption is not None and encryption.rotating_to is not None:
        raise FFConfigError(
            f"data root {root} is in the middle of a key rotation (to key {encryption.rotating_to}); "
            "finish it with `main.py keys rotate` before opening it",
            field="encryption_key_file",
        )
    expected = encryption.key_id if encryption is not None else None
    if expected == key_id:
        return
    if expected is None:
        raise FFConfigError(
            f"data root {root} is not encrypted, but an encryption key (id {key_id}) is configured; "
            "unset it, or encrypt the root with `main.py keys rotate --new-key-file`",
            field="encryption_key_file",
        )
    if key_id is None:
        raise FFConfigError(
            f"data root {root} is encrypted (key id {expected}) and no key is configured: set "
            "storage.encryption_key_file or FF_ENCRYPTION_KEY",
            field="encryption_key_file",
        )
    raise FFConfigError(
        f"data root {root} is encrypted with key id {expected}, but the configured key has id {key_id}",
        field="encryption_key_file",
    )


def ff_set_encryption(root: Path | str, encryption: FFEncryptionMetaDTO | None) -> FFDataRootMetaDTO:
    """Record how the root is encrypted (key rotation's begin and end steps); atomic."""
    base = Path(root).resolve()

    def apply(current: dict | None) -> dict:
        meta = _load_meta(current, base / FF_META_NAME) if current is not None else FFDataRootMetaDTO(
            schema_version=FF_SCHEMA_VERSION, created_at=datetime.now(UTC)
        )
        meta.encryption = encryption
        return meta.model_dump(mode="json", exclude_none=True)

    return _load_meta(ff_update_json(base / FF_META_NAME, apply, default=None, root=base), base / FF_META_NAME)


def ff_read_meta(root: Path | str) -> FFDataRootMetaDTO | None:
    """The meta of an existing data root, or None when it has no ``ff_meta.json``."""
    base = Path(root).resolve()
    path = base / FF_META_NAME
    data = ff_read_json(path, default=None, root=base)
    if data is None:
        return None
    return _load_meta(data, path)


def _load_meta(data: object, path: Path) -> FFDataRootMetaDTO:
    """A stored ff_meta.json that does not fit its schema is corruption (the file names it), not bad input."""
    try:
        return FFDataRootMetaDTO.model_validate(data)
    except ValidationError as exc:
        raise ff_stored_error(exc, model="ff_meta.json", path=path) from exc


def ff_data_root_status(root: Path | str) -> FFDataRootStatusDTO:
    """Count users, files and bytes under a data root."""
    base = Path(root)
    if not base.is_dir():
        raise FFValidationError(f"no data root at {base}", field="data_dir", path=base)
    meta = ff_read_meta(base)
    files = size = 0
    areas: dict[str, int] = {}
    for directory, _dirs, names in os.walk(base):
        relative = Path(directory).relative_to(base)
        area = relative.parts[0] if relative.parts else "."
        for name in names:
            if name.startswith("."):
                continue
            try:
                # lstat: a symlink (dangling, or pointing outside the root) is counted, not followed.
                info = os.lstat(Path(directory) / name)
            except FileNotFoundError:  # removed while we walked
                continue
            files += 1
            size += info.st_size
            areas[area] = areas.get(area, 0) + 1
    users_dir = base / "users"
    users = sum(1 for p in users_dir.iterdir() if p.is_dir() and not p.is_symlink()) if users_dir.is_dir() else 0
    return FFDataRootStatusDTO(
        path=str(base), schema_version=meta.schema_version if meta else None, users=users, files=files, bytes=size, areas=areas
    )
