"""Pydantic v2 models: the configuration and every DTO that crosses a boundary."""

from ff_class_configs.ff_configuration_manager_config import (
    ENVIRONMENT_PRESETS,
    FFConfigurationManagerConfigDTO,
    load_config,
)
from ff_class_configs.ff_integration_testing_config import (
    SUITE_NAMES,
    FFIntegrationTestingConfigDTO,
    FFMigrationTestConfigDTO,
    FFPerformanceTestConfigDTO,
    FFQualityGatesConfigDTO,
    FFSecurityTestConfigDTO,
    FFTestEnvironment,
    FFTestingLevel,
)
from ff_class_configs.ff_knowledge_config import FFKnowledgeConfigDTO
from ff_class_configs.ff_memory_config import MEMORY_LAYERS, FFMemoryConfigDTO, MemoryLayer
from ff_class_configs.ff_metrics_config import FFMetricsConfigDTO
from ff_class_configs.ff_panel_config import FFPanelConfigDTO
from ff_class_configs.ff_tool_config import FFToolConfigDTO
from ff_class_configs.ff_storage_config import FF_SCHEMA_VERSION, FFStorageConfigDTO, default_data_root
from ff_class_configs.ff_test_result_dtos import (
    REPORT_SCHEMA_VERSION,
    FFAssertionDTO,
    FFIntegrationTestResultDTO,
    FFMigrationSummaryDTO,
    FFOperationStatsDTO,
    FFPerformanceSummaryDTO,
    FFQualityGateResultDTO,
    FFResourceSampleDTO,
    FFRunComparisonDTO,
    FFSecurityCheckDTO,
    FFStepTimingDTO,
    FFSuiteResultDTO,
    FFSystemIntegrationReportDTO,
    FFTestStatus,
    FFUseCaseValidationDTO,
)

__all__ = [
    "ENVIRONMENT_PRESETS",
    "FF_SCHEMA_VERSION",
    "MEMORY_LAYERS",
    "REPORT_SCHEMA_VERSION",
    "SUITE_NAMES",
    "FFAssertionDTO",
    "FFConfigurationManagerConfigDTO",
    "FFIntegrationTestResultDTO",
    "FFIntegrationTestingConfigDTO",
    "FFKnowledgeConfigDTO",
    "FFMemoryConfigDTO",
    "FFMetricsConfigDTO",
    "FFMigrationSummaryDTO",
    "FFMigrationTestConfigDTO",
    "FFOperationStatsDTO",
    "FFPanelConfigDTO",
    "FFPerformanceSummaryDTO",
    "FFPerformanceTestConfigDTO",
    "FFQualityGateResultDTO",
    "FFQualityGatesConfigDTO",
    "FFResourceSampleDTO",
    "FFRunComparisonDTO",
    "FFSecurityCheckDTO",
    "FFSecurityTestConfigDTO",
    "FFStepTimingDTO",
    "FFStorageConfigDTO",
    "FFSuiteResultDTO",
    "FFSystemIntegrationReportDTO",
    "FFTestEnvironment",
    "FFTestStatus",
    "FFTestingLevel",
    "FFToolConfigDTO",
    "FFUseCaseValidationDTO",
    "MemoryLayer",
    "default_data_root",
    "load_config",
]
