"""Survivors of the uniform sample of `_panel` (issue 20, seed 20261208) pinned by behaviour.

A retried message is read back from the log's end no further than the oldest retried message
(sequences are gap-free, so that depth is exact): a bad record just before it is not met, so not
reported nor counted in ``health().details["skipped_records"]``. And a locked panel refuses to
write ``panel.json`` as a plain document (only ``write_panel`` may), saying so, and writes
nothing. The sample's third survivor is listed as equivalent in
docs/mutation/equivalent/_panel/sample-20261208.toml.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from ff_managers import FFPanelSessionManager
from tests.ff_managers.panel._exact import DUO


async def test_a_retry_reads_the_log_back_only_as_far_as_the_retried_message(
    panels: FFPanelSessionManager, config: Any, warnings_logged: list[str]
) -> None:
    pid = (await panels.create_panel("alice", DUO)).panel_id
    await panels.add_message("alice", pid, "ann", "one", message_id="m1")
    second = await panels.add_message("alice", pid, "bob", "two", message_id="m2")
    await panels.add_message("alice", pid, "ann", "three", message_id="m3")
    [log] = config.storage.base_path.rglob("messages.jsonl")
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(lines[0] + orjson.dumps({"message_id": "junk"}) + b"\n" + b"".join(lines[1:]))  # a wrong shape before m2
    before = panels.health().details["skipped_records"]
    assert await panels.add_message("alice", pid, "bob", "two", message_id="m2") == second  # a retry: the stored one
    assert panels.health().details["skipped_records"] == before  # the bad record before m2 was never read
    assert not [w for w in warnings_logged if "skipped a panel record" in w], warnings_logged
    assert len(log.read_bytes().splitlines()) == 4  # nothing appended


async def test_a_locked_panel_refuses_to_write_panel_json_as_a_document(panels: FFPanelSessionManager, config: Any) -> None:
    pid = (await panels.create_panel("alice", DUO)).panel_id
    [document] = config.storage.base_path.rglob("panel.json")
    before = document.read_bytes()
    with panels._store.locked("alice", pid) as locked:
        with pytest.raises(ValueError) as refused:
            locked.write_document("panel", {"panel_id": pid})
    assert str(refused.value) == "panel.json is written with write_panel"
    assert document.read_bytes() == before
