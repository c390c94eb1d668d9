"""The one mapping of foreign errors into the FFError tree, as the managers use it.

A manager meets three foreign error families, and each has one meaning per source:

==========================  ==========================  ===========================================
raised by                   caller's input              data read from disk
==========================  ==========================  ===========================================
pydantic ValidationError    FFValidationError, field =  FFCorruptionError naming the file
                            the first error's location  (``FFStore.load``)
                            (:func:`validate_input`,
                            :func:`input_errors`)
orjson encode / decode      FFValidationError           FFCorruptionError naming the file
                            (``ff_dumps``: "cannot be   (``ff_loads`` / ``ff_read_json`` /
                            stored as JSON")            :func:`translate_errors`)
OSError                     --                          FileNotFoundError -> FFNotFoundError,
                                                        PermissionError -> FFPermissionError,
                                                        TimeoutError -> FFTimeoutError, any
                                                        other -> FFStorageError with its errno
                                                        (:func:`translate_errors`)
==========================  ==========================  ===========================================

The wording and the OSError mapping live in :mod:`ff_utils.ff_errors` (``ff_translate_errors``,
``ff_input_error``, ``ff_stored_error``), because ``ff_utils`` (FFStore, the JSON helpers) needs
them too; this module re-exports them and adds the call shapes managers repeat for input
(validate this input into that model). Stored records become DTOs through ``FFStore.load``, the
one place that turns a record into a model. Every translation raises
``from exc``, so the original error stays on ``__cause__``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, TypeVar

import pydantic

from ff_utils.ff_errors import ff_input_error, ff_stored_error, ff_translate_errors

__all__ = [
    "translate_errors",
    "ff_input_error",
    "ff_stored_error",
    "input_errors",
    "validate_input",
]

M = TypeVar("M", bound=pydantic.BaseModel)

translate_errors = ff_translate_errors
"""``with translate_errors(action, path):`` OSError / orjson decode / UnicodeDecodeError -> FFError."""


@contextlib.contextmanager
def input_errors(field: str | None = None, **context: Any) -> Iterator[None]:
    """Inside, a pydantic ValidationError is the caller's bad input: FFValidationError.

    For building a DTO from arguments (``FFChatMessageDTO(role=..., content=...)``); ``field``
    prefixes the location (``messages[3]`` -> ``messages[3].role``); ``context`` goes on the error.
    """
    try:
        yield
    except pydantic.ValidationError as exc:
        raise ff_input_error(exc, field=field, **context) from exc


def validate_input(model: type[M], data: Any, *, field: str | None = None, **context: Any) -> M:
    """``model.model_validate(data)`` for the caller's input; FFValidationError naming the field."""
    with input_errors(field, **context):
        return model.model_validate(data)
