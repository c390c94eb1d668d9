"""JSON report: versioned, round-trips into the DTO, validates against the shipped, fresh schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ff_class_configs.ff_test_result_dtos import REPORT_SCHEMA_VERSION, FFSystemIntegrationReportDTO
from ff_utils.ff_errors import FFValidationError
from testing.reporting import SCHEMA_PATH, build_report_schema, load_report_json, render_json
from testing.reporting._schema import schema_text


@pytest.fixture(scope="module")
def report(sample_report: FFSystemIntegrationReportDTO) -> FFSystemIntegrationReportDTO:
    return sample_report  # built once per session (conftest)


def test_json_is_versioned_and_carries_the_computed_figures(report: FFSystemIntegrationReportDTO) -> None:
    data = json.loads(render_json(report))
    assert data["report_schema_version"] == REPORT_SCHEMA_VERSION
    assert data["report_id"] == report.report_id
    assert data["tests_failed"] == report.tests_failed > 0
    assert data["verdict_passed"] is False
    assert data["suites"][0]["passed"] == report.suites[0].passed


def test_json_round_trips_into_an_equal_report(report: FFSystemIntegrationReportDTO, tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(render_json(report))
    loaded = load_report_json(path)
    assert loaded == report
    assert loaded.use_cases_passing == report.use_cases_passing


def test_a_tampered_count_does_not_survive_a_reload(report: FFSystemIntegrationReportDTO) -> None:
    data = json.loads(render_json(report))
    data["tests_failed"] = 0
    assert FFSystemIntegrationReportDTO.model_validate(data).tests_failed == report.tests_failed


def test_json_validates_against_the_shipped_schema(report: FFSystemIntegrationReportDTO) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(render_json(report)), schema, cls=jsonschema.Draft202012Validator)


def test_schema_rejects_what_the_model_rejects(report: FFSystemIntegrationReportDTO) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    data = json.loads(render_json(report))
    data["suites"][0]["results"][0]["status"] = "sort-of-passed"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
    data = json.loads(render_json(report))
    data["unexpected"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)


def test_shipped_schema_is_the_freshly_generated_one() -> None:
    shipped = SCHEMA_PATH.read_text(encoding="utf-8")
    assert json.loads(shipped) == build_report_schema(), (
        "testing/reporting/report.schema.json is stale: regenerate it with "
        'python -c "from testing.reporting import write_report_schema; write_report_schema()"'
    )
    assert shipped == schema_text()


def test_a_report_from_a_newer_schema_is_refused(report: FFSystemIntegrationReportDTO, tmp_path: Path) -> None:
    data = json.loads(render_json(report))
    data["report_schema_version"] = REPORT_SCHEMA_VERSION + 1
    path = tmp_path / "future.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(FFValidationError, match="newer"):
        load_report_json(path)


def test_not_a_report_is_a_validation_error(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"hello": "world"}', encoding="utf-8")
    with pytest.raises(FFValidationError):
        load_report_json(path)


def test_a_version_1_report_from_the_history_still_loads(sample_report: FFSystemIntegrationReportDTO) -> None:
    """Version 2 only added fields (with defaults), so runs stored by version 1 load and render."""
    from testing.reporting import render_html
    from testing.reporting._history import report_from_json_data

    data = json.loads(render_json(sample_report))
    data["report_schema_version"] = 1
    for key in ("git_commit", "packages"):
        del data[key]
    for suite in data["suites"]:
        for result in suite["results"]:
            for key in ("attempt_results", "logs", "logs_dropped"):
                del result[key]
    for use_case in data["use_case_results"]:
        del use_case["attempt_results"]
    for key in ("timeline", "overall"):
        del data["performance"][key]
    for op in data["performance"]["operations"]:
        del op["min_ms"], op["p90_ms"]
    old = report_from_json_data(data)
    assert old.report_schema_version == 1 and old.performance is not None and old.performance.timeline == []
    html = render_html(old)
    assert "Throughput over time" not in html and ">–</td>" in html  # min and p90 unknown, shown as –
