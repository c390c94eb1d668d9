"""Running the CLI in-process for tests: one helper instead of a copy per test module.

``run_cli`` calls ``main.main`` with a plain, wide console (no colour, no wrapping of paths) and
returns the exit code with everything printed; ``clean_cli_environment`` removes the machine's
``FF_*`` variables and moves into a temporary folder, so the default ``./ff_data`` never touches a
real root.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.console import Console

import main

__all__ = ["run_cli", "clean_cli_environment"]


def run_cli(*argv: str, width: int = 300) -> tuple[int, str]:
    out = io.StringIO()
    code = main.main(list(argv), console=Console(file=out, width=width, color_system=None))
    return code, out.getvalue()


def clean_cli_environment(monkeypatch: pytest.MonkeyPatch, where: Path) -> None:
    for name in list(os.environ):
        if name.startswith("FF_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(where)
