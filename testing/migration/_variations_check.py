"""Hold a migrated target to what :func:`._variations.generate_varied_root` says must be in it.

Read through the managers' public APIs only, as a user of the migrated root would: every readable
legacy record must be in its session exactly once, in order, with its text byte for byte; the
sessions of users and sessions whose folder names were mapped must be found under the ids
``ff_migration_id_map.json`` names; documents and personas must all be there. Each breach is one
line of the returned list (empty: the target is right).
"""

from __future__ import annotations

from pathlib import Path

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_managers import (
    FFEventBus,
    FFKnowledgeBaseManager,
    FFMemoryLayerManager,
    FFPanelSessionManager,
    FFPersonaRegistry,
)
from ff_utils.ff_errors import FFNotFoundError
from ff_utils.ff_json_utils import ff_read_json
from testing.migration._variations import FFVariedRootDTO

__all__ = ["ID_MAP_FILE", "check_varied_target", "read_id_map"]

ID_MAP_FILE = "ff_migration_id_map.json"


def read_id_map(target: Path) -> dict[str, str]:
    """Legacy path (``users/<u>`` or ``users/<u>/<s>``) -> the v2 id it was imported under."""
    path = target / ID_MAP_FILE
    if not path.exists():
        return {}
    return {m["path"]: m["v2_id"] for m in ff_read_json(path)["mappings"] if m["kind"] in ("user", "session")}


async def check_varied_target(expected: FFVariedRootDTO, target: Path | str,
                              config: FFConfigurationManagerConfigDTO) -> list[str]:
    """Every way ``target`` differs from what the generated root requires (empty: none)."""
    root = Path(target)
    settings = config.model_copy(deep=True)
    settings.storage.base_path = root
    ids = read_id_map(root)
    bus = FFEventBus()
    personas = FFPersonaRegistry(settings, bus=bus)
    memory = FFMemoryLayerManager(settings, bus=bus)
    panels = FFPanelSessionManager(settings, bus=bus, personas=personas)
    knowledge = FFKnowledgeBaseManager(settings, bus=bus)
    managers = (personas, memory, panels, knowledge)
    problems: list[str] = []
    for manager in managers:
        await manager.initialize()
    try:
        found = 0
        for session in expected.sessions:
            user_id = ids.get(f"users/{session.user_dir}", session.user_dir)
            session_id = ids.get(f"users/{session.user_dir}/{session.session_dir}", session.session_dir)
            where = f"users/{session.user_dir}/{session.session_dir}"
            if session.empty_dir:
                continue
            try:
                if session.kind == "panel":
                    contents = [m.content for m in await panels.get_messages(user_id, session_id, limit=1000)]
                else:
                    await memory.get_session(user_id, session_id)
                    contents = [m.content for m in await memory.get_messages(user_id, session_id, limit=1000)]
            except FFNotFoundError:
                problems.append(f"{where}: not in the target (as {user_id}/{session_id})")
                continue
            found += len(contents)
            if contents != session.contents:
                problems.append(f"{where}: {len(session.contents)} record(s) expected, {len(contents)} found; "
                                f"first difference at {next((i for i, (a, b) in enumerate(zip(session.contents, contents)) if a != b), min(len(contents), len(session.contents)))}")
        if found != expected.records:
            problems.append(f"{expected.records} readable record(s) in the source, {found} found in the target")
        documents = 0
        for user in expected.users:
            user_id = ids.get(f"users/{user}", user)
            for base in await knowledge.list_knowledge_bases(user_id):
                documents += len(await knowledge.list_documents(user_id, base.kb_id))
        if documents != expected.documents:
            problems.append(f"{expected.documents} document(s) in the source, {documents} in the target")
        if len(await personas.list_personas()) != expected.personas:
            problems.append(f"{expected.personas} persona(s) in the source, {len(await personas.list_personas())} in the target")
    finally:
        for manager in reversed(managers):
            await manager.shutdown()
    return problems
