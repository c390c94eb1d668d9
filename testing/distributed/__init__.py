"""Distributed validation runs on Dask distributed (``run-all --distributed local|tls://…``).

Dask is an optional dependency (the ``scale`` extra); nothing here imports it until a
distributed run starts, so a local run never needs it.
"""

from testing.distributed._cluster import FFClusterHandle, FFClusterTarget, open_cluster
from testing.distributed._errors import (
    FFClusterError,
    FFInsecureTransportError,
    FFVersionMismatchError,
)
from testing.distributed._run import run_report_distributed, suite_bound_seconds
from testing.distributed._versions import (
    check_versions,
    compare_versions,
    local_versions,
    package_names,
)

__all__ = [
    "FFClusterError",
    "FFClusterHandle",
    "FFClusterTarget",
    "FFInsecureTransportError",
    "FFVersionMismatchError",
    "check_versions",
    "compare_versions",
    "local_versions",
    "open_cluster",
    "package_names",
    "run_report_distributed",
    "suite_bound_seconds",
]
