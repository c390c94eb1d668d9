"""Shared fixtures. Kept small and generic: every test module may rely on them."""

from __future__ import annotations

from pathlib import Path

import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO, load_config


@pytest.fixture
def config(tmp_path: Path) -> FFConfigurationManagerConfigDTO:
    """Defaults with the data root at tmp_path; environ={} so the machine's FF_* variables cannot leak in."""
    return load_config(base_path=tmp_path, environ={})
