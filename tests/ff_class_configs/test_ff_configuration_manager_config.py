"""load_config: layer precedence, environment presets, and one-line errors for bad values."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ff_class_configs import ENVIRONMENT_PRESETS, FFConfigurationManagerConfigDTO, load_config
from ff_utils.ff_errors import FFConfigError, FFValidationError

USERS_VAR = "FF_INTEGRATION_TESTING__PERFORMANCE_CONFIG__CONCURRENT_USERS"


def _users(config: FFConfigurationManagerConfigDTO) -> int:
    return config.integration_testing.performance_config.concurrent_users


def _write(path: Path, data: object) -> Path:
    path.write_bytes(orjson.dumps(data))
    return path


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={})
    assert config.environment == "development"
    assert config.storage.base_path == tmp_path / "ff_data"
    assert config.storage.durability == "always"
    assert _users(config) == 8


def test_precedence_defaults_preset_file_env_arguments(tmp_path: Path) -> None:
    file_top = _write(tmp_path / "top.json", {"integration_testing": {"performance_config": {"concurrent_users": 20}}})
    file_env = _write(
        tmp_path / "env.json",
        {
            "integration_testing": {"performance_config": {"concurrent_users": 20}},
            "environments": {"production_like": {"integration_testing": {"performance_config": {"concurrent_users": 24}}}},
        },
    )
    env = {USERS_VAR: "30"}
    args = {"integration_testing": {"performance_config": {"concurrent_users": 40}}}
    assert _users(load_config(environ={})) == 8  # defaults
    assert _users(load_config(environment="production_like", environ={})) == 16  # < preset
    assert _users(load_config(file_top, environment="production_like", environ={})) == 20  # < file
    assert _users(load_config(file_env, environment="production_like", environ={})) == 24  # < its environments block
    assert _users(load_config(file_env, environment="production_like", environ=env)) == 30  # < FF_* variables
    assert _users(load_config(file_env, environment="production_like", environ=env, overrides=args)) == 40  # < arguments
    # Layers merge deeply: the preset's duration survives the file overriding a sibling field.
    merged = load_config(file_top, environment="production_like", environ={})
    assert merged.integration_testing.performance_config.test_duration_seconds == 30
    assert merged.integration_testing.test_environment == "production_like"


def test_environment_choice_precedence(tmp_path: Path) -> None:
    config_file = _write(tmp_path / "c.json", {"environment": "staging"})
    assert load_config(config_file, environ={}).environment == "staging"
    assert load_config(config_file, environ={"FF_ENVIRONMENT": "performance"}).environment == "performance"
    chosen = load_config(config_file, environment="production_like", environ={"FF_ENVIRONMENT": "performance"})
    assert chosen.environment == "production_like"


def test_base_path_forms(tmp_path: Path) -> None:
    assert load_config(environ={"FF_BASE_PATH": str(tmp_path / "a")}).storage.base_path == tmp_path / "a"
    assert load_config(environ={"FF_STORAGE__BASE_PATH": "123"}).storage.base_path == Path("123")  # stays a path
    assert load_config(base_path=tmp_path / "b", environ={"FF_BASE_PATH": str(tmp_path / "a")}).storage.base_path == tmp_path / "b"
    moved = load_config(environ={}).with_base_path(tmp_path / "c")
    assert moved.storage.base_path == tmp_path / "c"


def test_env_values_are_typed_and_others_ignored(tmp_path: Path) -> None:
    config = load_config(
        environ={
            "FF_STORAGE__DURABILITY": "batch",
            "FF_INTEGRATION_TESTING__STOP_ON_FIRST_FAILURE": "true",
            "FF_INTEGRATION_TESTING__REPORT_OUTPUT_FORMATS": '["json"]',
            "FF_LOG_LEVEL": "DEBUG",
            "HOME": "/root",
            "PATH": "/bin",
        }
    )
    assert config.storage.durability == "batch"
    assert config.integration_testing.stop_on_first_failure is True
    assert config.integration_testing.report_output_formats == ["json"]


def test_reads_os_environ_when_not_given(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FF_STORAGE__DURABILITY", "never")
    assert load_config(base_path=tmp_path).storage.durability == "never"


@pytest.mark.parametrize(
    ("environ", "field", "allowed"),
    [
        ({"FF_STORAGE__DURABILITY": "sometimes"}, "storage.durability", "'always', 'batch' or 'never'"),
        ({"FF_STORAGE__BATCH_FSYNC_INTERVAL_MS": "0"}, "storage.batch_fsync_interval_ms", "greater than or equal to 1"),
        ({USERS_VAR: "lots"}, "integration_testing.performance_config.concurrent_users", "integer"),
        ({"FF_INTEGRATION_TESTING__PERFORMANCE_CONFIG__PROFILE": "huge"}, "profile", "'quick' or 'full'"),
        ({"FF_STORAGE__NO_SUCH_FIELD": "1"}, "storage.no_such_field", "Extra inputs are not permitted"),
    ],
)
def test_bad_value_is_one_line_naming_field_and_allowed(environ: dict[str, str], field: str, allowed: str) -> None:
    with pytest.raises(FFConfigError) as info:
        load_config(environ=environ)
    message = str(info.value)
    assert "\n" not in message
    assert field in message and allowed in message
    assert isinstance(info.value, FFValidationError)


def test_several_problems_are_counted_not_listed() -> None:
    with pytest.raises(FFConfigError) as info:
        load_config(environ={"FF_STORAGE__DURABILITY": "x", "FF_STORAGE__LOCK_TIMEOUT_SECONDS": "-1"})
    assert "\n" not in str(info.value) and "1 more problem" in str(info.value)


def test_unknown_environment() -> None:
    for kwargs in ({"environment": "prod"}, {"environ": {"FF_ENVIRONMENT": "prod"}}):
        with pytest.raises(FFConfigError) as info:
            load_config(**({"environ": {}} | kwargs))  # type: ignore[arg-type]
        message = str(info.value)
        assert "environment" in message and "'prod'" in message and "\n" not in message
        assert all(name in message for name in ENVIRONMENT_PRESETS)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "not found"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must hold a JSON object"),
        (b'{"storage": {"durability": "maybe"}}', "storage.durability"),
        (b'{"unknown_section": {}}', "unknown_section"),
        (b'{"environments": "staging"}', "environments"),
    ],
)
def test_bad_file(tmp_path: Path, content: bytes | None, expected: str) -> None:
    path = tmp_path / "config.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(FFConfigError) as info:
        load_config(path, environ={})
    assert expected in str(info.value) and "\n" not in str(info.value)
    if expected in ("not found", "not valid JSON", "must hold a JSON object"):
        assert str(path) in str(info.value)


def test_assignment_is_validated(config: FFConfigurationManagerConfigDTO) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        config.storage.durability = "sometimes"  # type: ignore[assignment]


def test_config_fixture_is_isolated(config: FFConfigurationManagerConfigDTO, tmp_path: Path) -> None:
    assert config.storage.base_path == tmp_path and config.environment == "development"


def test_unrelated_ff_variables_are_ignored_but_typos_in_a_section_are_not() -> None:
    config = load_config(environ={"FF_VENV": ".venv-ci", "FF_SOMETHING__ELSE": "1", "FF_STORAGE__DURABILITY": "batch"})
    assert config.storage.durability == "batch"
    with pytest.raises(FFConfigError, match="storage.durabilty"):
        load_config(environ={"FF_STORAGE__DURABILTY": "batch"})
