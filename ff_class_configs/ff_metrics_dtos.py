"""What FFMetricsCollectionManager returns: metric summaries, user analytics, audit records and
verification, system metrics. Plain pydantic v2 models, frozen, safe to JSON-dump into reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "FFMetricInfoDTO",
    "FFMetricSummaryDTO",
    "FFUserAnalyticsDTO",
    "FFAuditRecordDTO",
    "FFAuditVerificationDTO",
    "FFSystemMetricsDTO",
]


class _FrozenDTO(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FFMetricInfoDTO(_FrozenDTO):
    """A metric that has been recorded at least once (``metrics/<name>/metric.json``)."""

    name: str
    kind: Literal["timing", "counter", "gauge"]
    created_at: datetime = Field(description="when the first sample of this name was recorded")


class FFMetricSummaryDTO(_FrozenDTO):
    """Exact statistics of one metric over a window, optionally only samples carrying some tags.

    With no samples in the window ``count`` is 0 and every statistic is None.
    """

    name: str
    kind: Literal["timing", "counter", "gauge"] | None = Field(description="None when the metric was never recorded")
    count: int = Field(ge=0, description="samples in the window (for a counter: increments)")
    sum: float | None = Field(description="sum of the values (for a counter: its total in the window)")
    min: float | None
    max: float | None
    mean: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    last: float | None = Field(description="value of the most recent sample (a gauge's current value)")
    window_start: datetime | None = Field(description="inclusive start; None = since the beginning")
    window_end: datetime | None = Field(description="end of the window; None = open")
    window_end_inclusive: bool = Field(description="True for a timedelta window ([now - d, now])")
    tags: dict[str, str] = Field(default_factory=dict, description="the tag filter applied (subset match)")
    percentile_method: str = Field(
        "linear", description="linear interpolation between closest ranks (numpy's default, Hyndman-Fan type 7)"
    )
    buckets_read: int = Field(0, ge=0, description="bucket files opened to answer")
    skipped_lines: int = Field(0, ge=0, description="corrupt or torn lines skipped while reading")


class FFUserAnalyticsDTO(_FrozenDTO):
    """One user's activity, derived from their own analytics events only."""

    user_id: str
    total_events: int = Field(ge=0)
    event_counts: dict[str, int] = Field(description="events per type")
    sessions: int = Field(
        ge=0, description="activity sessions: a new one starts after session_gap_minutes without events"
    )
    chat_sessions: int = Field(ge=0, description="distinct data['session_id'] values seen in the events")
    active_days: int = Field(ge=0, description="distinct UTC days with at least one event")
    active_dates: list[date] = Field(default_factory=list, description="those days, ascending")
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    session_gap_minutes: float = Field(description="the inactivity gap used to split sessions")


class FFAuditRecordDTO(_FrozenDTO):
    """One audit log record as stored (see ff_managers/_metrics/audit_chain.py for the chain rules)."""

    seq: int = Field(ge=0, description="0-based position in the log")
    ts: datetime
    actor: str = Field(description="who acted: a user id or a component name")
    action: str = Field(description="what was attempted, e.g. tool.refused")
    target: str = Field(description="what it was attempted on, e.g. a tool name")
    outcome: str = Field(description="e.g. success, failure, refused, denied")
    details: dict[str, Any] = Field(default_factory=dict)
    prev_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    v: int = Field(1, description="audit record schema version")


class FFAuditVerificationDTO(_FrozenDTO):
    """The result of checking the whole audit chain and its head."""

    ok: bool
    records_checked: int = Field(ge=0, description="records found valid before the first problem")
    first_bad_index: int | None = Field(None, description="0-based position of the first bad record")
    reason: str | None = Field(None, description="why that record (or the head) is bad")
    head_count: int | None = Field(None, description="records the head says exist; None if the head is missing")
    head_lagging: bool = Field(
        False, description="the head is one record behind (a crash between append and head update)"
    )
    mode: Literal["sha256", "hmac-sha256"] = Field(
        "sha256", description="how the records and head were checked: plain SHA-256, or HMAC-SHA256 under the configured key"
    )


class FFSystemMetricsDTO(_FrozenDTO):
    """A psutil sample of this process, the data root's file system, and the data root itself."""

    sampled_at: datetime
    process_id: int
    process_cpu_percent: float = Field(ge=0, description="CPU use of this process since the previous sample (100 = one core)")
    process_rss_bytes: int = Field(ge=0)
    process_open_files: int = Field(ge=0)
    process_threads: int = Field(ge=1)
    system_cpu_percent: float = Field(ge=0, description="whole machine, since the previous sample")
    system_memory_percent: float = Field(ge=0)
    disk_total_bytes: int = Field(ge=0, description="file system holding the data root")
    disk_used_bytes: int = Field(ge=0)
    disk_free_bytes: int = Field(ge=0)
    disk_percent: float = Field(ge=0)
    data_root: str
    data_root_bytes: int = Field(ge=0, description="sum of file sizes under the data root")
    data_root_files: int = Field(ge=0)
