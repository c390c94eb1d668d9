"""The one error hierarchy of FF Platform.

    FFError
    ├── FFValidationError        bad input: ids, paths, payloads, config values
    │   └── FFConfigError        a configuration value or file is invalid
    ├── FFNotFoundError          a user, session, document... does not exist
    ├── FFPermissionError        the caller may not do this (other user's data, tool grant)
    ├── FFConflictError          the state forbids it (closed panel, out-of-turn message, exists)
    ├── FFStorageError           the file system failed (I/O error, disk full, lock timeout)
    │   └── FFCorruptionError    a file on disk is not what we wrote (bad JSON, torn record)
    ├── FFSandboxViolationError  a tool tried something its sandbox forbids
    └── FFTimeoutError           an operation ran past its time limit

Context travels in keyword-only attributes (like httpx's ``HTTPStatusError(msg, *, request,
response)``) so callers can branch on data instead of parsing messages. Errors raised by other
libraries (``OSError``, ``orjson.JSONDecodeError``, pydantic ``ValidationError``) are translated
in exactly one place, :func:`ff_translate_errors`, with ``raise ... from exc``. A pydantic error
means one of two things, and the two helpers below keep the wording of each in one place:
:func:`ff_input_error` (the caller's input did not fit: FFValidationError naming the field) and
:func:`ff_stored_error` (a record read from disk did not fit: FFCorruptionError naming the file).
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "FFError",
    "FFValidationError",
    "FFConfigError",
    "FFNotFoundError",
    "FFPermissionError",
    "FFConflictError",
    "FFStorageError",
    "FFCorruptionError",
    "FFArtifactStoreError",
    "FFSandboxViolationError",
    "FFTimeoutError",
    "ff_translate_errors",
    "ff_input_error",
    "ff_stored_error",
]


class FFError(Exception):
    """Base of every error FF Platform raises on purpose."""

    def __init__(self, message: str, *, path: Path | str | None = None, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.context = context

    def __str__(self) -> str:
        if self.path is not None and str(self.path) not in self.message:
            return f"{self.message} ({self.path})"
        return self.message


class FFValidationError(FFError):
    """Input was refused before anything was written."""

    def __init__(self, message: str, *, field: str | None = None, value: Any = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.field = field
        self.value = value


class FFConfigError(FFValidationError):
    """A configuration file, environment variable or argument holds an invalid value."""


class FFNotFoundError(FFError):
    """The thing asked for does not exist (for this user)."""

    def __init__(self, message: str, *, kind: str | None = None, key: str | None = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.kind = kind
        self.key = key


class FFPermissionError(FFError):
    """The caller is not allowed to do this."""


class FFConflictError(FFError):
    """The current state forbids the operation (already exists, closed, out of turn)."""


class FFStorageError(FFError):
    """The storage layer failed: I/O error, no space, lock not acquired in time."""


class FFCorruptionError(FFStorageError):
    """A file on disk cannot be parsed as what FF Platform wrote there."""


class FFArtifactStoreError(FFStorageError):
    """The object store of immutable artifacts (reports, backups, attachments) failed or lied.

    ``reason`` says which, for callers and tests: ``bucket_missing``, ``access_denied``,
    ``unreachable``, ``not_found``, ``checksum_mismatch``, ``conflict``, ``missing_dependency`` or
    ``error``. The message is one line naming the store's URL, never a credential.
    """

    def __init__(self, message: str, *, reason: str = "error", **context: Any) -> None:
        super().__init__(message, **context)
        self.reason = reason


class FFSandboxViolationError(FFError):
    """A tool attempted something outside its sandbox (path, shell, resource)."""


class FFTimeoutError(FFError):
    """An operation did not finish within its time limit."""


def _first_pydantic_error(exc: Any) -> tuple[str | None, str, Any]:
    """``(loc, msg, input)`` of a pydantic ValidationError's first error (loc joined with dots)."""
    errors = exc.errors()
    first = errors[0] if errors else {}
    where = ".".join(str(part) for part in first.get("loc", ())) or None
    return where, str(first.get("msg", exc)).strip(), first.get("input")  # one line, also for the fallback


def ff_input_error(
    exc: Any, *, field: str | None = None, action: str | None = None, path: Path | str | None = None, **context: Any
) -> FFValidationError:
    """The FFValidationError for a pydantic ``ValidationError`` raised by the caller's input.

    ``field`` is the first error's location (``messages.0.role``), prefixed by ``field`` when
    given (``attachments[2]`` -> ``attachments[2].name``); the message is one line,
    ``[cannot <action>: ]<field>: <pydantic's msg>[ (got <short value>)]``. Raise it ``from exc``.
    """
    where, message, got = _first_pydantic_error(exc)
    if field is not None:
        where = f"{field}.{where}" if where else field
    shown = f" (got {got!r})" if isinstance(got, (str, int, float, bool)) and len(repr(got)) <= 80 else ""
    lead = f"cannot {action}: " if action else ""
    return FFValidationError(f"{lead}{where or 'value'}: {message}{shown}", field=where, path=path, **context)


def ff_stored_error(exc: Any, *, model: str, path: Path | str | None) -> FFCorruptionError:
    """The FFCorruptionError for a pydantic ``ValidationError`` raised by a record read from ``path``.

    Stored data that does not fit its schema is not bad input (the caller did nothing wrong): it
    is a file that is not what this code wrote. Raise it ``from exc``.
    """
    where, message, _ = _first_pydantic_error(exc)
    return FFCorruptionError(f"stored {model} does not match its schema: {where or 'record'}: {message}", path=path)


@contextlib.contextmanager
def ff_translate_errors(action: str, path: Path | str | None = None) -> Iterator[None]:
    """Turn other libraries' exceptions into FF errors, once, for every caller.

    ``action`` says what was being done ("write JSON", "read config") so the one-line message a
    user sees names both the action and the file.
    """
    # Imported lazily: pydantic and orjson are heavy and not every caller needs them.
    import orjson
    import pydantic

    try:
        yield
    except FFError:
        raise
    except orjson.JSONDecodeError as exc:
        raise FFCorruptionError(f"cannot {action}: invalid JSON: {exc}", path=path) from exc
    except UnicodeDecodeError as exc:
        raise FFCorruptionError(f"cannot {action}: not UTF-8: {exc.reason}", path=path) from exc
    except pydantic.ValidationError as exc:
        raise ff_input_error(exc, action=action, path=path) from exc
    except FileNotFoundError as exc:
        raise FFNotFoundError(f"cannot {action}: no such file", kind="file", key=str(path), path=path) from exc
    except PermissionError as exc:
        raise FFPermissionError(f"cannot {action}: permission denied", path=path) from exc
    except TimeoutError as exc:
        raise FFTimeoutError(f"cannot {action}: timed out", path=path) from exc
    except OSError as exc:
        reason = errno.errorcode.get(exc.errno or 0, "EIO")
        raise FFStorageError(f"cannot {action}: {exc.strerror or exc} [{reason}]", path=path, errno=exc.errno) from exc
