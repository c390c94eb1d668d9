"""The security suite: named attack attempts on the five managers, each with its expected outcome.

Each check is one small test function in a group module, registered through
:func:`testing.suites.security._support.security_check`, which records the attack as an
``FFSecurityCheckDTO`` in ``check.details["security_check"]`` (check id, OWASP ASVS 4.0.3
requirement, what was attempted, what should happen, what was measured, and ``passed`` derived
from the assertions the test made about that measurement).

Groups and their config flags (``integration_testing.security_config``):

==========================  ====================================  =========================
module                      attacks                               flag
==========================  ====================================  =========================
``hostile_ids``             traversal/absolute/NUL/unicode/huge   ``test_path_traversal``
                            ids into every manager
``injection``               newline and JSON injection into       ``test_injection``
                            stored content and logs
``isolation``               user B reading user A's data          ``test_user_isolation``
``sandbox``                 tool sandbox escapes                  ``test_sandbox``
``oversized``               payloads over the configured limits   ``test_oversized_payloads``
``audit_tampering``         editing the audit log behind its back ``test_audit_tampering``
``encryption``              plaintext at rest                     ``test_data_encryption``
==========================  ====================================  =========================

A check whose group is switched off still runs as a test (the registry is static) but attempts
nothing: it records one assertion saying so and a warning, and no ``security_check`` entry, so
the report's list of security checks holds only attacks that were actually attempted.
"""

from __future__ import annotations

from testing.suites.security._registry import REGISTRY

# Importing a group module registers its checks; this order is the order of the report.
from testing.suites.security import hostile_ids  # noqa: E402,F401  isort: skip
from testing.suites.security import injection  # noqa: E402,F401  isort: skip
from testing.suites.security import isolation  # noqa: E402,F401  isort: skip
from testing.suites.security import sandbox  # noqa: E402,F401  isort: skip
from testing.suites.security import oversized  # noqa: E402,F401  isort: skip
from testing.suites.security import audit_tampering  # noqa: E402,F401  isort: skip
from testing.suites.security import encryption  # noqa: E402,F401  isort: skip

__all__ = ["REGISTRY"]
