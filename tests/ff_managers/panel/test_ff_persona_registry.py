"""FFPersonaRegistry: register/get/list, unknown fields kept, legacy folder import."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import orjson
import pytest

from ff_class_configs.ff_panel_dtos import FFPersonaDTO
from ff_managers import FFPersonaRegistry
from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFNotFoundError, FFValidationError

SHARED = Path(__file__).resolve().parents[4] / "shared"
LEGACY_PERSONAS = SHARED / "fixtures" / "legacy_v1" / "complex" / "personas_global"


@pytest.fixture
async def registry(config):
    async with FFPersonaRegistry(config) as personas:
        yield personas


def files_under(root: Path) -> dict[str, bytes]:
    return {
        str(Path(d, n).relative_to(root)): Path(d, n).read_bytes() for d, _dirs, names in os.walk(root) for n in names
    }


async def test_register_get_and_list_keep_unknown_fields(registry, config):
    stored = await registry.register_persona(
        {"persona_id": "sage", "name": "Sage", "system_prompt": "Be wise.", "traits": {"tone": "calm"},
         "expertise": ["philosophy"], "voice": {"pitch": "low"}, "tags": ["old"]}
    )
    assert stored.model_extra == {"voice": {"pitch": "low"}, "tags": ["old"]}
    await registry.register_persona(FFPersonaDTO(persona_id="apprentice", name="Apprentice"))
    again = await registry.get_persona("sage")
    assert again == stored and again.model_dump()["voice"] == {"pitch": "low"}
    assert [p.persona_id for p in await registry.list_personas()] == ["apprentice", "sage"]
    on_disk = orjson.loads((Path(config.storage.base_path) / "personas" / "sage.json").read_bytes())
    assert on_disk["tags"] == ["old"] and on_disk["schema_version"] == 1


async def test_legacy_field_names_fill_the_current_ones(registry):
    persona = await registry.register_persona(
        {"persona_id": "old", "name": "Old", "behavioral_traits": {"values": ["x"]}, "expertise_areas": ["a", "b"]}
    )
    assert persona.traits == {"values": ["x"]} and persona.expertise == ["a", "b"]
    assert persona.model_extra == {"behavioral_traits": {"values": ["x"]}, "expertise_areas": ["a", "b"]}


async def test_same_content_is_a_no_op_different_content_conflicts_unless_overwritten(registry):
    await registry.register_persona({"persona_id": "p1", "name": "One"})
    await registry.register_persona({"persona_id": "p1", "name": "One"})
    with pytest.raises(FFConflictError):
        await registry.register_persona({"persona_id": "p1", "name": "Uno"})
    assert (await registry.get_persona("p1")).name == "One"
    await registry.register_persona({"persona_id": "p1", "name": "Uno"}, overwrite=True)
    assert (await registry.get_persona("p1")).name == "Uno"


@pytest.mark.parametrize(
    "bad",
    [
        {"persona_id": "../x", "name": "X"},
        {"persona_id": "x"},
        {"persona_id": "x", "name": ""},
        {"persona_id": "x", "name": "X", "expertise": "not a list"},
        {"persona_id": "x", "name": "X", "blob": "y" * 600_000},
        "not a mapping",
    ],
)
async def test_bad_personas_are_refused_and_nothing_is_written(registry, config, bad):
    root = Path(config.storage.base_path)
    await registry.list_personas()  # starts the registry (creates ff_meta.json) before the snapshot
    before = files_under(root)
    with pytest.raises(FFValidationError):
        await registry.register_persona(bad)
    assert files_under(root) == before


async def test_unknown_and_corrupt_personas(registry, config):
    with pytest.raises(FFNotFoundError):
        await registry.get_persona("nobody")
    with pytest.raises(FFValidationError):
        await registry.get_persona("../etc/passwd")
    folder = Path(config.storage.base_path) / "personas"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "broken.json").write_bytes(b"{not json")
    with pytest.raises(FFCorruptionError):
        await registry.get_persona("broken")
    (folder / "liar.json").write_bytes(orjson.dumps({"persona_id": "other", "name": "Other"}))
    with pytest.raises(FFCorruptionError):
        await registry.get_persona("liar")


@pytest.fixture
def legacy_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A writable copy of the fixture, outside the data root (which is tmp_path)."""
    if not LEGACY_PERSONAS.is_dir():
        pytest.skip(f"legacy fixture not found at {LEGACY_PERSONAS} (clone with ../shared beside it)")
    target = tmp_path_factory.mktemp("legacy") / "personas_global"
    shutil.copytree(LEGACY_PERSONAS, target)
    for path in target.iterdir():
        path.chmod(0o644)  # the fixture is read-only; the copy is ours to edit
    return target


async def test_load_the_real_legacy_personas_keeping_every_field(registry, config, legacy_copy):
    report = await registry.load_from_directory(legacy_copy)
    sources = {p.stem: orjson.loads(p.read_bytes()) for p in legacy_copy.glob("*.json")}
    assert len(sources) == 14 and report.total == 14 and sorted(report.registered) == sorted(s["persona_id"] for s in sources.values())
    for raw in sources.values():
        stored = orjson.loads((Path(config.storage.base_path) / "personas" / f"{raw['persona_id']}.json").read_bytes())
        assert {k: stored[k] for k in raw} == raw  # every legacy field, value for value
        assert stored["traits"] == raw["behavioral_traits"]
        assert stored["expertise"] == raw.get("expertise_areas", [])
    analyst = await registry.get_persona("agentic_analyst")
    assert analyst.name == "Agentic Analyst" and "strategic_planning" in analyst.expertise
    assert (await registry.get_persona("dr._sarah_wilson")).name == "Dr. Sarah Wilson"
    rerun = await registry.load_from_directory(legacy_copy)
    assert (rerun.registered, rerun.replaced, len(rerun.unchanged)) == ([], [], 14)


async def test_a_changed_legacy_file_conflicts_and_registers_nothing_without_overwrite(registry, config, legacy_copy):
    await registry.load_from_directory(legacy_copy)
    edited = orjson.loads((legacy_copy / "john_smith.json").read_bytes())
    edited["description"] = "changed"
    (legacy_copy / "john_smith.json").write_bytes(orjson.dumps(edited))
    (legacy_copy / "zz_new.json").write_bytes(orjson.dumps({"persona_id": "zz_new", "name": "New"}))
    before = files_under(Path(config.storage.base_path))
    with pytest.raises(FFConflictError, match="john_smith"):
        await registry.load_from_directory(legacy_copy)
    assert files_under(Path(config.storage.base_path)) == before  # not even the new persona
    report = await registry.load_from_directory(legacy_copy, overwrite=True)
    assert (report.registered, report.replaced, len(report.unchanged)) == (["zz_new"], ["john_smith"], 13)
    assert (await registry.get_persona("john_smith")).description == "changed"


async def test_one_bad_file_in_a_folder_registers_nothing(registry, config, tmp_path_factory):
    folder = tmp_path_factory.mktemp("incoming")
    (folder / "a.json").write_bytes(orjson.dumps({"persona_id": "a", "name": "A"}))
    (folder / "b.json").write_bytes(b"[1, 2]")
    (folder / "notes.txt").write_bytes(b"ignored")
    await registry.list_personas()
    before = files_under(Path(config.storage.base_path))
    with pytest.raises(FFValidationError, match="b.json"):
        await registry.load_from_directory(folder)
    (folder / "b.json").write_bytes(orjson.dumps({"persona_id": "a", "name": "Twin"}))
    with pytest.raises(FFValidationError, match="both define persona 'a'"):
        await registry.load_from_directory(folder)
    (folder / "b.json").write_bytes(orjson.dumps({"name": "Named by its file"}))  # no persona_id: the file name
    assert files_under(Path(config.storage.base_path)) == before
    report = await registry.load_from_directory(folder)
    assert sorted(report.registered) == ["a", "b"]
    with pytest.raises(FFNotFoundError):
        await registry.load_from_directory(folder / "missing")
