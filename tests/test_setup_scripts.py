"""scripts/setup.sh, scripts/test and scripts/run-all, run against a stand-in venv.

The two commands a new user types (scripts/test, scripts/run-all) call setup.sh before every run,
so setup.sh must skip pip entirely when nothing changed and cost well under the 2 s the issue
allows. These tests give the scripts a venv whose `bin/python` only records how it was called:
they check that the first set-up installs the lock and then the project, that the next call
starts no python at all, that a stale stamp installs again, and that the commands hand their
arguments to pytest and main.py unchanged. Nothing is installed for real, and apt is never
reached: the tests are skipped where the system packages setup.sh checks for are missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
FAST_CALL_LIMIT_S = 2.0


def _system_packages_present() -> bool:
    """What setup.sh checks before it would run apt: Pango's libraries and bwrap."""
    ldconfig = shutil.which("ldconfig", path=os.environ.get("PATH", "") + ":/sbin:/usr/sbin")
    if ldconfig is None:
        return False
    libraries = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, check=False).stdout
    has_pango = "libpango-1.0.so.0" in libraries and "libpangoft2-1.0.so.0" in libraries
    return has_pango and shutil.which("bwrap") is not None


pytestmark = pytest.mark.skipif(
    shutil.which("bash") is None or not _system_packages_present(),
    reason="setup.sh would install system packages with apt here",
)


@pytest.fixture
def recording_venv(tmp_path: Path) -> Path:
    """A venv whose python appends its arguments, one call a line, to calls.log and succeeds."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(f'#!/bin/sh\necho "$*" >> "{tmp_path}/calls.log"\n', encoding="utf-8")
    python.chmod(0o755)
    return venv


def _calls(venv: Path) -> list[str]:
    log = venv.parent / "calls.log"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def _run(script: str, venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VENV_DIR": str(venv)}
    return subprocess.run([str(SCRIPTS / script), *args], env=env, capture_output=True, text=True, timeout=60)


def test_first_setup_installs_pip_then_the_lock_then_the_project_and_stamps_the_venv(recording_venv: Path) -> None:
    assert _run("setup.sh", recording_venv, "--check").returncode == 1

    result = _run("setup.sh", recording_venv)

    assert result.returncode == 0, result.stderr
    calls = _calls(recording_venv)
    # The locked pip comes first: the venv's bundled pip cannot install the hashed lock.
    assert calls[0].startswith("-m pip install") and calls[0].endswith("--require-hashes -r requirements/pip.txt")
    assert calls[1].startswith("-m pip install") and calls[1].endswith("-r requirements/lock.txt")
    assert calls[2].startswith("-m pip install") and calls[2].endswith("--no-deps -e .")
    assert calls[3] == "-m pip check"
    assert (recording_venv / ".ff-setup-hash").is_file()
    assert _run("setup.sh", recording_venv, "--check").returncode == 0


def test_a_second_setup_starts_no_python_and_is_fast(recording_venv: Path) -> None:
    assert _run("setup.sh", recording_venv).returncode == 0
    calls_after_first = _calls(recording_venv)

    started = time.perf_counter()
    result = _run("setup.sh", recording_venv)
    elapsed = time.perf_counter() - started

    assert result.returncode == 0, result.stderr
    assert _calls(recording_venv) == calls_after_first
    assert result.stdout == "" and result.stderr == ""
    assert elapsed < FAST_CALL_LIMIT_S


def test_a_stale_stamp_installs_again(recording_venv: Path) -> None:
    assert _run("setup.sh", recording_venv).returncode == 0
    (recording_venv / ".ff-setup-hash").write_text("a lock that has since changed\n", encoding="utf-8")
    calls_before = len(_calls(recording_venv))

    assert _run("setup.sh", recording_venv).returncode == 0

    assert [call for call in _calls(recording_venv)[calls_before:] if "pip install" in call]
    assert _run("setup.sh", recording_venv, "--check").returncode == 0


def test_a_failed_install_leaves_no_stamp(recording_venv: Path) -> None:
    (recording_venv / "bin" / "python").write_text("#!/bin/sh\nexit 3\n", encoding="utf-8")

    result = _run("setup.sh", recording_venv)

    assert result.returncode != 0
    assert not (recording_venv / ".ff-setup-hash").exists()


def test_scripts_test_runs_pytest_with_the_venv_python_and_every_argument(recording_venv: Path) -> None:
    assert _run("setup.sh", recording_venv).returncode == 0
    calls_before = len(_calls(recording_venv))

    result = _run("test", recording_venv, "-m", "not slow", "-x")

    assert result.returncode == 0, result.stderr
    assert _calls(recording_venv)[calls_before:] == ["-m pytest -m not slow -x"]


def test_scripts_run_all_runs_main_with_the_venv_python_and_every_argument(recording_venv: Path) -> None:
    assert _run("setup.sh", recording_venv).returncode == 0
    calls_before = len(_calls(recording_venv))

    result = _run("run-all", recording_venv, "--profile", "quick")

    assert result.returncode == 0, result.stderr
    assert _calls(recording_venv)[calls_before:] == [f"{ROOT}/main.py run-all --profile quick"]


def test_the_commands_set_up_a_missing_venv_first(recording_venv: Path) -> None:
    # No stamp yet: scripts/test must install before it runs pytest.
    result = _run("test", recording_venv, "-q")

    assert result.returncode == 0, result.stderr
    calls = _calls(recording_venv)
    assert "pip install" in calls[0] and calls[-1] == "-m pytest -q"


def test_scripts_test_prints_and_uses_a_random_hash_seed_and_test_order(recording_venv: Path) -> None:
    assert _run("setup.sh", recording_venv).returncode == 0
    (recording_venv / "lib" / "python3.11" / "site-packages" / "pytest_randomly").mkdir(parents=True)
    python = recording_venv / "bin" / "python"
    python.write_text(f'#!/bin/sh\necho "$PYTHONHASHSEED $*" >> "{recording_venv.parent}/calls.log"\n', encoding="utf-8")
    calls_before = len(_calls(recording_venv))

    result = _run("test", recording_venv, "-q")

    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    hash_seed, order_seed = (int(n) for n in re.findall(r"PYTHONHASHSEED=(\d+);.*--randomly-seed=(\d+) -q$", first)[0])
    assert _calls(recording_venv)[calls_before:] == [f"{hash_seed} -m pytest --randomly-seed={order_seed} -q"]


def test_scripts_test_keeps_a_given_hash_seed_and_order(recording_venv: Path) -> None:
    assert _run("setup.sh", recording_venv).returncode == 0
    (recording_venv / "lib" / "python3.11" / "site-packages" / "pytest_randomly").mkdir(parents=True)
    python = recording_venv / "bin" / "python"
    python.write_text(f'#!/bin/sh\necho "$PYTHONHASHSEED $*" >> "{recording_venv.parent}/calls.log"\n', encoding="utf-8")
    env = {**os.environ, "VENV_DIR": str(recording_venv), "PYTHONHASHSEED": "77"}
    calls_before = len(_calls(recording_venv))

    result = subprocess.run([str(SCRIPTS / "test"), "--randomly-seed=5"], env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("scripts/test: PYTHONHASHSEED=77;")
    assert _calls(recording_venv)[calls_before:] == ["77 -m pytest --randomly-seed=5"]
