"""The migration's target, over the managers' public APIs: the import writes through it, the
comparison reads back through it.

The domain managers are imported as users import them, from ``ff_managers`` (never their private
packages), and share one event bus. Only the vector files of the legacy store are written here
directly (the knowledge manager has no notion of a foreign embedding file): they are copied
byte-identical, in 1 MiB chunks with an atomic replace, to ``users/<owner>/vectors/<session_id>/``
and referenced from the session's and the documents' metadata. Everything else is a manager call,
except reading back a session longer than ``get_messages`` returns (see
:meth:`FFManagerTarget.iter_messages`). What this module touches on disk itself, it touches through
the root's :class:`FFStore`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_memory_dtos import FFChatMessageDTO
from ff_managers import (
    FFEventBus,
    FFKnowledgeBaseManager,
    FFMemoryLayerManager,
    FFPanelSessionManager,
    FFPersonaRegistry,
)
from ff_managers._migration.backup import copy_file_atomic
from ff_managers._migration.legacy_mapping import vector_target_dir
from ff_utils.ff_errors import FFNotFoundError
from ff_utils.ff_file_ops import ff_read_bytes
from ff_utils.ff_store import FFStore

__all__ = ["FFManagerTarget"]

_PAGE = 1_000
_API_READ_MAX = 2_000


class FFManagerTarget:
    """Sink and view of one data root; use as ``async with FFManagerTarget(config) as target``."""

    def __init__(self, config: FFConfigurationManagerConfigDTO, *, clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        self.store = FFStore.from_config(config)
        self.root = self.store.root
        self.bus = FFEventBus()
        # Each manager builds its store from the same config: the same root and settings as this one.
        self.personas = FFPersonaRegistry(config, bus=self.bus, clock=clock)
        self.memory = FFMemoryLayerManager(config, bus=self.bus, clock=clock)
        self.panels = FFPanelSessionManager(config, bus=self.bus, clock=clock, personas=self.personas)
        self.knowledge = FFKnowledgeBaseManager(config, bus=self.bus, clock=clock)
        self._managers = (self.personas, self.memory, self.panels, self.knowledge)

    async def __aenter__(self) -> Self:
        for manager in self._managers:
            await manager.initialize()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for manager in reversed(self._managers):
            await manager.shutdown()

    # ------------------------------------------------------------------ sink

    async def put_persona(self, persona: dict[str, Any]) -> None:
        await self.personas.register_persona(persona)

    async def put_user(self, user_id: str, profile: dict[str, Any]) -> None:
        await self.memory.create_profile(user_id, **profile)

    async def put_session(self, user_id: str, session: dict[str, Any]) -> None:
        await self.memory.create_session(user_id, **session)

    async def put_messages(self, user_id: str, session_id: str, messages: list[dict[str, Any]]) -> None:
        await self.memory.import_messages(user_id, session_id, messages)

    async def put_panel(self, user_id: str, panel: dict[str, Any]) -> None:
        await self.panels.create_panel(user_id, **panel)

    async def put_panel_messages(self, user_id: str, panel_id: str, messages: list[dict[str, Any]]) -> None:
        await self.panels.import_messages(user_id, panel_id, messages)

    async def put_knowledge_base(self, user_id: str, kb_id: str, name: str, description: str) -> None:
        await self.knowledge.create_knowledge_base(user_id, name, description=description, kb_id=kb_id)

    async def put_document(self, user_id: str, kb_id: str, document: dict[str, Any], source: Path) -> None:
        data = ff_read_bytes(source, max_bytes=self.config.knowledge.max_document_bytes)  # a legacy file, outside the store
        fmt = document.get("mime_type") or source.suffix or None
        await self.knowledge.add_document(
            user_id, kb_id, data=data, format=fmt, title=document["title"], source=document["source"],
            metadata=document["metadata"], document_id=document["document_id"],
        )

    async def put_vectors(self, user_id: str, session_id: str, files: dict[str, Path]) -> None:
        target_dir = vector_target_dir(user_id, session_id)
        for name, source in files.items():
            copy_file_atomic(source, self.store.path(*target_dir.split("/"), name))

    # ------------------------------------------------------------------ view

    async def get_user(self, user_id: str) -> dict[str, Any] | None:
        try:
            return (await self.memory.get_profile(user_id)).model_dump(mode="json")
        except FFNotFoundError:
            return None

    async def get_session(self, user_id: str, session_id: str) -> dict[str, Any] | None:
        try:
            return (await self.memory.get_session(user_id, session_id)).model_dump(mode="json")
        except FFNotFoundError:
            return None

    async def iter_messages(self, user_id: str, session_id: str) -> AsyncIterator[dict[str, Any]]:
        """A session's messages in stored order.

        Up to ``_API_READ_MAX`` through ``get_messages``; a longer session is streamed from the
        memory manager's documented log (``users/<u>/sessions/<s>/messages.jsonl``, one
        FFChatMessageDTO a line: the on-disk layout is public, see the README's data layout)
        because ``get_messages`` has no paging and holding the whole session would break the
        migration's flat memory. A line that is not a message is FFCorruptionError naming the log.
        """
        session = await self.memory.get_session(user_id, session_id)
        count = session.message_count or 0
        if 0 < count <= _API_READ_MAX:
            for message in await self.memory.get_messages(user_id, session_id, limit=count):
                yield message.model_dump(mode="json")
        elif count:
            log = self.store.path("users", user_id, "sessions", session_id, "messages.jsonl")
            for record in self.store.read_jsonl(log):
                yield self.store.load(FFChatMessageDTO, record, log).model_dump(mode="json")

    async def get_panel(self, user_id: str, panel_id: str) -> dict[str, Any] | None:
        try:
            return (await self.panels.get_panel(user_id, panel_id)).model_dump(mode="json")
        except FFNotFoundError:
            return None

    async def iter_panel_messages(self, user_id: str, panel_id: str) -> AsyncIterator[dict[str, Any]]:
        after = 0
        while True:
            page = await self.panels.get_messages(user_id, panel_id, limit=_PAGE, after_sequence=after)
            for message in page:
                yield message.model_dump(mode="json")
            if len(page) < _PAGE:
                return
            after = page[-1].sequence

    async def get_persona(self, persona_id: str) -> dict[str, Any] | None:
        try:
            return (await self.personas.get_persona(persona_id)).model_dump(mode="json")
        except FFNotFoundError:
            return None

    async def get_document(self, user_id: str, kb_id: str, document_id: str) -> dict[str, Any] | None:
        try:
            return (await self.knowledge.get_document(user_id, kb_id, document_id)).model_dump(mode="json")
        except FFNotFoundError:
            return None

    async def vector_file(self, user_id: str, session_id: str, name: str) -> Path | None:
        path = self.store.path(*vector_target_dir(user_id, session_id).split("/"), name)
        return path if path.is_file() else None

    async def counts(self) -> dict[str, int]:
        """What the target holds, counted through the managers' list APIs (not from the import)."""
        users_dir = self.root / "users"
        user_ids = sorted(e.name for e in os.scandir(users_dir) if e.is_dir()) if users_dir.is_dir() else []
        counts = dict.fromkeys(("users", "sessions", "panels", "personas", "documents", "vector_files"), 0)
        counts["personas"] = len(await self.personas.list_personas())
        for user_id in user_ids:
            if await self.get_user(user_id) is not None:
                counts["users"] += 1
            counts["sessions"] += len(await self.memory.list_sessions(user_id))
            counts["panels"] += len(await self.panels.list_panels(user_id))
            for base in await self.knowledge.list_knowledge_bases(user_id):
                counts["documents"] += len(await self.knowledge.list_documents(user_id, base.kb_id))
            vectors = users_dir / user_id / "vectors"
            if vectors.is_dir():
                counts["vector_files"] += sum(len(files) for _d, _s, files in os.walk(vectors))
        return counts
