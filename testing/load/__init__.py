"""Distributed load on Locust (``python main.py load``), beside our own open-loop figures.

Locust runs only as a subprocess: nothing in this package imports ``locust`` (it monkey-patches
the standard library through gevent). ``locust_users/locustfile.py`` is loaded by Locust alone and is
deliberately not imported below; it sits in ``locust_users/``, a folder without ``__init__.py``,
so package walkers (pkgutil, tests/test_exported_members.py) never import it either.
"""

from __future__ import annotations

from ._locust_csv import (
    locust_csv_paths,
    parse_failures,
    parse_history,
    parse_stats,
    read_locust_summary,
)
from ._locust_run import (
    LOCUSTFILE,
    FFLocustSpec,
    free_port,
    locust_version,
    master_command,
    run_local,
    run_master,
    run_worker,
    worker_command,
)
from ._open_loop import OPEN_LOOP_MIX, run_open_loop
from ._report import judge, write_load_report
from ._run import FFLoadOptions, run_distributed_load

__all__ = [
    "LOCUSTFILE",
    "OPEN_LOOP_MIX",
    "FFLoadOptions",
    "FFLocustSpec",
    "free_port",
    "judge",
    "locust_csv_paths",
    "locust_version",
    "master_command",
    "parse_failures",
    "parse_history",
    "parse_stats",
    "read_locust_summary",
    "run_distributed_load",
    "run_local",
    "run_master",
    "run_open_loop",
    "run_worker",
    "worker_command",
    "write_load_report",
]
