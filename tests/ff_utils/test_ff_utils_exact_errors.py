"""Exact wording of ff_input_error / ff_stored_error (mutation review, issue #20): the field path
joined with dots and prefixed, the fallback names for an error without a location, the value
shown only when it is a short scalar (80 characters of repr at most), and an error list that is
empty."""

from __future__ import annotations

import pydantic
import pytest

from ff_utils.ff_errors import ff_input_error, ff_stored_error


class _Message(pydantic.BaseModel):
    role: str


class _Chat(pydantic.BaseModel):
    messages: list[_Message]


def _error(model: type[pydantic.BaseModel] | pydantic.TypeAdapter, value: object) -> pydantic.ValidationError:
    validate = model.validate_python
    with pytest.raises(pydantic.ValidationError) as caught:
        validate(value)
    return caught.value


_INT = pydantic.TypeAdapter(int)
_NOT_INT = "Input should be a valid integer, unable to parse string as an integer"


def test_the_location_is_joined_with_dots_and_prefixed_by_the_field() -> None:
    exc = _error(pydantic.TypeAdapter(_Chat), {"messages": [{"role": 1}]})
    error = ff_input_error(exc, field="body", action="send")
    assert error.field == "body.messages.0.role"
    assert error.message == "cannot send: body.messages.0.role: Input should be a valid string (got 1)"


def test_an_error_without_location_is_named_value_or_the_field_given() -> None:
    exc = _error(_INT, "x")
    assert (ff_input_error(exc).message, ff_input_error(exc).field) == (f"value: {_NOT_INT} (got 'x')", None)
    assert (ff_input_error(exc, field="limit").message, ff_input_error(exc, field="limit").field) == (
        f"limit: {_NOT_INT} (got 'x')",
        "limit",
    )


def test_a_stored_record_without_location_is_named_record() -> None:
    error = ff_stored_error(_error(_INT, "x"), model="session", path="/data/s.json")
    assert error.message == f"stored session does not match its schema: record: {_NOT_INT}"


@pytest.mark.parametrize(("length", "shown"), [(78, True), (79, False)])
def test_a_string_value_is_shown_up_to_80_characters_of_repr(length: int, shown: bool) -> None:
    value = "y" * length  # repr adds the two quotes: 80 and 81 characters
    message = ff_input_error(_error(_INT, value)).message
    assert message == f"value: {_NOT_INT}" + (f" (got {value!r})" if shown else "")


def test_a_value_that_is_not_a_scalar_is_never_shown() -> None:
    message = ff_input_error(_error(_INT, [1])).message
    assert message == "value: Input should be a valid integer"


def test_an_error_list_that_is_empty_falls_back_to_the_errors_text() -> None:
    exc = pydantic.ValidationError.from_exception_data("M", [])
    error = ff_input_error(exc)
    assert (error.message, error.field) == ("value: 0 validation errors for M", None)
