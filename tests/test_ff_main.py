"""The CLI, run in-process through main.main([...]) like sqlite-utils' tests."""

from __future__ import annotations

from pathlib import Path

import pytest

import main
from ff_class_configs import FF_SCHEMA_VERSION
from tests._cli import clean_cli_environment, run_cli


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No FF_* variables from the machine, and the default ./ff_data lands in tmp_path."""
    clean_cli_environment(monkeypatch, tmp_path)


_run = run_cli


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "init" in text and "status" in text
    assert main.main(["init", "--help"]) == 0


def test_init_then_status(tmp_path: Path) -> None:
    root = tmp_path / "root"
    code, out = _run("init", "--data-dir", str(root))
    assert code == 0 and f"schema version {FF_SCHEMA_VERSION}" in out
    assert (root / "ff_meta.json").exists()
    (root / "users" / "alice").mkdir(parents=True)
    (root / "users" / "alice" / "profile.json").write_text("{}")
    code, out = _run("status", "--data-dir", str(root))
    assert code == 0
    lines = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in out.splitlines() if line.count("│") == 3}
    assert lines["schema version"] == str(FF_SCHEMA_VERSION)
    assert lines["users"] == "1" and lines["files"] == "2"


def test_default_data_root_comes_from_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run("init")[0] == 0
    assert (tmp_path / "ff_data" / "ff_meta.json").exists()
    monkeypatch.setenv("FF_BASE_PATH", str(tmp_path / "from_env"))
    assert _run("init")[0] == 0
    assert (tmp_path / "from_env" / "ff_meta.json").exists()


def test_status_of_uninitialised_root(tmp_path: Path) -> None:
    code, out = _run("status", "--data-dir", str(tmp_path))
    assert code == 0 and "none (not initialised)" in out


@pytest.mark.parametrize(
    ("setup", "argv", "expected"),
    [
        (lambda p: (p / "bad.json").write_text("{nope"), ["--config", "bad.json", "init"], "FFConfigError"),
        (lambda p: (p / "bad.json").write_text('{"storage": {"durability": "x"}}'), ["--config", "bad.json", "status"], "storage.durability"),
        (lambda p: None, ["--config", "missing.json", "init"], "not found"),
        (lambda p: None, ["status", "--data-dir", "missing"], "FFValidationError"),
        (lambda p: (p / "file").write_text("x"), ["init", "--data-dir", "file/root"], "FFStorageError"),
    ],
)
def test_errors_exit_2_with_one_line_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: object, argv: list[str], expected: str
) -> None:
    setup(tmp_path)  # type: ignore[operator]
    code, out = _run(*argv)
    err = capsys.readouterr().err
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and expected in err and "Traceback" not in err


def test_bad_environment_variable_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FF_STORAGE__DURABILITY", "sometimes")
    assert _run("init")[0] == 2
    err = capsys.readouterr().err
    assert err.startswith("FFConfigError: ") and err.count("\n") == 1 and "'always', 'batch' or 'never'" in err


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["--environment", "prod", "init"], ["init", "--bogus"]])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(*argv)[0] == 2
    assert "usage:" in capsys.readouterr().err
