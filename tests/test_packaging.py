"""The distribution as a new user gets it: build the wheel, install it, use it from elsewhere.

``pip install -e .`` hides packaging mistakes (the source tree is on the path, so a template that is
not package data is still found). This test builds the wheel from a copy of the sources, installs it
into a fresh venv, and from an unrelated directory, with no PYTHONPATH, runs the ``ff`` console
script (``--help``, ``--version``, ``init``/``status``), renders the sample report in every format,
and creates a session with a manager and reads it back.

Bounded and offline: the wheel is built with ``--no-build-isolation --no-index`` against the
setuptools of the test extra (locked), and installed with ``--no-deps``; the fresh venv sees the
running interpreter's packages (the locked dependencies) through a ``.pth`` line, the equivalent of
``--system-site-packages`` for a venv made from a venv. Its own site-packages comes first, so the
code it imports is the wheel's, which the test checks by path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: What the wheel is built from: the packages, the templates folder and the project files.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "LICENSE", "templates",
           "ff_class_configs", "ff_utils", "ff_managers", "testing")
TIMEOUT = 240

MANAGER_SCRIPT = """
import asyncio, sys
from pathlib import Path
from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager

async def main() -> None:
    config = load_config(base_path=Path(sys.argv[1]))
    async with FFMemoryLayerManager(config) as mem:
        session = await mem.create_session("alice", title="Trip planning")
        await mem.add_message("alice", session.session_id, role="user", content="Book a ferry to Hvar")
    async with FFMemoryLayerManager(config) as mem:  # a second instance reads it from disk
        messages = await mem.get_messages("alice", session.session_id, limit=10)
        print(session.session_id, [m.content for m in messages])

asyncio.run(main())
"""


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert result.returncode == 0, f"{argv} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | dict[str, str]]:
    """Build the wheel from a copy of the sources and install it into a fresh venv."""
    base = tmp_path_factory.mktemp("packaging")
    source = base / "src"
    source.mkdir()
    for name in SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(origin, source / name)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "FF_", "PIP_"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    dist = base / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
          "-w", str(dist), str(source)], cwd=base, env=env)
    (wheel,) = dist.glob("ff_platform-*.whl")
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=base, env=env)
    python = venv / "bin" / "python"
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=base, env=env).stdout.strip())
    # The locked dependencies of the running interpreter, after the venv's own site-packages.
    (purelib / "ff_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
         cwd=base, env=env)
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    return {"wheel": wheel, "venv": venv, "purelib": purelib, "cwd": elsewhere, "env": env}


@pytest.mark.slow
def test_the_wheel_holds_the_templates_the_schema_and_the_console_script(installed) -> None:
    names = zipfile.ZipFile(installed["wheel"]).namelist()
    for template in sorted(p.name for p in (ROOT / "templates").iterdir() if p.is_file()):
        assert f"testing/reporting/templates/{template}" in names
    assert "testing/reporting/report.schema.json" in names
    assert not [n for n in names if n.startswith(("tests/", "templates/"))], "tests or a top-level templates package leaked in"
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "ff = testing.cli:main" in zipfile.ZipFile(installed["wheel"]).read(entry_points).decode()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


@pytest.mark.slow
def test_installed_ff_runs_from_another_directory(installed) -> None:
    ff, cwd, env = str(installed["venv"] / "bin" / "ff"), installed["cwd"], installed["env"]
    assert "usage: ff" in _run([ff, "--help"], cwd, env).stdout
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert _run([ff, "--version"], cwd, env).stdout.strip() == f"ff-platform {declared}"
    _run([ff, "init", "--data-dir", "data"], cwd, env)
    assert "schema" in _run([ff, "status", "--data-dir", "data"], cwd, env).stdout
    assert (cwd / "data" / "ff_meta.json").is_file()


@pytest.mark.slow
def test_installed_package_renders_the_sample_report_and_runs_a_manager(installed) -> None:
    python, cwd, env = str(installed["venv"] / "bin" / "python"), installed["cwd"], installed["env"]
    where = _run([python, "-c", "import testing.reporting._templating as t; print(t.__file__); print(t.TEMPLATES_DIR)"], cwd, env)
    module_file, templates_dir = where.stdout.split()
    assert Path(module_file).is_relative_to(installed["purelib"]), "imported the source tree, not the installed wheel"
    assert Path(templates_dir) == installed["purelib"] / "testing" / "reporting" / "templates"

    schema_check = ("from testing.reporting._schema import SCHEMA_PATH, schema_text; "
                    "print(SCHEMA_PATH); assert SCHEMA_PATH.read_text(encoding='utf-8') == schema_text()")
    schema_path = Path(_run([python, "-c", schema_check], cwd, env).stdout.strip())
    assert schema_path.is_relative_to(installed["purelib"])

    printed = _run([python, "-m", "testing.reporting.sample", "preview"], cwd, env).stdout
    for report_format in ("json", "html", "pdf", "junit"):
        assert report_format in printed
    html = next((cwd / "preview").glob("*.html"))
    assert "<html" in html.read_text(encoding="utf-8")
    assert next((cwd / "preview").glob("*.pdf")).read_bytes().startswith(b"%PDF")

    (cwd / "use_manager.py").write_text(MANAGER_SCRIPT, encoding="utf-8")
    printed = _run([python, "use_manager.py", "chat_data"], cwd, env).stdout
    assert "['Book a ferry to Hvar']" in printed
    assert (cwd / "chat_data").is_dir()
