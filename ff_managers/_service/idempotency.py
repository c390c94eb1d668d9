"""``Idempotency-Key`` on HTTP writes: a retried POST gets the first answer instead of a second write.

Per principal, the last ``capacity`` keys are kept with the request's fingerprint and the
response (status and body). A retry with the same key and the same request replays the
response; the same key with another request is refused (FFValidationError, 422, as the IETF
draft "The Idempotency-Key HTTP Header Field" says); a retry that arrives while the first
attempt is still running waits for it. Failures are not stored: a request that failed can be
retried with the same key. The store lives in the process: across a restart the client's
``message_id`` is what keeps a retried message from being appended twice.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from ff_utils.ff_errors import FFValidationError

__all__ = ["FFIdempotencyCache"]

Response = tuple[int, Any]


class FFIdempotencyCache:
    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._by_principal: dict[str, OrderedDict[str, tuple[str, asyncio.Future[Response]]]] = {}

    @staticmethod
    def fingerprint(operation: str, params: dict[str, Any], raw: bytes) -> str:
        digest = hashlib.sha256(operation.encode())
        digest.update(repr(sorted(params.items())).encode())
        digest.update(raw)
        return digest.hexdigest()

    async def run(self, principal: str, key: str, fingerprint: str, call: Callable[[], Awaitable[Response]]) -> tuple[Response, bool]:
        """``(response, replayed)``: the stored answer for a known key, else ``call()``'s."""
        entries = self._by_principal.setdefault(principal, OrderedDict())
        known = entries.get(key)
        if known is not None:
            stored_fingerprint, future = known
            if stored_fingerprint != fingerprint:
                raise FFValidationError("Idempotency-Key was used with a different request", field="Idempotency-Key")
            entries.move_to_end(key)
            return await asyncio.shield(future), True
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        entries[key] = (fingerprint, future)
        while len(entries) > self._capacity:
            entries.popitem(last=False)
        try:
            response = await call()
        except BaseException as exc:
            entries.pop(key, None)
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody else must
            raise
        future.set_result(response)
        return response, False
