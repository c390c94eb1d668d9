"""The implementation of :class:`~ff_managers.ff_tool_execution_manager.FFToolExecutionManager`.

Private: nothing outside ``ff_managers`` imports it (the façade module is the public door, and
only the unit tests in ``tests/ff_managers/tools/`` look inside). One module per job, in the
order a run meets them:

* ``registry``: tool definitions by name, argument validation, path checks, permission rules,
  effective limits (pure logic, no I/O);
* ``access``: a user's roles and grants, the stored part of the permission rules;
* ``runs``: one ``execute_tool`` call from checked input to logged result, and the run log;
* ``resilience``: the circuit breaker per tool, the token-bucket rate limit per user, retries;
* ``sandbox``: one sandboxed attempt (argv, scrubbed environment, limits, output cap, stop);
* ``watchdog``: the process count that contains fork bombs, and the last-resort tree kill;
* ``launcher``: the stdlib-only supervisor program the sandbox starts in front of each tool;
* ``results``: how an attempt's outcome becomes a run result, and what is retried;
* ``builtin_defs``: how the built-in tools are started. The tools themselves are programs in
  :mod:`ff_managers.tools_builtin` (public: ``python -m ff_managers.tools_builtin.<name>``), run
  in the child process as ``tools_builtin.<name>`` with the ``ff_managers`` folder as the only
  PYTHONPATH entry; they import the standard library, their own package and (lazily, for PDFs)
  pypdf, nothing from here.
"""

__all__: list[str] = []
