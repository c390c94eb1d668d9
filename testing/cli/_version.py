"""The version `--version` prints: the installed distribution's, read from its metadata.

One source of truth: ``[project] version`` in pyproject.toml becomes the distribution's metadata when
the package is installed (``pip install .`` or the editable install scripts/setup.sh makes), and
``importlib.metadata`` reads it back, so no version string is copied into the code. A source
checkout that was never installed has no metadata; then the version is read from the checkout's
own pyproject.toml and marked as such, rather than guessed.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

__all__ = ["DISTRIBUTION", "distribution_version"]

DISTRIBUTION = "ff-platform"
_PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def distribution_version(distribution: str = DISTRIBUTION) -> str:
    """``0.1.0`` when installed; ``0.1.0 (source checkout, not installed)`` otherwise; ``unknown`` if neither."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        pass
    try:
        declared = tomllib.loads(_PYPROJECT.read_text(encoding="utf-8"))["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown (not installed)"
    return f"{declared} (source checkout, not installed)"
