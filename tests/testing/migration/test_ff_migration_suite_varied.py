"""The run-all migration suite's varied roots: green on the real migration, red on a broken one,
and the target check it relies on sees a lost or altered record."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ff_class_configs import load_config
from ff_class_configs.ff_test_result_dtos import FFTestStatus
from ff_managers import FFMigrationManager
from testing import FFIntegrationTestManager
from testing.migration._variations import generate_varied_root, seeded_choose
from testing.migration._variations_check import check_varied_target
from testing.suites.migration import VARIED_ROOTS
from tests._suite_helpers import run_suite


async def test_the_suite_migrates_its_varied_roots_and_records_them(tmp_path: Path) -> None:
    results = await run_suite(tmp_path, "migration", "varied_roots_migrate")
    result = results["varied_roots_migrate"]
    assert result.status == FFTestStatus.PASSED, result.error_message
    roots = result.details["varied_roots"]
    assert len(roots) == VARIED_ROOTS and len({r["seed"] for r in roots}) == VARIED_ROOTS
    assert result.metrics["varied_records"] == sum(r["records"] for r in roots) > 0
    assert [line.split(":", 1)[0] for line in result.details["equivalences"]] == [
        "absent-is-default", "null-is-absent", "same-instant"]


async def test_the_suite_goes_red_when_the_import_refuses_a_variation(tmp_path: Path) -> None:
    """Planted regression: a target that refuses assistant messages. The migration itself lists each
    refused record and goes on; the suite's record-by-record check still goes red."""
    config = load_config(environ={})
    config.memory.allowed_roles = ("user",)
    manager = FFIntegrationTestManager(config, output_dir=tmp_path)
    try:
        outcome = await manager.run_suite("migration", only=["varied_roots_migrate"])
    finally:
        await manager.close()
    result = next(r for r in outcome.results if r.test_id.endswith("varied_roots_migrate"))
    assert result.status != FFTestStatus.PASSED
    assert "landed once" in (result.error_message or ""), result.error_message


def test_the_target_check_sees_a_lost_and_an_altered_record(tmp_path: Path) -> None:
    seed = next(s for s in range(100) if generate_varied_root(tmp_path / f"probe{s}", seeded_choose(s)).records >= 3)
    expected = generate_varied_root(tmp_path / "source", seeded_choose(seed))
    config = load_config(base_path=tmp_path / "unused", environ={})
    run = asyncio.run(FFMigrationManager(config).migrate(tmp_path / "source", tmp_path / "target"))
    assert run.comparison.equivalent, run.comparison.differences
    assert asyncio.run(check_varied_target(expected, tmp_path / "target", config)) == []
    logs = sorted(p for p in (tmp_path / "target" / "users").rglob("messages.jsonl") if p.read_bytes().count(b"\n") >= 1)
    log = logs[0]
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[1:]))  # a record lost
    assert any("found" in p for p in asyncio.run(check_varied_target(expected, tmp_path / "target", config)))
    log.write_bytes(b"".join(lines).replace(b" message ", b" massage ", 1))  # a record's text altered
    assert asyncio.run(check_varied_target(expected, tmp_path / "target", config)) != []
