"""Sharded mode: every request that names a user goes to that user's owner, and only there.

With ``comm.shard_routing`` set (a file path or an http(s) URL of the shard routing table, see
:mod:`ff_managers._shard.routing`), the manager keeps one endpoint per shard in the group
``comm.shard_group`` (system_id = the shard id, address from the shard's ``url``) and sends a
message whose target is that group like this:

* with a ``user_id`` in the payload: to the user's owner (the table's override, else the ketama
  ring of the shard ids), pinned: the router's retries stay on that endpoint. When the owner is
  not available, or no attempt on it got an answer, the caller gets
  :class:`FFShardUnavailableError` and nothing went to another shard: a write is never
  redirected to a non-owner, so a user's availability is their owner's;
* a ``421 FFUserMovedError`` answer (the owner's tombstone: the table was stale) re-reads the
  table and sends once more, to the owner the new table names;
* a ``503 FFUserFrozenError`` answer (the user is being moved) is returned as is: retryable
  after ``retry_after``, and not a failure of the endpoint;
* without a ``user_id`` (health, metrics): any available shard, balanced as a group.

The table is re-read when its file changes (one ``stat`` per request) or, from a URL, after
``comm.shard_reload_s``, and always after a 421.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from ff_class_configs.ff_comm_config import FFCommConfigDTO
from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO, FFEndpointDTO
from ff_managers._comm.directory import FFEndpointDirectory
from ff_managers._comm.errors import FFCommUnavailableError, FFShardUnavailableError
from ff_managers._comm.router import FFMessageRouter
from ff_managers._shard.routing import FFShardTable, ff_parse_table
from ff_utils.ff_errors import FFStorageError, FFValidationError

__all__ = ["MOVED_ERROR", "FFShardRouting"]

MOVED_ERROR = "FFUserMovedError"
Tokens = str | Mapping[str, str] | None


def _is_moved(reply: FFCrossSystemMessageDTO) -> bool:
    return reply.message_type == "error" and isinstance(reply.payload, dict) and reply.payload.get("error") == MOVED_ERROR


class FFShardRouting:
    """The routing table as the manager sees it, and the owner-only send (see the module doc)."""

    def __init__(
        self,
        config: FFCommConfigDTO,
        directory: FFEndpointDirectory,
        *,
        add_endpoint: Callable[[FFEndpointDTO], None],
        remove_endpoint: Callable[[str], None],
        tokens: Tokens = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        assert config.shard_routing is not None
        self.source = config.shard_routing
        self.group = config.shard_group
        self.reload_s = config.shard_reload_s
        self.timeout_s = config.request_timeout_s
        self.directory = directory
        self._add, self._remove = add_endpoint, remove_endpoint
        self._tokens = tokens
        self._monotonic = monotonic
        self._table: FFShardTable | None = None
        self._stamp: Any = None
        self.reloads = 0

    # -- the table ----------------------------------------------------------------------------

    @property
    def table(self) -> FFShardTable | None:
        return self._table

    def _token(self, shard: str) -> str | None:
        if self._tokens is None or isinstance(self._tokens, str):
            return self._tokens
        return self._tokens.get(shard)

    async def _read(self, force: bool) -> FFShardTable | None:
        """The table if it changed since the last read (None: unchanged)."""
        if self.source.startswith(("http://", "https://")):
            now = self._monotonic()
            if not force and self._table is not None and now - self._stamp < self.reload_s:
                return None
            try:
                async with httpx.AsyncClient(timeout=self.timeout_s, trust_env=False) as client:
                    response = await client.get(self.source)
                    response.raise_for_status()
            except httpx.HTTPError as exc:
                if self._table is not None:
                    return None  # keep routing by the last table read; it is tried again next time
                raise FFStorageError(f"cannot fetch the routing table {self.source}: {exc}") from exc
            self._stamp = now
            return ff_parse_table(response.content, source=self.source)
        try:
            info = os.stat(self.source)
        except OSError as exc:
            if self._table is not None:
                return None
            raise FFStorageError(f"cannot read the routing table {self.source}: {exc.strerror}", path=self.source) from exc
        stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
        if stamp == self._stamp and not force:
            return None
        raw = await asyncio.to_thread(Path(self.source).read_bytes)  # only when the file changed
        table = ff_parse_table(raw, source=self.source)
        self._stamp = stamp
        return table

    async def refresh(self, *, force: bool = False) -> FFShardTable:
        """The current table; its shards become (or stay) the group's endpoints."""
        table = await self._read(force)
        if table is not None and (self._table is None or table.version >= self._table.version):
            self._apply(table)
        assert self._table is not None
        return self._table

    def _apply(self, table: FFShardTable) -> None:
        for sid, shard in table.document.shards.items():
            parts = urlsplit(shard.url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise FFValidationError(f"shard {sid}: url {shard.url!r} is not http(s)://host:port", field="url")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            endpoint = FFEndpointDTO(system_id=sid, group=self.group, protocol=parts.scheme, host=parts.hostname, port=port,
                                     token=self._token(sid), weight=shard.weight)  # fmt: skip
            if self.directory.endpoints.get(sid) != endpoint:
                self._add(endpoint)
        for sid, endpoint in list(self.directory.endpoints.items()):
            if endpoint.group == self.group and sid not in table.document.shards:
                self._remove(sid)
        self._table = table
        self.reloads += 1

    # -- sending ------------------------------------------------------------------------------

    def choose_owner(self, table: FFShardTable, user_id: str) -> str:
        """The shard a request for ``user_id`` goes to: its owner, whatever its state."""
        return table.owner(user_id)

    async def send(self, message: FFCrossSystemMessageDTO, router: FFMessageRouter) -> FFCrossSystemMessageDTO:
        table = await self.refresh()
        payload = message.payload if isinstance(message.payload, dict) else {}
        user = payload.get("user_id")
        if user is None:
            return await router.send(message)  # no user: any shard may answer
        user = str(user)
        reply: FFCrossSystemMessageDTO | None = None
        for _attempt in range(2):
            owner = self.choose_owner(table, user)
            pool, _ = self.directory.resolve(owner)
            if not pool.available(owner):
                raise FFShardUnavailableError(f"shard {owner}, owner of user {user}, is not available; the request was "
                                              "sent nowhere else", user_id=user, owner=owner, tried=[], maybe_applied=False)  # fmt: skip
            try:
                reply = await router.send(message.model_copy(update={"target_system": owner}))
            except FFCommUnavailableError as exc:
                raise FFShardUnavailableError(f"shard {owner}, owner of user {user}, did not answer: {exc}", user_id=user,
                                              owner=owner, tried=exc.context.get("tried", [owner]),
                                              maybe_applied=bool(exc.context.get("maybe_applied"))) from exc  # fmt: skip
            if not _is_moved(reply):
                return reply
            fresh = await self.refresh(force=True)  # the owner left a tombstone: our table is stale
            if fresh.owner(user) == owner:
                return reply
            table = fresh
        assert reply is not None
        return reply
