"""The mutants a review found equivalent or harmless, kept where a run can read them.

A mutation score counts every survivor against the tests, but some mutants cannot be told apart
from the original by any caller (``x or ""`` for ``x or None`` where the value is only tested for
truth; a cache that is merely refilled). The usual measure leaves those out: detected mutants over
the mutants that are not equivalent. For that to be honest the list must be written down, with a
reason per mutant, and must stop counting once the code moves on.

So each reviewed survivor is one entry in ``docs/mutation/equivalent/<package>/<file>.toml``::

    [[equivalent]]
    mutant = "ff_utils.ff_json_utils.x_ff_update_json__mutmut_10"
    diff = '''
    -    with ff_file_lock(target, root=root):
    +    with ff_file_lock(target, root=None):
    '''
    reason = "harmless: ..."

An entry applies to a survivor only when both the name and the changed lines match: mutmut numbers
a function's mutants in order, so an edited function renumbers them, and a stale entry then names
another change and is ignored (it is reported, not counted).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from ff_utils.ff_errors import FFConfigError

__all__ = ["EquivalentMutant", "Listing", "changed_lines", "list_survivors", "load_equivalents"]


@dataclass(frozen=True)
class EquivalentMutant:
    """One reviewed survivor: its name, the lines it changes, why no caller can tell, and the file
    that says so."""

    mutant: str
    changed: tuple[str, ...]
    reason: str
    source: str


@dataclass(frozen=True)
class Listing:
    """A run's survivors sorted against the list: listed (name and change match), stale (the name
    is listed for another change), and the rest, which still count against the tests."""

    equivalent: tuple[str, ...]
    stale: tuple[str, ...]
    unlisted: tuple[str, ...]


def changed_lines(diff: str) -> tuple[str, ...]:
    """The ``-``/``+`` lines of a unified diff (headers and context dropped), each stripped of its
    indentation, so a diff pasted from ``mutmut show`` and the one a run records compare equal."""
    lines = []
    for line in diff.splitlines():
        if line.startswith(("---", "+++")) or not line.startswith(("-", "+")):
            continue
        lines.append(line[0] + line[1:].strip())
    return tuple(lines)


def _entries(path: Path) -> list[dict]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise FFConfigError(f"{path}: not a readable TOML file ({exc})") from None
    entries = data.get("equivalent", [])
    if not isinstance(entries, list) or set(data) - {"equivalent"}:
        raise FFConfigError(f"{path}: expected only [[equivalent]] tables")
    return entries


def _entry(raw: object, path: Path, package: str) -> EquivalentMutant:
    if not isinstance(raw, dict):
        raise FFConfigError(f"{path}: an [[equivalent]] entry is not a table")
    fields = {key: raw.get(key) for key in ("mutant", "diff", "reason")}
    missing = [key for key, value in fields.items() if not isinstance(value, str) or not value.strip()]
    if missing or set(raw) - set(fields):
        raise FFConfigError(f"{path}: entry {raw.get('mutant')!r} needs exactly mutant, diff and reason (bad: "
                            f"{', '.join(missing or sorted(set(raw) - set(fields)))})")
    name = fields["mutant"].strip()
    if not (name.startswith(f"{package}.") or f".{package}." in name):
        raise FFConfigError(f"{path}: {name} is not a mutant of {package}")
    changed = changed_lines(fields["diff"])
    if not changed:
        raise FFConfigError(f"{path}: {name}'s diff has no changed line")
    return EquivalentMutant(name, changed, fields["reason"].strip(), path.name)


def load_equivalents(directory: Path, package: str) -> dict[str, EquivalentMutant]:
    """Every entry for ``package`` (``directory/<package>/*.toml``), by mutant name. One mutant
    listed twice with different changes is an error: the list would not say which one is meant."""
    found: dict[str, EquivalentMutant] = {}
    folder = directory / package
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        for raw in _entries(path):
            entry = _entry(raw, path, package)
            earlier = found.get(entry.mutant)
            if earlier is not None and earlier.changed != entry.changed:
                raise FFConfigError(f"{entry.mutant} is listed twice with different changes ({earlier.source}, {entry.source})")
            found.setdefault(entry.mutant, entry)
    return found


def list_survivors(survivors: list[dict[str, str]], listed: dict[str, EquivalentMutant]) -> Listing:
    """Sort a run's survivors (each with ``name`` and the ``diff`` the run recorded) against the
    list. A survivor without a recorded diff cannot be matched, so it stays unlisted."""
    equivalent, stale, unlisted = [], [], []
    for survivor in survivors:
        entry = listed.get(survivor["name"])
        if entry is None or not survivor.get("diff"):
            unlisted.append(survivor["name"])
        elif entry.changed == changed_lines(survivor["diff"]):
            equivalent.append(survivor["name"])
        else:
            stale.append(survivor["name"])
    return Listing(tuple(equivalent), tuple(stale), tuple(unlisted))
