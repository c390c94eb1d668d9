"""The report as JSON: the DTO with its computed figures, versioned by ``report_schema_version``.

The file validates against ``report.schema.json`` (see :mod:`testing.reporting._schema`) and
loads back into :class:`FFSystemIntegrationReportDTO` with :func:`load_report_json`.
"""

from __future__ import annotations

from pathlib import Path

from ff_class_configs.ff_test_result_dtos import FFSystemIntegrationReportDTO
from ff_utils.ff_json_utils import ff_dumps, ff_read_json
from testing.reporting._history import report_from_json_data, report_to_json_data

__all__ = ["render_json", "load_report_json"]


def render_json(report: FFSystemIntegrationReportDTO) -> bytes:
    """Indented UTF-8 JSON of the whole report, ending in a newline."""
    return ff_dumps(report_to_json_data(report), indent=True) + b"\n"


def load_report_json(path: Path | str) -> FFSystemIntegrationReportDTO:
    """Read a report JSON file back into the DTO.

    Raises FFNotFoundError (no file), FFCorruptionError (not JSON), FFValidationError (not a
    report, or a newer report schema).
    """
    return report_from_json_data(ff_read_json(path), source=path)
