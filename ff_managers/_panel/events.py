"""The payloads of the panel's events. Ids and counts only, never content: subscribers (metrics,
analytics) learn that something happened and how big it was, not what was said.

``panel.created``, ``panel.message_added``, ``panel.insight_recorded``, ``panel.closed``.
"""

from __future__ import annotations

from typing import Any

from ff_class_configs.ff_panel_dtos import FFPanelAnalyticsDTO, FFPanelDTO, FFPanelInsightDTO, FFPanelMessageDTO
from ff_managers._panel.analytics import ff_word_count

__all__ = ["created", "message_added", "insight_recorded", "closed"]


def created(panel: FFPanelDTO) -> dict[str, Any]:
    return {
        "panel_id": panel.panel_id,
        "panel_type": panel.panel_type.value,
        "turn_policy": panel.turn_policy,
        "participants": len(panel.participants),
    }


def message_added(message: FFPanelMessageDTO, *, imported: bool) -> dict[str, Any]:
    return {
        "panel_id": message.panel_id,
        "message_id": message.message_id,
        "participant_id": message.participant_id,
        "sequence": message.sequence,
        "chars": len(message.content),
        "words": ff_word_count(message.content),
        "imported": imported,
    }


def insight_recorded(insight: FFPanelInsightDTO) -> dict[str, Any]:
    return {
        "panel_id": insight.panel_id,
        "insight_id": insight.insight_id,
        "participant_id": insight.participant_id,
        "category": insight.category,
        "sources": len(insight.source_message_ids),
    }


def closed(figures: FFPanelAnalyticsDTO) -> dict[str, Any]:
    return {
        "panel_id": figures.panel_id,
        "panel_type": figures.panel_type.value,
        "messages": figures.message_count,
        "words": figures.word_count,
        "turns": figures.turn_count,
        "insights": figures.insight_count,
        "decisions": figures.decision_count,
        "votes": figures.vote_count,
        "consensus_level": figures.consensus_level,
        "duration_seconds": figures.duration_seconds,
    }
