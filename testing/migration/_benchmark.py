"""Migrate a generated legacy dataset of a given size in a child process; measure time and peak RSS.

The child reports its own peak resident set size (``VmHWM``, see ``_worker.peak_rss_mb``), so the
figure covers the whole migration (scan, backup, import, comparison, manifests, swap) and
nothing of the parent. Large sessions keep the session count (and so per-session overhead)
moderate; the import streams every file, so the peak does not grow with the dataset.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from pydantic import BaseModel, Field

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_utils.ff_errors import FFStorageError
from ff_utils.ff_json_utils import ff_read_json, ff_write_json
from testing.migration._generator import FFLegacyGeneratorConfig, generate_legacy_root

__all__ = ["FFMigrationBenchmarkDTO", "run_migration_benchmark"]

_PROJECT_ROOT = Path(__file__).resolve().parents[2]


class FFMigrationBenchmarkDTO(BaseModel):
    """What one benchmark run measured."""

    source_bytes: int
    sessions: int
    messages: int
    generate_seconds: float
    migrate_seconds: float
    peak_rss_mb: float = Field(description="the migrating child's own peak RSS (VmHWM); 0 if it crashed before reporting")
    exit_code: int


def run_migration_benchmark(
    work_dir: Path | str, config: FFConfigurationManagerConfigDTO, *, target_bytes: int, seed: int = 1
) -> FFMigrationBenchmarkDTO:
    """Generate ``target_bytes`` of legacy data under ``work_dir`` and migrate it in a child.

    Raises FFStorageError when the child cannot be started.
    """
    work = Path(work_dir)
    started = time.perf_counter()
    generated = generate_legacy_root(work / "legacy", FFLegacyGeneratorConfig(
        seed=seed, users=4, sessions_per_user=1, messages_per_session=400, words_per_message=150, target_bytes=target_bytes,
    ))
    generate_seconds = time.perf_counter() - started
    config_file = work / "config.json"
    report = work / "worker_report.json"
    ff_write_json(config_file, config.model_dump(mode="json"))
    started = time.perf_counter()
    try:
        child = subprocess.run(
            [sys.executable, "-m", "testing.migration._worker", str(work / "legacy"), str(work / "migrated"),
             str(config_file), str(report)],
            cwd=_PROJECT_ROOT, stdout=subprocess.DEVNULL, check=False,
        )
    except OSError as exc:
        raise FFStorageError(f"cannot start the migration child: {exc}") from exc
    peak = float(ff_read_json(report)["peak_rss_mb"]) if report.exists() else 0.0
    return FFMigrationBenchmarkDTO(
        source_bytes=generated.bytes, sessions=generated.sessions, messages=generated.messages,
        generate_seconds=round(generate_seconds, 2), migrate_seconds=round(time.perf_counter() - started, 2),
        peak_rss_mb=round(peak, 1), exit_code=child.returncode,
    )
