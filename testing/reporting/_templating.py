"""The one Jinja2 environment of the reports: autoescape always on, strict about undefined names.

Every template under ``templates/`` is HTML, so autoescaping is switched on for all of them
(not chosen by file extension): a test name such as ``<script>alert(1)</script>`` is printed as
text. Only SVG that :mod:`testing.reporting._charts` produced is marked safe, in the template.
``StrictUndefined`` turns a misspelt field into an error instead of an empty cell.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ff_utils.ff_errors import FFConfigError

__all__ = [
    "TEMPLATES_DIR",
    "REPORT_TEMPLATE",
    "report_environment",
    "format_duration",
    "format_datetime",
    "format_bytes",
]


def _templates_dir() -> Path:
    """Installed: the package data ``testing/reporting/templates/`` (pyproject.toml maps it there).
    Source checkout: ``templates/`` at the top of the project (a fixed folder, docs/ARCHITECTURE.md)."""
    here = Path(__file__).resolve().parent
    installed = here / "templates"
    return installed if installed.is_dir() else here.parents[1] / "templates"


TEMPLATES_DIR = _templates_dir()
REPORT_TEMPLATE = "report.html.j2"


def format_duration(seconds: float) -> str:
    """``0.0123`` → ``12 ms``, ``12.3`` → ``12.3 s``, ``125`` → ``2 min 05 s``."""
    if seconds < 1:
        return f"{seconds * 1000:,.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_datetime(value: datetime) -> str:
    """A timestamp in UTC, to the second (naive values are taken as already UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def format_bytes(count: float) -> str:
    """``1536`` → ``1.5 KiB``."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} GiB"


def _number(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


@lru_cache(maxsize=4)
def report_environment(templates_dir: Path = TEMPLATES_DIR) -> Environment:
    """The shared environment (cached per folder). Raises FFConfigError if the folder is missing."""
    if not (templates_dir / REPORT_TEMPLATE).is_file():
        raise FFConfigError(f"report template {REPORT_TEMPLATE} not found in {templates_dir}", field="templates_dir")
    environment = Environment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        duration=format_duration,
        datetime=format_datetime,
        filesize=format_bytes,
        number=_number,
    )
    return environment
