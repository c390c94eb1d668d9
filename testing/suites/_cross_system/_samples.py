"""The raw evidence of a cross-system run: every attempted request and every injected fault.

Nothing here is aggregated: the gates, the timeline and the report are computed from these
records by pure functions, so each can be tested with hand-made samples and so a figure in the
report can always be traced back to the attempts behind it.

Times are seconds on one monotonic clock, relative to the start of the load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["OUTCOMES", "FFAttempt", "FFFaultRecord", "FFUdpTally", "FFWriteLedgerResult"]

Outcome = Literal["ok", "error_reply", "unavailable", "timeout", "exception", "shed"]
OUTCOMES: tuple[str, ...] = ("ok", "error_reply", "unavailable", "timeout", "exception", "shed")
"""ok: a response; error_reply: the service answered with an error; unavailable: no endpoint
could answer; timeout: past the attempt's bound; exception: anything else raised; shed: the
generator itself refused to start it (too many in flight), which marks the generator saturated."""


@dataclass(frozen=True, slots=True)
class FFAttempt:
    """One request the load generator attempted."""

    scheduled: float
    """When the open-loop schedule wanted it sent."""
    sent: float
    end: float
    transport: str
    operation: str
    outcome: Outcome
    endpoint: str = ""
    """The endpoint that answered (``system_id``), '' when none did."""
    error_kind: str = ""
    message_id: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    @property
    def latency_ms(self) -> float:
        """From the intended send time to the end: queueing in the generator counts (open loop)."""
        return (self.end - self.scheduled) * 1000.0


@dataclass(slots=True)
class FFFaultRecord:
    """One injected fault. ``cleared`` is when it stopped being imposed (SIGCONT sent, toxic
    removed, restarted process ready); ``recovered`` the end of the first successful request
    routed to the faulted instance after that."""

    fault: str
    target: str
    """The faulted instance's endpoints share this prefix (its instance id)."""
    injected: float
    cleared: float | None = None
    recovered: float | None = None
    back_in_rotation: bool = False
    """Its breaker closed again and the balancer lists it healthy (checked after recovery)."""
    detail: str = ""
    affects_latency: bool = True
    """False for faults that cannot disturb request latency (UDP datagram faults)."""

    def window(self, settle: float) -> tuple[float, float]:
        """The failover window: from injection to recovery (or clearing, or injection), plus ``settle``."""
        end = self.recovered if self.recovered is not None else (self.cleared if self.cleared is not None else self.injected)
        return self.injected, max(end, self.injected) + settle


@dataclass(frozen=True, slots=True)
class FFWriteLedgerResult:
    """What reading every acknowledged write back found."""

    acknowledged: int
    lost: tuple[str, ...] = ()
    duplicated: tuple[str, ...] = ()
    lost_on_disk: tuple[str, ...] = ()
    duplicated_on_disk: tuple[str, ...] = ()
    unacknowledged_present: int = 0
    """Writes whose reply never came but that were stored (allowed: at most once)."""


@dataclass(slots=True)
class FFUdpTally:
    """Datagrams sent and delivered per phase (``clean`` vs. a named fault)."""

    sent: dict[str, int] = field(default_factory=dict)
    delivered: dict[str, int] = field(default_factory=dict)
