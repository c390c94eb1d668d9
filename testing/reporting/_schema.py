"""The JSON Schema of the report file, generated from the pydantic models and shipped.

``report.schema.json`` beside this module is the generated schema, kept in the repository so CI
systems and other tools can validate reports without this code. A test regenerates it and fails
when the shipped copy is stale; refresh it with
``python -c "from testing.reporting import write_report_schema; write_report_schema()"``.
The schema is generated in *serialization* mode: it describes the file as written, computed
figures (``tests_passed``, ``verdict_passed``...) included.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ff_class_configs.ff_test_result_dtos import REPORT_SCHEMA_VERSION, FFSystemIntegrationReportDTO
from ff_utils.ff_file_ops import ff_atomic_write

__all__ = ["SCHEMA_PATH", "build_report_schema", "schema_text", "write_report_schema"]

SCHEMA_PATH = Path(__file__).resolve().with_name("report.schema.json")


def build_report_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a report file of the current schema version."""
    schema = FFSystemIntegrationReportDTO.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": (
            f"FF Platform report, report_schema_version {REPORT_SCHEMA_VERSION}; generated from the pydantic models"
        ),
        **schema,
    }


def schema_text() -> str:
    """The schema as the shipped file holds it (stable key order, indented, final newline)."""
    return json.dumps(build_report_schema(), indent=2, ensure_ascii=False) + "\n"


def write_report_schema(path: Path = SCHEMA_PATH) -> Path:
    """Regenerate the shipped schema file; returns its path."""
    ff_atomic_write(path, schema_text().encode("utf-8"))
    return path
