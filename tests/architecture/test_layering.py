"""The dependency rules of docs/ARCHITECTURE.md, checked on every import in the repository.

Read from the source with ``ast`` (nothing is imported), so a violation names the file and line:

1. Layers point down: ``ff_utils`` imports no ``ff_managers``/``testing``; ``ff_class_configs``
   imports neither; ``ff_managers`` never imports ``testing``.
2. Private packages stay private: nothing outside ``ff_managers/`` imports ``ff_managers._*``,
   except the unit tests of one private package (``tests/ff_managers/<name>/`` may import
   ``ff_managers._<name>`` and ``ff_managers._core``) — the documented way in.
3. Domain managers never import each other: a domain's façade and package use only their own
   package, ``_core`` and the shared base modules.
4. Coordinating managers (migration, and later service and communication) use the domain managers
   only through their public names.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".git", ".venv", ".venv-ci", "build", "dist", "ff_data", "ff_reports", "node_modules"}

# domain -> (façade modules, private package)
DOMAINS: dict[str, tuple[set[str], str]] = {
    "memory": ({"ff_managers.ff_memory_layer_manager"}, "ff_managers._memory"),
    "panel": ({"ff_managers.ff_panel_session_manager", "ff_managers.ff_persona_registry"}, "ff_managers._panel"),
    "knowledge": ({"ff_managers.ff_knowledge_base_manager"}, "ff_managers._knowledge"),
    "tools": ({"ff_managers.ff_tool_execution_manager"}, "ff_managers._tools"),
    "metrics": ({"ff_managers.ff_metrics_collection_manager"}, "ff_managers._metrics"),
}
COORDINATING: dict[str, tuple[set[str], str]] = {
    "migration": ({"ff_managers.ff_migration_manager"}, "ff_managers._migration"),
    "service": ({"ff_managers.ff_service_manager"}, "ff_managers._service"),
    "comm": ({"ff_managers.ff_cross_system_communication_manager"}, "ff_managers._comm"),
}


def _python_files() -> Iterator[Path]:
    for path in ROOT.rglob("*.py"):
        if not SKIP.intersection(path.relative_to(ROOT).parts):
            yield path


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else _module_name(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:  # `from ff_managers import _memory` imports a private package too
                if alias.name.startswith("_") and not module.split(".")[-1].startswith("_"):
                    yield node.lineno, f"{module}.{alias.name}"


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _owner(module: str) -> str | None:
    for name, (facades, package) in {**DOMAINS, **COORDINATING}.items():
        if module in facades or _within(module, package):
            return name
    return None


def _violations() -> list[str]:
    found: list[str] = []
    for path in _python_files():
        relative = path.relative_to(ROOT)
        me = _module_name(path)
        top = relative.parts[0]
        mine = _owner(me) if top == "ff_managers" else None
        test_pkg = relative.parts[2] if relative.parts[:2] == ("tests", "ff_managers") and len(relative.parts) > 3 else None
        for line, module in _imports(path):
            where = f"{relative}:{line} imports {module}"
            if top == "ff_utils" and (_within(module, "ff_managers") or _within(module, "testing")):
                found.append(f"{where} (ff_utils is the bottom layer)")
            if top == "ff_class_configs" and (_within(module, "ff_managers") or _within(module, "testing")):
                found.append(f"{where} (configs and DTOs sit below the managers)")
            if top == "ff_managers" and _within(module, "testing"):
                found.append(f"{where} (the product never imports the validation platform)")
            private = module.startswith("ff_managers._")
            if private and top != "ff_managers":
                allowed = test_pkg is not None and (
                    _within(module, f"ff_managers._{test_pkg}") or _within(module, "ff_managers._core")
                )
                if not allowed:
                    found.append(f"{where} (private; only tests/ff_managers/<name>/ may import ff_managers._<name>)")
            if top == "ff_managers" and mine is not None:
                other = _owner(module)
                if other is not None and other != mine:
                    if mine in DOMAINS:
                        found.append(f"{where} (domain managers never import each other)")
                    elif other in DOMAINS and _within(module, DOMAINS[other][1]):
                        found.append(f"{where} (coordinating managers use domain managers' public names only)")
    return found


def test_dependency_rules_hold_everywhere() -> None:
    violations = _violations()
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize(
    ("relative", "source", "expected"),
    [
        ("testing/x.py", "from ff_managers._memory import ranking\n", "private"),
        ("ff_utils/x.py", "import ff_managers\n", "bottom layer"),
        ("ff_managers/_panel/x.py", "from ff_managers._memory.ranking import rank\n", "never import each other"),
        ("ff_managers/_migration/x.py", "from ff_managers._knowledge import index\n", "public names only"),
        ("tests/ff_managers/memory/test_x.py", "from ff_managers._panel import store\n", "private"),
    ],
)
def test_each_rule_catches_a_planted_import(
    relative: str, source: str, expected: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    planted = tmp_path / relative
    planted.parent.mkdir(parents=True)
    planted.write_text(source)
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    violations = _violations()
    assert len(violations) == 1 and expected in violations[0], violations


def test_a_package_test_may_import_its_own_private_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    planted = tmp_path / "tests" / "ff_managers" / "memory" / "test_x.py"
    planted.parent.mkdir(parents=True)
    planted.write_text("from ff_managers._memory import ranking\nfrom ff_managers._core import checks\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert _violations() == []
