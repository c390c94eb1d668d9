"""A real S3 API on loopback for the object store tests: moto's server in a thread, port 0.

Each use gets its own server and its own bucket (moto keeps one backend per process, so bucket
names are unique per test), fake credentials in the standard AWS variables (and no shared config
file, so a developer's real profile is never read), and is stopped in ``finally`` even when the
test fails. ``stop()`` may be called early to play an endpoint that is down.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

#: The secret the fake credentials use: tests assert it never shows in an error or a log.
SECRET = "s3cr3t-never-logged-7f3a"


@dataclass
class S3Endpoint:
    endpoint: str
    bucket: str
    server: Any
    stopped: bool = field(default=False)

    @property
    def options(self) -> dict[str, Any]:
        return {"endpoint_url": self.endpoint}

    def url(self, prefix: str = "") -> str:
        return f"s3://{self.bucket}/{prefix}".rstrip("/")

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1")

    def keys(self, prefix: str = "") -> list[str]:
        listed = self.client().list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.server.stop()


@contextlib.contextmanager
def moto_s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[S3Endpoint]:
    from moto.server import ThreadedMotoServer

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing-key-id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "FF_S3_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.ERROR)  # one access line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = S3Endpoint(f"http://{host}:{port}", f"ff-test-{uuid.uuid4().hex[:12]}", server)
    try:
        endpoint.client().create_bucket(Bucket=endpoint.bucket)
        yield endpoint
    finally:
        endpoint.stop()
        werkzeug.setLevel(level)
