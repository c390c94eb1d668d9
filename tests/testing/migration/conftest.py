"""Hypothesis profiles of the migration property tests (tests/testing/migration/test_ff_migration_variations.py).

Registered here, never loaded globally (that would change every other hypothesis test): the
property tests pick theirs by name (``settings.get_profile``). ``default`` keeps the suite fast (a
handful of generated roots); ``slow`` runs many more. Choose with ``HYPOTHESIS_PROFILE=slow``, or
run the ``@pytest.mark.slow`` twins (``-m slow``), which always use ``slow``.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "derandomize": False, "print_blob": True,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]}

settings.register_profile("ff-migration-default", max_examples=4, **_COMMON)
settings.register_profile("ff-migration-slow", max_examples=60, **_COMMON)
settings.register_profile("ff-migration-interrupt-default", max_examples=1, **_COMMON)
settings.register_profile("ff-migration-interrupt-slow", max_examples=6, **_COMMON)
