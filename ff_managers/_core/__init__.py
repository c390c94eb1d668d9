"""What the managers share, and nothing else: input checks, the mapping of foreign errors, the
tokenizer and the circuit breaker.

Private to ``ff_managers``: a manager's façade and its private package import these modules;
code outside ``ff_managers/`` (tests of other packages, ``testing/``, ``main.py``) does not.
Each module is small and says in its docstring which rule it owns, so a rule is changed once
for every manager.

- :mod:`.checks`    one rule per kind of input field (text, JSON object, limits, timestamps, numbers)
- :mod:`.errors`    pydantic / orjson / OSError -> the FFError tree, input versus stored data
- :mod:`.tokenizer` one tokenizer with documented options for memory, panel routing and knowledge
- :mod:`.circuit_breaker` one breaker state machine, for tool runs and communication endpoints
"""

from __future__ import annotations

__all__: list[str] = []
