"""The verdict of a load run, its report files, Locust's command lines and the CLI's usage errors."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ff_class_configs.ff_load_dtos import FFDistributedLoadReportDTO, FFLocustFailureDTO
from ff_class_configs.ff_test_result_dtos import (
    FFOperationStatsDTO,
    FFPerformanceSummaryDTO,
)
from testing.load import (
    LOCUSTFILE,
    FFLocustSpec,
    judge,
    master_command,
    worker_command,
    write_load_report,
)
from tests._cli import clean_cli_environment, run_cli


def _summary(ok: int, errors: int, name: str = "append_turn") -> FFPerformanceSummaryDTO:
    stats = {"count": ok, "errors": errors, "p50_ms": 1.0, "p95_ms": 2.0, "p99_ms": 3.0, "mean_ms": 1.5, "max_ms": 4.0, "throughput_ops": 1.0}
    return FFPerformanceSummaryDTO(profile="x", concurrent_users=2, duration_seconds=3, target_rps=4, achieved_rps=1, error_rate_percent=0,
                                   operations=[FFOperationStatsDTO(operation=name, **stats)], overall=FFOperationStatsDTO(operation="*", **stats))  # fmt: skip


def _report(**changes) -> FFDistributedLoadReportDTO:
    base = {"report_id": "load_x", "generated_at": datetime(2026, 12, 5, tzinfo=UTC), "targets": ["http://127.0.0.1:1"], "mode": "local",
            "users": 2, "rate": 4.0, "duration_seconds": 3, "workers": 1, "locust_exit_code": 0, "locust": _summary(10, 0),
            "open_loop": _summary(12, 0)}  # fmt: skip
    report = FFDistributedLoadReportDTO(**{**base, **changes})
    report.problems = judge(report)
    return report


def test_a_clean_run_passes() -> None:
    assert _report().passed


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"locust_exit_code": 1}, "the Locust master exited with 1"),
        ({"locust": None}, "Locust wrote no statistics"),
        ({"locust": _summary(0, 0)}, "Locust sent no request"),
        ({"locust": _summary(8, 2)}, "2 of 10 Locust requests failed"),
        ({"open_loop": _summary(9, 3)}, "3 of 12 open-loop requests failed"),
    ],
)
def test_each_problem_turns_the_run_red(changes: dict, problem: str) -> None:
    report = _report(**changes)
    assert not report.passed and problem in report.problems


def test_the_report_is_written_as_json_that_validates_again_and_escaped_html(tmp_path: Path) -> None:
    report = _report(failures=[FFLocustFailureDTO(method="POST", name="<script>alert(1)</script>", error="HTTP 500", occurrences=2)],
                     locust=_summary(8, 2, name="<b>op</b>"))  # fmt: skip
    paths = write_load_report(report, tmp_path / "new" / "folder")
    again = FFDistributedLoadReportDTO.model_validate_json(paths["json"].read_bytes())
    assert again == report and not again.passed
    html = paths["html"].read_text()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;op&lt;/b&gt;" in html
    assert "2 of 10 Locust requests failed" in html and "FAILED" in html


def test_locust_command_lines_use_the_documented_flags(tmp_path: Path) -> None:
    spec = FFLocustSpec(targets=("http://127.0.0.1:9", "http://127.0.0.1:10"), users=4, rate=20.0, duration=5, workers=2, csv_prefix=tmp_path / "l", master_port=6000)
    master = master_command(spec)
    assert master[1:5] == ["-m", "locust", "-f", str(LOCUSTFILE)] and LOCUSTFILE.is_file()
    flags = dict(itertools.pairwise(master[5:]))
    assert {"--headless", "--master", "--only-summary"} <= set(master)
    assert (flags["--master-bind-host"], flags["--master-bind-port"], flags["--expect-workers"]) == ("127.0.0.1", "6000", "2")
    assert (flags["-u"], flags["-t"], flags["--csv"], flags["--host"]) == ("4", "5s", str(tmp_path / "l"), "http://127.0.0.1:9")
    assert flags["--ff-targets"] == "http://127.0.0.1:9,http://127.0.0.1:10"
    assert float(flags["--ff-rate-per-user"]) == 5.0  # the rate is per user: 20/s over 4 users
    assert worker_command("10.0.0.5", 6000)[5:] == ["--worker", "--master-host", "10.0.0.5", "--master-port", "6000"]
    assert spec.budget_s == 60 + 5 + 5 + 30
    assert not any("ffk_" in part for part in master)  # the key travels in the environment, never on a command line


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--users", "2", "--rate", "1", "--duration", "1"], "missing --target"),
        (["--cluster-run-dir", "nowhere", "--users", "2", "--rate", "1", "--duration", "1"], "cluster"),
        (["--target", "ftp://x", "--users", "2", "--rate", "1", "--duration", "1"], "http:// or https://"),
        (["--target", "http://127.0.0.1:1", "--users", "2", "--rate", "1", "--duration", "1"], "no API key"),
    ],
)
def test_bad_usage_exits_2_and_writes_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              argv: list[str], message: str) -> None:  # fmt: skip
    clean_cli_environment(monkeypatch, tmp_path)
    monkeypatch.delenv("FFLOAD_API_KEY", raising=False)
    code, _ = run_cli("load", *argv)
    assert code == 2 and message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_argument_types_are_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_cli_environment(monkeypatch, tmp_path)
    for argv in (["--users", "0"], ["--rate", "-1"], ["--duration", "1.5"], ["--workers", "2", "--master"]):
        assert run_cli("load", *argv)[0] == 2
