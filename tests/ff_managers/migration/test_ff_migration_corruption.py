"""Corrupted legacy inputs: reported, handled per corrupt_input_policy, the original untouched.

Tests run as root, which ignores ``chmod 000``; an unreadable file is simulated by a directory
where ``messages.jsonl`` is expected (see ``inject_corruption``), which fails a read the same way.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_managers import FFMigrationManager
from ff_utils.ff_errors import FFCorruptionError
from ff_utils.ff_hashing import ff_build_manifest
from testing.migration import FFLegacyGeneratorConfig, generate_legacy_root, inject_corruption

KINDS = {
    "torn_line": "torn_line",
    "invalid_profile": "invalid_profile",
    "binary_garbage": "corrupt_line",
    "unreadable": "unreadable",
}


def _config(tmp_path: Path, policy: str):
    config = load_config(base_path=tmp_path / "unused", environ={})
    config.migration.corrupt_input_policy = policy
    return config


@pytest.fixture
def corrupt_source(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Path, str]:
    source = tmp_path / "legacy"
    generate_legacy_root(source, FFLegacyGeneratorConfig(seed=7, users=4, sessions_per_user=2, messages_per_session=6))
    return source, inject_corruption(source, request.param)


@pytest.mark.parametrize("corrupt_source", list(KINDS), indirect=True)
async def test_reader_reports_each_corruption_with_its_path(corrupt_source: tuple[Path, str]) -> None:
    source, damaged = corrupt_source
    inventory = FFMigrationManager.scan_legacy(source)
    found = [i for i in inventory.irregular if i.path == damaged]
    assert found, f"nothing reported for {damaged}: {inventory.irregular}"
    assert found[0].reason


@pytest.mark.parametrize("corrupt_source", list(KINDS), indirect=True)
async def test_abort_policy_refuses_before_writing(tmp_path: Path, corrupt_source: tuple[Path, str]) -> None:
    source, damaged = corrupt_source
    before = ff_build_manifest(source)
    target = tmp_path / "target"
    with pytest.raises(FFCorruptionError) as caught:
        await FFMigrationManager(_config(tmp_path, "abort")).migrate(source, target)
    assert damaged in str(caught.value)
    assert not target.exists() and not FFMigrationManager.work_dir(target).exists()
    assert ff_build_manifest(source).same_content(before)


@pytest.mark.parametrize("corrupt_source", list(KINDS), indirect=True)
async def test_quarantine_policy_imports_the_rest_and_copies_the_damage_aside(tmp_path: Path, corrupt_source: tuple[Path, str]) -> None:
    source, damaged = corrupt_source
    before = ff_build_manifest(source)
    target = tmp_path / "target"
    run = await FFMigrationManager(_config(tmp_path, "quarantine")).migrate(source, target)
    assert run.comparison.equivalent, run.comparison.differences
    quarantined = [i for i in run.irregular if i.action.value == "quarantined"]
    assert [i.path for i in quarantined if i.path == damaged] and quarantined[0].kind in KINDS.values()
    assert all(i.reason.endswith(" (copied to quarantine; good records imported)") for i in quarantined)
    copy = FFMigrationManager.work_dir(target) / run.run_id / "quarantine" / damaged
    assert copy.is_file() == (source / damaged).is_file()
    if copy.is_file():
        assert copy.read_bytes() == (source / damaged).read_bytes()
    assert ff_build_manifest(source).same_content(before)
    assert run.counts["users"] == 4 and run.counts["messages"] > 0
