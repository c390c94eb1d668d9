"""The one operation registry: every transport is generated from it, nothing is written three times.

An :class:`FFOperation` names the JSON-RPC method, the HTTP method and path, the request DTO
(body + path + query fields), the response DTO (for OpenAPI), the handler, whether it is
idempotent, the role it requires, its rate cost and its success status. The HTTP routes and the
OpenAPI document (``http_app``), and the JSON-RPC methods of WebSocket and TCP (``jsonrpc``) are
built from the same list, and every call of every transport goes through one pipeline
(``dispatch``): rate limit, role, validation, ownership, handler, error mapping.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from ff_utils.ff_errors import FFConflictError, FFNotFoundError, ff_input_error

__all__ = ["FFOperation", "FFOperationRegistry", "FFReply"]


@dataclass(frozen=True, slots=True)
class FFReply:
    """A handler's answer when the status is not the operation's usual one (a replayed write: 200)."""

    value: Any
    status: int


Handler = Callable[[Any, Any], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class FFOperation:
    name: str  # the JSON-RPC method, e.g. "memory.add_message"
    http_method: str  # GET or POST
    path: str  # e.g. "/v1/users/{user_id}/sessions/{session_id}/messages"
    request: type[BaseModel]
    response: Any  # a DTO type, list[DTO] or dict (OpenAPI only)
    handler: Handler  # async (context, request) -> value or FFReply
    summary: str
    status: int = 200
    idempotent: bool = False  # safe to retry as is (reads)
    idempotency_field: str | None = None  # a request field that makes a retried write safe
    role: str | None = None  # role required beyond being authenticated
    rate_cost: int = 1

    @property
    def path_fields(self) -> tuple[str, ...]:
        return tuple(re.findall(r"{(\w+)}", self.path))

    def parse(self, params: dict[str, Any]) -> BaseModel:
        """The request DTO from JSON-RPC params or HTTP fields; FFValidationError naming the field."""
        try:
            return self.request.model_validate(params)
        except ValidationError as exc:
            raise ff_input_error(exc, action=self.name) from exc


class FFOperationRegistry:
    def __init__(self) -> None:
        self._operations: dict[str, FFOperation] = {}

    def add(self, operation: FFOperation) -> None:
        if operation.name in self._operations:
            raise FFConflictError(f"operation {operation.name!r} is already registered")
        missing = [f for f in operation.path_fields if f not in operation.request.model_fields]
        if missing:
            raise FFConflictError(f"{operation.name}: path fields {missing} are not fields of {operation.request.__name__}")
        self._operations[operation.name] = operation

    def get(self, name: str) -> FFOperation:
        try:
            return self._operations[name]
        except KeyError:
            raise FFNotFoundError(f"no operation {name!r}", kind="operation", key=name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._operations

    def __iter__(self) -> Iterator[FFOperation]:
        return iter(self._operations.values())

    def names(self) -> list[str]:
        return list(self._operations)
