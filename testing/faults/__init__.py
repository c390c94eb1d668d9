"""Fault injection for tests across processes: a TCP and a UDP proxy with seeded, recorded faults
(in the style of Toxiproxy, which is not available here), and process faults by signal."""

from testing.faults._record import FFFaultEvent, FFFaultRecorder
from testing.faults.process import FFProcessFaults, end_group

__all__ = ["FFFaultEvent", "FFFaultRecorder", "FFProcessFaults", "end_group"]
