"""Planted defects in the panel types' composition rules (collected by ``tests/planted_defects``).

README.md lists each panel type's rule ("``multi_ai_panel`` (≥ 2 AI), ``ai_game_master`` (1
game_master, ≥ 1 player)..."); until the component suite's ``panel_composition_contracts`` only
``ai_debate``'s rule was checked at run time, so a wrong rule for any other type went through
``run-all`` green. Each replaces the composition check ``panels.py`` calls, for one panel type.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ff_managers._panel.panels as panels_module
from ff_class_configs.ff_panel_dtos import FFPanelParticipantDTO, FFPanelRole, FFPanelType
from ff_managers._panel.rules import ff_check_composition
from ff_utils.ff_errors import FFValidationError
from tests._planted import PlantedDefect

__all__ = ["DEFECTS"]

_Rule = Callable[[Sequence[FFPanelParticipantDTO]], bool]


def _with_rule(panel_type: FFPanelType, accepts: _Rule, doc: str) -> Callable[..., None]:
    """``ff_check_composition`` with ``panel_type``'s rule replaced by ``accepts`` (the size and
    duplicate checks, and every other type's rule, as they are)."""

    def check(kind: FFPanelType, participants: Sequence[FFPanelParticipantDTO], **limits: Any) -> None:
        if kind != panel_type:
            return ff_check_composition(kind, participants, **limits)
        ff_check_composition(FFPanelType.GENERIC, participants, **limits)
        if not accepts(participants):
            raise FFValidationError(f"a {kind.value} panel breaks its rule", field="participants")
        return None

    check.__doc__ = doc
    return check


def _roles(participants: Sequence[FFPanelParticipantDTO], role: FFPanelRole) -> int:
    return sum(1 for p in participants if p.role == role)


_DEFECTS = (
    ("multi_ai_panel_counts_humans", FFPanelType.MULTI_AI_PANEL, lambda ps: len(ps) >= 2,
     "a multi_ai_panel counts every participant, not only the AI ones: one AI and a human pass."),
    ("game_master_panel_takes_two_masters", FFPanelType.AI_GAME_MASTER,
     lambda ps: _roles(ps, FFPanelRole.GAME_MASTER) >= 1 and _roles(ps, FFPanelRole.PLAYER) >= 1,
     "an ai_game_master panel takes any number of game masters (>= 1 for == 1)."),
    ("game_master_panel_without_players", FFPanelType.AI_GAME_MASTER, lambda ps: _roles(ps, FFPanelRole.GAME_MASTER) == 1,
     "an ai_game_master panel is created without a single player."),
    ("delegation_panel_without_experts", FFPanelType.TOPIC_DELEGATION, lambda ps: True,
     "a topic_delegation panel is created without an expert, so route_question has nobody to pick."),
    ("task_agent_panel_without_agents", FFPanelType.AUTO_TASK_AGENT, lambda ps: True,
     "an auto_task_agent panel is created without an agent."),
    ("debate_needs_only_a_pro", FFPanelType.AI_DEBATE, lambda ps: _roles(ps, FFPanelRole.PRO) >= 1,
     "an ai_debate panel is created with a pro and no con."),
)

DEFECTS: tuple[PlantedDefect, ...] = tuple(
    PlantedDefect(name=name, what=what, origin="README", suite="component", test="panel_composition_contracts",
                  patches=((panels_module, "ff_check_composition", _with_rule(panel_type, rule, what)),))
    for name, panel_type, rule, what in _DEFECTS
)
