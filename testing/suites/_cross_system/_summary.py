"""The report's cross-system section, built from the raw evidence the suite collected."""

from __future__ import annotations

from typing import Any

from ff_class_configs.ff_test_result_dtos import FFCrossSystemGateDTO, FFCrossSystemSummaryDTO, FFFaultOutcomeDTO
from testing.suites._cross_system._gates import FFGateThresholds, FFGeneratorLoad
from testing.suites._cross_system._samples import FFWriteLedgerResult
from testing.suites._cross_system._timeline import failover_windows, timeline, transport_stats

__all__ = ["build_summary"]


def build_summary(h: Any, gates: list[FFCrossSystemGateDTO], ledger: FFWriteLedgerResult | None, generator: FFGeneratorLoad,
                  thresholds: FFGateThresholds) -> FFCrossSystemSummaryDTO:
    """The report's cross-system section from the raw evidence."""
    attempts = h.attempts
    windows = failover_windows(h.faults, thresholds.settle_seconds)
    faults = []
    for f in h.faults:
        end = f.recovered if f.recovered is not None else (f.cleared or f.injected)
        failed = [a for a in attempts if not a.ok and f.injected <= a.end <= end]
        kinds: dict[str, int] = {}
        for a in failed:
            key = f"{a.transport} {a.operation.split('.')[-1]}: {a.error_kind or a.outcome}"
            kinds[key] = kinds.get(key, 0) + 1
        why = ", ".join(f"{k} x{n}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:4])
        faults.append(FFFaultOutcomeDTO(
            fault=f.fault, target=f.target, injected_at_seconds=round(f.injected, 3),
            cleared_at_seconds=None if f.cleared is None else round(f.cleared, 3),
            recovered_at_seconds=None if f.recovered is None else round(f.recovered, 3),
            recovery_seconds=None if f.recovered is None or f.cleared is None else round(f.recovered - f.cleared, 3),
            outage_seconds=None if f.recovered is None else round(f.recovered - f.injected, 3),
            errors_during=len(failed), back_in_rotation=f.back_in_rotation,
            detail="; ".join(part for part in (f.detail, f"failed: {why}" if why else "") if part),
        ))  # fmt: skip
    return FFCrossSystemSummaryDTO(
        profile=h.profile, instances=len(h.instances), duration_seconds=round(h.load_seconds, 3), target_rps=h.rate,
        attempts=len(attempts), transports=transport_stats(attempts, windows), timeline=timeline(attempts, 1.0),
        events=sorted(h.events, key=lambda e: e.at_seconds), faults=faults, gates=gates,
        acknowledged_writes=ledger.acknowledged if ledger else 0,
        lost_writes=len(set(ledger.lost) | set(ledger.lost_on_disk)) if ledger else 0,
        duplicated_writes=len(set(ledger.duplicated) | set(ledger.duplicated_on_disk)) if ledger else 0,
        udp_sent=sum(h.udp.sent.values()), udp_delivered=sum(min(h.udp.delivered.get(p, 0), n) for p, n in h.udp.sent.items()),
        generator_peak_cpu_percent=generator.peak_cpu, generator_mean_cpu_percent=generator.mean_cpu,
        generator_saturated=generator.saturated(thresholds),
        max_dispatch_lag_ms=h.generator.max_dispatch_lag_ms if h.generator else 0.0,
        schedule_slip_p95_ms=round(generator.slip_p95_ms, 3),
    )  # fmt: skip
