"""What a report says about the code and libraries that ran: the git commit and dependency versions.

Like pytest-html's and Allure's environment section: a reader comparing two runs needs to know
whether the code or a library changed between them. Versions come from ``importlib.metadata``
(the installed distributions, not what a requirements file hoped for); the dependency names from
the installed ``ff-platform`` distribution's metadata, or, when the project runs from a checkout
that is not installed, from a fixed list of the runtime dependencies. The commit comes from
``git`` in the project folder, or from CI's usual variables for an installed copy.
"""

from __future__ import annotations

import os
import re
import subprocess
from importlib.metadata import PackageNotFoundError, requires, version
from pathlib import Path

__all__ = ["DISTRIBUTION", "git_commit", "package_versions"]

DISTRIBUTION = "ff-platform"
_PROJECT_ROOT = Path(__file__).resolve().parents[2]
_FALLBACK = (
    "pydantic", "aiofiles", "orjson", "jinja2", "weasyprint", "psutil", "rich", "portalocker",
    "bm25s", "numpy", "PyStemmer", "tenacity", "pypdf", "matplotlib",
)  # fmt: skip
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_CI_COMMIT_VARIABLES = ("FF_GIT_COMMIT", "GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT", "BUILD_VCS_NUMBER")
_GIT_TIMEOUT_SECONDS = 5.0


def _dependency_names() -> list[str]:
    try:
        declared = requires(DISTRIBUTION) or []
    except PackageNotFoundError:
        declared = []
    names = [m.group(1) for line in declared if "extra ==" not in line and (m := _NAME.match(line))]
    return names or list(_FALLBACK)


def package_versions() -> dict[str, str]:
    """``{name: version}`` of ff-platform and its runtime dependencies ("not installed" when missing)."""
    found: dict[str, str] = {}
    for name in [DISTRIBUTION, *sorted(_dependency_names(), key=str.lower)]:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def _git(*args: str) -> str:
    completed = subprocess.run(
        ["git", *args], cwd=_PROJECT_ROOT, capture_output=True, text=True, timeout=_GIT_TIMEOUT_SECONDS, check=True
    )
    return completed.stdout.strip()


def git_commit() -> str:
    """The commit of the code that runs, ``+dirty`` when tracked files were changed; '' when unknown."""
    for name in _CI_COMMIT_VARIABLES:
        if os.environ.get(name):
            return os.environ[name].strip()
    if not (_PROJECT_ROOT / ".git").exists():  # an installed copy: its folder is no checkout of it
        return ""
    try:
        commit = _git("rev-parse", "HEAD")
        dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):  # no git, not a checkout, or it hung
        return ""
    return f"{commit}+dirty" if dirty and commit else commit
