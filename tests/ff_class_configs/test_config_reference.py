"""docs/CONFIGURATION.md is generated from the models: it must be current, and name every setting."""

from __future__ import annotations

from pathlib import Path

from ff_class_configs.ff_config_reference import config_reference_rows, render_config_reference

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "CONFIGURATION.md"


def test_the_committed_reference_is_current() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render_config_reference(), (
        "docs/CONFIGURATION.md is stale: run `python -m ff_class_configs.ff_config_reference > docs/CONFIGURATION.md`"
    )


def test_every_setting_is_listed_with_its_variable() -> None:
    rows = list(config_reference_rows())
    keys = [key for key, *_ in rows]
    assert len(keys) == len(set(keys))
    assert {"storage.durability", "storage.base_path", "memory.retention_hours"} <= set(keys)
    for key, variable, *_ in rows:
        assert variable == "FF_" + key.upper().replace(".", "__")
