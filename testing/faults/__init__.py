"""Fault injection for tests across processes: a TCP and a UDP proxy with seeded, recorded faults
(in the style of Toxiproxy, which is not available here), and process faults by signal.

Test tooling only: nothing in the library imports it. One :class:`FFFaultRecorder` given to the
proxies and to :class:`FFProcessFaults` puts every fault of a run on one timeline.
"""

from testing.faults._record import FFFaultEvent, FFFaultRecorder
from testing.faults.process import FFProcessFaults, end_group
from testing.faults.tcp_proxy import FFFaultProxy
from testing.faults.toxics import FFBandwidth, FFLatency, FFResetPeer, FFSlicer, FFTimeout, FFToxic
from testing.faults.udp_proxy import FFDrop, FFDuplicate, FFReorder, FFUdpFault, FFUdpFaultProxy

__all__ = [
    "FFBandwidth",
    "FFDrop",
    "FFDuplicate",
    "FFFaultEvent",
    "FFFaultProxy",
    "FFFaultRecorder",
    "FFLatency",
    "FFProcessFaults",
    "FFReorder",
    "FFResetPeer",
    "FFSlicer",
    "FFTimeout",
    "FFToxic",
    "FFUdpFault",
    "FFUdpFaultProxy",
    "end_group",
]
