"""Recovery of a run killed mid-swap: the journal says "swapping", the next run completes the swap."""

from __future__ import annotations

from pathlib import Path

from ff_class_configs import load_config
from ff_managers import FFMigrationManager
from ff_managers._migration.backup import read_state, recover, work_dir_for, write_state
from testing.migration import FFLegacyGeneratorConfig, generate_legacy_root
from testing.migration._interrupt import stable_digest


async def test_a_run_killed_mid_swap_is_completed_by_recovery(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy"
    generate_legacy_root(legacy, FFLegacyGeneratorConfig(seed=11, users=3, sessions_per_user=3, messages_per_session=8))
    target = tmp_path / "target"
    await FFMigrationManager(load_config(base_path=tmp_path / "unused", environ={})).migrate(legacy, target)
    expected = stable_digest(target)
    state = read_state(target)
    # Simulate a SIGKILL between the two renames of the swap: the target is gone, staging holds
    # the verified copy, the journal says "swapping".
    work = work_dir_for(target)
    target.rename(work / "staging")
    state.phase = "swapping"
    write_state(state)
    recovered = recover(target)
    assert recovered is not None and recovered.phase == "done"
    assert stable_digest(target) == expected
