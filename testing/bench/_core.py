"""What every workload shares: sizes, a case (one system's timed run), comparisons, alternation.

A workload is a context manager that prepares shared inputs (a populated session, a directory of
files) and yields its cases. The runner then runs every case once per repetition, rotating the
order each time, so ours and the peers take turns on the machine: a burst of background load
hits both sides instead of one. Each case's ``run`` does its own setup and times only the work
it is measured on; it returns one value per metric.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ff_class_configs.ff_bench_dtos import FFBenchCaseDTO, FFBenchComparisonDTO

__all__ = ["FFBenchSizes", "FFMetric", "FFBenchCase", "FFComparisonSpec", "QUICK", "FULL", "alternate", "compare"]


@dataclass(frozen=True, slots=True)
class FFBenchSizes:
    """How big each workload is (issue 8 gives the full sizes)."""

    append_messages: int = 5_000
    append_writers: int = 8
    message_bytes: int = 300
    tinydb_inserts: int = 2_000
    history_small: int = 1_000
    history_large: int = 200_000
    history_reads: int = 200
    hash_files: int = 2_000
    hash_bytes: int = 100 * 1024 * 1024
    migrate_bytes: int = 200 * 1024 * 1024


FULL = FFBenchSizes()
QUICK = FFBenchSizes(
    append_messages=500,
    tinydb_inserts=300,
    history_large=20_000,
    history_reads=100,
    hash_files=400,
    hash_bytes=20 * 1024 * 1024,
    migrate_bytes=20 * 1024 * 1024,
)


@dataclass(frozen=True, slots=True)
class FFMetric:
    name: str
    unit: str
    higher_is_better: bool


@dataclass
class FFBenchCase:
    """One system doing one workload; ``run()`` returns ``{metric name: value}`` for one repetition."""

    case: str
    system: str
    metrics: Sequence[FFMetric]
    run: Callable[[], dict[str, float]]
    detail: str = ""
    max_repetitions: int | None = None
    """Fewer runs for a case too slow to repeat (a 200 MB migration); None: every repetition."""
    samples: dict[str, list[float]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FFComparisonSpec:
    """A target: ``ours`` against ``versus`` (ratio of medians) or, with ``versus=None``, ours' median."""

    metric: str
    ours: str
    versus: str | None
    comparator: Literal[">=", "<="]
    target: float


def alternate(cases: Sequence[FFBenchCase], repetitions: int, *, on_sample: Callable[[FFBenchCase, int], None] | None = None) -> None:
    """Run every case ``repetitions`` times, rotating the order each repetition; fill ``samples``."""
    if repetitions < 1:
        raise ValueError("repetitions must be >= 1")
    for rep in range(repetitions):
        shift = rep % len(cases) if cases else 0
        for case in [*cases[shift:], *cases[:shift]]:
            if case.max_repetitions is not None and rep >= case.max_repetitions:
                continue
            values = case.run()
            for metric in case.metrics:
                case.samples.setdefault(metric.name, []).append(float(values[metric.name]))
            if on_sample is not None:
                on_sample(case, rep)


def to_dtos(workload: str, cases: Sequence[FFBenchCase]) -> list[FFBenchCaseDTO]:
    return [
        FFBenchCaseDTO(
            workload=workload, case=c.case, system=c.system, metric=m.name, unit=m.unit,
            higher_is_better=m.higher_is_better, samples=c.samples.get(m.name, []), detail=c.detail,
        )
        for c in cases
        for m in c.metrics
    ]


def compare(workload: str, cases: Sequence[FFBenchCase], specs: Sequence[FFComparisonSpec]) -> list[FFBenchComparisonDTO]:
    """Each target evaluated on the medians of this run (a case not run is left out)."""
    by_id = {c.case: c for c in cases}
    found = []
    for spec in specs:
        ours = by_id.get(spec.ours)
        peer = by_id.get(spec.versus) if spec.versus is not None else None
        if ours is None or (spec.versus is not None and peer is None):
            continue
        ours_median = statistics.median(ours.samples[spec.metric])
        if peer is None:
            value = ours_median
        else:
            peer_median = statistics.median(peer.samples[spec.metric])
            value = ours_median / peer_median if peer_median else float("inf")
        found.append(
            FFBenchComparisonDTO(
                workload=workload, metric=spec.metric, ours=spec.ours, versus=spec.versus, value=value,
                comparator=spec.comparator, target=spec.target,
            )
        )
    return found
