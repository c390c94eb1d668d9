"""The cross-system gates from hand-made raw samples: each passes on good evidence, fails on the
matching defect, and says "inconclusive" (never "passed") when the evidence is too thin."""

from __future__ import annotations

from testing.suites._cross_system._gates import (
    FFGateThresholds,
    FFGeneratorLoad,
    availability_gate,
    error_recovery_gate,
    evaluate_gates,
    latency_gates,
    ledger_gate,
    recovery_gate,
    udp_gate,
)
from testing.suites._cross_system._samples import FFAttempt, FFFaultRecord, FFUdpTally, FFWriteLedgerResult
from testing.suites._cross_system._timeline import failover_windows, split_steady, timeline, transport_stats

T = FFGateThresholds(min_attempts=100, min_steady_samples=10, min_udp_sent=10)
IDLE = FFGeneratorLoad(cpu_samples=(20.0, 30.0))


def _attempts(n: int, *, transport: str = "http", latency: float = 0.01, failed: int = 0, start: float = 0.0,
              step: float = 0.01) -> list[FFAttempt]:
    out = []
    for i in range(n):
        t0 = start + i * step
        outcome = "unavailable" if i < failed else "ok"
        out.append(FFAttempt(scheduled=t0, sent=t0, end=t0 + latency, transport=transport, operation="memory.add_message",
                             outcome=outcome, endpoint="ff-a", error_kind="" if outcome == "ok" else "FFUnavailable"))
    return out


def test_availability_passes_fails_and_is_inconclusive_below_the_minimum():
    assert availability_gate(_attempts(1000, failed=1), T).outcome == "passed"  # 99.9 %
    assert availability_gate(_attempts(1000, failed=2), T).outcome == "failed"
    thin = availability_gate(_attempts(99), T)
    assert thin.outcome == "inconclusive" and "99 attempts" in thin.detail


def test_latency_gate_excludes_failover_windows_and_reports_them_apart():
    steady = _attempts(100, latency=0.02)
    slow_during_fault = _attempts(20, latency=2.0, start=5.0)
    fault = FFFaultRecord("sigkill", "ff-a", injected=5.0, cleared=5.1, recovered=5.3)
    [gate] = latency_gates(steady + slow_during_fault, [fault], IDLE, T, ("http",))
    assert gate.outcome == "passed", gate
    assert "20 samples" in gate.detail
    [no_window] = latency_gates(steady + slow_during_fault, [], IDLE, T, ("http",))
    assert no_window.outcome == "failed"


def test_latency_gate_fails_on_slow_steady_state():
    [gate] = latency_gates(_attempts(100, latency=0.15), [], IDLE, T, ("http",))
    assert gate.outcome == "failed" and "p95 150.0" in gate.measured


def test_saturated_generator_makes_latency_inconclusive():
    busy = FFGeneratorLoad(cpu_samples=(95.0, 97.0))
    [gate] = latency_gates(_attempts(100, latency=0.15), [], busy, T, ("http",))
    assert gate.outcome == "inconclusive" and "saturated" in gate.detail
    shed = FFGeneratorLoad(cpu_samples=(10.0,), shed=3)
    assert latency_gates(_attempts(100), [], shed, T, ("http",))[0].outcome == "inconclusive"


def test_a_generator_that_cannot_keep_its_schedule_makes_latency_inconclusive():
    late = [FFAttempt(scheduled=i * 0.01, sent=i * 0.01 + 0.05, end=i * 0.01 + 0.2, transport="http", operation="r", outcome="ok")
            for i in range(100)]
    starved = FFGeneratorLoad.from_samples((15.0,), 0, late)
    assert round(starved.slip_p95_ms) == 50 and starved.saturated(T)
    [gate] = latency_gates(late, [], starved, T, ("http",))
    assert gate.outcome == "inconclusive" and "schedule slip p95 50.0 ms" in gate.detail
    on_time = FFGeneratorLoad.from_samples((15.0,), 0, _attempts(100))
    assert on_time.slip_p95_ms == 0.0 and not on_time.saturated(T)


def test_too_few_steady_samples_is_inconclusive():
    [gate] = latency_gates(_attempts(5), [], IDLE, T, ("http",))
    assert gate.outcome == "inconclusive"


def test_recovery_gate_per_fault():
    good = FFFaultRecord("sigstop", "ff-a", injected=1.0, cleared=2.0, recovered=3.0)
    slow = FFFaultRecord("sigkill", "ff-b", injected=1.0, cleared=2.0, recovered=7.5)
    never = FFFaultRecord("reset", "ff-b", injected=1.0, cleared=2.0)
    assert recovery_gate([good], T).outcome == "passed"
    assert recovery_gate([good, slow], T).outcome == "failed"
    assert "never recovered" in recovery_gate([good, never], T).detail
    assert recovery_gate([], T).outcome == "inconclusive"


def test_ledger_gate_counts_lost_and_duplicated_in_api_and_files():
    assert ledger_gate(FFWriteLedgerResult(acknowledged=10)).outcome == "passed"
    assert ledger_gate(FFWriteLedgerResult(acknowledged=10, lost=("m1",))).outcome == "failed"
    assert ledger_gate(FFWriteLedgerResult(acknowledged=10, duplicated_on_disk=("m2",))).outcome == "failed"
    assert ledger_gate(FFWriteLedgerResult(acknowledged=0)).outcome == "inconclusive"
    assert ledger_gate(None).outcome == "inconclusive"


def test_udp_gate_leaves_the_drop_phase_out():
    tally = FFUdpTally(sent={"clean": 100, "drop": 100, "duplicate": 50}, delivered={"clean": 100, "drop": 60, "duplicate": 50})
    assert udp_gate(tally, T).outcome == "passed"
    lossy = FFUdpTally(sent={"clean": 100}, delivered={"clean": 97})
    assert udp_gate(lossy, T).outcome == "failed"
    # duplicates in one phase cannot make up for losses in another
    masked = FFUdpTally(sent={"clean": 100, "duplicate": 100}, delivered={"clean": 90, "duplicate": 130})
    assert udp_gate(masked, T).outcome == "failed" and "95.00 %" in udp_gate(masked, T).measured
    assert udp_gate(FFUdpTally(sent={"clean": 5}, delivered={"clean": 5}), T).outcome == "inconclusive"
    assert udp_gate(None, T).outcome == "inconclusive"


def test_error_recovery_gate():
    back = [FFFaultRecord("f", "a", 0, 1, 2, back_in_rotation=True) for _ in range(19)]
    stuck = FFFaultRecord("f", "b", 0, 1, 2, back_in_rotation=False)
    assert error_recovery_gate(back + [stuck], T).outcome == "passed"  # 95 %
    assert error_recovery_gate(back[:9] + [stuck], T).outcome == "failed"  # 90 %
    assert error_recovery_gate([], T).outcome == "inconclusive"


def test_evaluate_gates_lists_every_gate_and_udp_faults_stay_out_of_recovery():
    udp_fault = FFFaultRecord("udp drop", "ff-a", 1.0, affects_latency=False)  # never "recovered": not a request fault
    fault = FFFaultRecord("sigstop", "ff-a", 1.0, 1.5, 2.0, back_in_rotation=True)
    gates = evaluate_gates(_attempts(200), [fault, udp_fault], FFWriteLedgerResult(acknowledged=5),
                           FFUdpTally(sent={"clean": 20}, delivered={"clean": 20}), IDLE, T)
    names = [g.name for g in gates]
    assert names == ["availability", "latency http", "latency websocket", "latency tcp", "recovery time",
                     "acknowledged writes", "udp delivery", "error recovery"]
    by_name = {g.name: g.outcome for g in gates}
    assert by_name["recovery time"] == "passed" and by_name["error recovery"] == "passed"
    assert by_name["latency tcp"] == "inconclusive"  # no tcp sample at all


def test_windows_merge_and_split():
    faults = [FFFaultRecord("a", "x", 1.0, 1.2, 2.0), FFFaultRecord("b", "x", 2.2, 2.3, 3.0), FFFaultRecord("c", "x", 9.0)]
    assert failover_windows(faults, settle=0.5) == [(1.0, 3.5), (9.0, 9.5)]
    attempts = _attempts(10, start=0.0, step=1.0, latency=0.1)
    steady, failover = split_steady(attempts, failover_windows(faults, 0.5))
    assert [a.scheduled for a in failover] == [1.0, 2.0, 3.0, 9.0]
    assert len(steady) == 6


def test_timeline_and_transport_stats():
    attempts = _attempts(20, step=0.1, latency=0.05, failed=2) + _attempts(10, transport="tcp", step=0.2)
    rows = timeline(attempts, 1.0)
    assert [r.attempts for r in rows] == [15, 15]  # by end time: http 10 + tcp 5 in each second
    assert rows[0].errors == 2 and rows[0].ok == 13 and rows[0].p95_ms is not None
    stats = {s.transport: s for s in transport_stats(attempts, [])}
    assert stats["http"].attempts == 20 and stats["http"].errors == 2
    assert round(stats["http"].availability_percent, 1) == 90.0
    assert stats["tcp"].steady_count == 10 and round(stats["tcp"].p95_ms) == 10
