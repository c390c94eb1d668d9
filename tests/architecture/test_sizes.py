"""No module in ff_utils/ or ff_managers/ over 400 lines and no class over 300 (docs/ARCHITECTURE.md).

Small modules with one job are what make the tree readable from ``ls``; this keeps them small.
Generated data and the built-in tools' glossary are the documented exceptions.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 300
EXCEPTED = {"ff_managers/tools_builtin/_glossary.py"}


def _oversized() -> list[str]:
    found = []
    for package in ("ff_utils", "ff_managers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in EXCEPTED:
                continue
            source = path.read_text(encoding="utf-8")
            if (lines := source.count("\n")) > MAX_MODULE_LINES:
                found.append(f"{relative}: {lines} lines (at most {MAX_MODULE_LINES})")
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.ClassDef) and (size := node.end_lineno - node.lineno + 1) > MAX_CLASS_LINES:
                    found.append(f"{relative}: class {node.name} has {size} lines (at most {MAX_CLASS_LINES})")
    return found


def test_modules_and_classes_stay_small() -> None:
    oversized = _oversized()
    assert not oversized, "\n".join(oversized)
