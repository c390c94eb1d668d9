"""Private parts of the cross-system suite (``testing/suites/cross_system.py``).

``_samples``    the raw evidence: one record per attempted request, per injected fault
``_gates``      seed 000's success criteria computed from those raw samples (pure, unit-tested)
``_timeline``   per-second slices, per-transport figures and failover windows (pure)
``_summary``    the report's cross-system section from the evidence
``_generator``  the open-loop load: a seeded arrival schedule independent of the replies
``_ledger``     acknowledged writes, read back through the API and from the files
``_harness``    the instances (started or attached), fault proxies and the communication manager
``_faults``     the proxies' faults by name
``_contracts``  the per-transport contract (keyed write, read, error reply, TTL)
``_priority``   the priority check (one send slot, a slow link)
``_events``     the WebSocket event stream across a failover
``_udp``        StatsD datagrams under drop, duplication and reordering
``_integrity``  after the run: audit chain, panel numbering, JSONL files, manifest
"""
