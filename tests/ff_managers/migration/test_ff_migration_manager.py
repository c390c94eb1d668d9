"""FFMigrationManager: the product's door to the migration engine, and the layering it promises."""

from __future__ import annotations

import ast
from pathlib import Path

import orjson
import pytest

import ff_managers
from ff_class_configs import FFConfigurationManagerConfigDTO, load_config
from ff_managers import FFMemoryLayerManager, FFMigration, FFMigrationManager, FFMigrationRegistry
from ff_managers.ff_migration_manager import LEGACY_IMPORT_ID, MIGRATION_LOG
from ff_utils.ff_errors import FFCorruptionError, FFNotFoundError, FFValidationError
from ff_utils.ff_hashing import ff_build_manifest
from testing.migration import FFLegacyGeneratorConfig, generate_legacy_root

PACKAGE = Path(ff_managers.__file__).resolve().parent
#: Modules of the domain managers (and their private packages): a coordinating manager never imports them.
DOMAIN_MODULES = ("ff_memory_", "ff_panel_", "ff_persona_", "ff_knowledge_", "ff_tool_", "ff_metrics_", "ff_component_base")


@pytest.fixture
def manager(tmp_path: Path) -> FFMigrationManager:
    return FFMigrationManager(load_config(base_path=tmp_path / "unused", environ={}))


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    root = tmp_path / "legacy"
    generate_legacy_root(root, FFLegacyGeneratorConfig(seed=5, users=2, sessions_per_user=2, messages_per_session=4))
    return root


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
    return names


def test_the_migration_reaches_the_domain_managers_only_through_their_public_names() -> None:
    modules = [PACKAGE / "ff_migration_manager.py", *sorted((PACKAGE / "_migration").glob("*.py"))]
    for path in modules:
        for name in _imports(path):
            if not name.startswith("ff_managers."):
                continue
            part = name.split(".")[1]
            assert part == "_migration" or not part.startswith("_"), f"{path.name} imports the private {name}"
            assert not part.startswith(DOMAIN_MODULES), f"{path.name} imports {name}; use `from ff_managers import ...`"


async def test_migrate_verify_rollback_through_the_manager(tmp_path: Path, legacy: Path, manager: FFMigrationManager) -> None:
    target = tmp_path / "target"
    before = ff_build_manifest(legacy)
    assert manager.last_run(target) is None
    run = await manager.migrate(legacy, target)
    assert run.comparison.equivalent and run.migrations_applied == [LEGACY_IMPORT_ID]
    assert (target / MIGRATION_LOG).is_file() and manager.validate_registry(target) == []
    assert manager.verify(target).identical
    assert manager.last_run(target).phase == "done"
    assert manager.work_dir(target) == target.parent / ".target.ff_migration"
    assert manager.rollback(target).file_count == 0 and not target.exists()
    assert manager.last_run(target).phase == "rolled_back"
    assert ff_build_manifest(legacy).same_content(before)
    with pytest.raises(FFValidationError):
        manager.verify(tmp_path / "missing")


def test_scan_legacy_reads_only_and_lists_irregular_items(legacy: Path) -> None:
    before = ff_build_manifest(legacy)
    inventory = FFMigrationManager.scan_legacy(legacy)
    assert len(inventory.users) == 2 and inventory.irregular
    assert all(item.reason for item in inventory.irregular)
    assert ff_build_manifest(legacy).same_content(before)
    with pytest.raises(FFValidationError):
        FFMigrationManager.scan_legacy(legacy / "users" / "user_000")


async def test_a_custom_registry_drives_migrate_and_dry_run(tmp_path: Path, legacy: Path, config: FFConfigurationManagerConfigDTO) -> None:
    async def nothing(context: object) -> None:
        return None

    registry = FFMigrationRegistry([FFMigration("0001_noop", 1, 2, "a step that imports nothing", nothing)])
    manager = FFMigrationManager(config, registry=registry)
    plan = await manager.dry_run(legacy, tmp_path / "target")
    assert plan.migrations == ["0001_noop"] and plan.writes_performed == 0
    run = await manager.migrate(legacy, tmp_path / "target")
    # the no-op step ran instead of the legacy import: the comparison finds the users missing and
    # nothing is swapped in (a run that is not verified applies nothing)
    assert any("missing in target" in line for line in run.comparison.differences)
    assert run.migrations_applied == [] and not (tmp_path / "target").exists()


async def test_a_damaged_journal_is_corruption_naming_the_file(tmp_path: Path, legacy: Path, manager: FFMigrationManager) -> None:
    target = tmp_path / "target"
    await manager.migrate(legacy, target)
    journal = manager.work_dir(target) / "state.json"
    journal.write_text('{"run_id": 7}')
    with pytest.raises(FFCorruptionError) as caught:
        manager.last_run(target)
    assert "state.json" in str(caught.value)
    journal.unlink()
    with pytest.raises(FFNotFoundError):
        manager.rollback(target)


async def test_legacy_messages_with_terminal_colours_migrate_as_they_are(
    tmp_path: Path, legacy: Path, manager: FFMigrationManager
) -> None:
    """Legacy chats hold what tools printed (ANSI colours, a bell); content keeps every control but NUL."""
    log = next(legacy.glob("users/*/chat_session_*/messages.jsonl"))
    lines = log.read_text(encoding="utf-8").splitlines()
    record = orjson.loads(lines[0])
    record["content"] = "build \x1b[31mfailed\x1b[0m \x07 retry"
    lines[0] = orjson.dumps(record).decode()
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")

    run = await manager.migrate(legacy, tmp_path / "target")
    assert run.comparison.equivalent
    user = log.parent.parent.name
    async with FFMemoryLayerManager(load_config(base_path=tmp_path / "target", environ={})) as memory:
        contents = [
            m.content
            for s in await memory.list_sessions(user)
            for m in await memory.get_messages(user, s.session_id, limit=1_000)
        ]
    assert record["content"] in contents
