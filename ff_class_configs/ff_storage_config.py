"""Configuration of the storage layer: where the data root is, how durable writes are, and where
the encryption key (if any) comes from: a key file outside the root or an environment variable,
never a value in the configuration itself, so a config file can be shared without the key."""

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
    encryption_key_file: Path | None = Field(
        None,
        description="file holding the AES-256 key (base64, from `main.py keys generate`) that encrypts every "
        "document and record at rest; must lie outside the data root. Unset: the key is read from the "
        "variable named by encryption_key_env, and with neither the data is stored in plaintext",
    )
    encryption_key_env: str = Field(
        "FF_ENCRYPTION_KEY",
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="name of the environment variable read for the key (base64) when no key file is set; "
        "the key itself is never part of the configuration",
    )
