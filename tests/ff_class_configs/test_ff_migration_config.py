"""config.migration, and the deprecated integration_testing.migration_config keys that map onto it.

The deprecation warnings are checked as errors (``filterwarnings("error")``) rather than with
``pytest.warns``: a ``pytest.warns`` block is the last place CPython synced its warning filters
when no warning follows it, and the interpreter then reports every cached lock file at exit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO, FFMigrationConfigDTO, load_config
from ff_class_configs.ff_integration_testing_config import FFIntegrationTestingConfigDTO, FFMigrationTestConfigDTO
from ff_utils.ff_errors import FFConfigError

_QUIET = pytest.mark.filterwarnings("ignore::DeprecationWarning")
_AS_ERRORS = pytest.mark.filterwarnings("error::DeprecationWarning")


def test_the_section_has_its_defaults_and_loads_from_file_and_environment(tmp_path: Path) -> None:
    assert load_config(environ={}).migration == FFMigrationConfigDTO(batch_size=1_000, timeout_minutes=60.0,
                                                                      corrupt_input_policy="quarantine")
    path = tmp_path / "ff_config.json"
    path.write_text(json.dumps({"migration": {"batch_size": 50, "corrupt_input_policy": "abort"}}))
    config = load_config(path, environ={"FF_MIGRATION__TIMEOUT_MINUTES": "5"})
    assert (config.migration.batch_size, config.migration.corrupt_input_policy, config.migration.timeout_minutes) == (50, "abort", 5.0)
    with pytest.raises(FFConfigError, match="migration.corrupt_input_policy"):
        load_config(environ={"FF_MIGRATION__CORRUPT_INPUT_POLICY": "ignore"})


@_QUIET
def test_the_old_keys_still_configure_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "ff_config.json"
    path.write_text(json.dumps({"integration_testing": {"migration_config": {"corrupt_input_policy": "abort", "generated_users": 2}}}))
    config = load_config(path, environ={"FF_INTEGRATION_TESTING__MIGRATION_CONFIG__MIGRATION_BATCH_SIZE": "7"})
    assert config.migration.corrupt_input_policy == "abort" and config.migration.batch_size == 7
    assert config.integration_testing.migration_config.generated_users == 2
    # read where they always were
    legacy = config.integration_testing.migration_config
    assert (legacy.corrupt_input_policy, legacy.migration_batch_size, legacy.migration_timeout_minutes) == ("abort", 7, 60.0)


@_QUIET
def test_old_attributes_read_and_write_the_new_section() -> None:
    config = load_config(environ={})
    legacy = config.integration_testing.migration_config
    legacy.migration_batch_size = 3
    assert config.migration.batch_size == 3
    config.migration.timeout_minutes = 2.5
    assert legacy.migration_timeout_minutes == 2.5
    config.migration = FFMigrationConfigDTO(corrupt_input_policy="abort")  # a new section: the aliases follow it
    assert legacy.corrupt_input_policy == "abort" and legacy.migration_batch_size == 1_000
    copy = config.model_copy(deep=True)
    copy.integration_testing.migration_config.corrupt_input_policy = "quarantine"
    assert copy.migration.corrupt_input_policy == "quarantine" and config.migration.corrupt_input_policy == "abort"
    with pytest.raises(ValueError):
        legacy.migration_batch_size = 0  # validated like the new field
    assert config.migration.batch_size == 1_000


@_QUIET
def test_sections_built_alone_hand_their_old_keys_over_when_attached() -> None:
    config = load_config(environ={})
    config.integration_testing.migration_config = FFMigrationTestConfigDTO(corrupt_input_policy="abort")
    assert config.migration.corrupt_input_policy == "abort"
    config.integration_testing = FFIntegrationTestingConfigDTO(migration_config={"migration_timeout_minutes": 9})
    assert config.migration.timeout_minutes == 9.0
    assert config.integration_testing.migration_config.migration_timeout_minutes == 9.0


def test_a_dump_holds_each_setting_once_and_round_trips() -> None:
    config = load_config(environ={}, overrides={"migration": {"batch_size": 12}})
    data = config.model_dump(mode="json")
    assert data["migration"]["batch_size"] == 12
    assert "migration_batch_size" not in data["integration_testing"]["migration_config"]
    again = FFConfigurationManagerConfigDTO.model_validate(data)
    assert again.integration_testing.migration_config.migration_batch_size == 12


@_QUIET
def test_a_setting_given_both_ways_with_different_values_is_refused() -> None:
    both = {"migration": {"batch_size": 5}, "integration_testing": {"migration_config": {"migration_batch_size": 6}}}
    with pytest.raises(FFConfigError, match="set twice"):
        load_config(environ={}, overrides=both)
    same = {"migration": {"batch_size": 5}, "integration_testing": {"migration_config": {"migration_batch_size": 5}}}
    assert load_config(environ={}, overrides=same).migration.batch_size == 5
    bad = {"integration_testing": {"migration_config": {"migration_batch_size": 0}}}
    with pytest.raises(FFConfigError, match="migration_batch_size .*migration.batch_size"):
        load_config(environ={}, overrides=bad)


@_AS_ERRORS
def test_each_use_of_an_old_key_warns_and_names_the_new_one() -> None:
    with pytest.raises(DeprecationWarning, match="set migration.corrupt_input_policy instead"):
        load_config(environ={}, overrides={"integration_testing": {"migration_config": {"corrupt_input_policy": "abort"}}})
    with pytest.raises(DeprecationWarning, match="set migration.timeout_minutes instead"):
        load_config(environ={"FF_INTEGRATION_TESTING__MIGRATION_CONFIG__MIGRATION_TIMEOUT_MINUTES": "5"})
    config = load_config(environ={})
    with pytest.raises(DeprecationWarning, match="set migration.batch_size instead"):
        config.integration_testing.migration_config.migration_batch_size = 3
    assert config.integration_testing.migration_config.migration_batch_size == 1_000  # reading does not warn
    config.migration.batch_size = 4  # the new key does not warn either
