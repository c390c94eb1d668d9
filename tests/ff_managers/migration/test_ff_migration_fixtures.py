"""Both real legacy fixture roots migrate with zero unexplained differences.

The fixture (shared/fixtures/legacy_v1) is real data written by the legacy flat-file store; it is
copied to tmp_path first and never touched. Skipped cleanly when the fixture is not there.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_managers import FFMigrationManager
from ff_managers.ff_migration_manager import manifest_digest
from ff_utils.ff_hashing import ff_build_manifest

FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "legacy_v1"

EXPECTED = {
    # users, sessions (chat), panels, messages compared, personas, documents, vector files
    "demo_automated": {"users": 3, "sessions": 5, "panels": 0, "messages": 69, "personas": 0, "documents": 3, "vector_files": 6},
    "complex": {"users": 21, "sessions": 96, "panels": 3, "messages": 320, "personas": 14, "documents": 0, "vector_files": 0},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_fixture_root_migrates_with_zero_unexplained_differences(tmp_path: Path, name: str) -> None:
    original = FIXTURES / name
    if not original.is_dir():
        pytest.skip(f"legacy fixture not available at {original}")
    source = tmp_path / "source"
    shutil.copytree(original, source)
    before = manifest_digest(ff_build_manifest(source))
    run = await FFMigrationManager(load_config(base_path=tmp_path / "unused", environ={})).migrate(source, tmp_path / "target")

    counts = run.comparison.counts_source
    skipped = [i for i in run.irregular if i.action.value in ("skipped", "quarantined")]
    print(f"\n{name}: users={counts['users']} sessions={counts['sessions']} messages={counts['messages']} "
          f"panels={counts['panels']} personas={counts['personas']} documents={counts['documents']} "
          f"vector_files={counts['vector_files']} fields_compared={run.comparison.fields_compared} "
          f"irregular={len(run.irregular)} skipped={len(skipped)}")
    for item in run.irregular:
        if item.kind not in ("no_session_json", "no_messages", "no_profile"):
            print(f"  {item.action.value}: {item.path}: {item.kind}: {item.reason}")

    assert run.comparison.differences == []
    assert {k: counts[k] for k in EXPECTED[name]} == EXPECTED[name]
    for key in ("users", "sessions", "panels", "personas", "documents", "vector_files"):
        assert run.comparison.counts_target[key] == counts[key], key
    assert skipped == []  # the real fixture's irregularities are all importable
    assert manifest_digest(ff_build_manifest(source)) == before  # source untouched


async def test_complex_fixture_irregularities_are_listed_with_reasons(tmp_path: Path) -> None:
    original = FIXTURES / "complex"
    if not original.is_dir():
        pytest.skip(f"legacy fixture not available at {original}")
    shutil.copytree(original, tmp_path / "source")
    run = await FFMigrationManager(load_config(base_path=tmp_path / "u", environ={})).migrate(tmp_path / "source", tmp_path / "target")
    kinds: dict[str, int] = {}
    for item in run.irregular:
        kinds[item.kind] = kinds.get(item.kind, 0) + 1
        assert item.reason
    assert kinds["no_session_json"] == 74  # README: 74 session dirs have messages but no session.json
    assert kinds["no_messages"] == 16  # README: 16 have a session.json but no messages
    assert kinds["salvaged_line"] == 1  # creative_writer: stray bytes before a JSON object
    assert kinds["persona_transcript"] == 4  # <persona>_messages.jsonl beside messages.jsonl
    salvaged = next(i for i in run.irregular if i.kind == "salvaged_line")
    assert salvaged.path.startswith("users/creative_writer/") and salvaged.line_number == 2


async def test_demo_vector_files_are_byte_identical_and_referenced(tmp_path: Path) -> None:
    original = FIXTURES / "demo_automated"
    if not original.is_dir():
        pytest.skip(f"legacy fixture not available at {original}")
    shutil.copytree(original, tmp_path / "source")
    target = tmp_path / "target"
    await FFMigrationManager(load_config(base_path=tmp_path / "u", environ={})).migrate(tmp_path / "source", target)
    sid = "chat_session_20250805_215718_834707"
    legacy = tmp_path / "source" / "users" / "default" / "sessions" / sid / "vectors"
    copied = target / "users" / "alice_researcher" / "vectors" / sid
    for name in ("embeddings.npy", "vector_index.jsonl"):
        assert (copied / name).read_bytes() == (legacy / name).read_bytes()
    session = (target / "users" / "alice_researcher" / "sessions" / sid / "session.json").read_text()
    assert f"users/alice_researcher/vectors/{sid}/embeddings.npy" in session
