"""Behaviour pinned for survivors of the _metrics mutation sample, seed 20261209 (issue 20).

Each test asserts something a caller can see: the bound of the bucket-path cache, a walk of the
data root that goes on past a directory removed while it walked, and the operator's warning for
an analytics line whose type is not text.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_managers import FFEventBus, FFMetricsCollectionManager
from ff_managers._metrics import files as files_module
from ff_managers._metrics import system as system_module
from ff_managers._metrics.files import FFAppendFiles
from ff_managers._metrics.system import tree_usage
from ff_utils.ff_store import FFStore
from tests._fakes import FakeClock

T0 = datetime(2026, 3, 4, 10, 15, tzinfo=UTC)


def test_the_path_cache_never_holds_more_than_its_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files_module, "_PATH_CACHE_SIZE", 3)
    files = FFAppendFiles(FFStore(tmp_path))
    for index in range(3):
        files.cached_path("metrics", "lat", f"day{index}", "10.jsonl")
    assert len(files._paths) == 3
    fourth = files.cached_path("metrics", "lat", "day3", "10.jsonl")
    assert len(files._paths) == 1  # full at the bound: cleared before the new bucket goes in
    assert fourth == files.cached_path("metrics", "lat", "day3", "10.jsonl")


def test_tree_usage_goes_on_past_a_directory_removed_while_it_walked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a_kept").mkdir()
    (tmp_path / "a_kept" / "data.bin").write_bytes(b"x" * 40)
    (tmp_path / "z_gone").mkdir()
    (tmp_path / "z_gone" / "old.bin").write_bytes(b"y" * 7)
    (tmp_path / "top.bin").write_bytes(b"z" * 3)
    real_scandir = os.scandir

    def scandir_racing_a_removal(directory: Path | int) -> Iterator[os.DirEntry[str]]:
        if isinstance(directory, int):  # a descriptor: not the walk under test
            return real_scandir(directory)
        if Path(directory).name == "z_gone":
            shutil.rmtree(directory)  # another process removes it between listing and walking
        # Sorted so that z_gone is pushed last and walked first, while a_kept is still pending.
        return iter(sorted(real_scandir(directory), key=lambda entry: entry.name))

    monkeypatch.setattr(system_module.os, "scandir", scandir_racing_a_removal)
    assert tree_usage(tmp_path) == (43, 2)


@pytest.fixture
async def metrics(config: FFConfigurationManagerConfigDTO) -> AsyncIterator[FFMetricsCollectionManager]:
    manager = FFMetricsCollectionManager(config, bus=FFEventBus(), clock=FakeClock(T0))
    await manager.initialize()
    yield manager
    await manager.shutdown()


async def test_an_event_whose_type_is_not_text_is_skipped_with_a_warning_saying_why(
    metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO, warnings_logged: list[str]
) -> None:
    await metrics.record_event("alice", "login", {"session_id": "s1"})
    day_file = config.storage.base_path / "users" / "alice" / "analytics" / "events" / "2026-03-04.jsonl"
    assert day_file.is_file()
    with day_file.open("ab") as handle:
        handle.write(orjson.dumps({"t": "2026-03-04T10:16:00+00:00", "type": 5}) + b"\n")
    analytics = await metrics.get_user_analytics("alice")
    assert analytics.event_counts == {"login": 1}
    warnings = [message for message in warnings_logged if "not an analytics event" in message]
    assert len(warnings) == 1 and "(type is not text)" in warnings[0]
