"""Who is calling: API keys (stored hashed) and JWTs (PyJWT, algorithm fixed in config).

An API key is ``ffk_<key_id>_<secret>`` with a 256-bit random secret. Only the SHA-256 of the
secret is stored (``system/service/api_keys.json``): with 256 bits of entropy a slow hash buys
nothing, and the comparison is constant-time (``hmac.compare_digest``). The file is re-read when
its modification time changes, so ``main.py apikey revoke`` in another process takes effect on
the next request of a running server.

A JWT's algorithm is the configured one, never the token's ``alg`` header; ``sub`` names the
user, ``roles`` (a list) its roles, ``exp`` is required. A credential is bound to one user; the
admin role (configured, a tool-manager role name) may act for every user.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt

from ff_class_configs.ff_service_config import FFServiceConfigDTO
from ff_class_configs.ff_service_dtos import FFApiKeyCreatedDTO, FFApiKeyDTO
from ff_managers._service.errors import FFAuthenticationError
from ff_utils.ff_errors import FFConfigError, FFNotFoundError
from ff_utils.ff_ids import ff_validate_id
from ff_utils.ff_store import FFStore

__all__ = ["FFApiKeyStore", "FFAuthenticator", "FFPrincipal", "KEY_PREFIX", "bearer_token"]

KEY_PREFIX = "ffk_"
_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class FFPrincipal:
    """An authenticated caller: one user, its roles, and the credential that proved it."""

    user_id: str
    roles: frozenset[str]
    credential: str  # "key:<key_id>" or "jwt:<sub>"
    admin: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate_key(self) -> str:
        return f"user:{self.user_id}"

    def may_act_for(self, user_id: str) -> bool:
        return self.admin or user_id == self.user_id


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (None when absent or another scheme)."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class FFApiKeyStore:
    """API keys of one data root: create (shown once), list, revoke, verify."""

    def __init__(self, store: FFStore) -> None:
        self._store = store
        self._path = store.path("system", "service", "api_keys.json")
        self._cache: dict[str, Any] | None = None
        self._cache_stamp: int | None = None

    def _empty(self) -> dict[str, Any]:
        return {"schema_version": _SCHEMA_VERSION, "keys": {}}

    def create(self, user_id: str, roles: list[str] | tuple[str, ...] = ()) -> FFApiKeyCreatedDTO:
        ff_validate_id(user_id, "user_id")
        clean_roles = sorted({ff_validate_id(role, "role") for role in roles})
        key_id = secrets.token_hex(8)
        secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")
        now = datetime.now(UTC)
        record = {"key_id": key_id, "user_id": user_id, "roles": clean_roles, "created_at": now.isoformat(),
                  "revoked_at": None, "sha256": _digest(secret)}  # fmt: skip

        def add(current: dict[str, Any]) -> dict[str, Any]:
            current.setdefault("keys", {})[key_id] = record
            return current

        self._store.update_json(self._path, add, default=self._empty())
        return FFApiKeyCreatedDTO(key=f"{KEY_PREFIX}{key_id}_{secret}", **_public(record))

    def list_keys(self) -> list[FFApiKeyDTO]:
        data = self._store.read_json(self._path, self._empty())
        return [FFApiKeyDTO(**_public(record)) for record in data.get("keys", {}).values()]

    def revoke(self, key_id: str) -> FFApiKeyDTO:
        def mark(current: dict[str, Any]) -> dict[str, Any]:
            record = current.get("keys", {}).get(key_id)
            if record is None:
                raise FFNotFoundError(f"API key {key_id!r} not found", kind="api_key", key=key_id)
            record["revoked_at"] = record["revoked_at"] or datetime.now(UTC).isoformat()
            return current

        data = self._store.update_json(self._path, mark, default=self._empty())
        return FFApiKeyDTO(**_public(data["keys"][key_id]))

    def _stamp(self) -> int | None:
        try:
            return os.stat(self._path).st_mtime_ns
        except FileNotFoundError:
            return None

    def stale(self) -> bool:
        """Whether the key file changed since it was read (one ``stat``: cheap enough per request)."""
        return self._cache is None or self._stamp() != self._cache_stamp

    def reload(self) -> None:
        """Read the key file again (blocking: the service calls it in a worker thread)."""
        stamp = self._stamp()
        self._cache = self._store.read_json(self._path, self._empty()).get("keys", {}) if stamp is not None else {}
        self._cache_stamp = stamp

    def _records(self) -> dict[str, Any]:
        if self.stale():
            self.reload()
        return self._cache or {}

    def verify(self, token: str) -> FFPrincipal:
        """The principal of a presented key; FFAuthenticationError when unknown, wrong or revoked."""
        body = token[len(KEY_PREFIX):]
        key_id, _, secret = body.partition("_")
        record = self._records().get(key_id)
        expected = record["sha256"] if record is not None else _digest("no such key")
        matches = hmac.compare_digest(_digest(secret), expected)
        if record is None or not matches or record.get("revoked_at"):
            raise FFAuthenticationError("invalid credentials")
        return FFPrincipal(record["user_id"], frozenset(record.get("roles", ())), f"key:{key_id}")


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in ("key_id", "user_id", "roles", "created_at", "revoked_at")}


class FFAuthenticator:
    """Turns a bearer token (API key or JWT) into an :class:`FFPrincipal`."""

    def __init__(self, settings: FFServiceConfigDTO, keys: FFApiKeyStore) -> None:
        self._settings = settings
        self._keys = keys
        self._jwt_key = self._verification_key(settings)

    @staticmethod
    def _verification_key(settings: FFServiceConfigDTO) -> str | bytes | None:
        if settings.jwt_algorithm.startswith("HS"):
            return settings.jwt_secret.get_secret_value() if settings.jwt_secret is not None else None
        if settings.jwt_public_key_file is None:
            raise FFConfigError(f"service.jwt_algorithm {settings.jwt_algorithm} needs service.jwt_public_key_file")
        try:
            return Path(settings.jwt_public_key_file).read_bytes()
        except OSError as exc:
            raise FFConfigError(f"service.jwt_public_key_file unreadable: {exc.strerror}", path=settings.jwt_public_key_file) from exc

    async def refresh(self) -> None:
        """Re-read the API keys off the event loop when their file changed (a revocation elsewhere)."""
        if self._keys.stale():
            await asyncio.to_thread(self._keys.reload)

    def authenticate(self, token: str | None) -> FFPrincipal:
        if not token:
            raise FFAuthenticationError("missing credentials: send 'Authorization: Bearer <api key or JWT>'")
        if token.startswith(KEY_PREFIX):
            principal = self._keys.verify(token)
        else:
            principal = self._verify_jwt(token)
        admin = self._settings.admin_role in principal.roles
        return FFPrincipal(principal.user_id, principal.roles, principal.credential, admin)

    def _verify_jwt(self, token: str) -> FFPrincipal:
        if self._jwt_key is None:
            raise FFAuthenticationError("invalid credentials")
        settings = self._settings
        try:
            claims = jwt.decode(
                token,
                self._jwt_key,
                algorithms=[settings.jwt_algorithm],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                leeway=settings.jwt_leeway_seconds,
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise FFAuthenticationError("expired credentials") from exc
        except jwt.PyJWTError as exc:
            raise FFAuthenticationError("invalid credentials") from exc
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise FFAuthenticationError("invalid credentials")
        sub = str(claims["sub"])
        try:
            ff_validate_id(sub, "sub")
        except Exception as exc:
            raise FFAuthenticationError("invalid credentials") from exc
        return FFPrincipal(sub, frozenset(roles), f"jwt:{sub}")
