"""The same-versions rule: every worker runs the packages the client runs, or nothing runs.

A worker with another pydantic, another dask or another checkout of our own code would produce
results that are not the ones the report claims. Before any suite is submitted the client asks
every worker (``Client.run``) for the versions of:

* python itself;
* ``ff-platform`` (its installed version) and ``ff-platform source``: a digest of the Python and
  template files of the packages a run uses, so two checkouts that both say 0.1.0 still differ;
* every runtime dependency ff-platform declares (read from its installed metadata), and the
  packages dask itself needs to agree on (dask, distributed, cloudpickle, msgpack, tornado).

The scheduler runs no test and may be a bare ``dask scheduler`` without our code, so only python
and the dask packages are compared there, from dask's own ``Client.get_versions()``. Any difference raises :class:`FFVersionMismatchError`
naming the package, the machine and both versions.
"""

from __future__ import annotations

import hashlib
import platform
import re
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, requires, version
from pathlib import Path
from typing import Any

from testing.distributed._errors import FFVersionMismatchError

__all__ = ["DASK_PACKAGES", "SOURCE_KEY", "check_versions", "compare_versions", "local_versions", "package_names"]

DIST_NAME = "ff-platform"
SOURCE_KEY = "ff-platform source"
DASK_PACKAGES = ("dask", "distributed", "cloudpickle", "msgpack", "tornado")
_SCHEDULER_KEYS = ("python", *DASK_PACKAGES)
_SOURCE_PACKAGES = ("ff_utils", "ff_class_configs", "ff_managers", "testing", "templates")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def package_names() -> list[str]:
    """The distributions to compare: ff-platform's runtime requirements and dask's own."""
    names = [DIST_NAME, *DASK_PACKAGES]
    try:
        declared = requires(DIST_NAME) or []
    except PackageNotFoundError:
        declared = []
    for requirement in declared:
        if "extra ==" in requirement and "extra == \"scale\"" not in requirement:
            continue  # test/bench tools do not change what a suite does
        if (match := _NAME.match(requirement)) and match.group(1) not in names:
            names.append(match.group(1))
    return names


def _source_digest() -> str:
    """sha256 over (relative path, content) of the code a run executes, in path order."""
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for package in _SOURCE_PACKAGES:
        for path in sorted((root / package).rglob("*")):
            if path.suffix in (".py", ".j2", ".css", ".json") and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def local_versions(names: Iterable[str]) -> dict[str, str]:
    """This process's versions of ``names`` (run on the client, on each worker, on the scheduler)."""
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    found[SOURCE_KEY] = _source_digest()
    return found


def compare_versions(
    client_versions: Mapping[str, str], others: Mapping[str, Mapping[str, str]], keys: Iterable[str] | None = None
) -> list[str]:
    """One line per (machine, package) whose version differs from the client's."""
    wanted = list(keys) if keys is not None else list(client_versions)
    differences = []
    for where, theirs in sorted(others.items()):
        for key in wanted:
            mine, other = client_versions.get(key, "not installed"), theirs.get(key, "not installed")
            if mine != other:
                differences.append(f"{key}: client {mine}, {where} {other}")
    return differences


async def check_versions(client: Any) -> dict[str, str]:
    """Compare the client with every worker and the scheduler; return the agreed versions.

    Raises FFVersionMismatchError listing every difference (nothing has been submitted yet).
    """
    names = package_names()
    mine = local_versions(names)
    workers = await client.run(local_versions, names)
    differences = compare_versions(mine, {f"worker {address}": found for address, found in workers.items()})
    # The scheduler may be a bare `dask scheduler` without our code: dask's own report of it.
    dask_report = await client.get_versions()
    scheduler = (dask_report.get("scheduler") or {}).get("packages") or {}
    own = (dask_report.get("client") or {}).get("packages") or {}
    differences += compare_versions({k: str(own.get(k)) for k in _SCHEDULER_KEYS},
                                    {"scheduler": {k: str(scheduler.get(k)) for k in _SCHEDULER_KEYS}})
    if differences:
        raise FFVersionMismatchError(
            f"{len(differences)} package version(s) differ from the client's; every worker must run the same "
            "versions: " + "; ".join(differences),
            differences=differences,
        )
    return mine
