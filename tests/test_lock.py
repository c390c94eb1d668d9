"""The lock file (requirements/lock.txt) against the ranges in pyproject.toml.

pyproject.toml gives the package compatible ranges so it installs beside an application's own
pins; requirements/lock.txt gives the exact versions (and file hashes) that scripts/setup.sh and CI
install. The two are edited separately (the ranges by hand, the lock by scripts/lock), so these
tests catch the drift between them: a range that moved without the lock following it, or a lock
edited by hand past a range. They read both files as text and need no network.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "lock.txt"
PIP_LOCK = ROOT / "requirements" / "pip.txt"
PIP_INPUT = ROOT / "requirements" / "pip.in"
PYPROJECT = ROOT / "pyproject.toml"
LOCKED_EXTRAS = ("test", "bench")
# The lock is resolved for this target (scripts/lock: --python-version 3.11 --python-platform linux).
TARGET_ENVIRONMENT = {
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "platform_machine": "x86_64",
    "extra": "",
}


def _lock_entries(lock: Path = LOCK) -> dict[str, tuple[Requirement, list[str]]]:
    """Each locked requirement with its hashes, by canonical name, from the requirements-file text."""
    entries: dict[str, tuple[Requirement, list[str]]] = {}
    logical_lines = re.sub(r"\\\n", " ", lock.read_text(encoding="utf-8")).splitlines()
    for line in logical_lines:
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        requirement_text, *options = re.split(r"\s+(?=--)", text)
        requirement = Requirement(requirement_text)
        hashes = [option.split("=", 1)[1] for option in options if option.startswith("--hash=")]
        name = canonicalize_name(requirement.name)
        assert name not in entries, f"{name} is locked twice"
        entries[name] = (requirement, hashes)
    return entries


def _declared_requirements() -> list[tuple[str, Requirement]]:
    """[project] dependencies and the locked extras, each with where it was declared."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    declared = [("dependencies", Requirement(text)) for text in project["dependencies"]]
    for extra in LOCKED_EXTRAS:
        section = f"optional-dependencies.{extra}"
        declared += [(section, Requirement(text)) for text in project["optional-dependencies"][extra]]
    return declared


def _pinned_version(requirement: Requirement) -> Version:
    (specifier,) = requirement.specifier
    assert specifier.operator == "==", f"{requirement} is not an exact pin"
    return Version(specifier.version)


def test_every_declared_requirement_is_locked_at_a_version_its_range_admits() -> None:
    locked = _lock_entries()
    problems = []
    for section, requirement in _declared_requirements():
        if requirement.marker is not None and not requirement.marker.evaluate(TARGET_ENVIRONMENT):
            continue
        entry = locked.get(canonicalize_name(requirement.name))
        if entry is None:
            problems.append(f"{section}: {requirement} is not in {LOCK.name}")
            continue
        version = _pinned_version(entry[0])
        if not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{section}: {requirement} does not admit the locked {version}")
    assert not problems, "\n".join(problems)


def test_every_lock_entry_is_an_exact_pin_with_hashes() -> None:
    # scripts/setup.sh installs the lock in pip's hash-checking mode, which refuses the whole file
    # if any one entry is not an exact pin with at least one hash.
    locked = _lock_entries()
    assert locked
    for name, (requirement, hashes) in locked.items():
        _pinned_version(requirement)
        assert hashes, f"{name} has no --hash"
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", value) for value in hashes), name


def test_the_ranges_are_ranges_and_not_pins() -> None:
    # A library pinned with == cannot be installed beside an application that pins differently:
    # exact versions belong in the lock only.
    for section, requirement in _declared_requirements():
        operators = {specifier.operator for specifier in requirement.specifier}
        assert "==" not in operators and "===" not in operators, f"{section}: {requirement} is a pin"
        assert any(op in (">=", ">", "~=") for op in operators), f"{section}: {requirement} has no lower bound"


def test_the_pip_lock_pins_the_pip_that_pip_in_asks_for_with_hashes() -> None:
    # setup.sh installs requirements/pip.txt (hash-checked) before the lock; it must hold exactly
    # the pip that requirements/pip.in names, and nothing else.
    (wanted,) = [Requirement(line) for line in PIP_INPUT.read_text(encoding="utf-8").splitlines()
                 if line.strip() and not line.lstrip().startswith("#")]
    locked = _lock_entries(PIP_LOCK)
    assert list(locked) == ["pip"]
    requirement, hashes = locked["pip"]
    assert _pinned_version(requirement) == _pinned_version(wanted)
    assert hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", value) for value in hashes)
