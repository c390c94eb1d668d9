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
