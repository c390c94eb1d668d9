"""Migration commands (`migrate`, `verify`, `rollback`): thin calls into FFMigrationManager."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from rich.console import Console

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_managers import FFMigrationManager

from ._registry import EXIT_CHECK_FAILED, EXIT_OK, command

def _migrate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", type=Path, required=True, help="legacy (v1) or older data root to read")
    parser.add_argument("--target", type=Path, required=True, help="data root to write (the source itself: upgrade in place)")
    parser.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")


@command("migrate", "migrate a data root (or the legacy layout) to the current schema", _migrate_arguments)
def cmd_migrate(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    migrations = FFMigrationManager(config)
    if args.dry_run:
        plan = asyncio.run(migrations.dry_run(args.source, args.target))
        console.print(f"dry run {plan.source} -> {plan.target}: schema {plan.from_version} -> {plan.to_version} "
                      f"({', '.join(plan.migrations) or 'nothing to do'})")
        for name, count in plan.records.items():
            console.print(f"  {name}: {count:,}")
        console.print(f"  files to write: ~{plan.files_to_write:,}; bytes copied verbatim: {plan.bytes_to_copy:,}; "
                      f"irregular inputs: {len(plan.irregular)}; files written by this dry run: {plan.writes_performed}")
        for mapping in plan.id_map:
            console.print(f"  would map id ({mapping.kind}): {mapping.legacy_id!r} -> {mapping.v2_id} ({mapping.path})")
        return EXIT_OK if plan.writes_performed == 0 else EXIT_CHECK_FAILED
    run = asyncio.run(migrations.migrate(args.source, args.target))
    if run.already_current:
        console.print(f"{run.target}: already at schema {run.to_version}; nothing to do")
        return EXIT_OK
    console.print(f"migrated {run.source} -> {run.target}: schema {run.from_version} -> {run.to_version} in {run.duration_seconds:.1f}s")
    for name, count in run.counts.items():
        console.print(f"  {name}: {count:,}")
    for item in run.irregular:
        if item.action.value in ("skipped", "quarantined"):
            console.print(f"  {item.action.value}: {item.path}{f':{item.line_number}' if item.line_number else ''} ({item.kind}): {item.reason}")
    for mapping in run.id_map:
        console.print(f"  mapped id ({mapping.kind}): {mapping.legacy_id!r} -> {mapping.v2_id} ({mapping.path})")
    for rule in run.comparison.equivalences:
        console.print(f"  equivalence {rule} (settled {run.comparison.forgiven.get(rule.split(':', 1)[0], 0):,})")
    for line in run.comparison.differences:
        console.print(f"  DIFFERENCE: {line}")
    if not run.comparison.equivalent:
        console.print("verification failed: the target was not changed")
        return EXIT_CHECK_FAILED
    console.print(f"verified: {run.comparison.fields_compared:,} fields compared, 0 differences; backup: {run.backup_dir or 'none (new target)'}")
    return EXIT_OK


@command("verify", "recompute a data root's SHA-256 manifest and compare it with ff_manifest.json",
         lambda p: p.add_argument("dir", type=Path, help="data root"))
def cmd_verify(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    diff = FFMigrationManager.verify(args.dir)
    if diff.identical:
        console.print(f"{args.dir}: manifest verified")
        return EXIT_OK
    for kind, paths in (("added", diff.added), ("removed", diff.removed), ("changed", diff.changed)):
        for path in paths:
            console.print(f"{kind}: {path}")
    return EXIT_CHECK_FAILED


@command("rollback", "restore a data root from the backup taken by its last migration",
         lambda p: p.add_argument("dir", type=Path, help="data root"))
def cmd_rollback(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    manifest = FFMigrationManager.rollback(args.dir)
    if not Path(args.dir).exists():
        console.print(f"{args.dir}: removed (it did not exist before the migration)")
    else:
        console.print(f"{args.dir}: restored ({manifest.file_count:,} files, manifest identical to before the migration)")
    return EXIT_OK
