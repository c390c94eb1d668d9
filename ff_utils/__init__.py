"""Storage primitives of FF Platform: errors, safe paths, atomic JSON, JSONL logs, locks, hashing.

Nothing here knows about chat. Everything is synchronous; the async managers call these from
worker threads.
"""

from ff_utils.ff_errors import (
    FFArtifactStoreError,
    FFConfigError,
    FFConflictError,
    FFCorruptionError,
    FFError,
    FFNotFoundError,
    FFPermissionError,
    FFSandboxViolationError,
    FFStorageError,
    FFTimeoutError,
    FFValidationError,
)
from ff_utils.ff_file_ops import ff_atomic_write, ff_ensure_directory, ff_safe_path
from ff_utils.ff_ids import ff_new_id, ff_validate_id
from ff_utils.ff_json_utils import (
    ff_append_jsonl,
    ff_read_json,
    ff_read_jsonl,
    ff_repair_jsonl,
    ff_tail_jsonl,
    ff_update_json,
    ff_write_json,
)
from ff_utils.ff_logging import get_logger

__all__ = [
    "FFArtifactStoreError",
    "FFConfigError",
    "FFConflictError",
    "FFCorruptionError",
    "FFError",
    "FFNotFoundError",
    "FFPermissionError",
    "FFSandboxViolationError",
    "FFStorageError",
    "FFTimeoutError",
    "FFValidationError",
    "ff_append_jsonl",
    "ff_atomic_write",
    "ff_ensure_directory",
    "ff_new_id",
    "ff_read_json",
    "ff_read_jsonl",
    "ff_repair_jsonl",
    "ff_safe_path",
    "ff_tail_jsonl",
    "ff_update_json",
    "ff_validate_id",
    "ff_write_json",
    "get_logger",
]
