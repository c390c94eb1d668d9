"""The report of ``python main.py load``: Locust's figures beside our own open-loop figures.

Both sides are :class:`FFPerformanceSummaryDTO`, the performance suite's own DTO, so the same
fields mean the same thing: ``count`` is successful requests, ``errors`` failed ones, and
``throughput_ops`` successes per second. Two differences are inherent and stated in the report:
Locust is closed loop (each simulated user waits for its answer; ``constant_throughput`` paces it
to the target rate), so under saturation it sends less and its percentiles omit the waiting that
our open loop counts (coordinated omission); and Locust's percentiles include failed requests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from ff_class_configs.ff_test_result_dtos import FFPerformanceSummaryDTO

__all__ = ["FFDistributedLoadReportDTO", "FFLocustFailureDTO"]


class FFLocustFailureDTO(BaseModel):
    """One line of Locust's ``_failures.csv``: a distinct error and how often it happened."""

    model_config = ConfigDict(extra="forbid")

    method: str
    name: str
    error: str
    occurrences: int = Field(ge=0)


class FFDistributedLoadReportDTO(BaseModel):
    """One ``load`` run against a ``serve`` target."""

    model_config = ConfigDict(extra="forbid")

    report_id: str
    generated_at: datetime
    targets: list[str] = Field(min_length=1, description="the base URLs load was driven against (users spread round robin)")
    mode: Literal["local", "master"] = Field(description="local: master and workers on this machine; master: workers elsewhere")
    users: int = Field(ge=1, description="simulated users over all workers")
    rate: float = Field(gt=0, description="target requests per second over all users")
    duration_seconds: float = Field(gt=0, description="the requested run time of each phase")
    workers: int = Field(ge=1, description="Locust worker processes the master waited for")
    locust_version: str | None = None
    locust_exit_code: int | None = Field(None, description="the master's exit status (1: Locust saw failures)")
    locust: FFPerformanceSummaryDTO | None = Field(None, description="from Locust's _stats.csv and _stats_history.csv; None if it wrote none")
    failures: list[FFLocustFailureDTO] = Field(default_factory=list, description="from Locust's _failures.csv")
    open_loop: FFPerformanceSummaryDTO | None = Field(None, description="our own open-loop driver on the same target, users and rate")
    open_loop_errors: list[str] = Field(default_factory=list, description="samples of the open loop's errors")
    problems: list[str] = Field(default_factory=list, description="why the run is red; empty when it passed")

    @model_validator(mode="before")
    @classmethod
    def _drop_computed_fields(cls, data: Any) -> Any:
        """Let a written report validate again: ``passed`` is derived from ``problems``."""
        if isinstance(data, dict) and "passed" in data:
            data = {k: v for k, v in data.items() if k != "passed"}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        return not self.problems
