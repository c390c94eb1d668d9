"""CLI output basics: --version, piped output kept whole, help text for every option of run-all."""

from __future__ import annotations

import io
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from testing.cli import build_parser, main
from testing.cli._console import PIPED_WIDTH, make_console
from testing.cli._version import distribution_version

ROOT = Path(__file__).resolve().parents[3]


def test_version_prints_the_distribution_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert capsys.readouterr().out.strip() == f"ff-platform {distribution_version()}"
    assert distribution_version().startswith(declared)


def test_a_checkout_that_was_never_installed_reads_its_pyproject() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert distribution_version("ff-platform-not-installed") == f"{declared} (source checkout, not installed)"


def test_main_py_version_in_a_subprocess() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "--version"], capture_output=True, text=True,
                            timeout=60, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ff-platform ")


def test_piped_console_does_not_wrap_long_paths() -> None:
    out = io.StringIO()
    console = make_console(out)
    assert not console.is_terminal and console.width == PIPED_WIDTH
    path = "/srv/" + "/".join(f"folder-{i:03d}" for i in range(40)) + "/ff_manifest.json"
    console.print(f"verify: {path} has no manifest")
    assert out.getvalue() == f"verify: {path} has no manifest\n"


def test_a_terminal_console_keeps_the_terminal_width() -> None:
    console = make_console(io.StringIO(), force_terminal=True)
    assert console.is_terminal and console.width < PIPED_WIDTH


def test_piped_tables_are_as_wide_as_their_content() -> None:
    from rich.table import Table

    out = io.StringIO()
    table = Table("kind", "path")
    long_path = "runs/" + "x" * 150 + "/report.html"
    table.add_row("html", long_path)
    make_console(out).print(table)
    assert long_path in out.getvalue()


def test_every_option_of_every_command_has_help_text() -> None:
    import argparse

    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]  # no public accessor
    missing = [f"--{a.dest}" for a in parser._actions if a.help is None and a is not commands]
    for name, sub in commands.choices.items():
        missing += [f"{name} {a.dest}" for a in sub._actions if a.help is None]
    assert not missing, f"options without help: {missing}"
