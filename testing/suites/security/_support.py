"""What every security check shares: the check decorator, refusal probes, tree snapshots, sandboxes.

A check is ``async def attack(ctx, check, seen)``: it attacks the real managers, records claims
about what happened on ``check`` (the runner's checker) and writes what it measured, in plain
words, on ``seen`` as it goes. :func:`security_check` registers it and turns the outcome into an
``FFSecurityCheckDTO``: ``observed`` is the measurements plus every failed claim, ``passed`` is
"every claim held and the attack ran to the end". Nothing about the verdict is written by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_test_result_dtos import FFSecurityCheckDTO
from ff_utils.ff_errors import FFError, FFValidationError
from ff_utils.ff_file_ops import ff_atomic_write, ff_ensure_directory, ff_read_bytes
from ff_utils.ff_ids import ff_new_id
from ff_utils.ff_json_utils import FFBadLine, ff_read_jsonl
from testing._snapshots import Snapshot, snapshot_tree
from testing._context import FFTestContext
from testing.runner import FFCheckFailed, FFChecker
from testing.suites.security._registry import REGISTRY

__all__ = [
    "FFAttack",
    "FFObservation",
    "FFProbe",
    "FFProbeReport",
    "FFSandboxRoot",
    "SecurityGroup",
    "security_check",
    "run_probes",
    "tree_snapshot",
    "tree_diff",
    "describe_changes",
    "sandbox_root",
    "scratch_dir",
    "shown",
    "FFJsonlCensus",
    "jsonl_census",
]

SecurityGroup = Literal[
    "test_path_traversal",
    "test_injection",
    "test_user_isolation",
    "test_sandbox",
    "test_oversized_payloads",
    "test_audit_tampering",
    "test_data_encryption",
]
AttackFunction = Callable[[FFTestContext, FFChecker, "FFObservation"], Awaitable[None]]

_SHOWN = 48
_ROOT_IN_SANDBOX = "l1/l2/root"


def shown(value: object) -> str:
    """A short, printable repr of a (possibly huge or control-laden) attack value for reports."""
    if isinstance(value, str) and len(value) > _SHOWN:
        return f"{value[:12]!r}... ({len(value):,} chars)"
    return ascii(value)


# ---------------------------------------------------------------------------- the check record


@dataclass(frozen=True, slots=True)
class FFAttack:
    """What a check is: its id, its ASVS requirement, the attack and the outcome it must have."""

    check_id: str
    name: str
    category: str
    asvs_id: str
    attack: str
    expected: str
    severity: str = "high"


@dataclass
class FFObservation:
    """What an attack measured, in the order it was measured (the report's ``observed``)."""

    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def text(self, check: FFChecker, error: str = "") -> str:
        parts = ["; ".join(self.notes) if self.notes else "nothing measured"]
        failed = check.failed_assertions
        if failed:
            parts.append("FAILED: " + "; ".join(f"{a.description} ({a.detail})" if a.detail else a.description for a in failed))
        if error:
            parts.append("ERROR: " + error)
        return " | ".join(parts)


def _record(check: FFChecker, attack: FFAttack, seen: FFObservation, error: str = "") -> None:
    passed = not error and bool(check.assertions) and not check.failed_assertions
    check.details["security_check"] = FFSecurityCheckDTO(
        check_id=attack.check_id,
        name=attack.name,
        category=attack.category,
        asvs_id=attack.asvs_id,
        attack=attack.attack,
        expected=attack.expected,
        observed=seen.text(check, error),
        passed=passed,
        severity=attack.severity,
    ).model_dump(mode="json")


def security_check(
    attack: FFAttack,
    *,
    group: SecurityGroup,
    components: Iterable[str] = (),
    timeout_seconds: float | None = None,
) -> Callable[[AttackFunction], AttackFunction]:
    """Register ``function`` as the security test for ``attack`` (test id ``security.<function name>``).

    When ``security_config.<group>`` is false the test attempts nothing, says so in one assertion
    and a warning, and records no ``security_check`` (an attack not attempted is not evidence).
    """

    def register(function: AttackFunction) -> AttackFunction:
        @functools.wraps(function)
        async def run(ctx: FFTestContext, check: FFChecker) -> None:
            enabled = bool(getattr(ctx.config.integration_testing.security_config, group))
            if not enabled:
                check.that(not enabled, f"security_config.{group} is false: {attack.check_id} not attempted")
                check.warn(f"{attack.check_id} ({attack.name}) not attempted: disabled by security_config.{group}")
                return
            seen = FFObservation()
            try:
                await function(ctx, check, seen)
            except FFCheckFailed:
                _record(check, attack, seen)
                raise
            except Exception as exc:  # the attack broke the test: still a (failed) security record
                _record(check, attack, seen, f"{type(exc).__name__}: {exc}")
                raise
            except asyncio.CancelledError:  # the runner's timeout: an attack that hangs is a finding too
                _record(check, attack, seen, "cancelled: the attack ran past the test's time limit")
                raise
            _record(check, attack, seen)

        REGISTRY.test(
            f"{attack.check_id} {attack.name}",
            components=components,
            timeout_seconds=timeout_seconds,
            tags={"check_id": attack.check_id, "group": group, "asvs": attack.asvs_id, "category": attack.category},
        )(run)
        return function

    return register


# ---------------------------------------------------------------------------- refusal probes


@dataclass(frozen=True, slots=True)
class FFProbe:
    """One hostile call and the typed errors that count as refusing it."""

    label: str
    call: Callable[[], Awaitable[object]]
    refused_by: tuple[type[FFError], ...] = (FFValidationError,)


@dataclass
class FFProbeReport:
    """How a batch of hostile calls ended."""

    total: int = 0
    refused: int = 0
    error_types: Counter[str] = field(default_factory=Counter)
    deviations: list[str] = field(default_factory=list)

    def summary(self) -> str:
        types = ", ".join(f"{name} x{n}" for name, n in sorted(self.error_types.items())) or "no error"
        text = f"{self.refused}/{self.total} calls refused ({types})"
        if self.deviations:
            more = f" (+{len(self.deviations) - 4} more)" if len(self.deviations) > 4 else ""
            text += "; not refused: " + "; ".join(self.deviations[:4]) + more
        return text


def _one_line(exc: BaseException, limit: int = 160) -> str:
    """An exception's message on one line, cut to ``limit`` characters (pydantic's span several)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


async def run_probes(probes: Iterable[FFProbe]) -> FFProbeReport:
    """Make every call; a call counts as refused only when it raises one of its ``refused_by`` types."""
    report = FFProbeReport()
    for probe in probes:
        report.total += 1
        try:
            result = await probe.call()
        except probe.refused_by as exc:
            report.refused += 1
            report.error_types[type(exc).__name__] += 1
        except FFError as exc:
            report.error_types[type(exc).__name__] += 1
            wanted = "/".join(t.__name__ for t in probe.refused_by)
            report.deviations.append(f"{probe.label} raised {type(exc).__name__} instead of {wanted}: {_one_line(exc)}")
        except Exception as exc:  # an untyped error is itself a finding: record it, do not crash
            report.error_types[type(exc).__name__] += 1
            report.deviations.append(f"{probe.label} raised untyped {type(exc).__name__}: {_one_line(exc)}")
        else:
            report.deviations.append(f"{probe.label} was accepted (returned {type(result).__name__})")
    return report


# ---------------------------------------------------------------------------- file tree snapshots

async def tree_snapshot(top: Path) -> Snapshot:
    """Every entry under ``top`` with its kind, size and SHA-256 (symlinks not followed)."""
    return await asyncio.to_thread(snapshot_tree, top)


def tree_diff(before: Snapshot, after: Snapshot, *, ignore: Callable[[str], bool] | None = None) -> list[str]:
    """``added x`` / ``removed x`` / ``changed x`` lines, sorted; ``ignore`` skips paths on purpose."""
    changes = []
    for path in sorted(set(before) | set(after)):
        if ignore is not None and ignore(path):
            continue
        if path not in before:
            changes.append(f"added {path}")
        elif path not in after:
            changes.append(f"removed {path}")
        elif before[path] != after[path]:
            changes.append(f"changed {path}")
    return changes


def describe_changes(changes: list[str], *, root_prefix: str = _ROOT_IN_SANDBOX) -> str:
    """Changes in plain words, those outside the data root (escapes) first, a few examples each."""
    if not changes:
        return "no file added, removed or changed"
    inside = [c for c in changes if c.split(" ", 1)[1].startswith(root_prefix + "/") or c.split(" ", 1)[1] == root_prefix]
    outside = [c for c in changes if c not in inside]

    def some(items: list[str]) -> str:
        more = f" (+{len(items) - 3} more)" if len(items) > 3 else ""
        return ", ".join(items[:3]) + more

    parts = []
    if outside:
        parts.append(f"{len(outside)} outside the data root: {some(outside)}")
    if inside:
        parts.append(f"{len(inside)} inside it: {some(inside)}")
    return f"{len(changes)} change(s), " + "; ".join(parts)


# ---------------------------------------------------------------------------- sandboxed data roots


@dataclass
class FFSandboxRoot:
    """A data root of one check's own, nested inside a folder that also holds an 'outside' area.

    ``root`` sits three levels below ``sandbox`` so that a relative escape of a few ``..`` still
    lands inside ``sandbox``, where the snapshot sees it; ``outside`` holds a file an escape could
    overwrite and is the target of the absolute-path attacks.
    """

    sandbox: Path
    root: Path
    outside: Path
    config: FFConfigurationManagerConfigDTO
    managers: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.managers[name]


def scratch_dir(ctx: FFTestContext, label: str) -> Path:
    """A new folder for one attempt of one check (a retry gets its own, so nothing carries over)."""
    return (ctx.run_dir / "security" / f"{label}-{ff_new_id()[:8]}").resolve()


@contextlib.asynccontextmanager
async def sandbox_root(ctx: FFTestContext, label: str, *names: str) -> AsyncIterator[FFSandboxRoot]:
    """Fresh managers ``names`` (own buses) on a data root no other test touches; shut down after.

    Tests run in parallel on the shared root, so "the file tree did not change" can only be
    measured on a root of one's own. The managers come from ``ctx.fresh_manager``, so a store or
    class injected into the run reaches them too.
    """
    sandbox = scratch_dir(ctx, label)
    root = sandbox / _ROOT_IN_SANDBOX
    outside = sandbox / "outside"

    def prepare() -> None:
        ff_ensure_directory(root)
        ff_atomic_write(outside / "secret.txt", b"outside the data root\n", fsync=False)

    await asyncio.to_thread(prepare)
    config = ctx.config.with_base_path(root)
    managers = {name: ctx.fresh_manager(name, config=config) for name in names}
    try:
        for manager in managers.values():
            await manager.initialize()
        yield FFSandboxRoot(sandbox=sandbox, root=root, outside=outside, config=config, managers=managers)
    finally:
        for manager in managers.values():
            await manager.shutdown()


# ---------------------------------------------------------------------------- JSONL files on disk


@dataclass(frozen=True, slots=True)
class FFJsonlCensus:
    """A JSONL file as the disk has it: newline count, parsed records, unparsable lines."""

    lines: int
    records: list[Any]
    bad_lines: int

    def describe(self) -> str:
        return f"{self.lines} lines, {len(self.records)} records, {self.bad_lines} bad"


def _census_sync(path: Path) -> FFJsonlCensus:
    if not path.is_file():
        return FFJsonlCensus(0, [], 0)
    bad: list[FFBadLine] = []
    records = list(ff_read_jsonl(path, on_bad_line=bad.append))
    return FFJsonlCensus(ff_read_bytes(path).count(b"\n"), records, len(bad))


async def jsonl_census(path: Path) -> FFJsonlCensus:
    """Read ``path`` straight from disk (not through a manager): a cache cannot hide a bad write."""
    return await asyncio.to_thread(_census_sync, path)
