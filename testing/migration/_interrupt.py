"""Kill a migration mid-flight (SIGKILL to a child process) and prove nothing was lost.

Each trial starts ``python -m testing.migration._worker`` migrating a source into a target, kills
it after a random delay, checks the source's manifest is unchanged, kills a second attempt the
same way, then lets a final run finish and checks the target equals an uninterrupted run's
(byte for byte, except the files that record *when* a migration ran).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_migration_dtos import FFInterruptionTrialDTO
from ff_utils.ff_errors import FFStorageError
from ff_utils.ff_file_ops import ff_remove_tree
from ff_utils.ff_hashing import FFManifest, ff_build_manifest
from ff_managers import FFMigrationManager
from ff_managers.ff_migration_manager import VOLATILE_FILES, manifest_digest
from ff_utils.ff_json_utils import ff_write_json

__all__ = ["run_interruption_trials", "stable_digest"]

_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def stable_digest(root: Path) -> str:
    """Manifest digest of a migrated root without the volatile files (when, not what)."""
    manifest = ff_build_manifest(root)
    keep = [e for e in manifest.entries if e.path not in VOLATILE_FILES and e.path != "ff_manifest.json"]
    return manifest_digest(FFManifest(entries=keep))


def _start(source: Path, target: Path, config_file: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "testing.migration._worker", str(source), str(target), str(config_file)],
        cwd=_PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _run_to_end(source: Path, target: Path, config_file: Path, timeout: float) -> float:
    started = time.perf_counter()
    child = _start(source, target, config_file)
    _out, err = child.communicate(timeout=timeout)
    if child.returncode != 0:
        raise FFStorageError(f"migration child failed ({child.returncode}): {err.decode(errors='replace')[-400:]}")
    return time.perf_counter() - started


def run_interruption_trials(
    source: Path | str,
    config: FFConfigurationManagerConfigDTO,
    *,
    trials: int = 3,
    kills_per_trial: int = 2,
    seed: int = 0,
    timeout: float = 300.0,
) -> list[FFInterruptionTrialDTO]:
    """Run ``trials`` kill-and-rerun trials; return what each one found. Raises FFStorageError
    when even an uninterrupted child run fails."""
    src = Path(source).resolve()
    rng = random.Random(seed)
    source_digest = manifest_digest(ff_build_manifest(src))
    results: list[FFInterruptionTrialDTO] = []
    with tempfile.TemporaryDirectory(prefix="ff-kill-") as tmp:
        work = Path(tmp)
        config_file = work / "config.json"
        ff_write_json(config_file, config.model_dump(mode="json"))
        reference = work / "reference"
        duration = _run_to_end(src, reference, config_file, timeout)
        expected = stable_digest(reference)
        for trial in range(trials):
            target = work / f"target-{trial}"
            finished_first = False
            delay = 0.0
            untouched = True
            for _ in range(kills_per_trial):
                delay = rng.uniform(0.05, max(0.1, duration))
                child = _start(src, target, config_file)
                time.sleep(delay)
                if child.poll() is None:
                    os.kill(child.pid, signal.SIGKILL)
                else:
                    finished_first = True
                child.wait()
                untouched = untouched and manifest_digest(ff_build_manifest(src)) == source_digest
            _run_to_end(src, target, config_file, timeout)
            converged = target.is_dir() and stable_digest(target) == expected
            results.append(FFInterruptionTrialDTO(
                kill_after_seconds=round(delay, 3), child_finished_first=finished_first,
                source_untouched=untouched, rerun_converged=converged,
            ))
            ff_remove_tree(target)
            ff_remove_tree(FFMigrationManager.work_dir(target))
    return results
