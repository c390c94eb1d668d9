"""Property tests: every legitimate variation of the legacy format migrates (Migration variations issue).

Hypothesis generates legacy roots (:func:`testing.migration._variations.generate_varied_root`,
every choice drawn so a failure shrinks to its smallest root) mixing several users, sessions,
panels, documents and personas, odd-but-valid and invalid ids, missing and ``null`` fields,
epoch and ISO timestamps, BOM, CRLF, blank lines, role case, list content, duplicate ids, empty
files and sessions, torn lines. For each root:

* ``migrate`` verifies (exit 0), and each unreadable line is listed with its reason;
* every readable record lands exactly once, its text byte for byte (read back through the
  public APIs, under the ids of ``ff_migration_id_map.json``);
* ``verify`` passes and ``rollback`` restores the original manifest;
* a run SIGKILLed at a random point converges to the target of an uninterrupted run.

Profiles: ``tests/testing/migration/conftest.py``. Roots found failing during development are
kept below as plain regression tests, shrunk to what made them fail.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ff_class_configs import load_config
from ff_managers import FFMigrationManager
from ff_utils.ff_hashing import ff_build_manifest
from testing.migration._interrupt import run_interruption_trials
from testing.migration._variations import Choose, generate_varied_root
from testing.migration._variations_check import check_varied_target


def _profile(kind: str = "", *, slow: bool = False) -> settings:
    level = "slow" if slow or os.environ.get("HYPOTHESIS_PROFILE") == "slow" else "default"
    return settings.get_profile(f"ff-migration-{kind + '-' if kind else ''}{level}")


def _drawn(data: st.DataObject) -> Choose:
    return lambda options: data.draw(st.sampled_from(options))


def _migrate_verify_rollback(choose: Choose) -> int:
    """The whole property on one generated root; returns how many records it held."""
    with tempfile.TemporaryDirectory(prefix="ff-varied-") as tmp:
        work = Path(tmp)
        expected = generate_varied_root(work / "root", choose)
        config = load_config(base_path=work / "unused", environ={})
        before = ff_build_manifest(work / "root")
        untouched = work / "copy"
        shutil.copytree(work / "root", untouched, symlinks=True)
        manager = FFMigrationManager(config)
        # a new target from an untouched source, then the same root upgraded in place
        run = asyncio.run(manager.migrate(untouched, work / "target"))
        assert run.comparison.equivalent, run.comparison.differences
        listed = {f"{i.path}:{i.line_number}": i.reason for i in run.irregular if i.line_number}
        for line in expected.unreadable_lines:
            assert listed.get(line), f"{line} is not listed as unrecoverable: {sorted(listed)}"
        assert asyncio.run(check_varied_target(expected, work / "target", config)) == []
        assert manager.verify(work / "target").identical
        in_place = asyncio.run(manager.migrate(work / "root", work / "root"))
        assert in_place.comparison.equivalent, in_place.comparison.differences
        assert asyncio.run(check_varied_target(expected, work / "root", config)) == []
        restored = manager.rollback(work / "root")
        assert restored.same_content(before) and ff_build_manifest(work / "root").same_content(before)
        return expected.records


@given(data=st.data())
@_profile()
def test_every_varied_root_migrates_verifies_and_rolls_back(data: st.DataObject) -> None:
    _migrate_verify_rollback(_drawn(data))


@pytest.mark.slow
@given(data=st.data())
@_profile(slow=True)
def test_every_varied_root_migrates_verifies_and_rolls_back_slow(data: st.DataObject) -> None:
    _migrate_verify_rollback(_drawn(data))


def _interrupted(choose: Choose, seed: int) -> None:
    with tempfile.TemporaryDirectory(prefix="ff-varied-kill-") as tmp:
        generate_varied_root(Path(tmp) / "root", choose)
        config = load_config(base_path=Path(tmp) / "unused", environ={})
        trials = run_interruption_trials(Path(tmp) / "root", config, trials=1, kills_per_trial=1, seed=seed, timeout=240)
        assert all(t.source_untouched for t in trials), trials
        assert all(t.rerun_converged for t in trials), trials


@given(data=st.data(), seed=st.integers(0, 2**16))
@_profile("interrupt")
def test_an_interrupted_migration_of_a_varied_root_converges(data: st.DataObject, seed: int) -> None:
    _interrupted(_drawn(data), seed)


@pytest.mark.slow
@given(data=st.data(), seed=st.integers(0, 2**16))
@_profile("interrupt", slow=True)
def test_an_interrupted_migration_of_a_varied_root_converges_slow(data: st.DataObject, seed: int) -> None:
    _interrupted(_drawn(data), seed)


# Roots that failed while this was built, shrunk by hand to what made them fail and kept as
# regression tests: each maps a relative path to the file's content.
_LINE = '{"role": "user", "content": "%s", "message_id": "%s"}\n'
_PANEL = '{"session_id": "panel_session_1", "metadata": {"participants": ["a", "b"]}}'
FAILED_ROOTS = {
    # an identical copy of a renamed duplicate was imported a second time
    "copy_of_a_renamed_duplicate": {"users/u/s/messages.jsonl": _LINE % ("one", "d") + _LINE % ("two", "d") + _LINE % ("two", "d")},
    # an empty session.json was neither imported nor listed as skipped
    "empty_session_json": {"users/u/s/session.json": "", "users/u/s/messages.jsonl": _LINE % ("x", "m")},
    # two sessions' documents with one name collided in the user's one knowledge base
    "same_document_name": {"users/u/s1/documents/d_notes.md": "one\n", "users/u/s2/documents/d_notes.md": "two\n"},
    # a panel message whose message_id is null was a difference
    "panel_null_id": {"users/u/panel_session_1/session.json": _PANEL,
                      "users/u/panel_session_1/messages.jsonl": '{"role": "user", "content": "q", "message_id": null}\n'},
    # a torn line in a session folder whose name holds a tab could not be quarantined
    "tab_in_a_quarantined_path": {"users/u/a\tb/messages.jsonl": _LINE % ("ok", "m") + '{"role": "user", "cont'},
    # two users' panels with the same id
    "same_panel_id": {f"users/{u}/panel_session_1/{name}": body for u in ("u", "v") for name, body in
                      (("session.json", _PANEL), ("messages.jsonl", _LINE % (u, "m")))},
}


@pytest.mark.parametrize("name", sorted(FAILED_ROOTS))
def test_roots_that_once_failed(tmp_path: Path, name: str) -> None:
    for relative, body in FAILED_ROOTS[name].items():
        (tmp_path / "legacy" / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "legacy" / relative).write_text(body)
    before = ff_build_manifest(tmp_path / "legacy")
    manager = FFMigrationManager(load_config(base_path=tmp_path / "unused", environ={}))
    run = asyncio.run(manager.migrate(tmp_path / "legacy", tmp_path / "target"))
    assert run.comparison.equivalent, run.comparison.differences
    assert manager.verify(tmp_path / "target").identical
    assert ff_build_manifest(tmp_path / "legacy").same_content(before)
    if name == "copy_of_a_renamed_duplicate":  # kept once: "one", then "two" under a new id
        assert run.counts["messages"] == 2
