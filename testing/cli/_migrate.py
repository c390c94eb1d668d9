"""Migration commands, like Flyway's: `migrate` (and its `info`, `validate`), `manifest`, `verify`, `rollback`.

``migrate`` keeps its original form and gains actions, so nothing a user scripted breaks::

    migrate --source A --target B [--dry-run]   migrate (or plan) as before
    migrate info DIR [--json]                   where DIR stands: version, applied, checksums, pending
    migrate validate DIR                        DIR's history against this version's registry

The actions are sub-commands of ``migrate`` that argparse treats as optional, so ``--source`` and
``--target`` are checked here (not by argparse) and only when no action is given. Every command is
a thin call into :class:`FFMigrationManager`; exit codes are the CLI's (0 ok, 1 a check failed or a
rollback was refused, 2 bad usage or input).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ff_class_configs import FFConfigurationManagerConfigDTO, FFMigrationDriftDTO, FFMigrationInfoDTO
from ff_managers import FFMigrationManager
from ff_utils.ff_hashing import FF_MANIFEST_NAME

from ._registry import EXIT_CHECK_FAILED, EXIT_OK, EXIT_USAGE, command, program_name

__all__ = ["cmd_manifest", "cmd_migrate", "cmd_rollback", "cmd_verify"]

_ACTIONS_HELP = "without an action: migrate --source DIR --target DIR [--dry-run]"


def _migrate_arguments(parser: argparse.ArgumentParser) -> None:
    # argparse would print the optional action as if it were required; say the three forms instead.
    parser.usage = ("%(prog)s --source DIR --target DIR [--dry-run]\n"
                    "       %(prog)s info DIR [--json]      (alias: history)\n"
                    "       %(prog)s validate DIR")
    parser.add_argument("--source", type=Path, help="legacy (v1) or older data root to read")
    parser.add_argument("--target", type=Path, help="data root to write (the source itself: upgrade in place)")
    parser.add_argument("--dry-run", action="store_true", help="show what would change and every irregular input; write nothing")
    actions = parser.add_subparsers(dest="migrate_action", metavar="ACTION", title="actions", description=_ACTIONS_HELP,
                                    prog=parser.prog,  # not derived from the custom usage above
                                    help="info DIR or validate DIR (none: migrate --source/--target)")
    info = actions.add_parser("info", aliases=["history"], help="schema version, applied migrations with checksums, pending ones",
                              description="where a data root stands: its schema version, each applied migration with "
                                          "its checksum (then and now), the migrations still to run, the last run")
    info.add_argument("dir", type=Path, help="data root (or legacy v1 root)")
    info.add_argument("--json", action="store_true", help="print the information as JSON")
    validate = actions.add_parser("validate", help="check the applied migrations against this version's checksums",
                                  description="exit 1 and list each problem when an applied migration changed, is no "
                                              "longer known, ran out of order, or ff_meta.json disagrees with the log")
    validate.add_argument("dir", type=Path, help="data root")


def _usage_error(message: str) -> int:
    print(f"{program_name()} migrate: error: {message}", file=sys.stderr)
    return EXIT_USAGE


@command("migrate", "migrate a data root (or the legacy layout) to the current schema; `migrate info|validate DIR`",
         _migrate_arguments)
def cmd_migrate(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    migrations = FFMigrationManager(config)
    if args.migrate_action is not None:
        if args.source or args.target or args.dry_run:
            return _usage_error(f"--source, --target and --dry-run do not go with `migrate {args.migrate_action}`")
        if args.migrate_action == "validate":
            return _validate(migrations, args.dir, console)
        info = migrations.info(args.dir)
        if args.json:
            console.print_json(info.model_dump_json())
        else:
            _print_info(info, console)
        return EXIT_OK
    if args.source is None or args.target is None:
        return _usage_error("--source and --target are required (or an action: migrate info DIR, migrate validate DIR)")
    if args.dry_run:
        return _dry_run(migrations, args.source, args.target, console)
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
        console.print(f"  mapped id ({mapping.kind}): {mapping.legacy_id!r} -> {mapping.v2_id} ({mapping.path})",
                      markup=False, highlight=False)
    for rule in run.comparison.equivalences:
        console.print(f"  equivalence {rule} (settled {run.comparison.forgiven.get(rule.split(':', 1)[0], 0):,})",
                      markup=False, highlight=False)
    for line in run.comparison.differences:
        console.print(f"  DIFFERENCE: {line}")
    if not run.comparison.equivalent:
        console.print("verification failed: the target was not changed")
        return EXIT_CHECK_FAILED
    console.print(f"verified: {run.comparison.fields_compared:,} fields compared, 0 differences; backup: {run.backup_dir or 'none (new target)'}")
    return EXIT_OK


def _dry_run(migrations: FFMigrationManager, source: Path, target: Path, console: Console) -> int:
    plan = asyncio.run(migrations.dry_run(source, target))
    console.print(f"dry run {plan.source} -> {plan.target}: schema {plan.from_version} -> {plan.to_version} "
                  f"({', '.join(plan.migrations) or 'nothing to do'})")
    for name, count in plan.records.items():
        console.print(f"  {name}: {count:,}")
    console.print(f"  files to write: ~{plan.files_to_write:,}; bytes copied verbatim: {plan.bytes_to_copy:,}; "
                  f"irregular inputs: {len(plan.irregular)}; files written by this dry run: {plan.writes_performed}")
    for item in plan.irregular:
        where = f"{item.path}:{item.line_number}" if item.line_number else item.path
        console.print(f"  {item.action.value}: {where} ({item.kind}): {item.reason}", markup=False, highlight=False)
    for mapping in plan.id_map:
        console.print(f"  would map id ({mapping.kind}): {mapping.legacy_id!r} -> {mapping.v2_id} ({mapping.path})",
                      markup=False, highlight=False)
    return EXIT_OK if plan.writes_performed == 0 else EXIT_CHECK_FAILED


def _print_info(info: FFMigrationInfoDTO, console: Console) -> None:
    layout = "legacy v1 root" if info.layout == "legacy_v1" else "FF data root"
    console.print(f"{info.root}: {layout}, schema version {info.schema_version} (latest known: {info.latest_version})",
                  markup=False, highlight=False)
    table = Table("version", "migration", "description", "applied at", "duration", "checksum", "state")
    for row in info.applied:
        table.add_row(f"{row.from_version} -> {row.to_version}", row.migration_id, row.description,
                      f"{row.applied_at:%Y-%m-%d %H:%M:%S %Z}", f"{row.duration_seconds:.1f} s", row.checksum[:12],
                      row.state if row.state != "changed" else f"changed (now {(row.checksum_now or '')[:12]})")
    for step in info.pending:
        table.add_row(f"{step.from_version} -> {step.to_version}", step.migration_id, step.description, "", "",
                      step.checksum[:12], "pending")
    if table.rows:
        console.print(table)
    console.print(f"applied: {len(info.applied)}; pending: {len(info.pending)}"
                  + ("" if info.applied or info.pending else " (created at the current schema; nothing to migrate)"))
    if info.last_run is not None:
        run = info.last_run
        rollback = (f"rollback restores {'the backup ' + run.backup_dir if run.backup_dir else 'the empty state (removes the root)'}"
                    if run.rollback_available else "no rollback available")
        console.print(f"last run: {run.run_id} ({run.phase}, started {run.started_at:%Y-%m-%d %H:%M:%S %Z}); {rollback}",
                      markup=False, highlight=False)


def _validate(migrations: FFMigrationManager, root: Path, console: Console) -> int:
    problems = migrations.validate(root)
    info = migrations.info(root)
    if not problems:
        console.print(f"{root}: valid: {len(info.applied)} applied migration(s) match this version's checksums; "
                      f"schema {info.schema_version}, {len(info.pending)} pending", markup=False, highlight=False)
        return EXIT_OK
    for problem in problems:
        console.print(f"{problem.problem}: {problem.migration_id}: {problem.detail}", markup=False, highlight=False)
    console.print(f"{root}: validation failed: {len(problems)} problem(s)", markup=False, highlight=False)
    return EXIT_CHECK_FAILED


def _manifest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", type=Path, help="data root (or any folder)")


@command("manifest", f"hash every file of a folder into its {FF_MANIFEST_NAME} (what `verify` compares with)", _manifest_arguments)
def cmd_manifest(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    existed = (args.dir / FF_MANIFEST_NAME).is_file()
    manifest = FFMigrationManager.write_manifest(args.dir)
    console.print(f"{args.dir / FF_MANIFEST_NAME}: {'replaced' if existed else 'written'}: {manifest.file_count:,} files, "
                  f"{manifest.total_bytes:,} bytes (SHA-256)", markup=False, highlight=False)
    return EXIT_OK


@command("verify", f"recompute a folder's SHA-256 manifest and compare it with its {FF_MANIFEST_NAME}",
         lambda p: p.add_argument("dir", type=Path, help="data root (or any folder with a manifest)"))
def cmd_verify(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    if args.dir.is_dir() and not (args.dir / FF_MANIFEST_NAME).exists():
        print(f"{program_name()} verify: {args.dir} has no manifest ({FF_MANIFEST_NAME}) to compare with; "
              f"create one with: {program_name()} manifest {args.dir}", file=sys.stderr)
        return EXIT_USAGE
    diff = FFMigrationManager.verify(args.dir)
    if diff.identical:
        console.print(f"{args.dir}: manifest verified", markup=False, highlight=False)
        return EXIT_OK
    for kind, paths in (("added", diff.added), ("removed", diff.removed), ("changed", diff.changed)):
        for path in paths:
            console.print(f"{kind}: {path}", markup=False, highlight=False)
    return EXIT_CHECK_FAILED


def _rollback_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", type=Path, help="data root")
    parser.add_argument("--force", action="store_true",
                        help="roll back even if the root changed after the migration (those changes are lost)")


def _print_drift(drift: FFMigrationDriftDTO, console: Console) -> None:
    for kind, paths in (("added", drift.added), ("removed", drift.removed), ("changed", drift.modified)):
        for path in paths:
            console.print(f"  {kind} since the migration: {path}", markup=False, highlight=False)
    if not drift.paths_known:
        console.print("  (the post-migration manifest is gone, so which files changed is not known)")


@command("rollback", "restore a data root from the backup taken by its last migration (refused if it changed since, unless --force)",
         _rollback_arguments)
def cmd_rollback(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    state = FFMigrationManager.last_run(args.dir)
    if state is not None and state.phase == "done":  # other phases: rollback recovers or refuses by itself
        drift = FFMigrationManager.changes_since_migration(args.dir)
        if drift.changed and not args.force:
            console.print(f"{args.dir} changed after its migration {drift.run_id}; a rollback would discard:",
                          markup=False, highlight=False)
            _print_drift(drift, console)
            print(f"{program_name()} rollback: refused: {args.dir} changed after the migration; "
                  "run again with --force to discard those changes", file=sys.stderr)
            return EXIT_CHECK_FAILED
        if drift.changed:
            console.print(f"--force: discarding what changed in {args.dir} after the migration:", markup=False, highlight=False)
            _print_drift(drift, console)
    manifest = FFMigrationManager.rollback(args.dir)
    if not Path(args.dir).exists():
        console.print(f"{args.dir}: removed (it did not exist before the migration)", markup=False, highlight=False)
    else:
        console.print(f"{args.dir}: restored ({manifest.file_count:,} files, manifest identical to before the migration)",
                      markup=False, highlight=False)
    return EXIT_OK
