"""The cross-system suite's shape (no processes): its tests, their order, and the summary it reports."""

from __future__ import annotations

from types import SimpleNamespace

from ff_class_configs import FFCrossSystemSummaryDTO, SUITE_NAMES
from testing.runner._runner import _check_graph
from testing.suites import cross_system
from testing.suites._cross_system._gates import FFGateThresholds, FFGeneratorLoad, evaluate_gates
from testing.suites._cross_system._samples import FFAttempt, FFFaultRecord, FFUdpTally, FFWriteLedgerResult


def test_the_suite_is_registered_and_its_graph_is_sound():
    assert "cross_system" in SUITE_NAMES
    specs = cross_system.REGISTRY.specs
    _check_graph(specs)
    by_id = {s.test_id: s for s in specs}
    assert by_id["cross_system.cluster_up"].depends_on == ()
    for name in cross_system._FAULT_TESTS:
        spec = by_id[f"cross_system.{name}"]
        assert "cross_system.load_started" in spec.depends_on, name
        assert f"cross_system.{name}" in by_id["cross_system.load_stopped"].after
    gates = by_id["cross_system.gates"]
    assert gates.depends_on == ("cross_system.cluster_up",)  # a failed fault test must not hide the gates
    assert {"cross_system.load_stopped", "cross_system.write_ledger", "cross_system.data_integrity"} <= set(gates.after)
    assert callable(cross_system.SUITE_CLEANUP)


def test_summary_from_raw_evidence():
    attempts = [FFAttempt(scheduled=i * 0.02, sent=i * 0.02, end=i * 0.02 + 0.01, transport=("http", "websocket", "tcp")[i % 3],
                          operation="memory.get_messages", outcome="ok", endpoint="xs-1-http") for i in range(300)]
    fault = FFFaultRecord("SIGSTOP", "xs-1", injected=2.0, cleared=3.0, recovered=3.4, back_in_rotation=True)
    harness = SimpleNamespace(
        attempts=attempts, faults=[fault], events=[], instances=[1, 2], profile="quick", load_seconds=6.0, rate=50.0,
        udp=FFUdpTally(sent={"clean": 10, "drop": 10}, delivered={"clean": 10, "drop": 6}),
        generator=SimpleNamespace(max_dispatch_lag_ms=3.0, shed=0),
    )
    thresholds = FFGateThresholds(min_attempts=100, min_steady_samples=10, min_udp_sent=5)
    generator = FFGeneratorLoad((30.0, 40.0))
    ledger = FFWriteLedgerResult(acknowledged=12)
    gates = evaluate_gates(attempts, [fault], ledger, harness.udp, generator, thresholds)
    summary = cross_system.build_summary(harness, gates, ledger, generator, thresholds)
    again = FFCrossSystemSummaryDTO.model_validate(summary.model_dump(mode="json"))
    assert again == summary
    assert summary.attempts == 300 and summary.instances == 2 and summary.udp_sent == 20 and summary.udp_delivered == 16
    [row] = summary.faults
    assert row.recovery_seconds == 0.4 and row.outage_seconds == 1.4 and row.back_in_rotation
    assert {t.transport for t in summary.transports} == {"http", "websocket", "tcp"}
    assert all(t.failover_count > 0 for t in summary.transports)  # the fault window is counted apart
    assert summary.timeline and not summary.generator_saturated
    assert {g.name: g.outcome for g in summary.gates}["recovery time"] == "passed"
