"""A 2-worker Dask LocalCluster on loopback for the distributed-run tests, always closed.

The fixture goes through :func:`testing.distributed.open_cluster` (the code a run uses), so the
close it checks is the run's own; it asserts afterwards that the worker processes are gone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from testing.distributed import FFClusterHandle, FFClusterTarget, open_cluster
from tests.testing.distributed._dask_procs import assert_gone


@pytest.fixture
async def local_cluster() -> AsyncIterator[FFClusterHandle]:
    handle = None
    try:
        async with open_cluster(FFClusterTarget(workers=2, close_timeout=20)) as handle:
            yield handle
    finally:
        if handle is not None:
            assert_gone(handle.worker_pids)
