"""FFEventBus: delivery by pattern, isolation of failing handlers, dead letters."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ff_managers.ff_event_bus import FFEvent, FFEventBus
from ff_utils.ff_json_utils import ff_read_jsonl


def _event(kind: str = "memory.stored", **payload: object) -> FFEvent:
    return FFEvent(kind, "test", dict(payload), user_id="alice")


async def test_sync_and_async_handlers_receive_events() -> None:
    bus = FFEventBus()
    got: list[tuple[str, str]] = []

    def sync_handler(event: FFEvent) -> None:
        got.append(("sync", event.type))

    async def async_handler(event: FFEvent) -> None:
        await asyncio.sleep(0)
        got.append(("async", event.type))

    bus.subscribe("memory.stored", sync_handler)
    bus.subscribe("memory.stored", async_handler)
    await bus.publish(_event())
    assert sorted(got) == [("async", "memory.stored"), ("sync", "memory.stored")]  # done when publish returns
    assert (bus.published, bus.delivered, bus.failed) == (1, 2, 0)


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        ("*", {"memory.stored", "memory.session_created", "panel.created", "tool.executed"}),
        ("memory.*", {"memory.stored", "memory.session_created"}),
        ("*.created", {"panel.created"}),
        ("tool.executed", {"tool.executed"}),
        ("tool.?xecuted", {"tool.executed"}),
        ("Memory.*", set()),  # case-sensitive
        ("memory", set()),  # no prefix match without a wildcard
    ],
)
async def test_wildcards(pattern: str, matches: set[str]) -> None:
    bus = FFEventBus()
    seen: set[str] = set()
    bus.subscribe(pattern, lambda e: seen.add(e.type))
    for kind in ("memory.stored", "memory.session_created", "panel.created", "tool.executed"):
        await bus.publish(_event(kind))
    assert seen == matches


async def test_unsubscribe() -> None:
    bus = FFEventBus()
    seen: list[str] = []
    unsubscribe = bus.subscribe("*", lambda e: seen.append(e.event_id))
    await bus.publish(_event())
    unsubscribe()
    unsubscribe()  # twice is harmless
    await bus.publish(_event())
    assert len(seen) == 1 and bus.published == 2


async def test_failing_handler_is_isolated_counted_and_dead_lettered(tmp_path: Path) -> None:
    dead = tmp_path / "system" / "dead_letters.jsonl"
    bus = FFEventBus(dead_letter_path=dead)
    good: list[str] = []

    def broken(event: FFEvent) -> None:
        raise RuntimeError("handler bug")

    async def broken_async(event: FFEvent) -> None:
        raise KeyError("missing")

    bus.subscribe("*", broken)
    bus.subscribe("*", broken_async)
    bus.subscribe("*", lambda e: good.append(e.type))
    event = _event(count=3)
    await bus.publish(event)  # does not raise
    assert good == ["memory.stored"]
    assert (bus.delivered, bus.failed) == (1, 2)
    assert sorted(letter.error for letter in bus.dead_letters) == ["KeyError: 'missing'", "RuntimeError: handler bug"]
    assert all(letter.event is event for letter in bus.dead_letters)
    records = list(ff_read_jsonl(dead))
    assert len(records) == 2
    assert {r["handler"].rsplit(".", 1)[-1] for r in records} == {"broken", "broken_async"}
    assert all(r["event"]["event_id"] == event.event_id and r["event"]["payload"] == {"count": 3} for r in records)
    assert all(r["event"]["user_id"] == "alice" and r["event"]["type"] == "memory.stored" for r in records)


async def test_slow_handler_times_out_and_others_still_run() -> None:
    bus = FFEventBus(handler_timeout=0.05)
    done: list[str] = []

    async def slow(event: FFEvent) -> None:
        await asyncio.sleep(10)

    bus.subscribe("*", slow)
    bus.subscribe("*", lambda e: done.append("fast"))
    await asyncio.wait_for(bus.publish(_event()), 5)
    assert done == ["fast"] and bus.failed == 1
    assert bus.dead_letters[0].error.startswith("TimeoutError")


async def test_unwritable_dead_letter_log_does_not_reach_publisher(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    bus = FFEventBus(dead_letter_path=tmp_path / "file" / "dead.jsonl")  # a file where a dir should be
    bus.subscribe("*", lambda e: 1 / 0)
    await bus.publish(_event())
    assert bus.failed == 1 and len(bus.dead_letters) == 1


async def test_unserialisable_payload_in_dead_letter_does_not_reach_publisher(tmp_path: Path) -> None:
    # Regression: only FFStorageError was caught while persisting, so a payload the JSONL log
    # refused (FFValidationError) escaped from publish() and broke the publisher.
    bus = FFEventBus(dead_letter_path=tmp_path / "dead.jsonl")
    bus.subscribe("*", lambda e: 1 / 0)
    await bus.publish(_event(thing=object()))
    assert bus.failed == 1 and len(bus.dead_letters) == 1
    assert not (tmp_path / "dead.jsonl").exists()


async def test_cancellation_is_not_swallowed() -> None:
    bus = FFEventBus()

    async def cancelled(event: FFEvent) -> None:
        raise asyncio.CancelledError

    bus.subscribe("*", cancelled)
    with pytest.raises(asyncio.CancelledError):
        await bus.publish(_event())


def test_event_record_is_plain_json() -> None:
    event = _event(n=1)
    record = event.to_record()
    assert record["timestamp"] == event.timestamp.isoformat()
    assert set(record) == {"event_id", "type", "source", "user_id", "timestamp", "payload"}
    assert _event().event_id != _event().event_id


def test_an_unheard_event_is_counted_and_skipped_until_someone_subscribes() -> None:
    bus = FFEventBus()
    assert bus.skip_unheard("memory.message_added") and bus.published == 1
    unsubscribe = bus.subscribe("memory.*", lambda event: None)
    assert not bus.skip_unheard("memory.message_added")  # the answer is not stale after a subscribe
    assert bus.published == 1
    unsubscribe()
    assert bus.skip_unheard("memory.message_added") and bus.published == 2


def test_a_bus_with_its_own_publish_is_never_skipped() -> None:
    class Recording(FFEventBus):
        async def publish(self, event: FFEvent) -> None:
            self.published += 1

    assert not Recording().skip_unheard("memory.message_added")


async def test_add_message_events_still_reach_a_listener(tmp_path: Path) -> None:
    from ff_class_configs import load_config
    from ff_managers import FFMemoryLayerManager

    bus = FFEventBus()
    async with FFMemoryLayerManager(load_config(base_path=tmp_path, environ={}), bus=bus) as memory:
        session = await memory.create_session("alice")
        await memory.add_message("alice", session.session_id, "user", "unheard")
        seen: list[FFEvent] = []
        bus.subscribe("memory.message_added", seen.append)
        message = await memory.add_message("alice", session.session_id, "user", "heard")
    assert [e.payload["message_id"] for e in seen] == [message.message_id]
    assert bus.published == 3  # the session, the unheard message and the heard one
