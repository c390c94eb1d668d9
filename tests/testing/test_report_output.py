"""Reports and their history in an object store (``--output s3://...``), on moto's S3 server."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import pytest
from rich.console import Console

import main
from ff_managers.ff_memory_layer_manager import FFMemoryLayerManager
from ff_utils.ff_artifact_store import FFArtifactStore
from ff_utils.ff_errors import FFArtifactStoreError
from testing._report_output import (
    INDEX_PREFIX,
    FFReportOutput,
    index_key,
    parse_index_key,
)
from testing.reporting import FFRunHistory, write_reports
from testing.reporting.sample import build_sample_history
from tests._s3 import S3Endpoint


@pytest.fixture
def staging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Staging folders go under the test's tmp_path, so a test can see that none is left behind."""
    folder = tmp_path / "staging"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _publish(s3: S3Endpoint, report, formats=("json", "junit")) -> list[str]:
    with FFReportOutput(s3.url("reports"), s3.options) as output:
        write_reports(report, output.local, list(formats))
        return [ref.key for ref in output.publish(report)]


def test_published_runs_make_the_history_the_next_run_reads(s3: S3Endpoint, staging: Path) -> None:
    runs = build_sample_history(3)
    for report in runs:
        keys = _publish(s3, report)
        assert keys[-1].startswith(INDEX_PREFIX)  # the index object goes last
    ids = [r.report_id for r in runs]
    assert s3.keys("reports/history/index/") == [f"reports/{index_key(r.report_id, r.generation_timestamp)}" for r in runs]
    assert {f"reports/{i}.json" for i in ids} | {f"reports/{i}.junit.xml" for i in ids} | {f"reports/history/{i}.json" for i in ids} <= set(s3.keys())
    # The third run was compared with the second: the history was pulled before it was written.
    stored = json.loads(FFArtifactStore(s3.url("reports"), s3.options).get_bytes(f"history/{ids[2]}.json"))
    assert stored["comparison"]["previous_run_id"] == ids[1]
    with FFReportOutput(s3.url("reports"), s3.options, history_runs=2) as output:
        history = FFRunHistory(output.local)
        assert history.run_ids() == ids
        assert [r.report_id for r in history.recent(5)] == ids[1:]  # only the newest two were fetched
    assert list(staging.iterdir()) == []


def test_a_run_whose_upload_died_is_not_in_the_history_and_its_reports_are_kept(
    s3: S3Endpoint, staging: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = build_sample_history(2)
    _publish(s3, first)

    def unreachable(self, key, data):
        raise FFArtifactStoreError("artifact store down", reason="unreachable")

    original = FFArtifactStore.put_bytes
    monkeypatch.setattr(FFArtifactStore, "put_bytes", unreachable)  # the index object never lands
    with pytest.raises(FFArtifactStoreError) as caught:
        _publish(s3, second)
    kept = next(staging.iterdir())
    assert str(kept) in str(caught.value) and (kept / f"{second.report_id}.json").is_file()
    monkeypatch.setattr(FFArtifactStore, "put_bytes", original)
    with FFReportOutput(s3.url("reports"), s3.options) as output:
        assert FFRunHistory(output.local).run_ids() == [first.report_id]


def test_an_unreachable_store_fails_before_the_run_with_nothing_written(s3: S3Endpoint, staging: Path) -> None:
    s3.stop()
    with pytest.raises(FFArtifactStoreError) as caught, FFReportOutput(s3.url("reports"), s3.options):
        pytest.fail("the block must not run")
    assert caught.value.reason == "unreachable" and list(staging.iterdir()) == []


def test_a_corrupted_history_report_stops_the_pull(s3: S3Endpoint, staging: Path) -> None:
    report = build_sample_history(1)[0]
    _publish(s3, report)
    key = f"reports/history/{report.report_id}.json"
    head = s3.client().head_object(Bucket=s3.bucket, Key=key)
    s3.client().put_object(Bucket=s3.bucket, Key=key, Body=b'{"report_id": "forged"}', Metadata=head["Metadata"])
    with pytest.raises(FFArtifactStoreError) as caught, FFReportOutput(s3.url("reports"), s3.options):
        pytest.fail("the block must not run")
    assert caught.value.reason == "checksum_mismatch" and list(staging.iterdir()) == []


@pytest.mark.parametrize("key", ["history/index/README", "history/index/x__y.txt", "history/index/2026__r.json"])
def test_foreign_index_objects_are_ignored(key: str) -> None:
    assert parse_index_key(key) is None


def _cli(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    return main.main(argv, console=Console(file=out, width=300, color_system=None)), out.getvalue()


def test_run_and_report_with_an_object_store_output(
    s3: S3Endpoint, staging: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in __import__("os").environ if n.startswith("FF_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("FF_S3_ENDPOINT_URL", s3.endpoint)
    monkeypatch.setenv("FF_STORAGE__ARTIFACTS_URL", s3.url("prod"))  # the product's store: a test run never writes there
    monkeypatch.chdir(tmp_path)
    url = s3.url("ci")
    code, out = _cli(["run", "migration", "--output", url, "--formats", "json,junit"])
    assert code == 0, out
    assert f"json: {url}/run_" in out and s3.keys("prod/") == []
    # A planted defect turns the run red; its report still reaches the store's history.
    original = FFMemoryLayerManager.import_messages

    async def drops_the_last_message(self, user_id, session_id, messages):
        return await original(self, user_id, session_id, list(messages)[:-1])

    monkeypatch.setattr(FFMemoryLayerManager, "import_messages", drops_the_last_message)
    code, out = _cli(["run", "migration", "--output", url, "--formats", "json"])
    assert code == 1, out
    monkeypatch.setattr(FFMemoryLayerManager, "import_messages", original)
    index = s3.keys("ci/history/index/")
    assert len(index) == 2
    green, red = (parse_index_key(key)[0] for key in index)
    red_report = json.loads(FFArtifactStore(url, s3.options).get_bytes(f"{red}.json"))
    assert red_report["verdict_passed"] is False and red_report["comparison"]["previous_run_id"] == green
    code, out = _cli(["report", green, "--output", url, "--formats", "junit", "--to", str(tmp_path / "again")])
    assert code == 0, out and (tmp_path / "again" / f"{green}.junit.xml").is_file()
    assert list(staging.iterdir()) == []
    s3.stop()
    code, _ = _cli(["run", "migration", "--output", url, "--formats", "json"])
    assert code == 2 and list(staging.iterdir()) == [] and not (tmp_path / "ff_reports").exists()


@pytest.mark.slow  # ~10 s: the quick hashing workload
def test_bench_writes_its_json_to_the_store_once(s3: S3Endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FF_S3_ENDPOINT_URL", s3.endpoint)
    url = s3.url("bench/quick.json")
    argv = ["bench", "--quick", "--workloads", "manifest_hashing", "--work-dir", str(tmp_path / "w"), "--output", url]
    code, out = _cli(argv)
    assert code == 0 and f"json: {url}" in out
    data = json.loads(FFArtifactStore(s3.url("bench"), s3.options).get_bytes("quick.json"))
    assert data["quick"] is True
    code, _ = _cli(argv)  # a second run never replaces the first one's figures
    assert code == 2


def test_the_index_object_is_written_only_after_the_history_report(
    s3: S3Endpoint, staging: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = build_sample_history(1)[0]
    original = FFArtifactStore.put_file

    def history_upload_dies(self, key, source, **kwargs):
        if key.startswith("history/"):
            raise FFArtifactStoreError("connection reset", reason="unreachable")
        return original(self, key, source, **kwargs)

    monkeypatch.setattr(FFArtifactStore, "put_file", history_upload_dies)
    with pytest.raises(FFArtifactStoreError):
        _publish(s3, report)
    assert s3.keys("reports/history/") == [] and f"reports/{report.report_id}.json" in s3.keys("reports/")
