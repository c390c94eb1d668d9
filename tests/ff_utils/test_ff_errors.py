"""ff_errors: the hierarchy and the one place other libraries' errors are translated."""

from __future__ import annotations

import errno
from pathlib import Path

import orjson
import pydantic
import pytest

from ff_utils.ff_errors import (
    FFConfigError,
    FFConflictError,
    FFCorruptionError,
    FFError,
    FFNotFoundError,
    FFPermissionError,
    FFSandboxViolationError,
    FFStorageError,
    FFTimeoutError,
    FFValidationError,
    ff_input_error,
    ff_stored_error,
    ff_translate_errors,
)


class _Model(pydantic.BaseModel):
    count: int


def _pydantic_error() -> pydantic.ValidationError:
    with pytest.raises(pydantic.ValidationError) as info:
        _Model.model_validate({"count": "many"})
    return info.value


def _orjson_error() -> orjson.JSONDecodeError:
    with pytest.raises(orjson.JSONDecodeError) as info:
        orjson.loads(b"{not json")
    return info.value


def test_hierarchy_is_as_drawn() -> None:
    assert issubclass(FFConfigError, FFValidationError)
    assert issubclass(FFCorruptionError, FFStorageError)
    for cls in (FFValidationError, FFNotFoundError, FFPermissionError, FFConflictError, FFStorageError,
                FFSandboxViolationError, FFTimeoutError):
        assert issubclass(cls, FFError)
        assert not issubclass(cls, (OSError, ValueError))  # callers catch FFError, not built-ins


def test_context_travels_in_keyword_attributes(tmp_path: Path) -> None:
    err = FFNotFoundError("no session", kind="session", key="s1", path=tmp_path / "x.json", user="u")
    assert (err.kind, err.key, err.path, err.context) == ("session", "s1", tmp_path / "x.json", {"user": "u"})
    assert str(err) == f"no session ({tmp_path / 'x.json'})"
    bad = FFValidationError("bad id", field="user_id", value="../x")
    assert (bad.field, bad.value, str(bad)) == ("user_id", "../x", "bad id")


def test_path_not_repeated_when_message_names_it(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    assert str(FFStorageError(f"cannot read {target}", path=target)) == f"cannot read {target}"


@pytest.mark.parametrize(
    ("raised", "expected", "text"),
    [
        (lambda: OSError(errno.ENOSPC, "No space left on device"), FFStorageError, "ENOSPC"),
        (lambda: OSError(errno.EIO, "Input/output error"), FFStorageError, "EIO"),
        (lambda: OSError(errno.EACCES, "Permission denied"), FFPermissionError, "permission denied"),
        (lambda: OSError(errno.ENOENT, "No such file"), FFNotFoundError, "no such file"),
        (lambda: TimeoutError("slow"), FFTimeoutError, "timed out"),
        (_orjson_error, FFCorruptionError, "invalid JSON"),
        (lambda: UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), FFCorruptionError, "not UTF-8"),
        (_pydantic_error, FFValidationError, "count"),
    ],
)
def test_translation_mapping(tmp_path: Path, raised, expected: type[FFError], text: str) -> None:
    original = raised()
    target = tmp_path / "thing.json"
    with pytest.raises(FFError) as info, ff_translate_errors("read thing", target):
        raise original
    err = info.value
    assert type(err) is expected
    assert err.__cause__ is original  # raise ... from exc
    assert err.path == target
    assert "cannot read thing" in str(err) and text in str(err) and str(target) in str(err)


def test_enospc_keeps_errno_and_pydantic_names_field(tmp_path: Path) -> None:
    with pytest.raises(FFStorageError) as info, ff_translate_errors("append", tmp_path):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert info.value.context["errno"] == errno.ENOSPC
    with pytest.raises(FFValidationError) as info2, ff_translate_errors("validate"):
        raise _pydantic_error()
    assert info2.value.field == "count"


def test_ff_errors_pass_through_untouched() -> None:
    original = FFConflictError("closed")
    with pytest.raises(FFConflictError) as info, ff_translate_errors("x"):
        raise original
    assert info.value is original


def test_other_exceptions_are_not_swallowed() -> None:
    with pytest.raises(KeyError), ff_translate_errors("x"):
        raise KeyError("programming error")


def test_input_error_names_the_first_field_with_an_optional_prefix() -> None:
    plain = ff_input_error(_pydantic_error())
    assert type(plain) is FFValidationError and plain.field == "count"
    assert str(plain) == "count: Input should be a valid integer, unable to parse string as an integer (got 'many')"
    prefixed = ff_input_error(_pydantic_error(), field="items[2]", action="add item", tool="t")
    assert prefixed.field == "items[2].count" and prefixed.context == {"tool": "t"}
    assert str(prefixed).startswith("cannot add item: items[2].count: ")


def test_stored_error_is_corruption_naming_the_file(tmp_path: Path) -> None:
    err = ff_stored_error(_pydantic_error(), model="_Model", path=tmp_path / "m.json")
    assert type(err) is FFCorruptionError and err.path == tmp_path / "m.json"
    assert str(err).startswith("stored _Model does not match its schema: count: Input should be a valid integer")
    assert str(tmp_path / "m.json") in str(err)
