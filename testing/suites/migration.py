"""Migration suite: prove data survives an upgrade, on legacy data generated from the run's seed.

The project cannot ship real user data, so the suite generates a legacy (v1) root with the seeded
generator, including the irregularities real legacy roots have, and runs the validator on it. It
also generates a few *varied* roots (the variations older writers of the format left: invalid ids,
nulls, epoch times, BOM, CRLF, duplicate ids...; seeds recorded in the report), so a regression in
the legacy reader shows in the report and not only in pytest.
"""

from __future__ import annotations

from pathlib import Path

from ff_class_configs.ff_integration_testing_config import FFTestingLevel
from ff_managers.ff_data_root import ff_ensure_data_root
from ff_managers.ff_migration_manager import LEGACY_IMPORT_ID, MIGRATION_LOG
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_file_ops import ff_remove_tree
from ff_utils.ff_hashing import ff_build_manifest
from ff_utils.ff_json_utils import ff_append_jsonl, ff_read_json, ff_read_jsonl, ff_write_json
from testing._context import FFTestContext
from testing.ff_migration_validator import FFMigrationValidator
from testing.migration._generator import FFLegacyGeneratorConfig, generate_legacy_root
from testing.migration._variations import generate_varied_root, seeded_choose
from testing.migration._variations_check import check_varied_target
from testing.runner import FFChecker, FFSuiteRegistry

__all__ = ["REGISTRY"]

REGISTRY = FFSuiteRegistry("migration", level=FFTestingLevel.MIGRATION)

#: How many varied legacy roots the suite generates (seeds: the run's seed, +1, +2).
VARIED_ROOTS = 3


def _legacy_root(ctx: FFTestContext, name: str) -> Path:
    settings = ctx.config.integration_testing.migration_config
    ff_remove_tree(ctx.run_dir / "migration" / name)  # a retried attempt starts from nothing
    generated = generate_legacy_root(
        ctx.run_dir / "migration" / name,
        FFLegacyGeneratorConfig(
            seed=ctx.config.integration_testing.seed,
            users=settings.generated_users,
            sessions_per_user=settings.generated_sessions_per_user,
        ),
    )
    return Path(generated.root)


@REGISTRY.test("update, verify, rollback and re-apply a legacy data root")
async def full_cycle(ctx: FFTestContext, check: FFChecker) -> None:
    validator = FFMigrationValidator(ctx.config)
    ff_remove_tree(ctx.run_dir / "migration" / "cycle")  # a retried attempt starts from nothing
    with check.step("validate existing data migration"):
        summary = await validator.validate_existing_data_migration(work_dir=ctx.run_dir / "migration" / "cycle")
    check.details["migration"] = summary.model_dump(mode="json")
    if validator.last_validation is not None:  # the comparison's one table of equivalences, and what each settled
        comparison = validator.last_validation.run.comparison
        check.details["equivalences"] = comparison.equivalences
        check.details["forgiven"] = comparison.forgiven
        check.details["mapped_ids"] = [m.model_dump(mode="json") for m in validator.last_validation.run.id_map]
    check.equal(summary.differences, [], "no unexplained difference between source and target")
    check.that(summary.rollback_identical, "rollback restores a byte-identical data root (manifest equal)")
    check.that(summary.reapply_identical, "re-applying after the rollback gives the same result")
    check.at_most(summary.duration_seconds, summary.timeout_minutes * 60, "migration finished within migration.timeout_minutes")
    check.that(summary.files_before > 0 and summary.manifest_digest_before, "a manifest of the source was taken")
    for kind, count in summary.records_source.items():
        if kind in summary.records_target:
            check.equal(summary.records_target[kind], count, f"{kind}: every source record reached the target")
    check.metric("migration_seconds", summary.duration_seconds)


@REGISTRY.test("dry run reports what would change and writes nothing")
async def dry_run_writes_nothing(ctx: FFTestContext, check: FFChecker) -> None:
    source = _legacy_root(ctx, "dry_run_source")
    target = ctx.run_dir / "migration" / "dry_run_target"
    before = ff_build_manifest(source)
    with check.step("dry run"):
        plan = await FFMigrationValidator(ctx.config).dry_run(source, target)
    check.equal(plan.writes_performed, 0, "the dry run says it wrote nothing")
    check.that(not target.exists(), "the target folder was not created")
    check.that(ff_build_manifest(source).same_content(before), "the source is byte-identical after the dry run")
    check.at_least(plan.records.get("messages", 0), 1, "the plan counts the messages it would import")
    check.at_least(plan.files_to_write, 1, "the plan counts the files it would write")
    # The generated root holds the irregularities real roots have (stray files, links...): the
    # plan must list them, since the dry run is how a user learns what a migration will skip.
    check.at_least(len(plan.irregular), 1, "the plan lists the irregular items the migration would skip")
    # The generated vector stores are well-formed (the index holds one line per embedding): an
    # item listed under one means the reader misread an index line, not that the root is damaged.
    check.equal([f"{i.path}:{i.line_number} {i.kind}" for i in plan.irregular if "/vectors/" in i.path], [],
                "the plan lists nothing inside the generated vector stores")
    # What is copied byte for byte: the vector stores and the documents' sources (not their metadata).
    copied = sum(e.size for e in before.entries
                 if "/vectors/" in e.path or ("/documents/" in e.path and not e.path.endswith("/metadata.json")))
    check.equal(plan.bytes_to_copy, copied, "the plan counts the bytes of the vector stores and documents it copies")
    check.equal(plan.source_bytes, sum(e.size for e in before.entries), "the plan's source size is the bytes of the source's files")


@REGISTRY.test("corrupt legacy input is quarantined and the original left untouched")
async def corrupt_input_quarantined(ctx: FFTestContext, check: FFChecker) -> None:
    source = _legacy_root(ctx, "corrupt_source")
    messages = sorted(source.rglob("messages.jsonl"))
    profiles = sorted(source.rglob("profile.json"))
    check.require(messages and profiles, "the generated root has messages and profiles to corrupt")
    with messages[0].open("ab") as handle:  # a writer that died mid-line
        handle.write(b'{"role": "user", "content": "torn')
    profiles[0].write_bytes(b"\x00\xff garbage \x89PNG")
    before = ff_build_manifest(source)
    config = ctx.config.model_copy(deep=True)
    config.migration.corrupt_input_policy = "quarantine"
    with check.step("migrate with the quarantine policy"):
        run = await FFMigrationValidator(config).migrate(source, ctx.run_dir / "migration" / "corrupt_target")
    kinds = {(item.path.rsplit("/", 1)[-1], item.action.value) for item in run.irregular}
    check.that(any(name == "messages.jsonl" and action == "quarantined" for name, action in kinds),
               "the torn messages line is reported as quarantined", f"irregular items: {sorted(kinds)}")
    check.that(any(name == "profile.json" and action == "quarantined" for name, action in kinds),
               "the garbage profile is reported as quarantined", f"irregular items: {sorted(kinds)}")
    check.that(run.comparison.equivalent, "everything that was readable migrated without difference",
               "; ".join(run.comparison.differences[:3]))
    check.that(ff_build_manifest(source).same_content(before), "the original legacy root is byte-identical")


@REGISTRY.test("the applied-migrations log detects a changed migration")
async def registry_detects_tampering(ctx: FFTestContext, check: FFChecker) -> None:
    source = _legacy_root(ctx, "registry_source")
    target = ctx.run_dir / "migration" / "registry_target"
    validator = FFMigrationValidator(ctx.config)
    await validator.migrate(source, target)
    check.equal(validator.validate_registry(target), [], "a freshly migrated root's log matches the registry")
    log = target / MIGRATION_LOG
    entries = list(ff_read_jsonl(log))
    check.require(entries, "the migration was logged")
    entries[0]["checksum"] = "0" * 64  # as if the migration's code had changed since it was applied
    log.unlink()
    ff_append_jsonl(log, entries, many=True)
    problems = validator.validate_registry(target)
    check.that(any(p.problem == "changed" for p in problems), "validate reports the changed migration", f"got {problems}")


@REGISTRY.test("varied legacy roots (ids, nulls, epoch times, BOM, CRLF, duplicates) migrate record by record")
async def varied_roots_migrate(ctx: FFTestContext, check: FFChecker) -> None:
    base_seed = ctx.config.integration_testing.seed
    validator = FFMigrationValidator(ctx.config)
    roots: list[dict[str, object]] = []
    for offset in range(VARIED_ROOTS):
        seed = base_seed + offset
        work = ctx.run_dir / "migration" / f"varied_{seed}"
        ff_remove_tree(work)  # a retried attempt starts from nothing
        expected = generate_varied_root(work / "source", seeded_choose(seed))
        with check.step(f"migrate the varied root of seed {seed}"):
            run = await validator.migrate(work / "source", work / "target")
        problems = await check_varied_target(expected, work / "target", ctx.config) if run.comparison.equivalent else []
        listed = {f"{i.path}:{i.line_number}" for i in run.irregular if i.line_number}
        roots.append({"seed": seed, "records": expected.records, "choices": expected.choices,
                      "mapped_ids": len(run.id_map), "unrecoverable_lines": len(expected.unreadable_lines),
                      "refused_by_a_manager": sum(1 for i in run.irregular if i.kind == "record_refused"),
                      "forgiven": run.comparison.forgiven})
        check.equal(run.comparison.differences, [], f"seed {seed}: source and target agree field by field")
        check.equal(problems, [], f"seed {seed}: all {expected.records} readable record(s) landed once, text byte for byte")
        missing = [line for line in expected.unreadable_lines if line not in listed]
        check.equal(missing, [], f"seed {seed}: every unreadable line is listed with its reason")
        check.that(validator.verify(work / "target").identical, f"seed {seed}: the target's manifest verifies")
        if offset == 0:
            check.details["equivalences"] = run.comparison.equivalences
    check.details["varied_roots"] = roots
    check.metric("varied_records", sum(int(r["records"]) for r in roots))  # type: ignore[call-overload]


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@REGISTRY.test("a data root written by a newer release is refused, not reported current")
async def newer_root_refused(ctx: FFTestContext, check: FFChecker) -> None:
    work = ctx.run_dir / "migration" / "newer"
    ff_remove_tree(work)  # a retried attempt starts from nothing
    root = work / "root"
    ff_ensure_data_root(root)
    meta = ff_read_json(root / "ff_meta.json")
    ff_write_json(root / "ff_meta.json", {**meta, "schema_version": meta["schema_version"] + 1})
    listing = _listing(work)
    validator = FFMigrationValidator(ctx.config)
    with check.raises(FFValidationError, "migrating it in place is refused"):
        await validator.migrate(root, root)
    with check.raises(FFValidationError, "migrating it elsewhere is refused"):
        await validator.migrate(root, work / "target")
    with check.raises(FFValidationError, "its dry run is refused"):
        await validator.dry_run(root, work / "target")
    check.equal(_listing(work), listing, "nothing was written (no target, journal or backup)")


@REGISTRY.test("a source that is not a folder, or a target inside the source, is refused naming the field")
async def bad_paths_refused(ctx: FFTestContext, check: FFChecker) -> None:
    work = ctx.run_dir / "migration" / "bad_paths"
    ff_remove_tree(work)  # a retried attempt starts from nothing
    folder = work / "source"
    folder.mkdir(parents=True)
    a_file = work / "source.txt"
    a_file.write_text("not a data root")
    listing = _listing(work)
    validator = FFMigrationValidator(ctx.config)
    for label, source, target, field in (("a source that is a file", a_file, work / "target", "source"),
                                         ("a target inside the source", folder, folder / "inner", "target")):
        try:
            await validator.migrate(source, target)
        except FFValidationError as exc:
            check.equal(exc.field, field, f"{label} is refused as FFValidationError naming field {field!r}")
        else:
            check.that(False, f"{label} is refused", "nothing was raised")
    check.equal(_listing(work), listing, "nothing was written")


@REGISTRY.test("the applied-migrations log check reports every problem, not only the first")
async def registry_reports_every_problem(ctx: FFTestContext, check: FFChecker) -> None:
    root = ctx.run_dir / "migration" / "registry_problems"
    ff_remove_tree(root)
    ff_ensure_data_root(root)
    entry = {"from_version": 1, "to_version": 2, "applied_at": "2026-01-01T00:00:00+00:00", "duration_seconds": 1.0}
    ff_append_jsonl(root / MIGRATION_LOG, [  # one this release no longer knows, then a changed one
        {**entry, "migration_id": "0000_retired", "checksum": "1" * 64},
        {**entry, "migration_id": LEGACY_IMPORT_ID, "checksum": "0" * 64},
    ], many=True)
    problems = FFMigrationValidator(ctx.config).validate_registry(root)
    check.equal(sorted((p.migration_id, p.problem) for p in problems),
                [("0000_retired", "missing"), (LEGACY_IMPORT_ID, "changed")], "both problems are reported")


# A hand-written legacy root whose every detail is known, from surviving mutants of _migration.
from testing.suites import _migration_details  # noqa: E402, F401
