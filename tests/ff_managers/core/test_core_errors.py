"""The one mapping of foreign errors: input -> FFValidationError, stored data -> FFCorruptionError."""

from __future__ import annotations

import errno

import orjson
import pydantic
import pytest

from ff_managers._core import errors
from ff_utils.ff_errors import (
    FFCorruptionError,
    FFNotFoundError,
    FFPermissionError,
    FFStorageError,
    FFTimeoutError,
    FFValidationError,
)


class Message(pydantic.BaseModel):
    role: str
    count: int


def test_validate_input_names_the_first_bad_field():
    with pytest.raises(FFValidationError) as caught:
        errors.validate_input(Message, {"role": "user", "count": "many"})
    assert caught.value.field == "count"
    assert str(caught.value).startswith("count: Input should be a valid integer")
    assert "(got 'many')" in str(caught.value)
    assert isinstance(caught.value.__cause__, pydantic.ValidationError)


def test_validate_input_prefixes_the_field_and_carries_context():
    with pytest.raises(FFValidationError) as caught:
        errors.validate_input(Message, {"count": 1}, field="messages[3]", tool="echo")
    assert caught.value.field == "messages[3].role"
    assert caught.value.context == {"tool": "echo"}


def test_input_errors_covers_dto_constructors():
    with pytest.raises(FFValidationError) as caught, errors.input_errors("message"):
        Message(role=3, count=1)  # type: ignore[arg-type]
    assert caught.value.field == "message.role"


def test_non_pydantic_errors_pass_through_the_input_mapper():
    with pytest.raises(KeyError), errors.input_errors():
        raise KeyError("x")


@pytest.mark.parametrize(
    "raised, expected",
    [
        (FileNotFoundError(errno.ENOENT, "gone"), FFNotFoundError),
        (PermissionError(errno.EACCES, "no"), FFPermissionError),
        (TimeoutError(), FFTimeoutError),
        (OSError(errno.ENOSPC, "No space left on device"), FFStorageError),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), FFCorruptionError),
    ],
)
def test_translate_errors_maps_os_and_decode_errors(tmp_path, raised, expected):
    with pytest.raises(expected) as caught, errors.translate_errors("read JSON", tmp_path / "f.json"):
        raise raised
    assert caught.value.__cause__ is raised
    assert caught.value.path == tmp_path / "f.json"


def test_translate_errors_maps_orjson_decode_to_corruption(tmp_path):
    with pytest.raises(FFCorruptionError, match="cannot parse JSON: invalid JSON"), errors.translate_errors("parse JSON", tmp_path):
        orjson.loads(b"{nope")


def test_translate_errors_keeps_its_pydantic_wording():
    with pytest.raises(FFValidationError, match=r"^cannot read config: count: Input should be a valid integer") as caught:
        with errors.translate_errors("read config"):
            Message.model_validate({"role": "r", "count": "x"})
    assert caught.value.field == "count"


def test_disk_full_keeps_its_errno():
    with pytest.raises(FFStorageError) as caught, errors.translate_errors("append JSONL"):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert caught.value.context["errno"] == errno.ENOSPC
    assert "[ENOSPC]" in str(caught.value)
