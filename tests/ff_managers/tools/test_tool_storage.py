"""The tool manager's stored data: what it reads back is a DTO or FFCorruptionError, never a raw pydantic error.

Wrong-shape records are planted straight into the files the manager keeps
(``users/<uid>/tools/runs.jsonl`` and ``access.json``); faults are injected through the public
seam, an ``FFStore`` subclass handed in as ``store=``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_managers import FFToolExecutionManager
from ff_managers.ff_event_bus import FFEvent
from ff_utils.ff_errors import FFCorruptionError, FFStorageError
from ff_utils.ff_store import FFStore


def _tools_dir(config: FFConfigurationManagerConfigDTO, user_id: str) -> Path:
    folder = Path(config.storage.base_path) / "users" / user_id / "tools"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def test_a_wrong_shape_run_record_is_corruption_naming_the_log(config: FFConfigurationManagerConfigDTO) -> None:
    tools = FFToolExecutionManager(config)
    good = await tools.execute_tool("alice", "calculator", {"expression": "1+1"})
    log = _tools_dir(config, "alice") / "runs.jsonl"
    with log.open("a") as handle:  # valid JSON, wrong shape: status unknown, started_at missing
        handle.write(json.dumps({"run_id": "run-planted", "tool": "calculator", "user_id": "alice", "status": "exploded"}) + "\n")
    with pytest.raises(FFCorruptionError) as listed:
        await tools.list_runs("alice")
    assert listed.value.path == log.resolve() and "FFToolRunResultDTO" in str(listed.value)
    with pytest.raises(FFCorruptionError):
        await tools.get_run("alice", "run-planted")
    assert (await tools.get_run("alice", good.run_id)).ok  # the good record before it still reads


async def test_a_wrong_shape_access_document_is_corruption_and_is_not_overwritten(config: FFConfigurationManagerConfigDTO) -> None:
    tools = FFToolExecutionManager(config)
    access = _tools_dir(config, "alice") / "access.json"
    planted = json.dumps({"user_id": "alice", "roles": "ops", "grants": [1, 2]})
    access.write_text(planted)
    with pytest.raises(FFCorruptionError) as read:
        await tools.get_access("alice")
    assert read.value.path == access.resolve()
    with pytest.raises(FFCorruptionError):
        await tools.grant_tool("alice", "disk_usage")
    with pytest.raises(FFCorruptionError):  # the permission check reads it too, and refuses to guess
        await tools.execute_tool("alice", "disk_usage", {})
    assert access.read_text() == planted


class _FullDisk(FFStore):
    """Every JSONL append fails as a full disk would."""

    def append(self, path: Path, record: Any) -> None:
        raise FFStorageError("no space left on device", path=path)


async def test_a_run_that_cannot_be_logged_raises_and_publishes_nothing(config: FFConfigurationManagerConfigDTO) -> None:
    tools = FFToolExecutionManager(config, store=_FullDisk.from_config(config))
    events: list[FFEvent] = []
    tools.bus.subscribe("tool.*", events.append)
    with pytest.raises(FFStorageError):
        await tools.execute_tool("alice", "calculator", {"expression": "2+2"})
    assert events == []  # an unlogged run is never announced
    assert await tools.list_runs("alice") == []
