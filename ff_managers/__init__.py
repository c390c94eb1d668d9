"""The five domain managers, their shared base, the event bus they meet on, and the coordinating
migration and service managers that drive them (see ff_migration_manager.py for the layering)."""

from ff_managers.ff_component_base import FFComponentBase, FFComponentHealthDTO, FFComponentState
from ff_managers.ff_data_root import ff_data_root_status, ff_ensure_data_root, ff_read_meta
from ff_managers.ff_event_bus import FFEvent, FFEventBus
from ff_managers.ff_knowledge_base_manager import FFKnowledgeBaseManager
from ff_managers.ff_memory_layer_manager import FFMemoryLayerManager
from ff_managers.ff_metrics_collection_manager import FFMetricsCollectionManager
from ff_managers.ff_panel_session_manager import FFPanelSessionManager
from ff_managers.ff_persona_registry import FFPersonaRegistry
from ff_managers.ff_tool_execution_manager import FFToolExecutionManager

# Coordinating managers come last: they use the domain managers through the names above.
from ff_managers.ff_migration_manager import FFMigration, FFMigrationManager, FFMigrationRegistry  # noqa: I001 (order matters)
from ff_managers.ff_service_manager import FFServiceManager  # noqa: I001
from ff_managers.ff_cross_system_communication_manager import FFCrossSystemCommunicationManager  # noqa: I001
from ff_managers.ff_shard_manager import FFShardManager  # noqa: I001

__all__ = [
    "FFComponentBase",
    "FFComponentHealthDTO",
    "FFComponentState",
    "FFCrossSystemCommunicationManager",
    "FFEvent",
    "FFEventBus",
    "FFKnowledgeBaseManager",
    "FFMemoryLayerManager",
    "FFMetricsCollectionManager",
    "FFMigration",
    "FFMigrationManager",
    "FFMigrationRegistry",
    "FFPanelSessionManager",
    "FFPersonaRegistry",
    "FFServiceManager",
    "FFShardManager",
    "FFToolExecutionManager",
    "ff_data_root_status",
    "ff_ensure_data_root",
    "ff_read_meta",
]
