"""Configuration of the storage layer: where the data root is and how durable writes are."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from ff_class_configs._section import FFConfigSection

__all__ = ["FFStorageConfigDTO", "FF_SCHEMA_VERSION", "default_data_root"]

FF_SCHEMA_VERSION = 2
"""Schema version of the data root layout this code writes (1 was the legacy layout)."""


def default_data_root() -> Path:
    """The embedded data root: ``./ff_data`` in the working directory, so nothing needs configuring."""
    return Path.cwd() / "ff_data"


class FFStorageConfigDTO(FFConfigSection):
    """Storage settings shared by every manager."""

    base_path: Path = Field(default_factory=default_data_root, description="the data root")
    durability: Literal["always", "batch", "never"] = Field(
        "always",
        description="always: fsync before an append returns; batch: fsync at most every "
        "batch_fsync_interval_ms; never: leave it to the OS. Atomic replace holds for all three.",
    )
    batch_fsync_interval_ms: int = Field(
        200, ge=1, le=60_000, description="with batch durability, the longest an append stays un-fsynced"
    )
    max_record_bytes: int = Field(16 * 1024 * 1024, ge=1024, description="largest JSONL record")
    max_content_chars: int = Field(200_000, ge=1, description="largest message or memory text")
    lock_timeout_seconds: float = Field(
        30.0, gt=0, description="how long a file lock is waited for before the call fails with FFStorageError"
    )
