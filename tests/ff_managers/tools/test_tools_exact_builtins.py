"""The built-in tool catalogue, read through the manager without running anything.

Each built-in is started as ``python -P -B -m tools_builtin.<name>`` (module docstring of
``ff_managers/_tools/builtin_defs.py``), single-process under a 10 s wall and CPU limit, with the
permissions README.md gives (``disk_usage`` dangerous, ``restart_service`` dangerous and ``ops``
only), and a one-sentence description that ``list_tools`` shows to callers.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_tool_dtos import FFToolLimitsDTO
from ff_managers.ff_tool_execution_manager import FFToolExecutionManager

# name: (path arguments, dangerous, allowed roles, workspace view)
CATALOGUE = {
    "word_count": (("path",), False, [], False),
    "extract_text": (("path",), False, [], False),
    "summarize": (("path",), False, [], False),
    "calculator": ((), False, [], False),
    "translate": ((), False, [], False),
    "grammar_check": ((), False, [], False),
    "create_task": ((), False, [], False),
    "disk_usage": ((), True, [], True),
    "restart_service": ((), True, ["ops"], False),
}


@pytest.fixture
def tools(tmp_path: Path) -> FFToolExecutionManager:
    return FFToolExecutionManager(load_config(base_path=tmp_path / "root", environ={}))


def test_every_builtin_is_started_the_same_way_under_the_quick_limits(tools: FFToolExecutionManager) -> None:
    quick = FFToolLimitsDTO(wall_time_seconds=10.0, cpu_time_seconds=10, max_processes=1)
    for name, (path_arguments, _dangerous, _roles, workspace_view) in CATALOGUE.items():
        definition = tools.get_tool(name)
        assert definition.argv == (sys.executable, "-P", "-B", "-m", f"tools_builtin.{name}"), name
        assert definition.limits == quick, name
        assert (definition.path_arguments, definition.workspace_view) == (path_arguments, workspace_view), name
        assert definition.parameters.__name__ == "".join(part.title() for part in name.split("_")) + "Args", name


def test_list_tools_shows_each_builtin_with_its_permissions_and_a_one_sentence_description(tools: FFToolExecutionManager) -> None:
    listed = {info.name: info for info in tools.list_tools()}
    assert set(listed) == set(CATALOGUE)
    for name, (_paths, dangerous, roles, _view) in CATALOGUE.items():
        info = listed[name]
        assert (info.dangerous, info.allowed_roles, info.allowed_users) == (dangerous, roles, []), name
        text = info.description
        assert text[0].isupper() and text[1:2].islower() and text.endswith("."), (name, text)
        assert ("needs a grant" in text.lower()) is dangerous, (name, text)  # the caller learns why a run is refused
    assert "Ops only" in listed["restart_service"].description
