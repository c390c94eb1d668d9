"""Results of ``python main.py bench``: measured cases, and how ours compare with peers and targets.

Every figure is a measurement of this run; medians, minima and maxima are derived from the
stored samples (so the JSON cannot carry a median its samples do not give), and every ratio is
computed from two medians of the same run.
"""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

__all__ = ["BENCH_SCHEMA_VERSION", "FFBenchCaseDTO", "FFBenchComparisonDTO", "FFBenchReportDTO"]

BENCH_SCHEMA_VERSION = 1


class _DTO(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _drop_computed_fields(cls, data: object) -> object:
        """A dumped report validates again: derived figures are recomputed, never trusted."""
        computed = cls.model_computed_fields
        if isinstance(data, dict) and computed:
            return {key: value for key, value in data.items() if key not in computed}
        return data


class FFBenchCaseDTO(_DTO):
    """One system doing one workload, measured once per repetition."""

    workload: str = Field(description="e.g. durable_append")
    case: str = Field(description="unique within the workload, e.g. ours_always_8w, sqlite_full_8w")
    system: str = Field(description="'ours' or the peer's name (sqlite, tinydb, rank_bm25, sha256sum, hashlib, raw_fsync)")
    metric: str = Field(description="what was measured, e.g. messages_per_s, p95_ms")
    unit: str
    higher_is_better: bool
    samples: list[float] = Field(description="one value per repetition, in run order")
    detail: str = Field("", description="what the case does, in a few words")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def min(self) -> float:
        return min(self.samples, default=0.0)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def max(self) -> float:
        return max(self.samples, default=0.0)


class FFBenchComparisonDTO(_DTO):
    """Ours against a peer (ratio of medians) or against an absolute target (ours' median)."""

    workload: str
    metric: str
    ours: str = Field(description="case id of ours")
    versus: str | None = Field(None, description="case id of the peer; None for an absolute target")
    value: float = Field(description="ours/peer ratio of medians, or ours' median for an absolute target")
    comparator: Literal[">=", "<="]
    target: float
    note: str = Field("", description="why a target was missed, from a profile")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def met(self) -> bool:
        return self.value >= self.target if self.comparator == ">=" else self.value <= self.target


class FFBenchReportDTO(_DTO):
    """One benchmark run."""

    schema_version: int = BENCH_SCHEMA_VERSION
    started_at: datetime
    finished_at: datetime
    quick: bool
    repetitions: int = Field(ge=1)
    machine: dict[str, str] = Field(default_factory=dict, description="nproc, CPU model, file system, load average, versions")
    cases: list[FFBenchCaseDTO] = Field(default_factory=list)
    comparisons: list[FFBenchComparisonDTO] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def case(self, workload: str, case: str, metric: str) -> FFBenchCaseDTO:
        """The case measured under these names. Raises KeyError when there is none."""
        for found in self.cases:
            if (found.workload, found.case, found.metric) == (workload, case, metric):
                return found
        raise KeyError(f"{workload}/{case}/{metric}")
