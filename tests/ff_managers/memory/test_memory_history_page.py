"""Recent history's one-read fast path gives exactly the general reader's answer, or defers to it."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_memory_dtos import FFChatMessageDTO
from ff_managers import FFMemoryLayerManager
from ff_managers._memory import history_page
from ff_managers._memory.stored import tail_records
from ff_utils import ff_json_utils
from ff_utils import ff_store as ff_store_module
from ff_utils.ff_encryption import ff_generate_key_text
from ff_utils.ff_errors import FFError


@pytest.fixture
async def mem(tmp_path: Path) -> AsyncIterator[FFMemoryLayerManager]:
    manager = FFMemoryLayerManager(load_config(base_path=tmp_path / "data", environ={}))
    await manager.initialize()
    yield manager
    await manager.shutdown()


@pytest.fixture
def general_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the calls that fell back to the general reader."""
    calls: list[int] = []

    def counting(store, model, path, limit):  # type: ignore[no-untyped-def]
        calls.append(limit)
        return tail_records(store, model, path, limit)

    monkeypatch.setattr(history_page, "tail_records", counting)
    return calls


async def _session(mem: FFMemoryLayerManager, count: int, *, size: int = 40) -> tuple[str, Path]:
    session = await mem.create_session("alice")
    await mem.import_messages(
        "alice", session.session_id,
        [{"role": "user", "content": f"message {i} " + "x" * size, "metadata": {"i": i}} for i in range(count)],
    )
    return session.session_id, mem.store.path("users", "alice", "sessions", session.session_id, "messages.jsonl")


def _general(mem: FFMemoryLayerManager, log: Path, limit: int) -> list[FFChatMessageDTO]:
    return tail_records(mem.store, FFChatMessageDTO, log, limit)


@pytest.mark.parametrize("limit", [1, 7, 50, 120, 500])
async def test_the_fast_path_answers_as_the_general_reader_does(
    mem: FFMemoryLayerManager, general_reads: list[int], limit: int
) -> None:
    session_id, log = await _session(mem, 120)
    page = await mem.get_messages("alice", session_id, limit=limit)
    assert page == _general(mem, log, limit)
    assert [m.content.split()[1] for m in page] == [str(i) for i in range(max(0, 120 - limit), 120)]
    assert all(type(m) is FFChatMessageDTO for m in page)
    assert general_reads == []  # one read, one validation: the general reader was not needed


async def test_a_page_that_cannot_hold_the_lines_defers_to_the_general_reader(
    mem: FFMemoryLayerManager, general_reads: list[int]
) -> None:
    session_id, log = await _session(mem, 80, size=3_000)  # 50 of them do not fit in 64 KiB
    page = await mem.get_messages("alice", session_id, limit=50)
    assert page == _general(mem, log, 50) and len(page) == 50
    assert general_reads == [50]
    assert mem.store.tail_jsonl_page(log, 10) is not None  # 10 of them do fit


@pytest.mark.parametrize(
    "bad",
    [
        b"",  # a blank line
        b"   ",
        b"[1, 2, 3]",  # JSON of another shape
        b'{"message_id": 5}',
        b"not json at all",
        b'{"message_id": "m1"',  # cut short
        # two records on one line: valid inside an array, never a stored line
        b'{"message_id": "a1", "session_id": "s", "role": "user", "content": "x", "timestamp": "2024-01-01T00:00:00Z"}, '
        b'{"message_id": "a2", "session_id": "s", "role": "user", "content": "y", "timestamp": "2024-01-01T00:00:00Z"}',
    ],
)
async def test_a_bad_line_in_the_page_defers_to_the_general_reader(
    mem: FFMemoryLayerManager, general_reads: list[int], bad: bytes
) -> None:
    session_id, log = await _session(mem, 30)
    lines = log.read_bytes().splitlines()
    log.write_bytes(b"".join(line + b"\n" for line in [*lines[:25], bad, *lines[25:]]))
    page = await mem.get_messages("alice", session_id, limit=10)
    assert page == _general(mem, log, 10)
    assert [m.content.split()[1] for m in page] == [str(i) for i in range(20, 30)]  # the bad line costs no message
    assert general_reads == [10]


async def test_a_torn_last_line_defers_to_the_general_reader(mem: FFMemoryLayerManager, general_reads: list[int]) -> None:
    session_id, log = await _session(mem, 12)
    with log.open("ab") as handle:
        handle.write(b'{"message_id": "torn", "content": "half a rec')
    page = await mem.get_messages("alice", session_id, limit=5)
    assert [m.content.split()[1] for m in page] == ["7", "8", "9", "10", "11"]
    assert general_reads == [5]


async def test_an_empty_or_new_session_reads_as_empty(mem: FFMemoryLayerManager) -> None:
    session = await mem.create_session("alice")
    assert await mem.get_messages("alice", session.session_id, limit=50) == []


async def test_a_symlinked_log_is_refused_not_followed(mem: FFMemoryLayerManager, tmp_path: Path) -> None:
    session_id, log = await _session(mem, 5)
    elsewhere = tmp_path / "elsewhere.jsonl"
    elsewhere.write_bytes(log.read_bytes())
    log.unlink()
    log.symlink_to(elsewhere)
    with pytest.raises(FFError):
        await mem.get_messages("alice", session_id, limit=5)


async def test_an_encrypted_store_reads_through_the_decoder(
    tmp_path: Path, general_reads: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    raw_reads: list[Path] = []
    raw = ff_json_utils.ff_tail_jsonl_page
    monkeypatch.setattr(ff_store_module, "ff_tail_jsonl_page", lambda path, *a, **k: raw_reads.append(path) or raw(path, *a, **k))
    key_file = tmp_path / "k.key"
    key_file.write_text(ff_generate_key_text())
    config = load_config(environ={}, overrides={"storage": {"base_path": str(tmp_path / "root"), "encryption_key_file": str(key_file)}})
    async with FFMemoryLayerManager(config) as mem:
        session_id, log = await _session(mem, 20)
        assert b"message 19" not in log.read_bytes()  # ciphertext on disk
        page = await mem.get_messages("alice", session_id, limit=5)
        assert [m.content.split()[1] for m in page] == ["15", "16", "17", "18", "19"]
        assert general_reads == [5]  # lines are decoded one by one, never parsed raw
        assert raw_reads == []


async def test_a_session_of_another_user_is_not_found_even_after_a_read(mem: FFMemoryLayerManager) -> None:
    session_id, log = await _session(mem, 3)
    assert len(await mem.get_messages("alice", session_id, limit=5)) == 3  # remembered as checked
    with pytest.raises(FFError, match="not found"):
        await mem.get_messages("bob", session_id, limit=5)
    shutil.rmtree(log.parent)  # removed behind the manager's back: still checked on every read
    with pytest.raises(FFError, match="not found"):
        await mem.get_messages("alice", session_id, limit=5)


def test_records_round_trip_through_the_page_as_through_model_validate(tmp_path: Path) -> None:
    """validate_json on the joined page builds what model_validate builds from each parsed line."""
    records = [
        {"message_id": f"m{i}", "session_id": "s1", "role": "user", "content": f"é {i} \n \"q\"",
         "timestamp": "2024-03-01T10:00:00" if i % 2 else "2024-03-01T10:00:00+02:00", "metadata": {"n": [i, None]},
         "attachments": [{"attachment_id": "a1", "name": "x.txt", "legacy": True}] if i == 1 else [], "unknown": 1}
        for i in range(3)
    ]
    page = b"[" + b",".join(orjson.dumps(r) for r in records) + b"]"
    assert history_page._page_adapter(FFChatMessageDTO).validate_json(page) == [FFChatMessageDTO.model_validate(r) for r in records]


async def test_lines_that_only_parse_when_joined_are_not_records(mem: FFMemoryLayerManager, general_reads: list[int]) -> None:
    """Two corrupt lines whose join is two valid records: the general reader skips both, so must we."""
    session_id, log = await _session(mem, 10)
    record = orjson.loads(log.read_bytes().splitlines()[-1])
    head = orjson.dumps({**record, "message_id": "bogus1", "metadata": {"x": 0}})
    first, second = head[: head.index(b"0}")] + b"[1", b"2]" + head[head.index(b"0}") + 1 :] + b", " + orjson.dumps({**record, "message_id": "bogus2"})
    with log.open("ab") as handle:
        handle.write(first + b"\n" + second + b"\n")
    page = await mem.get_messages("alice", session_id, limit=4)
    assert [m.message_id for m in page] == [m.message_id for m in _general(mem, log, 4)]
    assert not {"bogus1", "bogus2"} & {m.message_id for m in page}
    assert general_reads == [4]


def test_a_line_cut_by_the_page_is_never_taken_for_a_record(mem: FFMemoryLayerManager, tmp_path: Path) -> None:
    log = mem.store.path("users", "alice", "log.jsonl")
    log.parent.mkdir(parents=True)
    log.write_bytes(b'{"b": 0}\n{"b": {"a": 1}}\n')
    assert mem.store.tail_jsonl_page(log, 2) == (b'{"b": 0}\n{"b": {"a": 1}}', 2)
    assert mem.store.tail_jsonl_page(log, 5) == (b'{"b": 0}\n{"b": {"a": 1}}', 2)  # the whole file
    # The page "{"a": 1}}\n" begins inside the last line: it looks like an object but is a fragment.
    assert mem.store.tail_jsonl_page(log, 2, page_bytes=len(b'{"a": 1}}\n')) is None
    assert mem.store.tail_jsonl_page(log, 1, page_bytes=len(b'\n{"b": {"a": 1}}\n')) == (b'{"b": {"a": 1}}', 1)
