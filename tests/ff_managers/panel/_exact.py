"""Constants the exact panel tests (test_panel_exact_*.py) share: a fixed start time and a
two-member panel."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["DUO", "T0"]

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
DUO = [{"participant_id": "ann"}, {"participant_id": "bob"}]
