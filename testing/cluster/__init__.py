"""A local cluster of ``serve`` processes for tests and ``main.py cluster``: start, signal, restart,
probe and stop N instances on one data root (see :class:`FFLocalCluster`)."""

from testing.cluster._cluster import CLUSTER_USER, MAX_INSTANCES, FFLocalCluster
from testing.cluster._state import FFClusterInstance, default_run_dir
from testing.cluster._status import FFInstanceStatus

__all__ = ["CLUSTER_USER", "MAX_INSTANCES", "FFClusterInstance", "FFInstanceStatus", "FFLocalCluster", "default_run_dir"]
