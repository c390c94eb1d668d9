"""Locust is never imported into our process: it monkey-patches the standard library via gevent.

Checked in a fresh interpreter (so no earlier import in this pytest process can hide or fake the
answer) after importing the CLI and the load package and building every command's parser; the
same probe is shown to answer True when the locustfile is imported, so the check can fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
_PROBE = (
    "import sys\n"
    "import testing.cli, testing.load, testing.cli._distributed_load\n"
    "testing.cli.build_parser()\n"
    "{extra}\n"
    "print(sorted(m for m in ('locust', 'gevent', 'gevent.monkey') if m in sys.modules))\n"
)


def _modules_after(extra: str = "") -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", _PROBE.format(extra=extra)], capture_output=True, text=True, env=env, timeout=120, check=True)
    return done.stdout.strip()


def test_importing_the_cli_and_the_load_package_imports_no_locust_nor_gevent() -> None:
    assert _modules_after() == "[]"


def test_the_probe_sees_locust_when_the_locustfile_is_imported() -> None:
    assert _modules_after("import testing.load.locust_users.locustfile") == "['gevent', 'gevent.monkey', 'locust']"


def test_this_pytest_process_has_no_locust() -> None:
    import testing.cli
    import testing.load  # noqa: F401

    assert "locust" not in sys.modules and "gevent" not in sys.modules


def test_walking_and_importing_every_module_imports_no_locust() -> None:
    """What tests/test_exported_members.py does: the locustfile's folder is not a package, so it is skipped."""
    walk = (
        "import importlib, pkgutil, testing\n"
        "names = [i.name for i in pkgutil.walk_packages(testing.__path__, prefix='testing.')]\n"
        "assert 'testing.load._run' in names and not [n for n in names if 'locust_users' in n], names\n"
        "[importlib.import_module(n) for n in names]"
    )
    assert _modules_after(walk) == "[]"
