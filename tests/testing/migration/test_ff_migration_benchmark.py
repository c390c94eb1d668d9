"""Large data: a >= 200 MB generated legacy root migrates with peak RSS under 150 MB (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ff_class_configs import load_config
from testing.migration._benchmark import run_migration_benchmark


def test_small_benchmark_runs_and_measures(tmp_path: Path) -> None:
    result = run_migration_benchmark(tmp_path, load_config(base_path=tmp_path / "u", environ={}), target_bytes=300_000)
    assert result.exit_code == 0
    assert result.source_bytes >= 300_000 and result.messages > 0
    # measured by the child itself, so it holds even under a large parent (a full pytest run)
    assert 0 < result.peak_rss_mb < 150


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_200_mb_migration_stays_under_150_mb_rss(tmp_path: Path) -> None:
    result = run_migration_benchmark(tmp_path, load_config(base_path=tmp_path / "u", environ={}), target_bytes=200_000_000)
    print(f"\n{result.source_bytes / 1e6:.1f} MB, {result.sessions} sessions, {result.messages} messages: "
          f"generated in {result.generate_seconds}s, migrated in {result.migrate_seconds}s, peak RSS {result.peak_rss_mb} MB")
    assert result.exit_code == 0
    assert result.source_bytes >= 200_000_000
    assert result.peak_rss_mb < 150
