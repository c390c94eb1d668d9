"""Census of the surviving mutants of ``legacy_import`` (helper mig-a): the abort policy's refusal
and a refused batch retried record by record. Each test names the mutants it kills; the import
runs into a sink that writes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ff_class_configs.ff_migration_dtos import FFIrregularAction
from ff_managers._migration.legacy_import import FFCountingSink, FFLegacyImport
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_utils.ff_errors import FFCorruptionError, FFValidationError

from tests.ff_managers.migration.test_migration_sample_kills_legacy import _msg, _root, _write

SKIPPED = FFIrregularAction.SKIPPED


async def test_abort_lists_the_first_five_corrupt_inputs_exactly(tmp_path: Path) -> None:
    """check_policy 2-16 (the refusal under ``abort``: count, the first five inputs with their line,
    kind and reason; nothing refused under ``quarantine``)."""
    root = _root(tmp_path)
    _write(root / "users/u1/s1/messages.jsonl", "".join(f"{{bad{i}\n" for i in range(6)) + _msg(0))
    reader = FFLegacyReader(root)
    inventory = reader.scan()
    corrupt = [i for i in inventory.irregular if i.kind == "corrupt_line"]
    assert len(corrupt) == 6
    job = FFLegacyImport(reader, inventory, batch_size=10, policy="abort")
    with pytest.raises(FFCorruptionError) as caught:
        await job.run(FFCountingSink())
    listed = "; ".join(f"users/u1/s1/messages.jsonl:{i.line_number} corrupt_line: {i.reason}" for i in corrupt[:5])
    assert caught.value.message == f"{len(job.corrupt_items())} corrupt input(s) and corrupt_input_policy is 'abort': {listed}"
    assert str(caught.value.path) == str(root.resolve())
    stats = await FFLegacyImport(reader, inventory, batch_size=10).run(FFCountingSink())
    assert stats.counts["messages"] == 1


async def test_a_refused_batch_is_retried_record_by_record(tmp_path: Path) -> None:
    """_flush 4-40 (a batch the manager refuses: each record sent alone, the refused one listed with
    its file, line, kind and the manager's reason; counts, batches and the largest batch)."""
    class Refusing(FFCountingSink):
        def __init__(self) -> None:
            self.calls: list[tuple[str, str, list[str]]] = []

        async def put_messages(self, user_id: str, session_id: str, messages: list[dict[str, Any]]) -> None:
            self.calls.append((user_id, session_id, [m["content"] for m in messages]))
            if any(m["content"] == "text 2" for m in messages):
                raise FFValidationError("content too long", field="content")

    root = _root(tmp_path)
    _write(root / "users/u1/s1/messages.jsonl", "".join(_msg(i) for i in range(5)))
    reader = FFLegacyReader(root)
    job = FFLegacyImport(reader, reader.scan(), batch_size=3)
    sink = Refusing()
    stats = await job.run(sink)
    assert sink.calls == [
        ("u1", "s1", ["text 0", "text 1", "text 2"]),
        ("u1", "s1", ["text 0"]), ("u1", "s1", ["text 1"]), ("u1", "s1", ["text 2"]),
        ("u1", "s1", ["text 3", "text 4"]),
    ]
    assert [(i.path, i.line_number, i.kind, i.action, i.reason) for i in job.skipped] == [
        ("users/u1/s1/messages.jsonl", 3, "record_refused", SKIPPED, "the v2 manager refused it: content too long")]
    assert (stats.counts["messages"], stats.batches, stats.largest_batch) == (4, 2, 3)
