"""A data root written by a newer FF Platform (schema version above the registry's latest) is
refused by migrate and by the dry run, with a typed error and nothing written, and the CLI says
so in one line. Before the fix such a root was reported "already current" (from 3 to 3), which a
user could read as "this release handles it"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_managers import FFMigrationManager
from ff_managers._migration.backup import work_dir_for
from ff_managers.ff_data_root import ff_ensure_data_root
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_hashing import ff_build_manifest
from tests._cli import clean_cli_environment, run_cli


def _newer_root(root: Path, version: int = 3) -> Path:
    """A data root whose ff_meta.json says ``version`` and that holds one file besides."""
    ff_ensure_data_root(root)
    meta_path = root / "ff_meta.json"
    meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), "schema_version": version}))
    (root / "users").mkdir()
    (root / "users" / "note.txt").write_text("written by a newer release")
    return root


@pytest.fixture
def manager(tmp_path: Path) -> FFMigrationManager:
    return FFMigrationManager(load_config(base_path=tmp_path / "unused", environ={}))


def _snapshot(tmp_path: Path) -> list[str]:
    return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))


@pytest.mark.parametrize("where", ["in_place", "elsewhere"])
async def test_migrating_a_root_of_a_newer_schema_is_refused_and_writes_nothing(
    tmp_path: Path, manager: FFMigrationManager, where: str
) -> None:
    root = _newer_root(tmp_path / "root")
    target = root if where == "in_place" else tmp_path / "target"
    manifest = ff_build_manifest(root)
    listing = _snapshot(tmp_path)
    with pytest.raises(FFValidationError) as caught:
        await manager.migrate(root, target)
    error = caught.value
    assert "schema version 3" in str(error) and "newer" in str(error) and "\n" not in str(error)
    assert (error.field, error.value) == ("schema_version", 3)
    assert Path(error.path) == root.resolve()
    assert ff_build_manifest(root).same_content(manifest)
    assert _snapshot(tmp_path) == listing  # no target, no work directory, no journal
    assert not work_dir_for(target.resolve()).exists()


async def test_the_dry_run_of_a_root_of_a_newer_schema_is_refused(tmp_path: Path, manager: FFMigrationManager) -> None:
    root = _newer_root(tmp_path / "root", version=7)
    listing = _snapshot(tmp_path)
    with pytest.raises(FFValidationError) as caught:
        await manager.dry_run(root, tmp_path / "target")
    assert (caught.value.field, caught.value.value) == ("schema_version", 7)
    assert "schema version 7" in str(caught.value) and "knows" in str(caught.value)
    assert _snapshot(tmp_path) == listing


async def test_a_root_at_the_latest_version_is_still_already_current(tmp_path: Path, manager: FFMigrationManager) -> None:
    """The refusal starts just above the latest version: a root at it is not refused."""
    root = _newer_root(tmp_path / "root", version=manager.registry.latest_version)
    run = await manager.migrate(root, root)
    assert run.already_current and (run.from_version, run.to_version) == (2, 2)
    plan = await manager.dry_run(root, tmp_path / "target")
    assert (plan.from_version, plan.to_version, plan.migrations) == (2, 2, [])


def test_the_cli_refuses_a_root_of_a_newer_schema_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    clean_cli_environment(monkeypatch, tmp_path)
    root = _newer_root(tmp_path / "root")
    manifest = ff_build_manifest(root)
    for extra in ([], ["--dry-run"]):
        code, out = run_cli("migrate", "--source", str(root), "--target", str(root), *extra)
        assert code == 2, out
        assert "already" not in out
        err = capsys.readouterr().err.strip()
        assert err.startswith("FFValidationError: ") and "schema version 3" in err and "\n" not in err
    assert ff_build_manifest(root).same_content(manifest)
    assert not work_dir_for(root.resolve()).exists()
