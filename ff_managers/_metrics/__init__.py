"""The metrics manager's implementation; the public door is ``ff_managers.FFMetricsCollectionManager``.

Private: nothing outside ``ff_managers/`` imports this package (its own unit tests in
``tests/ff_managers/metrics/`` excepted). The façade owns one instance of each class here and
calls into them; the modules are split by what they store or compute:

* ``samples``      metric samples on disk and their summaries (FFSampleStore)
* ``buckets``      time buckets of sample files and the windows summaries read (pure)
* ``stats``        exact count, sum, mean and percentiles (pure)
* ``user_events``  per-user analytics events on disk (FFUserEventLog)
* ``analytics``    sessions, active days and counts derived from a user's events (pure)
* ``audit_log``    the audit log on disk: atomic append, tail, verification (FFAuditLog)
* ``audit_chain``  the hash chain: sealing and verifying records (pure)
* ``system``       the psutil sample of process, machine and data root
* ``bus_events``   what one bus event produces (FFBusEventRecorder)
* ``checks``       the input rules particular to metrics; the shared ones are ``_core.checks`` (pure)
* ``files``        appends through one FFStore: cached checked paths and their fsync (FFAppendFiles)
* ``counts``       the thread-safe work counters shown in health details
"""

from __future__ import annotations

__all__: list[str] = []
