"""The legacy reader's variations and the comparison's equivalence table (Migration variations issue).

The reader takes what older writers of the format plausibly left; the comparison forgives exactly
the documented rules and nothing else, and a real difference still refuses the swap and names the
record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager, FFMigrationManager
from ff_managers._migration.equivalence import EQUIVALENCE_RULES, FFFieldComparer, same_instant
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_managers._migration.legacy_records import iter_session_records


def _write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


def _j(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False)


async def test_messages_without_optional_fields_migrate(tmp_path: Path) -> None:
    """The issue's root: {role, content, message_id, timestamp} only; it used to refuse the whole root."""
    lines = "".join(_j({"role": "user" if i % 2 == 0 else "assistant", "content": f"m{i}", "message_id": f"id{i}",
                        "timestamp": f"2025-08-01T10:00:0{i}"}) + "\n" for i in range(6))
    _write(tmp_path / "legacy/users/u/s/messages.jsonl", lines)
    run = await FFMigrationManager(load_config(base_path=tmp_path / "t", environ={})).migrate(tmp_path / "legacy", tmp_path / "t")
    assert run.comparison.equivalent, run.comparison.differences
    assert run.comparison.forgiven["absent-is-default"] == 12 and run.counts["messages"] == 6
    assert [r.split(":", 1)[0] for r in run.comparison.equivalences] == [r.rule_id for r in EQUIVALENCE_RULES]


def test_reader_accepts_the_variations_and_lists_what_it_cannot_read(tmp_path: Path) -> None:
    first = _j({"role": "User", "content": ["a", {"type": "text", "text": "b"}], "message_id": "d", "timestamp": 1754042400})
    lines = [first, "", first, _j({"role": "ASSISTANT", "content": "x", "message_id": "d", "timestamp": "2025-08-01T10:00:00+02:00",
                                   "attachments": None, "metadata": None, "unknown": {"k": 1}}),
             "   ", _j({"role": "robot", "content": "?"}), _j({"role": "user", "content": "no id, no time"}), "{torn"]
    _write(tmp_path / "users/u/s/messages.jsonl", b"\xef\xbb\xbf" + "\r\n".join(lines).encode())
    _write(tmp_path / "users/u/empty_files/session.json", b"")
    _write(tmp_path / "users/u/empty_files/messages.jsonl", b"\xef\xbb\xbf")
    (tmp_path / "users/u/empty_dir").mkdir(parents=True)
    reader = FFLegacyReader(tmp_path)
    inventory = reader.scan()
    items = {(i.path.rsplit("/", 2)[-2] + "/" + i.path.rsplit("/", 1)[-1], i.kind, i.line_number) for i in inventory.irregular}
    assert ("s/messages.jsonl", "duplicate_message", 3) in items  # identical: kept once
    assert ("s/messages.jsonl", "duplicate_message_id", 4) in items  # differs: both kept
    assert ("s/messages.jsonl", "invalid_record", 6) in items  # unknown role: listed with its reason
    assert ("s/messages.jsonl", "torn_line", 8) in items
    assert ("empty_files/session.json", "empty_file", None) in items
    assert ("empty_files/messages.jsonl", "empty_messages", None) in items
    assert ("u/empty_dir", "empty_session", None) in items
    session = next(s for s in inventory.sessions() if s.session_id == "s")
    records = list(iter_session_records(reader, session))
    assert [(r.line.line_number, r.status, r.message_id) for r in records] == [
        (1, "new", "d"), (3, "same", "legacy-00000003"), (4, "renamed", "legacy-00000004"), (7, "new", "legacy-00000007")]
    assert session.first_timestamp == "2025-08-01T10:00:00+00:00" and session.first_user_text == "a b"


async def test_variations_land_with_their_legacy_form_kept(tmp_path: Path) -> None:
    record = {"role": "User", "content": [{"type": "text", "text": "part one"}, "part two"], "message_id": "m1",
              "timestamp": 1754042400.5, "attachments": None, "extra_field": [1, 2]}
    _write(tmp_path / "legacy/users/u/s/messages.jsonl", _j(record) + "\n")
    config = load_config(base_path=tmp_path / "t", environ={})
    run = await FFMigrationManager(config).migrate(tmp_path / "legacy", tmp_path / "t")
    assert run.comparison.equivalent, run.comparison.differences
    memory = FFMemoryLayerManager(config)
    await memory.initialize()
    try:
        [message] = await memory.get_messages("u", "s")
    finally:
        await memory.shutdown()
    assert (message.role, message.content) == ("user", "part one\npart two")
    assert message.extra["extra_field"] == [1, 2]
    assert message.extra["ff_legacy_import"]["original_content"] == record["content"]
    assert message.extra["ff_legacy_import"]["original_role"] == "User"
    assert message.timestamp.timestamp() == 1754042400.5


@pytest.mark.parametrize(("kind", "key", "expected", "actual", "rule"), [
    ("message", "attachments", "absent", [], "absent-is-default"),
    ("message", "metadata", None, {}, "null-is-absent"),
    ("message", "message_id", None, "absent", "null-is-absent"),
    ("message", "timestamp", 1754042400, "2025-08-01T10:00:00Z", "same-instant"),
    ("session", "created_at", "2025-08-01T12:00:00+02:00", "2025-08-01T10:00:00Z", "same-instant"),
])
def test_each_rule_forgives_what_it_says(kind: str, key: str, expected: Any, actual: Any, rule: str) -> None:
    out: list[str] = []
    comparer = FFFieldComparer(out)
    comparer.diff("r", kind, {} if expected == "absent" else {key: expected}, {} if actual == "absent" else {key: actual})
    assert out == [] and comparer.forgiven[rule] == 1


@pytest.mark.parametrize(("kind", "key", "expected", "actual"), [
    ("message", "attachments", "absent", [{"name": "x"}]),  # not the default
    ("message", "content", "absent", ""),  # no default for content
    ("profile", "username", None, ""),  # null is not forgiven outside the table
    ("message", "timestamp", "2025-08-01T10:00:00", "2025-08-01T10:00:00Z"),  # naive stays naive
    ("message", "timestamp", "2025-08-01T10:00:00Z", "2025-08-01T10:00:01Z"),
    ("message", "metadata", {"a": "2025-08-01T10:00:00Z"}, {"a": "2025-08-01T10:00:00+00:00"}),  # not a timestamp field
])
def test_nothing_else_is_forgiven(kind: str, key: str, expected: Any, actual: Any) -> None:
    out: list[str] = []
    FFFieldComparer(out).diff("file.jsonl:3", kind, {} if expected == "absent" else {key: expected}, {key: actual})
    assert len(out) == 1 and out[0].startswith(f"file.jsonl:3: field {key!r}")


def test_naive_times_compare_as_wall_times() -> None:
    assert same_instant("2025-08-01T10:00:00", "2025-08-01T10:00:00.000000")
    assert not same_instant("2025-08-01T10:00:00", 1754042400)


class _AlteringReader(FFLegacyReader):
    """Planted defect: the import's pass over a file sees line 2 changed (as a mapping bug would
    write it); the scan before and the comparison after read the file as it is."""

    def __init__(self, root: Path | str) -> None:
        super().__init__(root)
        self.passes: dict[Path, int] = {}

    def iter_lines(self, path: Path, *, note: bool = False, messages: bool = True):  # type: ignore[no-untyped-def]
        if not note:
            self.passes[path] = self.passes.get(path, 0) + 1
        altering = not note and self.passes.get(path) == 1
        for line in super().iter_lines(path, note=note, messages=messages):
            if altering and line.line_number == 2:
                line.record = {**line.record, "content": line.record["content"] + " (changed)"}
            yield line


async def test_a_real_difference_refuses_the_swap_and_names_the_record(tmp_path: Path) -> None:
    from ff_managers._migration.engine import migrate_root

    lines = "".join(_j({"role": "user", "content": f"m{i}", "message_id": f"id{i}"}) + "\n" for i in range(3))
    _write(tmp_path / "legacy/users/u/s/messages.jsonl", lines)
    target = tmp_path / "t"
    run = await migrate_root(tmp_path / "legacy", target, load_config(base_path=target, environ={}), reader_class=_AlteringReader)
    assert not run.comparison.equivalent and not target.exists()
    assert run.comparison.differences == ["users/u/s/messages.jsonl:2: field 'content' differs: 'm1' != 'm1 (changed)'"]


async def test_attachments_without_ids_or_defaults_are_kept_as_written(tmp_path: Path) -> None:
    """A held-out shape: legacy attachments naming only a file; and one v2 cannot describe at all."""
    records = [{"role": "user", "content": "see file", "message_id": "a1", "attachments": [{"name": "f.txt"}]},
               {"role": "user", "content": "odd", "message_id": "a2", "attachments": [{"size_bytes": "12kb"}]}]
    _write(tmp_path / "legacy/users/u/s/messages.jsonl", "".join(_j(r) + "\n" for r in records))
    config = load_config(base_path=tmp_path / "t", environ={})
    run = await FFMigrationManager(config).migrate(tmp_path / "legacy", tmp_path / "t")
    assert run.comparison.equivalent, run.comparison.differences
    memory = FFMemoryLayerManager(config)
    await memory.initialize()
    try:
        first, second = await memory.get_messages("u", "s")
    finally:
        await memory.shutdown()
    assert [(a.attachment_id, a.name) for a in first.attachments] == [("a1-a0", "f.txt")]
    assert second.attachments == [] and second.extra["ff_legacy_import"]["original_attachments"] == [{"size_bytes": "12kb"}]


async def test_a_record_a_manager_refuses_is_listed_and_the_rest_migrates(tmp_path: Path) -> None:
    """A held-out shape: a panel message longer than the panel manager takes (50,000 characters)."""
    panel = tmp_path / "legacy/users/u/panel_session_1"
    _write(panel / "session.json", _j({"session_id": "panel_session_1", "metadata": {"participants": ["a"]}}))
    lines = [{"role": "user", "content": "q", "message_id": "p1"},
             {"role": "assistant", "content": "x" * 60_000, "message_id": "p2"},
             {"role": "assistant", "content": "short", "message_id": "p3"}]
    _write(panel / "messages.jsonl", "".join(_j(r) + "\n" for r in lines))
    run = await FFMigrationManager(load_config(base_path=tmp_path / "t", environ={})).migrate(tmp_path / "legacy", tmp_path / "t")
    assert run.comparison.equivalent, run.comparison.differences
    refused = [(i.path, i.line_number) for i in run.irregular if i.kind == "record_refused"]
    assert refused == [("users/u/panel_session_1/messages.jsonl", 2)]
    assert run.counts["panel_messages"] == 2
