"""Survivors of the third `_migration` sample (seed 20261208), second half (issue 20).

Each test names the mutants it kills (``equivalence``, ``legacy_format``, ``legacy_import``,
``legacy_mapping``, ``manager_adapter``); the rest of that half is listed as equivalent in
``docs/mutation/equivalent/_migration/sample-20261208-b.toml``. Legacy roots are either written by
hand or copied from the real fixture (``shared/fixtures/legacy_v1``, never touched in place) and
imported into a recording sink; no migration is run.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_managers._migration import manager_adapter
from ff_managers._migration.equivalence import FFFieldComparer
from ff_managers._migration.legacy_mapping import USER_SEAT, profile_from_v2, profile_to_v2
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_managers._migration.manager_adapter import FFManagerTarget

from tests.ff_managers.migration.test_ff_migration_fixtures import FIXTURES
from tests.ff_managers.migration.test_migration_fresh_kills_legacy import _import
from tests.ff_managers.migration.test_migration_sample_kills_legacy import _msg, _root, _scan, _write


def _fixture(tmp_path: Path, name: str) -> Path:
    """A private copy of one real legacy root (skipped when the fixture is not there)."""
    original = FIXTURES / name
    if not original.is_dir():
        pytest.skip(f"legacy fixture not available at {original}")
    copy = tmp_path / name
    shutil.copytree(original, copy, symlinks=True)
    return copy


# ---------------------------------------------------------------- equivalence


def test_a_null_field_of_a_kind_without_null_rules_is_a_difference_not_a_crash() -> None:
    """FFFieldComparer._equal 28 (``NULL_AS_ABSENT.get(kind, None)``: a ``null`` in a record of a
    kind the table does not name, a persona as the comparison passes it, raised TypeError)."""
    out: list[str] = []
    FFFieldComparer(out).diff("personas_global/a.json", "persona", {"avatar": None, "bio": None}, {"avatar": "x.png"})
    assert out == ["personas_global/a.json: field 'avatar' differs: 'None' != 'x.png'",
                   "personas_global/a.json: field 'bio' missing in target"]


# ---------------------------------------------------------------- legacy_format


async def test_a_top_level_session_type_panel_alone_makes_a_panel(tmp_path: Path) -> None:
    """classify_session 28 (the top-level ``session_type`` no longer read: a session whose only
    panel sign is ``"session_type": "panel"`` in session.json was imported as a chat)."""
    root = _root(tmp_path)
    _write(root / "users/u1/s2/session.json", json.dumps({"title": "P", "session_type": "panel"}))
    _write(root / "users/u1/s2/messages.jsonl", _msg(0))
    kinds = {s.session_id: s.kind for s in _scan(root).sessions()}
    assert kinds == {"s1": "chat", "s2": "panel"}
    _job, sink = await _import(root)
    assert [p["panel_id"] for _u, p in sink.of("put_panel")] == ["s2"]
    assert [s["session_id"] for _u, s in sink.of("put_session")] == ["s1"]


# ---------------------------------------------------------------- legacy_import


async def test_real_panel_messages_keep_their_personas_seats(tmp_path: Path) -> None:
    """FFLegacyImport._import_user 73 (the seats handed to the message mapping were the user's seat
    only, so every assistant message of a panel was written on the user's seat). On the real
    fixture each assistant message sits on its persona's seat, each user message on the user's."""
    root = _fixture(tmp_path, "complex")
    _job, sink = await _import(root)
    seats = {(user, panel["panel_id"]): {s["participant_id"] for s in panel["participants"]}
             for user, panel in sink.of("put_panel")}
    batches = sink.of("put_panel_messages")
    assert {(user, panel_id) for user, panel_id, _batch in batches} == set(seats)
    placed = [(m["participant_id"], m["role"], m["metadata"]["persona"], seats[(user, panel_id)])
              for user, panel_id, batch in batches for m in batch]
    assert len(placed) == 18 and {role for _seat, role, _persona, _seats in placed} == {"user", "assistant"}
    for seat, role, persona, panel_seats in placed:
        assert seat == (USER_SEAT if role == "user" else persona) and seat in panel_seats
    in_the_panel = [m["participant_id"] for _user, panel_id, batch in batches if panel_id.startswith("panel_session_")
                    for m in batch]
    assert in_the_panel == ["user", "jake_thompson", "user", "marcus_chen"] * 2


async def test_a_transcript_holding_nothing_new_says_so(tmp_path: Path) -> None:
    """FFLegacyImport._stream 59 (the report's reason for a per-persona transcript whose records
    are all in messages.jsonl read ``; NOTHING NEW``). The real fixture has four such transcripts."""
    root = _fixture(tmp_path, "complex")
    job, _sink = await _import(root)
    transcripts = [(i.path.rsplit("/", 1)[-1], i.reason) for i in job.explained if i.kind == "persona_transcript"]
    assert sorted(transcripts) == sorted(
        (f"{persona}_messages.jsonl",
         f"per-persona transcript of {persona!r}: its records share message_ids with messages.jsonl; nothing new")
        for persona in ("betty_rodriguez", "dr_sarah_wilson", "jake_thompson", "marcus_chen"))


# ---------------------------------------------------------------- legacy_mapping


def test_a_profiles_own_user_id_is_not_kept_as_an_extra_field(tmp_path: Path) -> None:
    """profile_to_v2 15 (``data.get("XXuser_idXX")``: a profile.json naming its own directory's
    user kept ``user_id`` in the v2 profile's ``extra``, against the docstring). Real profiles."""
    root = _fixture(tmp_path, "demo_automated")
    users = [u for u in FFLegacyReader(root).scan().users if u.profile is not None]
    assert {u.user_id for u in users} == {"alice_researcher", "bob_developer", "carol_analyst"}
    for user in users:
        assert user.profile is not None and user.profile["user_id"] == user.user_id
        kwargs = profile_to_v2(user)
        assert "user_id" not in kwargs["extra"], user.user_id
        stored = {**kwargs, "user_id": user.user_id}
        assert profile_from_v2(stored) == user.profile  # still rebuilt whole from the v2 id


# ---------------------------------------------------------------- manager_adapter


async def test_panel_messages_are_read_back_page_after_page_once_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FFManagerTarget.iter_panel_messages 17 (the next page asked with ``after_sequence=None``:
    the panel's last page, again and again, for a panel longer than a page). The page is lowered
    to 2 so 5 messages take three pages; the read is bounded so the mutant fails instead of looping."""
    monkeypatch.setattr(manager_adapter, "_PAGE", 2)
    config = load_config(base_path=tmp_path / "root", environ={})
    async with FFManagerTarget(config) as target:
        await target.put_panel("alice", {"panel_id": "p1", "participants": [{"participant_id": "ann"},
                                                                            {"participant_id": "bob"}]})
        await target.put_panel_messages("alice", "p1", [
            {"participant_id": "ann" if i % 2 == 0 else "bob", "content": f"m {i}", "message_id": f"m{i}"}
            for i in range(5)])
        read: list[dict[str, Any]] = []
        async for message in target.iter_panel_messages("alice", "p1"):
            read.append(message)
            if len(read) > 6:
                break
    assert [(m["sequence"], m["message_id"]) for m in read] == [(i + 1, f"m{i}") for i in range(5)]
