"""Seed 000's success criteria, computed from the raw samples of a cross-system run (pure).

Each gate says ``passed``, ``failed`` or ``inconclusive``. Inconclusive is for a run that cannot
decide: fewer attempts than the figure needs (99.9 % cannot be told from 99 % on a hundred
requests), no fault injected, or a saturated load generator (an open-loop generator that cannot
keep its own schedule measures itself, not the system). It is never reported as passed.

The criteria and the seed's wording (``../shared/seeds/000-system-integration-simulation.md``):

=====================  ================================  ==========================================
gate                   seed                              applied here
=====================  ================================  ==========================================
availability           Service availability > 99.9%      ok / attempts >= 99.9 %, >= min attempts
latency <transport>    Communication latency < 100ms     steady-state p95 < 100 ms per transport
recovery time          Recovery time < 5s                every fault: cleared -> first success on it
acknowledged writes    State consistency > 99%           0 lost, 0 duplicated (API and files)
udp delivery           Data exchange success > 99%       >= 99 % delivered without the drop fault
error recovery         Error recovery > 95%              >= 95 % of faults back in rotation
=====================  ================================  ==========================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ff_class_configs.ff_test_result_dtos import FFCrossSystemGateDTO, FFGateOutcome
from testing._load import percentile
from testing.suites._cross_system._samples import FFAttempt, FFFaultRecord, FFUdpTally, FFWriteLedgerResult
from testing.suites._cross_system._timeline import failover_windows, split_steady

__all__ = [
    "LATENCY_TRANSPORTS",
    "FFGateThresholds",
    "FFGeneratorLoad",
    "availability_gate",
    "error_recovery_gate",
    "evaluate_gates",
    "latency_gates",
    "ledger_gate",
    "recovery_gate",
    "udp_gate",
]

LATENCY_TRANSPORTS: tuple[str, ...] = ("http", "websocket", "tcp")


@dataclass(frozen=True, slots=True)
class FFGateThresholds:
    """The seed's figures and the minimum evidence each needs."""

    min_availability_percent: float = 99.9
    min_attempts: int = 1000
    max_p95_ms: float = 100.0
    min_steady_samples: int = 50
    max_recovery_seconds: float = 5.0
    min_udp_delivered_percent: float = 99.0
    min_udp_sent: int = 100
    min_error_recovery_percent: float = 95.0
    saturated_cpu_percent: float = 90.0
    """Mean CPU of the generator's process (100 = one core: its event loop is one thread)."""
    max_schedule_slip_ms: float = 20.0
    """p95 of how late the generator sent requests against its own schedule; past it the generator
    (starved of CPU by its own work or by the machine) measured itself, not the system."""
    settle_seconds: float = 0.5


@dataclass(frozen=True, slots=True)
class FFGeneratorLoad:
    """How busy the load generator itself was, and whether it kept its schedule."""

    cpu_samples: tuple[float, ...] = ()
    shed: int = 0
    """Requests the generator refused to start because too many were in flight."""
    slip_p95_ms: float = 0.0
    """p95 of (sent - scheduled) over the attempts: how late the open-loop schedule was kept."""

    @classmethod
    def from_samples(cls, cpu_samples: Sequence[float], shed: int, attempts: Sequence[FFAttempt]) -> FFGeneratorLoad:
        slips = sorted(max(0.0, (a.sent - a.scheduled) * 1000.0) for a in attempts if a.outcome != "shed")
        return cls(tuple(cpu_samples), shed, percentile(slips, 95) if slips else 0.0)

    @property
    def mean_cpu(self) -> float:
        return sum(self.cpu_samples) / len(self.cpu_samples) if self.cpu_samples else 0.0

    @property
    def peak_cpu(self) -> float:
        return max(self.cpu_samples, default=0.0)

    def saturated(self, thresholds: FFGateThresholds) -> bool:
        return (self.shed > 0 or self.mean_cpu >= thresholds.saturated_cpu_percent
                or self.slip_p95_ms > thresholds.max_schedule_slip_ms)

    def describe(self) -> str:
        return f"mean CPU {self.mean_cpu:.0f} %, {self.shed} shed, schedule slip p95 {self.slip_p95_ms:.1f} ms"


def _gate(name: str, criterion: str, target: str, measured: str, outcome: FFGateOutcome, detail: str = "") -> FFCrossSystemGateDTO:
    return FFCrossSystemGateDTO(name=name, criterion=criterion, target=target, measured=measured, outcome=outcome, detail=detail)


def availability_gate(attempts: Sequence[FFAttempt], t: FFGateThresholds) -> FFCrossSystemGateDTO:
    """Successes over every attempt, faults included: failover is the system's job."""
    total = len(attempts)
    ok = sum(1 for a in attempts if a.ok)
    rate = 100.0 * ok / total if total else 0.0
    kinds: dict[str, int] = {}
    for a in attempts:
        if not a.ok:
            kinds[a.error_kind or a.outcome] = kinds.get(a.error_kind or a.outcome, 0) + 1
    detail = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])[:5])
    if total < t.min_attempts:
        outcome: FFGateOutcome = "inconclusive"
        detail = f"only {total} attempts; {t.min_attempts} needed to tell {t.min_availability_percent:g} %" + (f"; {detail}" if detail else "")
    else:
        outcome = "passed" if rate >= t.min_availability_percent else "failed"
    return _gate(
        "availability",
        "Service availability > 99.9%",
        f">= {t.min_availability_percent:g} % of >= {t.min_attempts} attempts",
        f"{rate:.3f} % of {total} ({total - ok} failed)",
        outcome,
        detail,
    )


def latency_gates(
    attempts: Sequence[FFAttempt],
    faults: Sequence[FFFaultRecord],
    generator: FFGeneratorLoad,
    t: FFGateThresholds,
    transports: Sequence[str] = LATENCY_TRANSPORTS,
) -> list[FFCrossSystemGateDTO]:
    """Steady-state p95 per transport; failover windows excluded (and reported apart)."""
    windows = failover_windows(faults, t.settle_seconds)
    saturated = generator.saturated(t)
    gates = []
    for transport in transports:
        mine = [a for a in attempts if a.transport == transport and a.ok]
        steady, failover = split_steady(mine, windows)
        latencies = sorted(a.latency_ms for a in steady)
        p95 = percentile(latencies, 95) if latencies else None
        failover_p95 = percentile(sorted(a.latency_ms for a in failover), 95) if failover else None
        measured = f"p95 {p95:.1f} ms of {len(latencies)}" if p95 is not None else "no steady-state sample"
        detail = f"failover windows apart: {len(failover)} samples" + (f", p95 {failover_p95:.1f} ms" if failover_p95 is not None else "")
        if saturated:
            outcome: FFGateOutcome = "inconclusive"
            detail = f"load generator saturated ({generator.describe()}): it measured itself; {detail}"
        elif len(latencies) < t.min_steady_samples:
            outcome = "inconclusive"
            detail = f"{len(latencies)} steady-state samples, {t.min_steady_samples} needed; {detail}"
        else:
            outcome = "passed" if p95 is not None and p95 < t.max_p95_ms else "failed"
        gates.append(_gate(f"latency {transport}", "Communication latency < 100ms",
                           f"steady-state p95 < {t.max_p95_ms:g} ms", measured, outcome, detail))
    return gates


def recovery_gate(faults: Sequence[FFFaultRecord], t: FFGateThresholds) -> FFCrossSystemGateDTO:
    """Every fault: from the moment it was cleared to the first success routed to that instance."""
    if not faults:
        return _gate("recovery time", "Recovery time < 5s", f"< {t.max_recovery_seconds:g} s per fault", "no fault injected",
                     "inconclusive", "nothing was broken, so recovery was not shown")
    slow: list[str] = []
    seconds: list[float] = []
    for f in faults:
        if f.recovered is None or f.cleared is None:
            slow.append(f"{f.fault} on {f.target}: never recovered")
            continue
        took = max(0.0, f.recovered - f.cleared)
        seconds.append(took)
        if took >= t.max_recovery_seconds:
            slow.append(f"{f.fault} on {f.target}: {took:.2f} s")
    worst = max(seconds, default=None)
    measured = f"worst {worst:.2f} s of {len(faults)} faults" if worst is not None else f"none of {len(faults)} recovered"
    return _gate("recovery time", "Recovery time < 5s", f"< {t.max_recovery_seconds:g} s per fault", measured,
                 "failed" if slow else "passed", "; ".join(slow))


def ledger_gate(ledger: FFWriteLedgerResult | None) -> FFCrossSystemGateDTO:
    """Acknowledged writes lost or duplicated, through the API or in the files: none allowed."""
    target = "0 lost, 0 duplicated (API and files)"
    if ledger is None or ledger.acknowledged == 0:
        return _gate("acknowledged writes", "State consistency > 99%", target, "no acknowledged write", "inconclusive",
                     "nothing was written, so nothing could be lost")
    lost = len(set(ledger.lost) | set(ledger.lost_on_disk))
    duplicated = len(set(ledger.duplicated) | set(ledger.duplicated_on_disk))
    examples = [*ledger.lost[:2], *ledger.lost_on_disk[:2], *ledger.duplicated[:2], *ledger.duplicated_on_disk[:2]]
    return _gate("acknowledged writes", "State consistency > 99%", target,
                 f"{lost} lost, {duplicated} duplicated of {ledger.acknowledged}",
                 "passed" if lost == 0 and duplicated == 0 else "failed", ", ".join(examples))


def udp_gate(tally: FFUdpTally | None, t: FFGateThresholds, drop_phase: str = "drop") -> FFCrossSystemGateDTO:
    """Datagrams delivered over every phase but the drop fault's."""
    target = f">= {t.min_udp_delivered_percent:g} % of >= {t.min_udp_sent} datagrams (drop fault excluded)"
    if tally is None:
        return _gate("udp delivery", "Data exchange success > 99%", target, "no datagram sent", "inconclusive")
    sent = sum(n for phase, n in tally.sent.items() if phase != drop_phase)
    # A duplicated datagram is not a second delivery: each phase counts at most what it sent.
    delivered = sum(min(tally.delivered.get(phase, 0), n) for phase, n in tally.sent.items() if phase != drop_phase)
    rate = 100.0 * delivered / sent if sent else 0.0
    measured = f"{rate:.2f} % of {sent}"
    if sent < t.min_udp_sent:
        return _gate("udp delivery", "Data exchange success > 99%", target, measured, "inconclusive",
                     f"only {sent} datagrams outside the drop fault")
    detail = ", ".join(f"{p}: {tally.delivered.get(p, 0)}/{n}" for p, n in tally.sent.items())
    return _gate("udp delivery", "Data exchange success > 99%", target, measured,
                 "passed" if rate >= t.min_udp_delivered_percent else "failed", detail)


def error_recovery_gate(faults: Sequence[FFFaultRecord], t: FFGateThresholds) -> FFCrossSystemGateDTO:
    """The share of faults after which the instance was back: breaker closed, in rotation."""
    target = f">= {t.min_error_recovery_percent:g} % of faults"
    if not faults:
        return _gate("error recovery", "Error recovery > 95%", target, "no fault injected", "inconclusive")
    back = [f for f in faults if f.back_in_rotation and f.recovered is not None]
    rate = 100.0 * len(back) / len(faults)
    missing = [f"{f.fault} on {f.target}" for f in faults if f not in back]
    return _gate("error recovery", "Error recovery > 95%", target, f"{rate:.1f} % ({len(back)} of {len(faults)})",
                 "passed" if rate >= t.min_error_recovery_percent else "failed",
                 ("not back: " + ", ".join(missing)) if missing else "")


def evaluate_gates(
    attempts: Sequence[FFAttempt],
    faults: Sequence[FFFaultRecord],
    ledger: FFWriteLedgerResult | None,
    udp: FFUdpTally | None,
    generator: FFGeneratorLoad,
    thresholds: FFGateThresholds | None = None,
    transports: Sequence[str] = LATENCY_TRANSPORTS,
) -> list[FFCrossSystemGateDTO]:
    """Every gate of the suite, in the order of the report's table."""
    t = thresholds or FFGateThresholds()
    request_faults = [f for f in faults if f.affects_latency]
    return [
        availability_gate(attempts, t),
        *latency_gates(attempts, faults, generator, t, transports),
        recovery_gate(request_faults, t),
        ledger_gate(ledger),
        udp_gate(udp, t),
        error_recovery_gate(request_faults, t),
    ]
