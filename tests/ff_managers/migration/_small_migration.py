"""One small generated legacy root migrated once, and a view of its target with methods replaced:
what the sampled-survivor kill tests of the engine read back (test_migration_*_kills_engine.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from ff_class_configs import load_config
from ff_managers._migration.engine import migrate_root
from ff_managers._migration.manager_adapter import FFManagerTarget
from testing.migration import FFLegacyGeneratorConfig, generate_legacy_root

SMALL = FFLegacyGeneratorConfig(seed=3, users=1, sessions_per_user=2, messages_per_session=2)


def config_for(tmp: Path, **environ: str) -> Any:
    return load_config(base_path=tmp / "unused", environ=environ)


def migrate_small(base: Path) -> tuple[Path, Path]:
    """(legacy source, migrated target): one user with a profile, a panel, a document, 2 vector files."""
    generate_legacy_root(base / "src", SMALL)
    run = asyncio.run(migrate_root(base / "src", base / "dst", config_for(base)))
    assert run.comparison.equivalent, run.comparison.differences
    return base / "src", base / "dst"


class TargetView:
    """The real target view, with the methods a test replaces."""

    def __init__(self, real: FFManagerTarget, **overrides: Any) -> None:
        self._real = real
        self._overrides = overrides

    def __getattr__(self, name: str) -> Any:
        return self._overrides.get(name) or getattr(self._real, name)
