"""run-all's logging: records of the injected faults go to run.log and the report, beside their test, not the console."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console

import main


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [n for n in os.environ if n.startswith("FF_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_fault_warnings_land_in_run_log_and_the_report_not_on_the_console(tmp_path: Path) -> None:
    out = io.StringIO()
    code = main.main(
        ["run", "component", "--output", str(tmp_path / "out"), "--formats", "json,html"],
        console=Console(file=out, width=160, force_terminal=False),
    )
    console = out.getvalue()
    assert code == 0, console
    # The component suite's broken event handler logs a WARNING on purpose.
    assert "handler broke on" not in console and "WARNING" not in console

    (run_dir,) = (tmp_path / "out" / "runs").iterdir()
    assert (run_dir / "run.log").is_file()
    log = (run_dir / "run.log").read_text(encoding="utf-8")
    line = next(line for line in log.splitlines() if "handler broke on memory.session_created" in line)
    assert "WARNING ff.event_bus [component.failing_handler_isolated attempt 1]" in line

    report = json.loads(next((tmp_path / "out").glob("run_*.json")).read_text(encoding="utf-8"))
    results = {r["test_id"]: r for s in report["suites"] for r in s["results"]}
    logs = results["component.failing_handler_isolated"]["logs"]
    assert [(r["level"], r["logger"], r["attempt"]) for r in logs] == [("WARNING", "ff.event_bus", 1)]
    assert "handler broke on memory.session_created" in logs[0]["message"]
    others = [t for t, r in results.items() if t != "component.failing_handler_isolated" and any("handler broke" in x["message"] for x in r["logs"])]
    assert others == []

    html = next((tmp_path / "out").glob("run_*.html")).read_text(encoding="utf-8")
    block = html[html.index("<code>component.failing_handler_isolated</code>") :]
    block = block[: block.index("</details>")]
    assert "Log lines caused by this test" in block and "handler broke on memory.session_created" in block


def test_records_outside_any_test_still_reach_the_console(tmp_path: Path) -> None:
    """Only the records a test caused are held back: a damaged history file is still reported."""
    history = tmp_path / "out" / "history"
    history.mkdir(parents=True)
    (history / "runs.jsonl").write_text('{"report_id": "run_x", "generation_timestamp": "2025-01-01T00:00:00Z"}\n{"report_id": "run_y", "generation_timestamp": "2025-01-02T00:00:00Z"}\n{torn\n', encoding="utf-8")
    out = io.StringIO()
    main.main(
        ["run", "migration", "--output", str(tmp_path / "out"), "--formats", "json"],
        console=Console(file=out, width=200, force_terminal=False),
    )
    assert "WARNING" in out.getvalue() and "ff.json" in out.getvalue()
