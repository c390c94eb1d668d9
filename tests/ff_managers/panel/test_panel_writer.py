"""FFPanelMessageWriter: concurrent requests share lock holds, fail alone, and survive a storage error."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ff_class_configs.ff_panel_config import FFPanelConfigDTO
from ff_class_configs.ff_panel_dtos import FFPanelDTO, FFPanelMessageInputDTO
from ff_managers._panel.checks import FFPanelInputChecker
from ff_managers._panel.store import FFPanelStore
from ff_managers._panel.writer import FFPanelMessageWriter
from ff_utils.ff_errors import FFConflictError, FFStorageError, FFValidationError
from ff_utils.ff_json_utils import ff_read_jsonl
from ff_utils.ff_store import FFStore

T0 = datetime(2025, 1, 1, tzinfo=UTC)


class FailingStorage(FFStore):
    """The fault-injection seam: can be told to fail the next append."""

    fail_next = False

    def append_many(self, path, records):  # type: ignore[override]
        if self.fail_next:
            self.fail_next = False
            raise FFStorageError("disk full (simulated)", path=path)
        super().append_many(path, records)


class CountingStore(FFPanelStore):
    """Counts lock holds; its storage can be told to fail the next append."""

    storage: FailingStorage

    def __init__(self, root: Path) -> None:
        super().__init__(FailingStorage(root, durability="never"))
        self.holds = 0

    def locked(self, user_id, panel_id):  # type: ignore[override]
        self.holds += 1
        return super().locked(user_id, panel_id)


@pytest.fixture
def setup(tmp_path):
    store = CountingStore(tmp_path)
    store.create(
        FFPanelDTO(panel_id="p", user_id="u", panel_type="generic", participants=[{"participant_id": "a"}, {"participant_id": "b"}], created_at=T0)
    )
    writer = FFPanelMessageWriter(store, FFPanelInputChecker(FFPanelConfigDTO()), asyncio.to_thread)
    return store, writer, tmp_path / "users" / "u" / "panels" / "p" / "messages.jsonl"


def msg(content: str, **extra) -> list[FFPanelMessageInputDTO]:
    return [FFPanelMessageInputDTO(participant_id="a", content=content, **extra)]


async def test_concurrent_requests_share_lock_holds(setup):
    store, writer, log = setup
    results = await asyncio.gather(*(writer.submit("u", "p", msg(f"m{i}"), T0) for i in range(50)))
    assert sorted(r.messages[0].sequence for r in results) == list(range(1, 51))
    assert [r["sequence"] for r in ff_read_jsonl(log)] == list(range(1, 51))
    assert store.holds < 50 / 2, f"{store.holds} lock holds for 50 concurrent requests: no grouping happened"


async def test_a_refused_request_takes_no_number_and_does_not_sink_its_group(setup):
    store, writer, log = setup
    outcomes = await asyncio.gather(
        writer.submit("u", "p", msg("first"), T0),
        writer.submit("u", "p", msg("bad", reply_to="msg_unknown"), T0),
        writer.submit("u", "p", msg("third"), T0),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], FFValidationError)
    assert [r["content"] for r in ff_read_jsonl(log)] == ["first", "third"]
    assert [o.messages[0].sequence for o in (outcomes[0], outcomes[2])] == [1, 2]


async def test_a_storage_failure_fails_its_group_and_the_next_one_proceeds(setup):
    store, writer, log = setup
    store.storage.fail_next = True
    outcomes = await asyncio.gather(*(writer.submit("u", "p", msg(f"x{i}"), T0) for i in range(3)), return_exceptions=True)
    assert outcomes and all(isinstance(o, FFStorageError) for o in outcomes if isinstance(o, BaseException))
    assert any(isinstance(o, FFStorageError) for o in outcomes)
    written = [r["sequence"] for r in ff_read_jsonl(log)]
    assert written == list(range(1, len(written) + 1))  # whatever was written is gap-free
    after = await writer.submit("u", "p", msg("after"), T0)
    assert after.messages[0].sequence == len(written) + 1
    await writer.drain()


def test_one_group_keeps_the_floor_between_its_requests(tmp_path):
    """Requests numbered in one group commit see each other's turn state (issue 20: ``_Group.accept``
    losing the floor survived, since concurrent callers land in one group only by timing). The
    I/O thread's job is called with a two-request group directly, so the grouping is certain."""
    from ff_managers._panel.writer import _AppendRequest

    store = FFPanelStore(FFStore(tmp_path, durability="never"))
    seats = [{"participant_id": "mod", "role": "moderator"}, {"participant_id": "a"}, {"participant_id": "b"}]
    store.create(FFPanelDTO(panel_id="m", user_id="u", panel_type="generic", participants=seats,
                            turn_policy="moderated", created_at=T0))
    writer = FFPanelMessageWriter(store, FFPanelInputChecker(FFPanelConfigDTO()), asyncio.to_thread)

    def request(speaker: str, content: str, **extra) -> _AppendRequest:
        return _AppendRequest([FFPanelMessageInputDTO(participant_id=speaker, content=content, **extra)], T0)

    give, take, stranger = writer._write_batch(
        ("u", "m"), [request("mod", "a, please", next_speaker="a"), request("a", "thanks"), request("b", "me too")])
    assert not isinstance(take, FFConflictError), f"the floor given earlier in the group was lost: {take}"
    assert [m.floor for m in give.messages + take.messages] == ["a", "a"]  # the floor held within the group
    assert [m.sequence for m in give.messages + take.messages] == [1, 2]
    assert isinstance(stranger, FFConflictError) and stranger.context["expected"] == ["mod", "a"]
    log = tmp_path / "users" / "u" / "panels" / "m" / "messages.jsonl"
    assert [(r["participant_id"], r["floor"]) for r in ff_read_jsonl(log)] == [("mod", "a"), ("a", "a")]
