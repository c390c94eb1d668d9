"""Panel ownership: every method takes user_id first, checks it, and answers for another user's
panel exactly as for a missing one; there is no call that skips the check."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from ff_managers import FFPanelSessionManager
from ff_managers._panel.owners import FFPanelOwners
from ff_managers._panel.store import FFPanelStore
from ff_utils.ff_errors import FFError, FFNotFoundError, FFValidationError
from ff_utils.ff_store import FFStore
from tests._fakes import tree_snapshot

SEATS = [{"participant_id": "host", "expertise": ["tea"]}, {"participant_id": "guest"}]


@pytest.fixture
async def panels(config):
    async with FFPanelSessionManager(config) as manager:
        yield manager


def calls(m: FFPanelSessionManager, user: Any, pid: str, anchor: dict[str, str]) -> dict[str, Callable[[], Awaitable[Any]]]:
    """Every public method that addresses a panel, called as ``user`` on ``pid`` (close last)."""
    return {
        "get_panel": lambda: m.get_panel(user, pid),
        "get_messages": lambda: m.get_messages(user, pid),
        "get_turn_status": lambda: m.get_turn_status(user, pid),
        "add_message": lambda: m.add_message(user, pid, "guest", "intrusion"),
        "add_message retry": lambda: m.add_message(user, pid, "host", "secret", message_id=anchor["message_id"]),
        "import_messages": lambda: m.import_messages(user, pid, [{"participant_id": "guest", "content": "intrusion"}]),
        "record_insight": lambda: m.record_insight(user, pid, "intrusion"),
        "get_insights": lambda: m.get_insights(user, pid),
        "record_decision": lambda: m.record_decision(user, pid, "q?", ["a", "b"]),
        "cast_vote": lambda: m.cast_vote(user, pid, anchor["decision_id"], "guest", "yes"),
        "get_decisions": lambda: m.get_decisions(user, pid),
        "route_question": lambda: m.route_question(user, pid, "tea"),
        "update_state": lambda: m.update_state(user, pid, {"k": 1}),
        "get_state": lambda: m.get_state(user, pid),
        "get_analytics": lambda: m.get_analytics(user, pid),
        "close_panel": lambda: m.close_panel(user, pid),
    }



async def bobs_panel(panels: FFPanelSessionManager) -> tuple[str, dict[str, str]]:
    panel = await panels.create_panel("bob", SEATS)
    message = await panels.add_message("bob", panel.panel_id, "host", "secret", message_id="m_secret")
    decision = await panels.record_decision("bob", panel.panel_id, "Sell?", ["yes", "no"])
    return panel.panel_id, {"message_id": message.message_id, "decision_id": decision.decision_id}


def test_every_method_that_addresses_a_panel_takes_a_required_user_id_first():
    public = {
        name: member
        for name, member in vars(FFPanelSessionManager).items()
        if inspect.iscoroutinefunction(member) and not name.startswith("_")
    }
    for name, method in public.items():
        params = list(inspect.signature(method).parameters.values())[1:]
        assert params[0].name == "user_id", name
        assert params[0].default is inspect.Parameter.empty and params[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, name
        assert [p.name for p in params].count("user_id") == 1, name
    addressing = {n for n, m in public.items() if "panel_id" in inspect.signature(m).parameters} - {"create_panel"}
    assert addressing == {label.split()[0] for label in calls(None, "u", "p", {"message_id": "", "decision_id": ""})}  # type: ignore[arg-type]


async def test_another_users_panel_answers_exactly_like_a_missing_one_and_nothing_changes(panels, config):
    pid, anchor = await bobs_panel(panels)
    root = Path(config.storage.base_path)
    before = tree_snapshot(root)
    for label, call in calls(panels, "alice", pid, anchor).items():
        with pytest.raises(FFNotFoundError) as theirs:
            await call()
        assert str(theirs.value) == f"no panel {pid!r}", label
        with pytest.raises(FFNotFoundError) as missing:
            await calls(panels, "alice", "panel_missing", anchor)[label]()
        assert (type(theirs.value), str(theirs.value).replace(pid, "X"), theirs.value.kind) == (
            type(missing.value), str(missing.value).replace("panel_missing", "X"), missing.value.kind,
        ), label
    assert tree_snapshot(root) == before
    assert [m.content for m in await panels.get_messages("bob", pid)] == ["secret"]


@pytest.mark.parametrize("user", [None, "", "../bob", 7])
async def test_a_missing_or_bad_user_id_is_refused_before_the_panel_is_looked_at(panels, config, user):
    pid, anchor = await bobs_panel(panels)
    root = Path(config.storage.base_path)
    before = tree_snapshot(root)
    for label, call in calls(panels, user, pid, anchor).items():
        with pytest.raises(FFValidationError) as caught:
            await call()
        assert caught.value.field == "user_id", label
    assert tree_snapshot(root) == before


async def test_the_owner_still_reaches_every_method(panels):
    pid, anchor = await bobs_panel(panels)
    for label, call in calls(panels, "bob", pid, anchor).items():
        try:
            await call()
        except FFError as exc:  # the owner's calls may only fail on the panel's own rules
            assert not isinstance(exc, (FFNotFoundError, FFValidationError)), f"{label}: {exc!r}"
    assert (await panels.get_panel("bob", pid)).status == "closed"


def test_the_owner_check_has_no_way_around_it(tmp_path):
    owners = FFPanelOwners(FFPanelStore(FFStore(tmp_path)))
    owners.remember("p1", "bob")
    assert owners.resolve("bob", "p1") == "bob"
    for user in ("alice", "BOB"):
        with pytest.raises(FFNotFoundError, match="no panel 'p1'"):
            owners.resolve(user, "p1")
    for user in (None, ""):
        with pytest.raises(FFValidationError):
            owners.resolve(user, "p1")  # type: ignore[arg-type]
    assert list(inspect.signature(FFPanelOwners.resolve).parameters) == ["self", "user_id", "panel_id"]
    assert all(p.default is inspect.Parameter.empty for p in inspect.signature(FFPanelOwners.resolve).parameters.values())
