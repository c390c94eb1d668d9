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
in exactly one place, :func:`ff_translate_errors`, with ``raise ... from exc``.
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
    "FFSandboxViolationError",
    "FFTimeoutError",
    "ff_translate_errors",
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


class FFSandboxViolationError(FFError):
    """A tool attempted something outside its sandbox (path, shell, resource)."""


class FFTimeoutError(FFError):
    """An operation did not finish within its time limit."""


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
        first = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", ())) or None
        got = first.get("input")
        shown = f" (got {got!r})" if isinstance(got, (str, int, float, bool)) and len(repr(got)) <= 80 else ""
        raise FFValidationError(
            f"cannot {action}: {field or 'value'}: {first.get('msg', str(exc))}{shown}", field=field, path=path
        ) from exc
    except FileNotFoundError as exc:
        raise FFNotFoundError(f"cannot {action}: no such file", kind="file", key=str(path), path=path) from exc
    except PermissionError as exc:
        raise FFPermissionError(f"cannot {action}: permission denied", path=path) from exc
    except TimeoutError as exc:
        raise FFTimeoutError(f"cannot {action}: timed out", path=path) from exc
    except OSError as exc:
        reason = errno.errorcode.get(exc.errno or 0, "EIO")
        raise FFStorageError(f"cannot {action}: {exc.strerror or exc} [{reason}]", path=path, errno=exc.errno) from exc
