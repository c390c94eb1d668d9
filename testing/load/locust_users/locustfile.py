"""The Locust users of ``python main.py load``: loaded ONLY by Locust (``python -m locust -f <this file>``).

Never import this module from the project or from pytest: importing ``locust`` monkey-patches the
standard library through gevent (sockets, threads, ssl), which would change how everything else
in that process behaves. ``testing.load`` runs Locust as a subprocess and reads its CSV files;
tests/testing/load checks that neither ``locust`` nor ``gevent`` gets imported by the CLI.

It imports nothing from the project either, so a worker machine needs only Locust and this file
(``locust --worker -f -`` even fetches it from the master).

Users are spread round robin over ``--ff-targets`` (several ``serve`` instances, e.g. a
``cluster``; default: ``--host``). Each simulated user creates one chat session under ``--ff-user-id`` (the user the API key acts
for), then appends turns and reads the history, half and half: the operations ``append_turn`` and
``read_history`` of the performance suite, under the same names, so the report lines them up with
our own open-loop figures. ``constant_throughput(rate / users)`` paces each user, so all users
together aim at ``--rate`` requests per second (Locust's ``-r`` is a spawn rate, not this).
The key comes from the FFLOAD_API_KEY environment variable of the master (never on a command
line, where ``ps`` shows it); the master forwards custom options to its workers.
"""

from __future__ import annotations

import itertools

from locust import HttpUser, constant_throughput, events, task

_COUNTER = itertools.count()


@events.init_command_line_parser.add_listener
def _ff_arguments(parser) -> None:  # type: ignore[no-untyped-def]
    parser.add_argument("--ff-rate-per-user", type=float, default=1.0, env_var="FFLOAD_RATE_PER_USER", include_in_web_ui=False,
                        help="task runs per second of each simulated user")  # fmt: skip
    parser.add_argument("--ff-targets", default="", env_var="FFLOAD_TARGETS", include_in_web_ui=False,
                        help="comma-separated base URLs of the serve instances (default: --host)")  # fmt: skip
    parser.add_argument("--ff-user-id", default="load", env_var="FFLOAD_USER_ID", include_in_web_ui=False,
                        help="the FF user the API key acts for")  # fmt: skip
    parser.add_argument("--ff-api-key", default="", env_var="FFLOAD_API_KEY", include_in_web_ui=False,
                        help="API key (set FFLOAD_API_KEY instead of passing it)")  # fmt: skip


def _pick_target(options, environment) -> str:  # type: ignore[no-untyped-def]
    """Spread users over the targets round robin across all workers: this worker's n-th user is
    user ``n * workers + worker_index`` overall (the master forwards ``expect_workers``)."""
    targets = [t.strip().rstrip("/") for t in (options.ff_targets or "").split(",") if t.strip()] or [environment.host.rstrip("/")]
    workers = max(int(getattr(options, "expect_workers", 1) or 1), 1)
    index = next(_COUNTER) * workers + int(getattr(environment.runner, "worker_index", 0) or 0)
    return targets[index % len(targets)]


def _fail(answer) -> None:  # type: ignore[no-untyped-def]
    """Mark a request failed with its status, or with why there was none (status 0: no answer)."""
    if answer.status_code:
        answer.failure(f"HTTP {answer.status_code}")
    else:
        answer.failure(f"no answer: {answer.error!r}")


class FFServiceUser(HttpUser):
    """One chat client of a ``serve`` instance."""

    def wait_time(self) -> float:
        return constant_throughput(self.environment.parsed_options.ff_rate_per_user)(self)

    def on_start(self) -> None:
        options = self.environment.parsed_options
        self.client.headers["Authorization"] = f"Bearer {options.ff_api_key}"
        self.user_id = options.ff_user_id
        self.base = _pick_target(options, self.environment)
        self.session_id: str | None = None
        self.turn = 0
        self.tag = f"{id(self):x}"
        self._ensure_session()

    def _ensure_session(self) -> bool:
        if self.session_id is not None:
            return True
        with self.client.post(f"{self.base}/v1/users/{self.user_id}/sessions", json={}, name="create_session", catch_response=True) as answer:
            if answer.status_code != 201:
                _fail(answer)
                return False
            self.session_id = answer.json()["session_id"]
        return True

    @task
    def append_turn(self) -> None:
        if not self._ensure_session():
            return
        self.turn += 1
        body = {"role": "user", "content": f"load {self.tag} turn {self.turn} via {self.base}"}
        with self.client.post(f"{self.base}/v1/users/{self.user_id}/sessions/{self.session_id}/messages", json=body, name="append_turn",
                              catch_response=True) as answer:  # fmt: skip
            if answer.status_code != 201:
                _fail(answer)

    @task
    def read_history(self) -> None:
        if not self._ensure_session():
            return
        with self.client.get(f"{self.base}/v1/users/{self.user_id}/sessions/{self.session_id}/messages", params={"limit": 20}, name="read_history",
                             catch_response=True) as answer:  # fmt: skip
            if answer.status_code != 200:
                _fail(answer)
