"""Private parts of the cross-system suite (``testing/suites/cross_system.py``).

``_samples``   the raw evidence: one record per attempted request, per injected fault
``_gates``     seed 000's success criteria computed from those raw samples (pure, unit-tested)
``_timeline``  per-second slices, per-transport figures and failover windows (pure)
``_generator`` the open-loop load: a seeded arrival schedule independent of the replies
``_ledger``    acknowledged writes, read back through the API and from the files
``_harness``   the instances (started or attached), fault proxies and the communication manager
"""
