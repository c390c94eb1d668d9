"""``main.py run`` / ``run-all`` / ``report`` in-process: reports written, exit code follows the gates."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

import main
from ff_class_configs.ff_test_result_dtos import REPORT_SCHEMA_VERSION
from ff_managers.ff_memory_layer_manager import FFMemoryLayerManager


def _run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = main.main(argv, console=Console(file=out, width=160, force_terminal=False))
    return code, out.getvalue()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path):
    for name in [n for n in __import__("os").environ if n.startswith("FF_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_run_one_suite_writes_every_report_and_exits_zero(tmp_path):
    code, out = _run(["run", "migration", "--output", str(tmp_path / "out"), "--formats", "json,junit"])
    assert code == 0, out
    reports = list((tmp_path / "out").glob("run_*.json"))
    assert len(reports) == 1 and list((tmp_path / "out").glob("run_*.junit.xml"))
    data = json.loads(reports[0].read_text())
    assert data["verdict_passed"] is True and data["report_schema_version"] == REPORT_SCHEMA_VERSION
    assert {s["suite"] for s in data["suites"]} == {"migration"}
    assert "quality gates" in out and "migration" in out


def test_a_real_defect_turns_the_exit_code_to_one(tmp_path, monkeypatch):
    original = FFMemoryLayerManager.import_messages

    async def drops_the_last_message(self, user_id, session_id, messages):
        return await original(self, user_id, session_id, list(messages)[:-1])

    monkeypatch.setattr(FFMemoryLayerManager, "import_messages", drops_the_last_message)
    code, out = _run(["run", "migration", "--output", str(tmp_path / "out"), "--formats", "json"])
    assert code == 1, out
    data = json.loads(next((tmp_path / "out").glob("run_*.json")).read_text())
    assert data["verdict_passed"] is False
    assert any(not g["passed"] for g in data["quality_gates"])


def test_report_rerenders_a_stored_run(tmp_path):
    code, _ = _run(["run", "migration", "--output", str(tmp_path / "out"), "--formats", "json"])
    assert code == 0
    run_id = next((tmp_path / "out").glob("run_*.json")).stem
    code, out = _run(["report", run_id, "--formats", "junit", "--output", str(tmp_path / "out")])
    assert code == 0 and (tmp_path / "out" / f"{run_id}.junit.xml").exists()
    code, _ = _run(["report", "run_does_not_exist", "--output", str(tmp_path / "out")])
    assert code == 2


def test_bad_options_exit_two_with_one_line(tmp_path, capsys):
    code, _ = _run(["run", "migration", "--output", str(tmp_path / "o"), "--formats", "json,docx"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "docx" in err[0]


@pytest.mark.slow
def test_run_all_end_to_end_and_its_exit_code_follows_the_gates(tmp_path, monkeypatch):
    config = tmp_path / "ff_config.json"
    # run-all's plumbing and exit code, not this machine's latency: on a loaded test machine the
    # cross-system latency gates would be inconclusive (exit 1), so their limits are wide here.
    config.write_text(json.dumps({"integration_testing": {
        "performance_config": {"test_duration_seconds": 2, "ramp_up_seconds": 0.5},
        "cross_system_config": {"max_p95_ms": 10_000, "max_schedule_slip_ms": 10_000},
    }}))
    out = tmp_path / "out"
    code, text = _run(["--config", str(config), "run-all", "--output", str(out), "--formats", "json,junit,html"])
    assert code == 0, text
    report = json.loads(next(out.glob("run_*.json")).read_text())
    assert [s["suite"] for s in report["suites"]] == ["component", "use_cases", "performance", "security", "failure", "migration",
                                                     "cross_system"]
    assert report["verdict_passed"] and len(report["use_case_results"]) == 22 and report["performance"]["operations"]
    assert next(out.glob("run_*.html")).read_text().count("<svg") >= 1
    assert (out / "history").is_dir()

    # The same run on a broken memory manager (history returned newest first) must exit 1.
    original = FFMemoryLayerManager.get_messages

    async def newest_first(self, *args, **kwargs):
        return list(reversed(await original(self, *args, **kwargs)))

    monkeypatch.setattr(FFMemoryLayerManager, "get_messages", newest_first)
    code, text = _run(["--config", str(config), "run-all", "--output", str(out), "--formats", "json"])
    assert code == 1, text
    latest = max(out.glob("run_*.json"), key=lambda p: p.stat().st_mtime)
    broken = json.loads(latest.read_text())
    assert not broken["verdict_passed"] and broken["tests_failed"] > 0


def test_keep_runs_prunes_old_run_folders_but_not_their_reports(tmp_path):
    out = tmp_path / "out"
    for _ in range(3):
        code, text = _run(["run", "migration", "--output", str(out), "--formats", "json", "--keep-runs", "2"])
        assert code == 0, text
    history = (out / "history" / "runs.jsonl").read_text().splitlines()
    run_ids = [json.loads(line)["report_id"] for line in history]
    assert len(run_ids) == 3
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(run_ids[1:])
    assert "pruned 1 old run folder(s)" in text
    # The pruned run's report is still in the history: it re-renders, and the index is unchanged.
    code, _ = _run(["report", run_ids[0], "--formats", "junit", "--output", str(out)])
    assert code == 0 and (out / f"{run_ids[0]}.junit.xml").is_file()
    assert (out / "history" / "runs.jsonl").read_text().splitlines() == history


def test_keep_runs_below_one_is_a_usage_error(tmp_path, capsys):
    code, _ = _run(["run-all", "--output", str(tmp_path / "out"), "--keep-runs", "0"])
    assert code == 2 and "--keep-runs: must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
