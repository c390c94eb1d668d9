"""Every operation the service offers: API.md's HTTP list, each one call of a public manager.

A handler receives the :class:`FFManagers` (the five domain managers, used through their public
methods exactly as a library user would) and the validated request DTO, and returns the
manager's answer. Ownership (the credential's user against the request's ``user_id``), roles,
rate limits and error mapping happen before and after, once, in ``dispatch``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ff_class_configs.ff_knowledge_dtos import FFKnowledgeBaseDTO, FFKnowledgeDocumentDTO, FFKnowledgeSearchHitDTO
from ff_class_configs.ff_memory_dtos import FFChatMessageDTO, FFChatSessionDTO, FFMemoryEntryDTO, FFMemorySearchHitDTO
from ff_class_configs.ff_metrics_dtos import FFAuditRecordDTO, FFMetricSummaryDTO
from ff_class_configs.ff_panel_dtos import FFPanelDTO, FFPanelMessageDTO
from ff_class_configs.ff_service_dtos import (
    FFAddDocumentRequestDTO,
    FFAddMessageRequestDTO,
    FFAddPanelMessageRequestDTO,
    FFAssignRoleRequestDTO,
    FFAuditRecordsRequestDTO,
    FFCreateKnowledgeBaseRequestDTO,
    FFCreatePanelRequestDTO,
    FFCreateSessionRequestDTO,
    FFGetMessagesRequestDTO,
    FFGetPanelMessagesRequestDTO,
    FFKnowledgeSearchRequestDTO,
    FFListSessionsRequestDTO,
    FFMetricSummaryRequestDTO,
    FFRecordMetricRequestDTO,
    FFRunToolRequestDTO,
    FFSearchMemoriesRequestDTO,
    FFStoreMemoryRequestDTO,
)
from ff_class_configs.ff_tool_dtos import FFToolRunResultDTO, FFToolUserAccessDTO
from ff_managers._service.registry import FFOperation, FFOperationRegistry, FFReply
from ff_managers.ff_knowledge_base_manager import FFKnowledgeBaseManager
from ff_managers.ff_memory_layer_manager import FFMemoryLayerManager
from ff_managers.ff_metrics_collection_manager import FFMetricsCollectionManager
from ff_managers.ff_panel_session_manager import FFPanelSessionManager
from ff_managers.ff_tool_execution_manager import FFToolExecutionManager

__all__ = ["ADMIN", "FFManagers", "build_registry"]

ADMIN = "@admin"  # stands for the configured service.admin_role; dispatch resolves it
_STATSD_KINDS = {"ms": "timing", "c": "counter", "g": "gauge"}
_USER = "/v1/users/{user_id}"


@dataclass(frozen=True, slots=True)
class FFManagers:
    """The five domain managers the service drives, sharing one event bus."""

    memory: FFMemoryLayerManager
    panel: FFPanelSessionManager
    knowledge: FFKnowledgeBaseManager
    tools: FFToolExecutionManager
    metrics: FFMetricsCollectionManager

    def all(self) -> tuple[Any, ...]:
        return (self.memory, self.panel, self.knowledge, self.tools, self.metrics)


# ---------------------------------------------------------------- memory


async def _create_session(m: FFManagers, r: FFCreateSessionRequestDTO) -> FFChatSessionDTO:
    return await m.memory.create_session(r.user_id, r.title, metadata=r.metadata)


async def _list_sessions(m: FFManagers, r: FFListSessionsRequestDTO) -> list[FFChatSessionDTO]:
    return await m.memory.list_sessions(r.user_id, limit=r.limit)


async def _add_message(m: FFManagers, r: FFAddMessageRequestDTO) -> FFChatMessageDTO | FFReply:
    """201 for a new message; 200 when ``message_id`` names a message stored before this call
    (the memory manager returns it instead of appending a second copy)."""
    before = datetime.now(UTC)
    message = await m.memory.add_message(r.user_id, r.session_id, r.role, r.content, message_id=r.message_id, metadata=r.metadata)
    if r.message_id is not None and message.timestamp < before:
        return FFReply(message, 200)
    return message


async def _get_messages(m: FFManagers, r: FFGetMessagesRequestDTO) -> list[FFChatMessageDTO]:
    return await m.memory.get_messages(r.user_id, r.session_id, limit=r.limit)


async def _store_memory(m: FFManagers, r: FFStoreMemoryRequestDTO) -> FFMemoryEntryDTO:
    return await m.memory.store_memory(r.user_id, r.content, r.layer, r.importance, tags=r.tags)


async def _search_memories(m: FFManagers, r: FFSearchMemoriesRequestDTO) -> list[FFMemorySearchHitDTO]:
    return await m.memory.search_memories(r.user_id, r.q, limit=r.limit)


# ---------------------------------------------------------------- panels (user_id first)


async def _create_panel(m: FFManagers, r: FFCreatePanelRequestDTO) -> FFPanelDTO:
    return await m.panel.create_panel(r.user_id, r.participants, r.panel_type, r.title)


async def _add_panel_message(m: FFManagers, r: FFAddPanelMessageRequestDTO) -> FFPanelMessageDTO:
    return await m.panel.add_message(r.user_id, r.panel_id, r.participant_id, r.content, role=r.role, message_id=r.message_id)


async def _get_panel_messages(m: FFManagers, r: FFGetPanelMessagesRequestDTO) -> list[FFPanelMessageDTO]:
    return await m.panel.get_messages(r.user_id, r.panel_id, limit=r.limit)


# ---------------------------------------------------------------- knowledge


async def _create_kb(m: FFManagers, r: FFCreateKnowledgeBaseRequestDTO) -> FFKnowledgeBaseDTO:
    return await m.knowledge.create_knowledge_base(r.user_id, r.name, description=r.description)


async def _add_document(m: FFManagers, r: FFAddDocumentRequestDTO) -> FFKnowledgeDocumentDTO:
    fields = {"content": r.content, "title": r.title, "format": r.format, "metadata": r.metadata}
    return await m.knowledge.add_document(r.user_id, r.kb_id, **fields)


async def _kb_search(m: FFManagers, r: FFKnowledgeSearchRequestDTO) -> list[FFKnowledgeSearchHitDTO]:
    return await m.knowledge.search(r.user_id, r.kb_id, r.q, r.top_k)


# ---------------------------------------------------------------- tools, roles, metrics, audit


async def _run_tool(m: FFManagers, r: FFRunToolRequestDTO) -> FFToolRunResultDTO:
    return await m.tools.execute_tool(r.user_id, r.tool_name, r.arguments)


async def _assign_role(m: FFManagers, r: FFAssignRoleRequestDTO) -> FFToolUserAccessDTO:
    return await m.tools.assign_role(r.user_id, r.role)


async def _record_metric(m: FFManagers, r: FFRecordMetricRequestDTO) -> dict[str, Any]:
    kind = _STATSD_KINDS.get(r.kind, r.kind)
    await m.metrics.record_metric(r.name, r.value, tags=r.tags, kind=kind)  # type: ignore[arg-type]
    return {"accepted": True, "name": r.name, "kind": kind}


async def _metric_summary(m: FFManagers, r: FFMetricSummaryRequestDTO) -> FFMetricSummaryDTO:
    return await m.metrics.get_summary(r.name)


async def _audit_records(m: FFManagers, r: FFAuditRecordsRequestDTO) -> list[FFAuditRecordDTO]:
    return await m.metrics.get_audit_records(r.limit)


def build_registry() -> FFOperationRegistry:
    """The registry of every operation (API.md's HTTP list plus two admin operations)."""
    registry = FFOperationRegistry()
    read = {"http_method": "GET", "idempotent": True}
    write = {"http_method": "POST", "status": 201}
    for operation in (
        FFOperation("memory.create_session", path=f"{_USER}/sessions", request=FFCreateSessionRequestDTO,
                    response=FFChatSessionDTO, handler=_create_session, summary="create a chat session", **write),
        FFOperation("memory.list_sessions", path=f"{_USER}/sessions", request=FFListSessionsRequestDTO,
                    response=list[FFChatSessionDTO], handler=_list_sessions, summary="the user's sessions", **read),
        FFOperation("memory.add_message", path=f"{_USER}/sessions/{{session_id}}/messages", request=FFAddMessageRequestDTO,
                    response=FFChatMessageDTO, handler=_add_message, idempotency_field="message_id",
                    summary="append a message (same message_id and content again: 200, the stored message)", **write),
        FFOperation("memory.get_messages", path=f"{_USER}/sessions/{{session_id}}/messages", request=FFGetMessagesRequestDTO,
                    response=list[FFChatMessageDTO], handler=_get_messages, summary="the last N messages, oldest first", **read),
        FFOperation("memory.store_memory", path=f"{_USER}/memories", request=FFStoreMemoryRequestDTO,
                    response=FFMemoryEntryDTO, handler=_store_memory, summary="store a memory in a layer", **write),
        FFOperation("memory.search_memories", path=f"{_USER}/memories/search", request=FFSearchMemoriesRequestDTO,
                    response=list[FFMemorySearchHitDTO], handler=_search_memories, summary="memories ranked for q", **read),
        FFOperation("panel.create_panel", path=f"{_USER}/panels", request=FFCreatePanelRequestDTO,
                    response=FFPanelDTO, handler=_create_panel, summary="create a panel", **write),
        FFOperation("panel.add_message", path=f"{_USER}/panels/{{panel_id}}/messages", request=FFAddPanelMessageRequestDTO,
                    response=FFPanelMessageDTO, handler=_add_panel_message, idempotency_field="message_id",
                    summary="append a panel message (numbered)", **write),
        FFOperation("panel.get_messages", path=f"{_USER}/panels/{{panel_id}}/messages", request=FFGetPanelMessagesRequestDTO,
                    response=list[FFPanelMessageDTO], handler=_get_panel_messages, summary="the last N panel messages", **read),
        FFOperation("knowledge.create_knowledge_base", path=f"{_USER}/knowledge", request=FFCreateKnowledgeBaseRequestDTO,
                    response=FFKnowledgeBaseDTO, handler=_create_kb, summary="create a knowledge base", **write),
        FFOperation("knowledge.add_document", path=f"{_USER}/knowledge/{{kb_id}}/documents", request=FFAddDocumentRequestDTO,
                    response=FFKnowledgeDocumentDTO, handler=_add_document, summary="ingest a document", rate_cost=5, **write),
        FFOperation("knowledge.search", path=f"{_USER}/knowledge/{{kb_id}}/search", request=FFKnowledgeSearchRequestDTO,
                    response=list[FFKnowledgeSearchHitDTO], handler=_kb_search, summary="ranked chunks for q", **read),
        FFOperation("tools.execute_tool", path=f"{_USER}/tools/{{tool_name}}/runs", request=FFRunToolRequestDTO,
                    response=FFToolRunResultDTO, handler=_run_tool, summary="run a tool in its sandbox", rate_cost=5, **write),
        FFOperation("tools.assign_role", path=f"{_USER}/roles", request=FFAssignRoleRequestDTO, role=ADMIN,
                    response=FFToolUserAccessDTO, handler=_assign_role, summary="give a user a role (admin)", **write),
        FFOperation("metrics.record_metric", path="/v1/metrics", request=FFRecordMetricRequestDTO, http_method="POST",
                    status=202, response=dict, handler=_record_metric, summary="record one metric sample"),
        FFOperation("metrics.get_summary", path="/v1/metrics/{name}/summary", request=FFMetricSummaryRequestDTO,
                    response=FFMetricSummaryDTO, handler=_metric_summary, summary="count, min, max, mean, p50, p95, p99", **read),
        FFOperation("metrics.get_audit_records", path="/v1/audit", request=FFAuditRecordsRequestDTO, role=ADMIN,
                    response=list[FFAuditRecordDTO], handler=_audit_records, summary="the last audit records (admin)", **read),
    ):  # fmt: skip
        registry.add(operation)
    return registry
