"""The request DTOs of the service's operations, and the small answers only the service gives.

One model per operation: the HTTP body fields plus the path and query fields, which is exactly
what a JSON-RPC call's ``params`` hold (API.md: "params are the HTTP body fields plus the path
fields"). The HTTP routes, the JSON-RPC methods and the OpenAPI document are all generated from
these models, so a field is declared once. Unknown fields are refused (a typo is an error, not
silently ignored). Responses reuse the managers' DTOs; the few answers that no manager gives
(instance info, API keys, ready file) are here too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

__all__ = [
    "FFAddDocumentRequestDTO",
    "FFAddMessageRequestDTO",
    "FFAddPanelMessageRequestDTO",
    "FFApiKeyCreatedDTO",
    "FFApiKeyDTO",
    "FFAssignRoleRequestDTO",
    "FFAuditRecordsRequestDTO",
    "FFCreateKnowledgeBaseRequestDTO",
    "FFCreatePanelRequestDTO",
    "FFCreateSessionRequestDTO",
    "FFGetMessagesRequestDTO",
    "FFGetPanelMessagesRequestDTO",
    "FFInstanceDTO",
    "FFKnowledgeSearchRequestDTO",
    "FFListSessionsRequestDTO",
    "FFMetricSummaryRequestDTO",
    "FFReadyFileDTO",
    "FFRecordMetricRequestDTO",
    "FFRunToolRequestDTO",
    "FFSearchMemoriesRequestDTO",
    "FFServiceInfoDTO",
    "FFStoreMemoryRequestDTO",
    "FFUserRequestDTO",
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FFUserRequestDTO(_Request):
    """An operation on one user's data: the credential must be that user's (or an admin's)."""

    user_id: str = Field(description="the user whose data this is (path field)")


class FFCreateSessionRequestDTO(FFUserRequestDTO):
    title: str = ""
    metadata: dict[str, Any] | None = None


class FFListSessionsRequestDTO(FFUserRequestDTO):
    limit: int | None = Field(None, description="at most this many, most recently active first")


class FFAddMessageRequestDTO(FFUserRequestDTO):
    session_id: str
    role: str
    content: str
    message_id: str | None = Field(None, description="the client's id: a retry with the same id and content returns the stored message")
    metadata: dict[str, Any] | None = None


class FFGetMessagesRequestDTO(FFUserRequestDTO):
    session_id: str
    limit: int = 50


class FFStoreMemoryRequestDTO(FFUserRequestDTO):
    content: str
    layer: str = "short_term"
    importance: float = 0.5
    tags: list[str] | None = None


class FFSearchMemoriesRequestDTO(FFUserRequestDTO):
    q: str = Field(validation_alias=AliasChoices("q", "query"), description="the query text")
    limit: int = 10


class FFCreatePanelRequestDTO(FFUserRequestDTO):
    participants: list[dict[str, Any]]
    panel_type: str = "generic"
    title: str = ""


class FFAddPanelMessageRequestDTO(FFUserRequestDTO):
    panel_id: str
    participant_id: str
    content: str
    role: str | None = None
    message_id: str | None = None


class FFGetPanelMessagesRequestDTO(FFUserRequestDTO):
    panel_id: str
    limit: int = 100


class FFCreateKnowledgeBaseRequestDTO(FFUserRequestDTO):
    name: str
    description: str = ""


class FFAddDocumentRequestDTO(FFUserRequestDTO):
    kb_id: str
    content: str
    title: str | None = None
    format: str | None = None
    metadata: dict[str, Any] | None = None


class FFKnowledgeSearchRequestDTO(FFUserRequestDTO):
    kb_id: str
    q: str = Field(validation_alias=AliasChoices("q", "query"), description="the query text")
    top_k: int | None = None


class FFRunToolRequestDTO(FFUserRequestDTO):
    tool_name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class FFAssignRoleRequestDTO(FFUserRequestDTO):
    role: str


class FFRecordMetricRequestDTO(_Request):
    name: str
    value: float
    kind: Literal["timing", "counter", "gauge", "ms", "c", "g"] = Field("timing", description="timing|counter|gauge (or the StatsD ms|c|g)")
    tags: dict[str, str | int | bool] | None = None


class FFMetricSummaryRequestDTO(_Request):
    name: str


class FFAuditRecordsRequestDTO(_Request):
    limit: int = 100


class FFServiceInfoDTO(BaseModel):
    """``GET /v1/info``."""

    instance_id: str
    version: str
    uptime_s: float
    pid: int
    started_at: datetime
    transports: dict[str, int | None]
    udp: dict[str, int] = Field(default_factory=dict, description="StatsD datagrams: received, bad, lost (by #seq gaps)")
    instances: list[FFInstanceDTO] = Field(default_factory=list)


class FFInstanceDTO(BaseModel):
    """One entry of the instance registry (``system/service/instances/<id>.json``)."""

    instance_id: str
    pid: int
    host: str
    http_port: int
    tcp_port: int | None
    udp_port: int | None
    tls: bool
    started_at: datetime
    lease_expires_at: datetime


class FFReadyFileDTO(BaseModel):
    """The ready file, written atomically once every listener is bound (API.md's shape)."""

    pid: int
    instance_id: str
    host: str
    http_port: int
    tcp_port: int | None
    udp_port: int | None
    tls: bool


class FFApiKeyDTO(BaseModel):
    """An API key as listed: never the key itself (only its hash is stored)."""

    key_id: str
    user_id: str
    roles: list[str]
    created_at: datetime
    revoked_at: datetime | None = None


class FFApiKeyCreatedDTO(FFApiKeyDTO):
    """The answer of ``create_api_key``: the only time the key is shown."""

    key: str


FFServiceInfoDTO.model_rebuild()
