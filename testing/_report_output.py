"""Reports and run history in an object store: ``run-all --output s3://bucket/prefix``.

The report writers and :class:`~testing.reporting.FFRunHistory` work on a local folder, and stay
that way: with an object store URL, the run uses a local staging folder, and this module moves
the history in before the run and the new run's files out after it. Every object is written
once (conditional create, SHA-256 in its metadata; see :mod:`ff_utils.ff_artifact_store`).

Layout under the URL (the same names as in a local output folder)::

    <report_id>.json / .html / .pdf / .junit.xml      the run's reports
    runs/<report_id>/run.log                          its log
    history/<report_id>.json                          its full report, for trends and comparisons
    history/index/<UTC stamp>__<report_id>.json       written last: the run is in the history

**Why an index of objects, not one index file.** S3 has no append and no lock: a shared
``runs.jsonl`` would be a read-modify-write, and two runs finishing together would each write
back a copy without the other's line. Instead each run adds its own small index object, written
last, and the history is the *listing* of ``history/index/``: writers never touch one another's
objects, a run that died half-way through its upload has no index object and is not in the
history, and the stamp in the name orders the listing by generation time without reading any
object. (Conditional writes would also make a shared index safe, but every writer would retry
on every conflict, and a PUT with ``If-Match`` is not supported by all S3-compatible stores.)

Before the run, the index is listed, a local ``history/runs.jsonl`` is written from it, and the
newest ``history_runs`` reports are downloaded (each checked against its SHA-256), which is all
the trend charts and the comparison read. An unreachable store or missing bucket fails here,
before the run, with nothing written locally. When the upload after the run fails, the staging
folder is kept and the error names it, so a long run's reports are never lost.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from pydantic import TypeAdapter

from ff_class_configs.ff_test_result_dtos import FFSystemIntegrationReportDTO
from ff_utils.ff_artifact_store import FFArtifactRef, FFArtifactStore, is_store_url
from ff_utils.ff_errors import FFArtifactStoreError, FFCorruptionError
from ff_utils.ff_json_utils import ff_append_jsonl, ff_dumps, ff_read_json
from ff_utils.ff_logging import get_logger

__all__ = ["INDEX_PREFIX", "FFReportOutput", "index_key", "is_store_url", "parse_index_key"]

INDEX_PREFIX = "history/index"
_STAMP = "%Y%m%dT%H%M%S%fZ"
_JSON_TIME = TypeAdapter(datetime)

_log = get_logger("reporting.store")


def index_key(report_id: str, generated: datetime) -> str:
    """The index object of one run: its UTC generation time first, so listings sort by it."""
    return f"{INDEX_PREFIX}/{generated.astimezone(UTC).strftime(_STAMP)}__{report_id}.json"


def parse_index_key(key: str) -> tuple[str, datetime] | None:
    """(report_id, generated) of an index key; None for anything else under the prefix."""
    name = key.rsplit("/", 1)[-1]
    stamp, sep, rest = name.partition("__")
    if not sep or not rest.endswith(".json"):
        return None
    try:
        return rest[: -len(".json")], datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


class FFReportOutput:
    """Where a run's reports go: a local folder, or a local staging folder for an object store.

    Use as a context manager; call :meth:`publish` with the finished report to upload it.
    """

    def __init__(self, output: str | os.PathLike[str], options: dict[str, Any] | None = None, *, history_runs: int = 10) -> None:
        self.location = os.fspath(output)
        self.store = FFArtifactStore(self.location, options) if is_store_url(self.location) else None
        self.history_runs = history_runs
        self.local = Path(self.location) if self.store is None else Path()
        self._keep = False

    @property
    def remote(self) -> bool:
        return self.store is not None

    def __enter__(self) -> Self:
        if self.store is not None:
            self.store.check()  # before the staging folder exists: a dead endpoint leaves nothing behind
            self.local = Path(tempfile.mkdtemp(prefix="ff_reports_"))
            try:
                self.pull_history()
            except BaseException:
                shutil.rmtree(self.local, ignore_errors=True)
                raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.store is not None and not self._keep:
            shutil.rmtree(self.local, ignore_errors=True)

    def url_of(self, path: Path) -> str:
        """A local path under the staging folder as its object URL (a local path as itself)."""
        if self.store is None:
            return str(path)
        return self.store.url_of(path.relative_to(self.local).as_posix())

    # ------------------------------------------------------------------ history in

    def listed_runs(self) -> list[tuple[str, datetime]]:
        """Every published run (report_id, generated), oldest first."""
        assert self.store is not None
        found = [parsed for key in self.store.list(INDEX_PREFIX) if (parsed := parse_index_key(key)) is not None]
        return sorted(found, key=lambda item: (item[1], item[0]))

    def pull_history(self, *, upto: str | None = None) -> list[str]:
        """Write the local index from the listing and fetch the newest ``history_runs`` reports.

        With ``upto`` (a run id), fetch that run and the ``history_runs`` before it instead (what
        re-rendering an old run needs). Returns the ids fetched.
        """
        assert self.store is not None
        runs = self.listed_runs()
        index = self.local / "history" / "runs.jsonl"
        for report_id, generated in runs:
            ff_append_jsonl(index, {"report_id": report_id, "generation_timestamp": _JSON_TIME.dump_python(generated, mode="json")})
        ids = [report_id for report_id, _ in runs]
        end = ids.index(upto) + 1 if upto in ids else len(ids)
        wanted = ids[max(0, end - self.history_runs - (1 if upto in ids else 0)) : end]
        for report_id in wanted:
            self.store.get_file(f"history/{report_id}.json", self.local / "history" / f"{report_id}.json")
        return wanted

    # ------------------------------------------------------------------ run out

    def publish(self, report: FFSystemIntegrationReportDTO) -> list[FFArtifactRef]:
        """Upload the run's reports, log and history entry; the index object goes last.

        Raises FFArtifactStoreError naming the kept staging folder when an upload fails.
        """
        if self.store is None:
            return []
        run_id = report.report_id
        history_file = self.local / "history" / f"{run_id}.json"
        if not history_file.is_file():
            raise FFCorruptionError(f"run {run_id} was not recorded in the staging history; nothing uploaded", path=history_file)
        files = sorted(p for p in self.local.iterdir() if p.is_file() and p.name.startswith(f"{run_id}."))
        log = self.local / "runs" / run_id / "run.log"
        files += [p for p in (log, history_file) if p.is_file()]
        self._keep = True
        try:
            refs = [self.store.put_file(p.relative_to(self.local).as_posix(), p) for p in files]
            stored = ff_read_json(history_file)
            if not isinstance(stored, dict):
                raise FFCorruptionError("the run's history entry is not a report", path=history_file)
            entry = {"report_id": run_id, "generation_timestamp": stored.get("generation_timestamp"),
                     "history_sha256": refs[-1].sha256}
            refs.append(self.store.put_bytes(index_key(run_id, report.generation_timestamp), ff_dumps(entry)))
        except FFArtifactStoreError as exc:
            raise FFArtifactStoreError(f"{exc.message}; the run is not in the store's history, its reports are kept in {self.local}",
                                       reason=exc.reason) from None
        self._keep = False
        _log.info("published run %s to %s (%d objects)", run_id, self.store.url, len(refs))
        return refs
