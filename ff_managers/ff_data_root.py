"""The data root itself: its ``ff_meta.json`` (schema version) and a summary of what it holds.

Every on-disk format carries a schema version; the root's ``ff_meta.json`` names the layout
version, so migrations know where they start.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from ff_class_configs.ff_storage_config import FF_SCHEMA_VERSION
from ff_utils.ff_errors import FFValidationError, ff_stored_error
from ff_utils.ff_file_ops import ff_ensure_directory
from ff_utils.ff_json_utils import ff_read_json, ff_update_json

__all__ = ["FF_META_NAME", "FFDataRootMetaDTO", "FFDataRootStatusDTO", "ff_ensure_data_root", "ff_read_meta", "ff_data_root_status"]

FF_META_NAME = "ff_meta.json"


class FFDataRootMetaDTO(BaseModel):
    """Contents of ``ff_meta.json``."""

    schema_version: int = Field(description="layout version of this data root")
    created_at: datetime
    created_by: str = "ff-platform"
    migrations_applied: list[str] = Field(default_factory=list)


class FFDataRootStatusDTO(BaseModel):
    """What a data root holds, for ``main.py status``."""

    path: str
    schema_version: int | None
    users: int
    files: int
    bytes: int
    areas: dict[str, int] = Field(default_factory=dict, description="files per top-level folder")


def ff_ensure_data_root(root: Path | str) -> FFDataRootMetaDTO:
    """Create the data root and its ``ff_meta.json`` if missing; return the meta."""
    base = ff_ensure_directory(Path(root))

    def create_if_missing(current: dict | None) -> dict:
        if current is not None:
            return current
        return FFDataRootMetaDTO(schema_version=FF_SCHEMA_VERSION, created_at=datetime.now(UTC)).model_dump(mode="json")

    data = ff_update_json(base / FF_META_NAME, create_if_missing, default=None)
    return _load_meta(data, base / FF_META_NAME)


def ff_read_meta(root: Path | str) -> FFDataRootMetaDTO | None:
    """The meta of an existing data root, or None when it has no ``ff_meta.json``."""
    path = Path(root) / FF_META_NAME
    data = ff_read_json(path, default=None)
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
