"""The implementation of :class:`~ff_managers.ff_tool_execution_manager.FFToolExecutionManager`.

Private: nothing outside ``ff_managers`` imports it (the façade is the public door). One module
per job:

* ``registry``: tool definitions by name, argument validation, path checks, permission rules,
  effective limits (pure logic, no I/O);
* ``resilience``: the circuit breaker per tool, the token-bucket rate limit per user, retries;
* ``builtin_defs``: how the built-in tools (:mod:`ff_managers.tools_builtin`) are started;
* ``sandbox``: one sandboxed attempt (argv, scrubbed environment, limits, output cap, stop);
* ``launcher``: the stdlib-only supervisor program the sandbox starts in front of each tool.
"""
