"""The storage and report defects of the catalogue really change behaviour (a direct probe each).

Each probe calls the planted function's public entry point on a small case and returns what a
caller would observe; the probe must observe something else with the defect planted than without
it. (That the suites then turn red is ``test_suite_component_contracts``' job.)
"""

from __future__ import annotations

import os
import types
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs.ff_test_result_dtos import FFPerformanceSummaryDTO
from ff_utils import _jsonl_append, ff_file_ops, ff_hashing
from ff_utils.ff_encryption import (
    FFEncryptionMiddleware,
    ff_generate_key_text,
    ff_parse_key,
)
from ff_utils.ff_errors import FFError, FFStorageError, FFValidationError
from ff_utils.ff_json_utils import ff_dumps
from ff_utils.ff_locks import ff_file_lock, ff_lock_path
from ff_utils.ff_store import FFStore
from testing import _load
from testing.reporting import (
    FFRunHistory,
    compare_runs,
    render_html,
    render_json,
    render_junit,
    write_reports,
)
from testing.suites._report_contracts import _T0, known_report
from tests._planted import planted
from tests.ff_managers.knowledge.planted_defects import DEFECTS as KNOWLEDGE_DEFECTS
from tests.ff_managers.panel.planted_defects import DEFECTS as PANEL_DEFECTS
from tests.planted_defects.reports import DEFECTS as REPORT_DEFECTS
from tests.planted_defects.storage import DEFECTS as STORAGE_DEFECTS

LISTING_DEFECTS = tuple(d for d in (*KNOWLEDGE_DEFECTS, *PANEL_DEFECTS) if d.test == "stray_files_ignored")

_TORN = b'{"i": 9}'


def _log(tmp: Path, n: int = 5, torn: bool = False) -> tuple[FFStore, Path]:
    store = FFStore(tmp)
    log = store.path("log.jsonl")
    store.append_many(log, [{"i": i} for i in range(n)])
    if torn:
        with open(log, "ab") as handle:
            handle.write(_TORN)
    return store, log


def _on_log(tmp: Path, torn: bool, read: Callable[[FFStore, Path], Any]) -> Any:
    return read(*_log(tmp, torn=torn))


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except FFError as exc:
        return type(exc).__name__


def _reader_after_replace(tmp: Path) -> bytes:
    doc = tmp / "doc.json"
    ff_file_ops.ff_atomic_write(doc, b"old" * 100)
    with open(doc, "rb") as reader:
        ff_file_ops.ff_atomic_write(doc, b"new")
        return reader.read()


def _spy_os(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, fail: bool) -> list[int]:
    calls: list[int] = []
    real = getattr(module.os, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if fail:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    fake = types.SimpleNamespace(**vars(module.os))
    setattr(fake, name, spy)
    monkeypatch.setattr(module, "os", fake)
    return calls


def _fsyncs(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    with monkeypatch.context() as patch:
        calls = _spy_os(patch, ff_file_ops, "fsync", fail=False)
        ff_file_ops.ff_atomic_write(tmp / "doc.json", b"data")
    return len(calls)


def _temp_after_failed_replace(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    with monkeypatch.context() as patch:
        _spy_os(patch, ff_file_ops, "replace", fail=True)
        _outcome(lambda: ff_file_ops.ff_atomic_write(tmp / "doc.json", b"data"))
    return sorted(os.listdir(tmp))


def _size_after_failed_append(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    store, log = _log(tmp, 2)
    with monkeypatch.context() as patch:
        _spy_os(patch, _jsonl_append, "fsync", fail=True)
        _outcome(lambda: store.append(log, {"never": "acknowledged"}))
    return log.stat().st_size


def _take(lock: Any) -> str:
    with lock:
        return "taken"


def _locked_elsewhere(tmp: Path) -> Any:
    """Try to take a file's lock while another process holds it (it must time out)."""
    import subprocess
    import sys

    from ff_utils.ff_locks import ff_file_lock

    target = tmp / "doc.json"
    code = "import sys\nfrom ff_utils.ff_locks import ff_file_lock\nwith ff_file_lock(sys.argv[1]):\n print('held', flush=True)\n sys.stdin.readline()\n"
    with subprocess.Popen([sys.executable, "-c", code, str(target)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          cwd=Path(__file__).resolve().parents[3]) as child:
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == b"held"
            return _outcome(lambda: _take(ff_file_lock(target, timeout=0.2)))
        finally:
            child.kill()


def _encrypted(tmp: Path) -> tuple[FFStore, Path]:
    store = FFStore(tmp, middleware=FFEncryptionMiddleware(ff_parse_key(ff_generate_key_text(), source="test")))
    log = store.path("a.jsonl")
    store.append_many(log, [{"same": 1}, {"same": 1}])
    return store, log


def _moved_record(tmp: Path) -> list[Any]:
    store, log = _encrypted(tmp)
    other = store.path("b.jsonl")
    with open(other, "wb") as handle:
        handle.write(log.read_bytes().splitlines()[0] + b"\n")
    return list(store.read_jsonl(other, on_bad_line=lambda _b: None))


def _rotated(tmp: Path) -> tuple[set[Any], bytes]:
    """Key ids of the files after a rotation, and the log's last bytes."""
    from ff_utils.ff_key_rotation import ff_reencrypt_tree

    old, new = (ff_parse_key(ff_generate_key_text(), source="test") for _ in range(2))
    store = FFStore(tmp, middleware=FFEncryptionMiddleware(old))
    store.write_json(store.path(".hidden.json"), {"a": 1})
    store.append(store.path("log.jsonl"), {"b": 2})
    with open(tmp / "log.jsonl", "ab") as handle:
        handle.write(b"torn")
    ff_reencrypt_tree(tmp, old=old, new=new, fsync=False)
    ids = {FFEncryptionMiddleware.key_id_of((tmp / ".hidden.json").read_bytes()) == new.key_id}
    return ids, (tmp / "log.jsonl").read_bytes()[-4:]


def _tree(tmp: Path) -> Path:
    for name, data in {"a": b"a", "empty": b"", ".hidden": b"h"}.items():
        (tmp / name).write_bytes(data)
    return tmp


def _same_size_change(tmp: Path) -> list[str]:
    manifest = ff_hashing.ff_build_manifest(_tree(tmp))
    (tmp / "a").write_bytes(b"b")
    return ff_hashing.ff_diff_manifests(manifest, ff_hashing.ff_build_manifest(tmp)).changed


def _listing(tmp: Path) -> list[tuple[str, bool, bool]]:
    store = FFStore(tmp / "root")
    (tmp / "root" / "d").mkdir(parents=True)
    os.symlink(tmp / "root" / "d", tmp / "root" / "l")
    return [(e.name, e.is_dir, e.is_symlink) for e in store.list_dir(store.root)]


def _through_link(tmp: Path) -> Any:
    (tmp / "root").mkdir()
    (tmp / "outside").mkdir()
    os.symlink(tmp / "outside", tmp / "root" / "l")
    store = FFStore(tmp / "root")
    return _outcome(lambda: store.write_bytes(store.root / "l" / "x", b"x")) or (tmp / "outside" / "x").exists()


def _removed_through_link(tmp: Path) -> Any:
    (tmp / "root").mkdir()
    (tmp / "outside" / "sub").mkdir(parents=True)
    (tmp / "outside" / "sub" / "keep").write_bytes(b"keep")
    os.symlink(tmp / "outside", tmp / "root" / "l")
    store = FFStore(tmp / "root")
    return _outcome(lambda: store.remove_tree(store.root / "l" / "sub")), (tmp / "outside" / "sub" / "keep").exists()


def _tail_page_through_link(tmp: Path) -> Any:
    (tmp / "root").mkdir()
    (tmp / "outside").mkdir()
    (tmp / "outside" / "log.jsonl").write_bytes(b'{"a":1}\n{"a":2}\n')
    os.symlink(tmp / "outside", tmp / "root" / "l")
    store = FFStore(tmp / "root")
    return _outcome(lambda: store.tail_jsonl_page(store.root / "l" / "log.jsonl", 3))


def _lock_through_link(tmp: Path) -> Any:
    (tmp / "root").mkdir()
    (tmp / "outside").mkdir()
    os.symlink(tmp / "outside", tmp / "root" / "l")
    store = FFStore(tmp / "root")

    def hold() -> None:
        with store.lock(store.root / "l" / "doc.json"):
            pass

    return _outcome(hold), sorted(os.listdir(tmp / "outside"))


def _manifest_past_symlink(tmp: Path) -> list[str]:
    _tree(tmp)
    os.symlink(tmp / "a", tmp / "b-link")  # sorted before "empty": the walk must go on past it
    return [e.path for e in ff_hashing.ff_build_manifest(tmp).entries]


def _key_named_by_config(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from ff_class_configs import FFStorageConfigDTO

    monkeypatch.setenv("FF_PROBE_KEY", ff_generate_key_text())
    monkeypatch.delenv("FF_ENCRYPTION_KEY", raising=False)
    return FFStore.from_config(FFStorageConfigDTO(base_path=tmp, encryption_key_env="FF_PROBE_KEY")).encrypted


def _repaired_at_block_start(tmp: Path) -> Any:
    log = tmp / "log.jsonl"
    log.write_bytes(b'{"a":1}\n' + b"x" * (16 * 1024 - 1))  # the newline is the last block's first byte
    store = FFStore(tmp)
    return store.repair_jsonl(log), log.read_bytes()[:8]


STORAGE_PROBES: dict[str, Callable[[Path, pytest.MonkeyPatch], Any]] = {
    "atomic_write_in_place": lambda tmp, mp: _reader_after_replace(tmp),
    "atomic_write_never_fsyncs": _fsyncs,
    "atomic_write_leaves_temp": _temp_after_failed_replace,
    "append_without_lock": lambda tmp, mp: sorted(os.listdir(_log(tmp)[1].parent)),  # the lock file of the append
    "lock_within_process_only": lambda tmp, mp: _locked_elsewhere(tmp),
    "append_not_rolled_back": _size_after_failed_append,
    "record_limit_one_early": lambda tmp, mp: _outcome(
        lambda: FFStore(tmp, max_record_bytes=len(ff_dumps({"a": "xx"}))).append(tmp / "l.jsonl", {"a": "xx"})),
    "read_keeps_torn_line": lambda tmp, mp: _on_log(tmp, True, lambda s, log: list(s.read_jsonl(log, on_bad_line=lambda _b: None))),
    "tail_one_short": lambda tmp, mp: _on_log(tmp, False, lambda s, log: s.tail_jsonl(log, 3)),
    "tail_page_one_short": lambda tmp, mp: _on_log(tmp, False, lambda s, log: s.tail_jsonl_page(log, 3)),
    "count_includes_torn_line": lambda tmp, mp: _on_log(tmp, True, lambda s, log: s.count_lines(log)),
    "repair_cuts_last_newline": lambda tmp, mp: _on_log(tmp, True, lambda s, log: (s.repair_jsonl(log), log.read_bytes())),
    "encryption_aad_not_bound_to_file": lambda tmp, mp: _moved_record(tmp),
    "encryption_nonce_reused_per_file": lambda tmp, mp: len(set(_encrypted(tmp)[1].read_bytes().splitlines())),
    "rotation_skips_hidden_files": lambda tmp, mp: _rotated(tmp),
    "rotation_drops_torn_tail": lambda tmp, mp: _rotated(tmp),
    "manifest_skips_hidden_files": lambda tmp, mp: [e.path for e in ff_hashing.ff_build_manifest(_tree(tmp)).entries],
    "manifest_stops_at_symlink": lambda tmp, mp: _manifest_past_symlink(tmp),
    "manifest_skips_empty_files": lambda tmp, mp: [e.path for e in ff_hashing.ff_build_manifest(_tree(tmp)).entries],
    "manifest_compared_by_size": lambda tmp, mp: _same_size_change(tmp),
    "listing_follows_symlinks": lambda tmp, mp: _listing(tmp),
    "symlinks_below_root_followed": lambda tmp, mp: _through_link(tmp),
    "remove_tree_follows_link_on_the_way": lambda tmp, mp: _removed_through_link(tmp),
    "repair_misses_newline_at_block_start": lambda tmp, mp: _repaired_at_block_start(tmp),
    "store_remove_tree_without_root": lambda tmp, mp: _removed_through_link(tmp),
    "store_tail_page_without_root": lambda tmp, mp: _tail_page_through_link(tmp),
    "store_lock_without_root": lambda tmp, mp: _lock_through_link(tmp),
    "store_key_variable_ignored": _key_named_by_config,
    "space_refused_in_names": lambda tmp, mp: _outcome(lambda: FFStore(tmp).path("my notes.txt").name),
    "path_refusal_without_value": lambda tmp, mp: _refusal(lambda: ff_file_ops.ff_safe_path(tmp, "bad\x01name")),
    "lock_timeout_without_path": lambda tmp, mp: _lock_timeout_path(tmp),
    "lock_open_error_without_path": lambda tmp, mp: _lock_open_error_path(tmp),
    "store_update_json_ignores_default": lambda tmp, mp: _outcome(
        lambda: FFStore(tmp).update_json(tmp / "counter.json", lambda data: data, default={"n": 0})),
}


def _refusal(call: Callable[[], Any]) -> Any:
    try:
        call()
    except FFValidationError as exc:
        return exc.field, exc.value
    return None


def _lock_open_error_path(tmp: Path) -> Any:
    data = tmp / "doc.json"
    ff_lock_path(data).mkdir()  # a folder where the lock file goes
    try:
        with ff_file_lock(data, root=tmp):
            return None
    except FFStorageError as exc:
        return exc.path == ff_lock_path(data)


def _lock_timeout_path(tmp: Path) -> Any:
    data = tmp / "doc.json"
    try:
        with ff_file_lock(data), ff_file_lock(data, timeout=0.05):
            return None
    except FFStorageError as exc:
        return exc.path == data


def _history(tmp: Path) -> tuple[list[str], list[str]]:
    for i, run_id in enumerate(("zz-a", "aa-b", "mm-c")):
        write_reports(known_report(run_id, _T0 + timedelta(hours=i)), tmp, ["json"])
    history = FFRunHistory(tmp)
    return history.run_ids(), [r.report_id for r in history.recent(2)]


def _junit_root() -> dict[str, str]:
    import xml.etree.ElementTree as ET

    return dict(ET.fromstring(render_junit(known_report("r", _T0))).attrib)


def _p95() -> float:
    recorder = _load.FFLatencyRecorder()
    for v in (1.0, 2.0, 3.0, 10.0, 40.0):
        recorder.success("op", v, v)
    return _load.operation_stats(recorder, 1.0)[0].p95_ms


REPORT_PROBES: dict[str, Callable[[Path], Any]] = {
    "junit_flaky_without_flaky_failure": lambda tmp: render_junit(known_report("r", _T0)).count(b"<flakyFailure"),
    "junit_root_failures_not_added": lambda tmp: _junit_root(),
    "junit_inconclusive_gate_passes": lambda tmp: render_junit(known_report("r", _T0)).count(b'type="Inconclusive"'),
    "junit_use_cases_counted_twice": lambda tmp: _junit_root(),
    "json_executed_counts_skipped": lambda tmp: render_json(known_report("r", _T0)).count(b'"total_tests_executed": 8'),
    "html_failure_message_dropped": lambda tmp: render_html(known_report("r", _T0)).count("expected 3 messages"),
    "html_verdict_inconclusive_passes": lambda tmp: 'class="verdict verdict-inconclusive"' in render_html(known_report("r", _T0)),
    "history_recent_drops_oldest": _history,
    "history_ordered_by_id": _history,
    "load_percentile_nearest_rank": lambda tmp: _p95(),
    "html_not_escaped": lambda tmp: "<limit & order>" in render_html(known_report("r", _T0)),
    "junit_control_characters_kept": lambda tmp: b"\x0b" in render_junit(known_report("r", _T0)),
    "report_formats_unchecked": lambda tmp: _written_on_refusal(tmp),
    "gate_inconclusive_counts_as_held": lambda tmp: _verdict_of_all_passing(),
    "regression_at_the_margin": lambda tmp: _boundaries()[0],
    "ceiling_at_the_limit": lambda tmp: _boundaries()[1],
    "comparison_ignores_errors": lambda tmp: _comparison(),
}


def _written_on_refusal(tmp: Path) -> list[str]:
    try:
        write_reports(known_report("r", _T0), tmp, ["json", "bogus"])
    except (FFError, KeyError):
        pass
    return sorted(p.name for p in tmp.rglob("*")) if tmp.exists() else []


def _verdict_of_all_passing() -> str:
    from ff_class_configs import load_config
    from testing._quality_gates import evaluate_quality_gates

    report = known_report("r", _T0, all_pass=True)
    gates = evaluate_quality_gates(report, load_config(environ={}).integration_testing)
    return report.model_copy(update={"quality_gates": gates}).verdict


def _boundaries() -> tuple[int, int]:
    from testing.suites._report_contracts import _op

    baseline = FFPerformanceSummaryDTO(profile="q", concurrent_users=1, duration_seconds=1, target_rps=1, achieved_rps=1,
                                       error_rate_percent=1.0, operations=[_op(100.0)])
    regressions = _load.find_regressions([_op(150.0)], baseline, 50.0)
    ceilings = _load.threshold_failures(baseline, max_p95_ms=100.0, max_error_rate_percent=1.0, max_memory_mb=1e9, max_cpu_percent=1e9)
    return len(regressions), len(ceilings)


def _comparison() -> list[str]:
    return compare_runs(known_report("b", _T0), known_report("a", _T0, all_pass=True), 50.0).newly_failing


def test_every_storage_and_report_defect_has_a_probe() -> None:
    assert set(STORAGE_PROBES) == {d.name for d in STORAGE_DEFECTS}
    assert set(REPORT_PROBES) == {d.name for d in REPORT_DEFECTS}
    assert len(STORAGE_DEFECTS) >= 12 and len(REPORT_DEFECTS) >= 8


@pytest.mark.parametrize("defect", STORAGE_DEFECTS, ids=[d.name for d in STORAGE_DEFECTS])
def test_a_storage_defect_changes_what_a_caller_sees(defect: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    probe = STORAGE_PROBES[defect.name]
    (tmp_path / "real").mkdir()
    (tmp_path / "planted").mkdir()
    healthy = probe(tmp_path / "real", monkeypatch)
    with planted(defect):
        broken = probe(tmp_path / "planted", monkeypatch)
    assert broken != healthy, f"{defect.name}: the probe saw {healthy!r} with and without the defect"


@pytest.mark.parametrize("defect", REPORT_DEFECTS, ids=[d.name for d in REPORT_DEFECTS])
def test_a_report_defect_changes_what_a_reader_sees(defect: Any, tmp_path: Path) -> None:
    probe = REPORT_PROBES[defect.name]
    healthy = probe(tmp_path / "real")
    with planted(defect):
        broken = probe(tmp_path / "planted")
    assert broken != healthy, f"{defect.name}: the probe saw {healthy!r} with and without the defect"


async def _listed(config: Any) -> tuple[list[str], Any]:
    """The knowledge bases and panels one user lists after strays were planted beside them."""
    from ff_managers import FFKnowledgeBaseManager, FFPanelSessionManager
    from testing.suites._storage_contracts import _plant_strays

    root = Path(config.storage.base_path)
    async with FFKnowledgeBaseManager(config) as kb, FFPanelSessionManager(config) as panels:
        base = await kb.create_knowledge_base("alice", "kept")
        panel = await panels.create_panel("alice", [{"participant_id": "ana"}, {"participant_id": "ben"}], title="kept")
        for object_id in (base.kb_id, panel.panel_id):
            found = next(p for p in root.rglob(object_id) if p.is_dir())
            _plant_strays(found.parent, found)
        listed_bases = [b.kb_id for b in await kb.list_knowledge_bases("alice")]
        try:
            listed_panels: Any = [p.panel_id for p in await panels.list_panels("alice")]
        except FFError as exc:
            listed_panels = type(exc).__name__
    return [i.replace(base.kb_id, "kb") for i in listed_bases], listed_panels if isinstance(listed_panels, str) else len(listed_panels)


@pytest.mark.parametrize("defect", LISTING_DEFECTS, ids=[d.name for d in LISTING_DEFECTS])
async def test_a_listing_defect_changes_what_a_caller_sees(defect: Any, config: Any, tmp_path: Path) -> None:
    healthy = await _listed(config)
    with planted(defect):
        broken = await _listed(config.with_base_path(tmp_path / "planted"))
    assert broken != healthy, f"{defect.name}: the probe saw {healthy!r} with and without the defect"
