"""Planted defects in the tools' run policy: the per-user rate limit, the per-tool circuit breaker,
the log of refusals and the arguments' size limit (collected by ``tests/planted_defects``).

README.md promises "permission, per-user rate limit and per-tool circuit breaker return status
``refused``, logged"; until the component suite's ``tools_policy_contracts`` no suite ran into a
limit or a breaker, so each of these bugs went through ``run-all`` green (GUARANTEES.md listed the
guarantee as unchecked). Each replaces one method for the length of the run. The last two are
caught by the security suite's SEC-SIZE-06, which sends arguments of exactly the limit and one byte
over, in UTF-8 JSON of 2-byte characters.
"""

from __future__ import annotations

from typing import Any

import ff_managers._tools.runs as runs_module
from ff_class_configs.ff_tool_dtos import FFBreakerState, FFToolRunResultDTO, FFToolRunStatus
from ff_managers._core.circuit_breaker import FFCircuitBreaker
from ff_managers._tools.resilience import FFTokenBucket, FFToolBreakers, FFUserRateLimiter
from ff_managers._tools.runs import FFToolRuns
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_json_utils import ff_dumps, ff_loads
from tests._planted import PlantedDefect

__all__ = ["DEFECTS"]

_TEST = "tools_policy_contracts"
_try_acquire = FFUserRateLimiter.try_acquire
_get_breaker = FFToolBreakers.get
_log = FFToolRuns._log


def rate_limit_shared_by_every_user(self: FFUserRateLimiter, user_id: str) -> bool:
    """The rate limit is one bucket for everyone (keyed by a constant, not the user): one busy user
    gets every other user's runs refused."""
    return _try_acquire(self, "*")


def bucket_created_one_short(self: FFUserRateLimiter, user_id: str) -> bool:
    """A user's bucket starts with ``per_minute - 1`` tokens: the documented burst is one run short."""
    if user_id not in self._buckets:
        now = self._now()
        self._buckets[user_id] = FFTokenBucket(self.per_minute, self.per_minute / 60.0, self.per_minute - 1, now)
    return _try_acquire(self, user_id)


def bucket_takes_its_last_token_twice(self: FFTokenBucket, now: float) -> bool:
    """The bucket lets a run through while it holds no whole token (``>= 0`` for ``>= 1``): one run
    more than the limit, every minute."""
    elapsed = max(0.0, now - self.updated)
    self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
    self.updated = now
    if self.tokens >= 0.0:
        self.tokens -= 1.0
        return True
    return False


def one_breaker_for_every_tool(self: FFToolBreakers, name: str) -> FFCircuitBreaker:
    """Every tool shares one breaker: one failing tool gets the healthy ones refused too."""
    return _get_breaker(self, "*")


def breaker_opens_one_failure_late(self: FFCircuitBreaker) -> None:
    """The breaker opens after ``threshold + 1`` consecutive failures (``>`` for ``>=``)."""
    self._failures += 1
    if self._state == FFBreakerState.HALF_OPEN or self._failures > self.threshold:
        self._state = FFBreakerState.OPEN
        self._opened_at = self._now()
    self._trial_running = False


def refusals_not_logged(self: FFToolRuns, result: FFToolRunResultDTO) -> None:
    """A refused run is returned but never written to ``runs.jsonl``: the audit trail of forbidden
    and throttled attempts is empty."""
    if result.status != FFToolRunStatus.REFUSED:
        _log(self, result)


def _arguments_checked(measure: Any, refuses_at_limit: bool) -> Any:
    def check_json_object(value: object, *, field: str, max_bytes: int) -> dict[str, Any]:
        if value is None:
            return {}
        encoded = ff_dumps(dict(value))  # type: ignore[call-overload]
        size = measure(encoded)
        if size > max_bytes or (refuses_at_limit and size == max_bytes):
            raise FFValidationError(f"{field} is {size:,} bytes as JSON; the limit is {max_bytes:,}", field=field)
        copy: dict[str, Any] = ff_loads(encoded)
        return copy

    return check_json_object


_ARGUMENT_DEFECTS = (
    ("sec_tool_arguments_refused_at_their_limit", _arguments_checked(len, True),
     "execute_tool refuses arguments of exactly tools.max_argument_bytes as JSON (>= for >)."),
    ("sec_tool_arguments_counted_in_characters", _arguments_checked(lambda encoded: len(encoded.decode()), False),
     "execute_tool measures its arguments in characters, not bytes: a document of accented text passes the limit."),
)

DEFECTS: tuple[PlantedDefect, ...] = tuple(
    PlantedDefect(name=name, what=what, origin="README", suite="security", test="oversized_tool_input",
                  patches=((runs_module, "check_json_object", replacement),))
    for name, replacement, what in _ARGUMENT_DEFECTS
) + tuple(
    PlantedDefect(name=name, what=" ".join((function.__doc__ or "").split()), origin="README", suite="component", test=_TEST,
                  patches=((owner, attribute, function),))
    for name, owner, attribute, function in (
        ("rate_limit_shared_by_every_user", FFUserRateLimiter, "try_acquire", rate_limit_shared_by_every_user),
        ("rate_limit_burst_one_short", FFUserRateLimiter, "try_acquire", bucket_created_one_short),
        ("rate_limit_one_run_over", FFTokenBucket, "take", bucket_takes_its_last_token_twice),
        ("one_breaker_for_every_tool", FFToolBreakers, "get", one_breaker_for_every_tool),
        ("breaker_opens_one_failure_late", FFCircuitBreaker, "record_failure", breaker_opens_one_failure_late),
        ("tool_refusals_not_logged", FFToolRuns, "_log", refusals_not_logged),
    )
)
