"""The suite's faults by name, built from the fault tooling of ``testing/faults``.

The tests name a fault (``"latency"``, ``"timeout"``...) with its parameters; this module turns
the name into the proxy's toxic or datagram fault, so the tests read as the faults they inject.
"""

from __future__ import annotations

from typing import Any

__all__ = ["tcp_toxic", "udp_fault"]


def tcp_toxic(kind: str, **params: Any) -> Any:
    """A toxic of the TCP fault proxy: latency, bandwidth, timeout (hang), reset_peer, slicer."""
    from testing.faults import toxics

    classes = {"latency": toxics.FFLatency, "bandwidth": toxics.FFBandwidth, "timeout": toxics.FFTimeout,
               "reset_peer": toxics.FFResetPeer, "slicer": toxics.FFSlicer}  # fmt: skip
    return classes[kind](**params)


def udp_fault(kind: str, probability: float) -> Any:
    """A datagram fault of the UDP fault proxy: drop, duplicate, reorder."""
    from testing.faults import udp_proxy

    classes = {"drop": udp_proxy.FFDrop, "duplicate": udp_proxy.FFDuplicate, "reorder": udp_proxy.FFReorder}
    return classes[kind](probability)
