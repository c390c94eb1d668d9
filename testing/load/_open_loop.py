"""Our own open-loop figures against the same ``serve`` target, for the report beside Locust's.

The performance suite's engine (:func:`testing._load.run_load`: intended start times fixed by the
rate, queueing counted in the latency) drives the same two operations as the locustfile
(``append_turn``, ``read_history``, half and half) over HTTP with httpx, with the same users and
rate. Each simulated user's session is created before the clock starts (Locust counts its
``create_session`` requests separately). A session that cannot be created (wrong key, server
down) makes every request of that user an error, so a failing target is red here too.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from ff_class_configs.ff_test_result_dtos import FFPerformanceSummaryDTO
from testing._load import (
    FFLoadProfile,
    FFWorkloadMix,
    operation_stats,
    overall_stats,
    plan_requests,
    run_load,
    timeline,
)

__all__ = ["OPEN_LOOP_MIX", "run_open_loop"]

OPEN_LOOP_MIX = {"append_turn": 50.0, "read_history": 50.0}


class _RequestFailed(Exception):
    """A request answered with an unexpected status (or never got a session)."""


async def run_open_loop(targets: Sequence[str], api_key: str, user_id: str, *, users: int, rate: float, duration: float, seed: int = 0,
                        drain_s: float = 10.0, timeout_s: float = 30.0) -> tuple[FFPerformanceSummaryDTO, list[str]]:  # fmt: skip
    """The summary of one open-loop run and samples of its errors; simulated user i drives ``targets[i % len]``."""
    profile = FFLoadProfile(users=users, rate=rate, duration=duration, drain_seconds=drain_s)
    plan = plan_requests(profile, FFWorkloadMix(OPEN_LOOP_MIX), seed)
    headers = {"Authorization": f"Bearer {api_key}"}
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    bases = [t.rstrip("/") for t in targets]
    async with httpx.AsyncClient(headers=headers, timeout=timeout_s, limits=limits) as http:
        sessions: dict[int, str | None] = {}
        problems: dict[int, str] = {}
        for user in range(users):
            try:
                answer = await http.post(f"{bases[user % len(bases)]}/v1/users/{user_id}/sessions", json={})
                sessions[user] = answer.json()["session_id"] if answer.status_code == 201 else None
                problems[user] = f"create_session: HTTP {answer.status_code}"
            except httpx.HTTPError as exc:
                sessions[user], problems[user] = None, f"create_session: {type(exc).__name__}: {exc}"

        async def execute(user: int, operation: str) -> None:
            session = sessions[user]
            if session is None:
                raise _RequestFailed(f"no session ({problems[user]})")
            path = f"{bases[user % len(bases)]}/v1/users/{user_id}/sessions/{session}/messages"
            if operation == "append_turn":
                answer, expected = await http.post(path, json={"role": "user", "content": f"open loop {user} via {bases[user % len(bases)]}"}), 201
            else:
                answer, expected = await http.get(path, params={"limit": 20}), 200
            if answer.status_code != expected:
                raise _RequestFailed(f"HTTP {answer.status_code}")

        result = await run_load(plan, users, execute, drain_seconds=drain_s)
    recorder = result.recorder
    summary = FFPerformanceSummaryDTO(
        profile="open_loop", concurrent_users=users, duration_seconds=result.elapsed_seconds, target_rps=rate,
        achieved_rps=recorder.total_ok / result.elapsed_seconds, error_rate_percent=100.0 * recorder.total_errors / max(result.planned, 1),
        operations=operation_stats(recorder, result.elapsed_seconds), overall=overall_stats(recorder, result.elapsed_seconds),
        timeline=timeline(recorder, result.elapsed_seconds),
    )  # fmt: skip
    return summary, list(recorder.error_samples)
