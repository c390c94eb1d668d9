"""How audit records and the audit head are sealed: plain SHA-256, or HMAC-SHA256 under a key.

Without a key the chain proves the log was not altered *piecemeal*: anyone who can write the
files can still recompute every hash and the head together. With a key (``metrics.audit_key``,
for example from ``FF_METRICS__AUDIT_KEY``, or ``metrics.audit_key_file``) every record's ``hash``
and the head's ``mac`` are HMAC-SHA256 under that key, so rewriting the log and the head together
is detected too, by anyone verifying with the key.

The key never lives in the data root: a key file inside it is refused (FFConfigError), because an
attacker who can rewrite the log could then read the key next to it. The head records the mode
and a key id (an HMAC of a fixed label, which reveals nothing about the key), so verifying with
no key or another key says so instead of reporting every record as edited.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ff_class_configs.ff_metrics_config import FFMetricsConfigDTO
from ff_utils.ff_errors import FFConfigError

__all__ = ["AuditMode", "FFAuditSeal", "MIN_KEY_BYTES", "audit_seal_from_settings"]

AuditMode = Literal["sha256", "hmac-sha256"]
MIN_KEY_BYTES = 16
_KEY_ID_LABEL = b"ff-audit-key-id/v1"


@dataclass(frozen=True, slots=True)
class FFAuditSeal:
    """The digest every record and the head are sealed with; ``key`` None means plain SHA-256."""

    key: bytes | None = field(default=None, repr=False)

    @property
    def mode(self) -> AuditMode:
        return "sha256" if self.key is None else "hmac-sha256"

    @property
    def key_id(self) -> str | None:
        """A short public name of the key (None without one): tells "another key" from "edited"."""
        if self.key is None:
            return None
        return hmac.new(self.key, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]

    def digest(self, data: bytes) -> str:
        """SHA-256 or HMAC-SHA256 (hex) of ``data``."""
        if self.key is None:
            return hashlib.sha256(data).hexdigest()
        return hmac.new(self.key, data, hashlib.sha256).hexdigest()

    def matches(self, data: bytes, expected: object) -> bool:
        """True when ``expected`` is the digest of ``data`` (compared in constant time)."""
        return isinstance(expected, str) and hmac.compare_digest(self.digest(data), expected)


def audit_seal_from_settings(settings: FFMetricsConfigDTO, data_root: Path) -> FFAuditSeal:
    """The seal the configuration asks for; FFConfigError for a short key or a key file in the root."""
    if settings.audit_key is not None and settings.audit_key_file is not None:
        raise FFConfigError("set metrics.audit_key or metrics.audit_key_file, not both", field="metrics.audit_key")
    if settings.audit_key is not None:
        return FFAuditSeal(_checked(settings.audit_key.get_secret_value().encode("utf-8"), "metrics.audit_key"))
    if settings.audit_key_file is None:
        return FFAuditSeal()
    key_file = Path(settings.audit_key_file).expanduser().resolve()
    root = data_root.resolve()
    if key_file == root or root in key_file.parents:
        raise FFConfigError(
            f"metrics.audit_key_file {str(key_file)!r} is inside the data root {str(root)!r}; keep the key "
            "elsewhere (whoever can rewrite the log must not be able to read its key)",
            field="metrics.audit_key_file",
        )
    try:
        raw = key_file.read_bytes()
    except OSError as exc:
        raise FFConfigError(f"cannot read metrics.audit_key_file {str(key_file)!r}: {exc.strerror}", field="metrics.audit_key_file") from exc
    return FFAuditSeal(_checked(raw.strip(), "metrics.audit_key_file"))


def _checked(key: bytes, field_name: str) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise FFConfigError(f"{field_name}: the audit key must be at least {MIN_KEY_BYTES} bytes", field=field_name)
    return key
