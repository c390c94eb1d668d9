"""Survivors of the 2026-12-06 uniform sample of ``_panel`` (issue 20), killed by pinning what a
caller sees: the ``panel.created`` event's payload, key by key."""

from __future__ import annotations

from ff_managers import FFEvent, FFEventBus, FFPanelSessionManager
from tests._fakes import FakeClock
from tests.ff_managers.panel._exact import DUO, T0


async def test_the_created_event_names_the_panel_its_type_policy_and_participant_count(config):
    # events.x_created 7: the "participants" key misspelt left the count under another name.
    bus = FFEventBus()
    seen: list[FFEvent] = []
    bus.subscribe("panel.created", seen.append)
    async with FFPanelSessionManager(config, bus=bus, clock=FakeClock(T0)) as manager:
        panel = await manager.create_panel("alice", DUO + [{"participant_id": "cid"}], "multi_ai_panel", turn_policy="round_robin")
    [event] = seen
    assert event.payload == {
        "panel_id": panel.panel_id,
        "panel_type": "multi_ai_panel",
        "turn_policy": "round_robin",
        "participants": 3,
    }
    assert event.user_id == "alice" and event.source == "panel"
