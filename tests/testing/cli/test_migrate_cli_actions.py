"""`migrate info|validate`, `migrate --dry-run`'s irregular inputs, `manifest`, `verify` without one,
and `rollback` refusing to discard later changes: output, exit codes and what is left on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ff_utils.ff_hashing import ff_build_manifest
from testing.migration import FFLegacyGeneratorConfig, generate_legacy_root
from tests._cli import run_cli

_run = run_cli


@pytest.fixture(autouse=True)
def _no_ff_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in __import__("os").environ if n.startswith("FF_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    generate_legacy_root(tmp_path / "legacy", FFLegacyGeneratorConfig(seed=3, users=2, sessions_per_user=2, messages_per_session=4))
    return tmp_path / "legacy"


@pytest.fixture
def target(tmp_path: Path, legacy: Path) -> Path:
    code, out = _run("migrate", "--source", str(legacy), "--target", str(tmp_path / "target"))
    assert code == 0, out
    return tmp_path / "target"


def test_the_old_form_needs_source_and_target_and_actions_refuse_them(tmp_path: Path, capsys) -> None:
    assert _run("migrate")[0] == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("main.py migrate: error: --source and --target are required") and "\n" not in err
    assert _run("migrate", "--source", str(tmp_path), "info", str(tmp_path))[0] == 2
    assert "do not go with `migrate info`" in capsys.readouterr().err
    assert _run("migrate", "info")[0] == 2  # DIR is required
    assert capsys.readouterr().err.splitlines() == [
        "usage: main.py migrate info [-h] [--json] dir",
        "main.py migrate info: error: the following arguments are required: dir",
    ]
    assert _run("migrate", "info", str(tmp_path / "missing"))[0] == 2
    assert capsys.readouterr().err.strip().startswith("FFValidationError: not a directory")


def test_info_of_a_legacy_root_then_of_the_migrated_one(legacy: Path, target: Path) -> None:
    code, out = _run("migrate", "info", str(legacy))
    assert code == 0
    assert "legacy v1 root, schema version 1 (latest known: 2)" in out
    assert "0001_legacy_v1_import" in out and "pending" in out and "applied: 0; pending: 1" in out
    code, out = _run("migrate", "history", str(target))  # the alias
    assert code == 0
    assert "FF data root, schema version 2" in out and "applied: 1; pending: 0" in out
    assert "rollback restores the empty state" in out
    code, out = _run("migrate", "info", str(target), "--json")
    data = json.loads(out)
    (row,) = data["applied"]
    assert row["state"] == "applied" and len(row["checksum"]) == 64 and row["checksum"] in out
    assert row["checksum"][:12] in _run("migrate", "info", str(target))[1]


def test_validate_passes_then_fails_on_a_changed_checksum(target: Path) -> None:
    code, out = _run("migrate", "validate", str(target))
    assert code == 0 and "valid: 1 applied migration(s) match" in out
    log = target / "system" / "migrations.jsonl"
    entry = json.loads(log.read_text().splitlines()[0])
    log.write_text(json.dumps({**entry, "checksum": "0" * 64}) + "\n")
    code, out = _run("migrate", "validate", str(target))
    assert code == 1
    assert "changed: 0001_legacy_v1_import: checksum 000000000000 when applied" in out
    assert "validation failed: 1 problem(s)" in out
    assert "changed (now" in _run("migrate", "info", str(target))[1]


def test_dry_run_lists_every_irregular_input_with_its_reason(tmp_path: Path, legacy: Path) -> None:
    code, out = _run("migrate", "--source", str(legacy), "--target", str(tmp_path / "t"), "--dry-run")
    assert code == 0 and not (tmp_path / "t").exists()
    count = int(out.split("irregular inputs: ")[1].split(";")[0])
    listed = [line for line in out.splitlines() if line.startswith("  ") and "): " in line]
    assert count > 0 and len(listed) == count
    assert "  skipped: users/user_000/notes.txt (stray_file): a file in a user directory that is not profile.json" in listed


def test_verify_without_a_manifest_says_so_and_manifest_creates_one(tmp_path: Path, capsys) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.txt").write_text("a")
    assert _run("verify", str(root))[0] == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no manifest (ff_manifest.json)" in err and f"main.py manifest {root}" in err
    code, out = _run("manifest", str(root))
    assert code == 0 and "written: 1 files" in out
    assert _run("verify", str(root)) == (0, f"{root}: manifest verified\n")
    (root / "sub" / "a.txt").write_text("b")
    assert _run("verify", str(root)) == (1, "changed: sub/a.txt\n")
    code, out = _run("manifest", str(root))
    assert code == 0 and "replaced" in out and _run("verify", str(root))[0] == 0


def test_rollback_refuses_when_the_root_changed_and_shows_what_would_be_lost(target: Path, capsys) -> None:
    profile = next(target.rglob("profile.json"))
    profile.write_text("{}")
    (target / "after.txt").write_text("written after the migration")
    log = target / "system" / "migrations.jsonl"
    log.unlink()
    before = ff_build_manifest(target)
    code, out = _run("rollback", str(target))
    assert code == 1
    assert "a rollback would discard:" in out
    assert "  added since the migration: after.txt" in out
    assert "  removed since the migration: system/migrations.jsonl" in out
    assert f"  changed since the migration: {profile.relative_to(target).as_posix()}" in out
    assert "run again with --force" in capsys.readouterr().err
    assert ff_build_manifest(target).same_content(before)  # refused: nothing touched
    code, out = _run("rollback", str(target), "--force")
    assert code == 0 and "--force: discarding" in out and "removed (it did not exist before the migration)" in out
    assert not target.exists()


def test_rollback_of_an_unchanged_root_needs_no_force(tmp_path: Path, legacy: Path) -> None:
    before = ff_build_manifest(legacy)
    assert _run("migrate", "--source", str(legacy), "--target", str(legacy))[0] == 0
    code, out = _run("rollback", str(legacy))
    assert code == 0 and "manifest identical" in out
    assert ff_build_manifest(legacy).same_content(before)
