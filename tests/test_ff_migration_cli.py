"""main.py migrate / verify / rollback, run in-process: output, exit codes, and what lands on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from ff_utils.ff_hashing import ff_build_manifest
from testing.migration import FFLegacyGeneratorConfig, generate_legacy_root
from tests._cli import run_cli

_run = run_cli


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    generate_legacy_root(tmp_path / "legacy", FFLegacyGeneratorConfig(seed=3, users=2, sessions_per_user=2, messages_per_session=4))
    return tmp_path / "legacy"


def test_migrate_dry_run_then_migrate_verify_rollback(tmp_path: Path, legacy: Path) -> None:
    target = tmp_path / "target"
    before = ff_build_manifest(legacy)
    code, out = _run("migrate", "--source", str(legacy), "--target", str(target), "--dry-run")
    assert code == 0 and "files written by this dry run: 0" in out and "users: 2" in out
    assert not target.exists()

    code, out = _run("migrate", "--source", str(legacy), "--target", str(target))
    assert code == 0 and "0 differences" in out and "skipped: users/user_000/notes.txt" in out
    assert (target / "ff_manifest.json").is_file()

    assert _run("verify", str(target))[0] == 0
    (target / "users" / "user_001" / "profile.json").write_text("{}")
    code, out = _run("verify", str(target))
    assert code == 1 and "changed: users/user_001/profile.json" in out

    code, out = _run("rollback", str(target))
    assert code == 1 and "changed since the migration: users/user_001/profile.json" in out  # refused: it changed
    code, out = _run("rollback", str(target), "--force")
    assert code == 0 and not target.exists()  # the target did not exist before the migration
    assert ff_build_manifest(legacy).same_content(before)


def test_in_place_migrate_and_rollback_restore_the_legacy_bytes(tmp_path: Path, legacy: Path) -> None:
    before = ff_build_manifest(legacy)
    assert _run("migrate", "--source", str(legacy), "--target", str(legacy))[0] == 0
    assert (legacy / "ff_meta.json").is_file() and not (legacy / "personas_global").exists()
    code, out = _run("migrate", "--source", str(legacy), "--target", str(legacy))
    assert code == 0 and "nothing to do" in out
    code, out = _run("rollback", str(legacy))
    assert code == 0 and "manifest identical" in out
    assert ff_build_manifest(legacy).same_content(before)


def test_bad_input_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _run("migrate", "--source", str(tmp_path / "missing"), "--target", str(tmp_path / "t"))
    assert code == 2
    assert capsys.readouterr().err.strip().startswith("FFValidationError: source is not a directory")
    (tmp_path / "empty").mkdir()
    assert _run("verify", str(tmp_path / "empty"))[0] == 2  # no manifest
    assert _run("rollback", str(tmp_path / "empty"))[0] == 2  # no migration recorded


def test_a_varied_root_through_the_cli_counted_record_by_record(tmp_path: Path) -> None:
    """Links skipped, invalid ids mapped and printed, unreadable lines listed, every readable record landed once."""
    import asyncio

    from ff_class_configs import load_config
    from testing.migration._variations import generate_varied_root, seeded_choose
    from testing.migration._variations_check import check_varied_target, read_id_map

    seed = next(s for s in range(200) if (lambda e: e.unreadable_lines and {"zoë", "has space"} & set(e.users))(
        generate_varied_root(tmp_path / f"probe{s}", seeded_choose(s), max_users=6, max_sessions=6)))
    expected = generate_varied_root(tmp_path / "legacy", seeded_choose(seed), max_users=6, max_sessions=6)
    (tmp_path / "secret").write_text("root:x:0:0\n")
    (tmp_path / "legacy" / "users" / expected.users[0] / "linked.json").symlink_to(tmp_path / "secret")
    target = tmp_path / "target"
    code, out = _run("migrate", "--source", str(tmp_path / "legacy"), "--target", str(target))
    assert code == 0 and "0 differences" in out, out
    assert f"users/{expected.users[0]}/linked.json (symlink)" in out
    assert "mapped id (user): " in out and "equivalence same-instant" in out
    assert out.count("(torn_line)") == len(expected.unreadable_lines)  # each listed, with its reason
    for line in expected.unreadable_lines:
        assert f"{line.rsplit('/', 1)[-1]} (torn_line)" in out
    mapped = read_id_map(target)
    assert all(f"users/{u}" in mapped for u in expected.users if u in ("zoë", "has space", "日本"))
    assert asyncio.run(check_varied_target(expected, target, load_config(base_path=target, environ={}))) == []
