"""Small exact checks for survivors of the 70-minute run at acaf38b: the artifact store's
corruption error and log line (both checksums shortened to 12 digits; "none" / "no checksum"
when the object carries none), FFLockBusy's words and path, and the NullHandler added to an
``ff`` logger that has none.

Written for mutation testing (docs/MUTATION.md, ``ff_utils``).
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ff_utils import ff_logging
from ff_utils.ff_artifact_store import SHA256_METADATA, FFArtifactStore
from ff_utils.ff_errors import FFArtifactStoreError
from ff_utils.ff_hashing import ff_sha256_bytes
from ff_utils.ff_locks import FFLockBusy, ff_file_lock, ff_lock_path, ff_locks_fail_fast
from ff_utils.ff_logging import get_logger


class _Objects:
    """A filesystem holding objects (bytes, recorded checksum) and nothing else."""

    def __init__(self, objects: dict[str, tuple[bytes, str]]) -> None:
        self.objects = objects

    def metadata(self, path: str, refresh: bool = False) -> dict[str, str]:
        sha = self.objects[path][1]
        return {SHA256_METADATA: sha} if sha else {}

    def cat_file(self, path: str) -> bytes:
        return self.objects[path][0]


def test_a_corrupt_object_is_worded_and_logged_with_both_checksums(caplog: pytest.LogCaptureFixture) -> None:
    recorded, bad = ff_sha256_bytes(b"real"), b"evil"
    store = FFArtifactStore("s3://bucket/p", filesystem=_Objects({"bucket/p/k/a": (bad, recorded), "bucket/p/k/b": (bad, "")}))
    actual = ff_sha256_bytes(bad)
    caplog.set_level(logging.ERROR, logger="ff")
    with pytest.raises(FFArtifactStoreError) as corrupt:
        store.get_bytes("k/a")
    assert corrupt.value.message == f"artifact store s3://bucket/p: k/a is corrupt: its bytes hash to {actual[:12]}…, recorded {recorded[:12]}…"
    assert corrupt.value.reason == "checksum_mismatch" and corrupt.value.context == {"key": "k/a"}
    with pytest.raises(FFArtifactStoreError) as foreign:
        store.get_bytes("k/b")
    assert foreign.value.message == f"artifact store s3://bucket/p: k/b is corrupt: its bytes hash to {actual[:12]}…, recorded no checksum"
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        f"artifact s3://bucket/p/k/a: checksum mismatch (recorded {recorded}, read {actual})",
        f"artifact s3://bucket/p/k/b: checksum mismatch (recorded none, read {actual})",
    ]


_HOLDER = "import fcntl, os, sys\nfd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)\nfcntl.flock(fd, fcntl.LOCK_EX)\nprint('locked', flush=True)\nsys.stdin.read()\n"


def test_a_busy_lock_in_fail_fast_mode_says_lock_busy_and_names_the_path(tmp_path: Path) -> None:
    target = tmp_path / "doc.json"
    child = subprocess.Popen([sys.executable, "-c", _HOLDER, str(ff_lock_path(target))], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == b"locked"
        with ff_locks_fail_fast(), pytest.raises(FFLockBusy) as busy, ff_file_lock(target, timeout=5.0):
            pass
    finally:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.close()
        child.wait(timeout=10)
        child.stdout.close()
    assert str(busy.value) == f"lock busy: {busy.value.path}" and busy.value.path is not None
    assert Path(busy.value.path) in (target, ff_lock_path(target))


@pytest.fixture
def bare_ff_logger(monkeypatch: pytest.MonkeyPatch) -> Iterator[logging.Logger]:
    """The ``ff`` logger with no handlers and not yet configured; restored afterwards."""
    ff_root = logging.getLogger("ff")
    saved = list(ff_root.handlers)
    monkeypatch.setattr(ff_logging, "_configured", False)
    monkeypatch.delenv("FF_LOG_LEVEL", raising=False)
    ff_root.handlers[:] = []
    try:
        yield ff_root
    finally:
        ff_root.handlers[:] = saved


def test_an_ff_logger_without_handlers_gets_one_null_handler(bare_ff_logger: logging.Logger) -> None:
    get_logger("x").warning("nothing handles this but the NullHandler")
    assert [type(h) for h in bare_ff_logger.handlers] == [logging.NullHandler]


def test_relative_is_posix_below_the_root_and_relpath_elsewhere(tmp_path: Path) -> None:
    from ff_utils.ff_store import FFStore

    store = FFStore(tmp_path)
    assert store.relative(store.path("users", "u1.json")) == "users/u1.json"
    assert store.relative(store.root) == "."
    assert store.relative(store.root.parent / "elsewhere" / "x.json") == "../elsewhere/x.json"
