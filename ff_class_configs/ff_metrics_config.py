"""Configuration of metrics, per-user analytics and the audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from ff_class_configs._section import FFConfigSection

__all__ = ["FFMetricsConfigDTO"]

Durability = Literal["always", "batch", "never"]


class FFMetricsConfigDTO(FFConfigSection):
    """Metrics, analytics and audit.

    The three logs have different durability defaults on purpose. Metrics and analytics are
    high-volume observations written on every manager operation (the event bus feeds them), so
    an fsync per sample would cost more than the operation being measured; ``batch`` still
    group-commits and fsyncs at most every ``storage.batch_fsync_interval_ms``, so a power cut
    loses at most that window of samples and a process crash loses nothing (the bytes are in the
    page cache). The audit log is security evidence and stays ``always``.
    """

    bucket: Literal["hour", "day"] = Field(
        "hour",
        description="time bucket of metric files: metrics/<name>/<YYYY-MM-DD>/<HH>.jsonl (hour) "
        "or metrics/<name>/<YYYY-MM-DD>/day.jsonl (day); readers accept both",
    )
    audit_enabled: bool = Field(True, description="False makes audit() refuse and the bus skip auditing")
    audit_key: SecretStr | None = Field(
        None,
        description="secret (at least 16 bytes) that turns the audit chain into HMAC-SHA256, so rewriting the log "
        "and its head together is detected too; best set as FF_METRICS__AUDIT_KEY; never written anywhere",
    )
    audit_key_file: Path | None = Field(
        None,
        description="file holding the audit key instead of audit_key (refused when inside the data root; "
        "surrounding whitespace is ignored)",
    )
    subscribe_to_events: bool = Field(True, description="count every event on the bus ('*')")
    metrics_durability: Durability = Field("batch", description="fsync policy of metric samples")
    analytics_durability: Durability = Field("batch", description="fsync policy of per-user analytics events")
    audit_durability: Durability = Field("always", description="fsync policy of the audit log")
    session_gap_minutes: float = Field(
        30.0, gt=0, description="inactivity after which a user's next event starts a new analytics session"
    )
    max_tags: int = Field(16, ge=0, le=64, description="most tags one sample may carry")
    max_tag_value_chars: int = Field(256, ge=1, le=4096, description="longest metric tag value, in characters")
    max_event_data_bytes: int = Field(
        16 * 1024, ge=256, description="largest analytics event data / audit details, as JSON bytes"
    )
