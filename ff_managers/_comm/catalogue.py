"""Where each operation goes and whether it may be retried, read from the service's ONE registry.

The client needs, per operation, its HTTP method and path (the HTTP handler builds the URL from
the path fields) and whether a failed attempt may be sent again (``idempotent``, or the request
field that makes a retried write safe, ``idempotency_field``). Nothing here is copied by hand:

* :func:`ff_local_catalogue` reads the registry the service itself is built from
  (``ff_managers._service.operations.build_registry``), so a route added there is known here;
* :meth:`FFOperationCatalogue.from_openapi` reads a running server's ``/openapi.json``, whose
  operations carry ``operationId`` and the ``x-ff-idempotent`` / ``x-ff-idempotency-field``
  extensions (generated from the same registry), so a client of a service with its own
  operations learns them from the server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ff_utils.ff_errors import FFNotFoundError, FFValidationError

__all__ = ["FFOperationCatalogue", "FFRoute", "ff_local_catalogue"]


@dataclass(frozen=True, slots=True)
class FFRoute:
    """One operation as a client sees it."""

    name: str
    http_method: str
    path: str
    idempotent: bool = False
    idempotency_field: str | None = None

    @property
    def path_fields(self) -> tuple[str, ...]:
        return tuple(re.findall(r"{(\w+)}", self.path))

    def split(self, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """``(path with the path fields filled in, the remaining fields)``; FFValidationError when one is missing."""
        rest = dict(params)
        values = {}
        for field in self.path_fields:
            value = rest.pop(field, None)
            if value is None or str(value) == "" or "/" in str(value):
                raise FFValidationError(f"{self.name}: path field {field!r} is missing or not a plain value", field=field)
            values[field] = str(value)
        return re.sub(r"{(\w+)}", lambda m: values[m.group(1)], self.path), rest


class FFOperationCatalogue:
    """The routes by operation name."""

    def __init__(self, routes: Iterable[FFRoute]) -> None:
        self._routes = {route.name: route for route in routes}

    def get(self, name: str) -> FFRoute:
        try:
            return self._routes[name]
        except KeyError:
            raise FFNotFoundError(f"no operation {name!r}", kind="operation", key=name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._routes

    def __iter__(self) -> Iterator[FFRoute]:
        return iter(self._routes.values())

    def merged(self, other: FFOperationCatalogue) -> FFOperationCatalogue:
        """This catalogue with ``other``'s routes added (``other`` wins on a name both have)."""
        return FFOperationCatalogue([*self, *other])

    @classmethod
    def from_registry(cls, registry: Iterable[Any]) -> FFOperationCatalogue:
        """From any iterable of registry operations (``FFOperation``: name, http_method, path, ...)."""
        return cls(FFRoute(op.name, op.http_method, op.path, op.idempotent, op.idempotency_field) for op in registry)

    @classmethod
    def from_openapi(cls, document: Mapping[str, Any]) -> FFOperationCatalogue:
        """From a server's OpenAPI document: every operation with an ``operationId`` and ``x-ff-idempotent``."""
        routes = []
        for path, methods in (document.get("paths") or {}).items():
            for method, spec in methods.items():
                if not isinstance(spec, dict) or "x-ff-idempotent" not in spec or "operationId" not in spec:
                    continue  # health, info and anything not generated from the registry
                routes.append(FFRoute(spec["operationId"], method.upper(), path, bool(spec["x-ff-idempotent"]),
                                      spec.get("x-ff-idempotency-field")))  # fmt: skip
        return cls(routes)


@lru_cache(maxsize=1)
def ff_local_catalogue() -> FFOperationCatalogue:
    """The catalogue of the service's built-in registry (built once per process)."""
    from ff_managers._service.operations import build_registry  # the one registry the server is built from

    return FFOperationCatalogue.from_registry(build_registry())
