"""Configuration of the storage layer: where the data root is, how durable writes are, and where
the encryption key (if any) comes from: a key file outside the root or an environment variable,
never a value in the configuration itself, so a config file can be shared without the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

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
    artifacts_url: str | None = Field(
        None,
        description="object store for immutable artifacts (migration backups, attachment bytes), e.g. "
        "s3://bucket/prefix; each is uploaded once its local copy is durable and checksum-verified, and read "
        "back from there when the local copy is gone. Unset: local disk only. JSONL logs always stay local "
        "(S3 has no append and no locks). Needs the `scale` extra",
    )
    artifacts_options: dict[str, Any] = Field(
        default_factory=dict,
        repr=False,
        description="fsspec storage options of artifacts_url (e.g. endpoint_url, region_name); prefer the "
        "standard AWS variables or profiles for credentials. FF_S3_ENDPOINT_URL sets the endpoint of an "
        "S3-compatible store. Never logged",
    )

    @field_validator("artifacts_url")
    @classmethod
    def _store_url(cls, value: str | None) -> str | None:
        """An S3 URL with a bucket: only S3 stores keep the checksum each artifact is verified against."""
        if value is None or value == "":
            return None
        scheme, sep, rest = value.partition("://")
        if not sep or scheme.lower() not in ("s3", "s3a") or not rest.strip("/"):
            raise ValueError("must be an S3 URL such as s3://bucket/prefix (AWS S3 or an S3-compatible store)")
        return value.rstrip("/")
