"""The --distributed choice is checked before anything starts: tcp:// needs its flag, TLS files must exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from ff_utils.ff_errors import FFValidationError
from testing.cli import main
from testing.distributed import FFClusterTarget, FFInsecureTransportError


def test_local_is_the_default_and_needs_at_least_one_worker() -> None:
    assert FFClusterTarget().is_local
    with pytest.raises(FFValidationError, match="at least 1"):
        FFClusterTarget(workers=0)


def test_plain_tcp_is_refused_without_the_flag() -> None:
    with pytest.raises(FFInsecureTransportError, match="--allow-insecure-tcp"):
        FFClusterTarget(address="tcp://10.0.0.5:8786")
    target = FFClusterTarget(address="tcp://10.0.0.5:8786", allow_insecure_tcp=True)
    assert target.security() is None


def test_unknown_scheme_and_missing_tls_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FFValidationError, match="local', tls://"):
        FFClusterTarget(address="10.0.0.5:8786")
    with pytest.raises(FFValidationError, match="no such file"):
        FFClusterTarget(address="tls://10.0.0.5:8786", tls_ca=tmp_path / "absent.pem")


def test_tls_target_builds_a_security_that_requires_encryption(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not read until a connection is made\n")
    security = FFClusterTarget(address="tls://10.0.0.5:8786", tls_ca=ca).security()
    assert security.require_encryption is True
    assert security.tls_ca_file == str(ca)


def test_cli_refuses_tcp_with_one_typed_line_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "reports"
    code = main(["run", "component", "--output", str(output), "--distributed", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("FFInsecureTransportError: refusing unauthenticated scheduler tcp://127.0.0.1:9")
    assert len(err.splitlines()) == 1
    assert not output.exists()


async def test_a_cluster_test_run_cannot_also_be_distributed(tmp_path: Path) -> None:
    from ff_class_configs import load_config
    from testing.ff_run_all import FFRunOptions, run_suites

    options = FFRunOptions(output_dir=tmp_path / "out", suites=("cross_system",), cluster_run_dir=tmp_path / "cluster",
                           distributed=FFClusterTarget())
    with pytest.raises(FFValidationError, match="cannot also be --distributed"):
        await run_suites(load_config(environ={}), options)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_cli_run_distributed_local_writes_one_report_with_the_workers(tmp_path: Path) -> None:
    import json

    output = tmp_path / "reports"
    code = main(["run", "component", "--output", str(output), "--formats", "json", "--distributed", "local", "--workers", "2"])
    assert code == 0
    (report_path,) = output.glob("run_*.json")
    report = json.loads(report_path.read_text())
    assert len(report["execution"]["workers"]) == 2
    assert all(t["worker"].startswith("tls://127.0.0.1:") and t["host"] for s in report["suites"] for t in s["results"])
