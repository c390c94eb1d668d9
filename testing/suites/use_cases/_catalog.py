"""The 22 chat use cases of docs/USE_CASES.md: id, display name, category, managers exercised.

One table, so the report's use case x manager matrix, the suite's registrations and the tests
all read the same facts. Component names are the test context's manager names; the "analytics"
of docs/USE_CASES.md is the metrics manager, "panel(persona)" the panel manager's persona registry.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CATEGORIES", "USE_CASE_CATALOG", "FFUseCaseSpec", "use_case_spec"]

CATEGORIES = ("basic", "specialized", "multi-participant", "context & memory", "development")


@dataclass(frozen=True, slots=True)
class FFUseCaseSpec:
    """What the report says about one use case before it runs."""

    use_case_id: str
    name: str
    category: str
    components: tuple[str, ...]


def _spec(use_case_id: str, name: str, category: str, *components: str) -> FFUseCaseSpec:
    return FFUseCaseSpec(use_case_id, name, category, components)


USE_CASE_CATALOG: tuple[FFUseCaseSpec, ...] = (
    _spec("basic_chat", "Basic chat", "basic", "memory", "metrics"),
    _spec("multimodal_chat", "Multimodal chat", "basic", "memory", "tools", "metrics"),
    _spec("rag_chat", "RAG chat", "basic", "knowledge", "memory"),
    _spec("multimodal_rag", "Multimodal RAG", "basic", "knowledge", "tools", "memory"),
    _spec("translation_chat", "Translation chat", "specialized", "tools", "memory", "panel"),
    _spec("personal_assistant", "Personal assistant", "specialized", "tools", "memory"),
    _spec("interactive_tutor", "Interactive tutor", "specialized", "panel", "memory", "metrics"),
    _spec("language_tutor", "Language tutor", "specialized", "tools", "panel"),
    _spec("exam_assistant", "Exam assistant", "specialized", "knowledge", "memory", "metrics"),
    _spec("ai_notetaker", "AI notetaker", "specialized", "tools", "knowledge", "memory"),
    _spec("chatops_assistant", "ChatOps assistant", "specialized", "tools", "metrics"),
    _spec("cross_team_concierge", "Cross-team concierge", "specialized", "knowledge", "tools", "memory"),
    _spec("scene_critic", "Scene critic", "specialized", "panel", "tools"),
    _spec("multi_ai_panel", "Multi-AI panel", "multi-participant", "panel", "memory"),
    _spec("ai_debate", "AI debate", "multi-participant", "panel", "metrics"),
    _spec("topic_delegation", "Topic delegation", "multi-participant", "panel", "knowledge"),
    _spec("ai_game_master", "AI game master", "multi-participant", "panel", "memory"),
    _spec("auto_task_agent", "Auto task agent", "multi-participant", "tools", "panel", "memory"),
    _spec("memory_chat", "Memory chat", "context & memory", "memory"),
    _spec("thought_partner", "Thought partner", "context & memory", "memory", "knowledge"),
    _spec("story_world_chat", "Story world chat", "context & memory", "memory", "panel"),
    _spec("prompt_sandbox", "Prompt sandbox", "development", "tools", "metrics"),
)

_BY_ID = {spec.use_case_id: spec for spec in USE_CASE_CATALOG}


def use_case_spec(use_case_id: str) -> FFUseCaseSpec:
    """The catalog entry of ``use_case_id``; KeyError names the unknown id."""
    try:
        return _BY_ID[use_case_id]
    except KeyError:
        raise KeyError(f"{use_case_id!r} is not one of the 22 use cases of the catalog") from None
