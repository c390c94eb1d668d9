"""The persona registry: who AI participants play, one JSON document per persona.

Personas are shared by every user of a data root (``<root>/personas/<persona_id>.json``), like
the legacy layout's ``personas_global``. A persona document keeps every field it was given,
including ones this code does not know, so importing the legacy files loses nothing; the
current field names (``traits``, ``expertise``) are filled from the legacy ones when missing
(see :class:`FFPersonaDTO`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ff_class_configs.ff_panel_dtos import FFPersonaDTO, FFPersonaImportDTO
from ff_managers._core.errors import translate_errors, validate_input
from ff_managers.ff_component_base import FFComponentBase
from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFNotFoundError, FFValidationError
from ff_utils.ff_ids import ff_validate_id
from ff_utils.ff_file_ops import ff_read_bytes
from ff_utils.ff_json_utils import ff_dumps, ff_loads

__all__ = ["FFPersonaRegistry", "PERSONAS_DIR"]

PERSONAS_DIR = "personas"


class FFPersonaRegistry(FFComponentBase):
    """Register, read and list personas; import a folder of persona JSON files."""

    component_name = "persona_registry"

    # ------------------------------------------------------------------ public API

    async def register_persona(
        self, persona: FFPersonaDTO | Mapping[str, Any], *, overwrite: bool = False
    ) -> FFPersonaDTO:
        """Store a persona and return it as stored.

        Registering the same content again is a no-op. Raises FFValidationError for a malformed or
        oversized persona, FFConflictError when a different persona with the same id exists and
        ``overwrite`` is false.
        """
        async with self._operation():
            checked = self._validate(persona, source="persona")
            await self._io(self._write, checked, overwrite)
            return checked

    async def get_persona(self, persona_id: str) -> FFPersonaDTO:
        """The persona with this id. Raises FFNotFoundError when there is none."""
        async with self._operation():
            return await self._io(self._read, ff_validate_id(persona_id, "persona_id"))

    async def list_personas(self) -> list[FFPersonaDTO]:
        """Every registered persona, ordered by id."""
        async with self._operation():
            return await self._io(self._read_all)

    async def load_from_directory(self, path: Path | str, *, overwrite: bool = False) -> FFPersonaImportDTO:
        """Register every ``*.json`` persona file of a folder (the legacy ``personas_global`` format).

        All files are read and validated before anything is written: one malformed file, two
        files with the same persona id, or (without ``overwrite``) a file that differs from an
        already registered persona raises (FFValidationError, FFCorruptionError, FFConflictError)
        and registers nothing. A file without ``persona_id`` takes its file name as the id.
        Symbolic links and sub-folders are skipped.
        """
        async with self._operation():
            return await self._io(self._load_directory, Path(path), overwrite)

    # ------------------------------------------------------------------ blocking work (threads)

    def _persona_path(self, persona_id: str) -> Path:
        return self._path(PERSONAS_DIR, f"{ff_validate_id(persona_id, 'persona_id')}.json")

    def _validate(self, persona: FFPersonaDTO | Mapping[str, Any], *, source: str) -> FFPersonaDTO:
        if isinstance(persona, FFPersonaDTO):
            data: Any = persona.model_dump(mode="json")
        elif isinstance(persona, Mapping):
            data = dict(persona)
        else:
            raise FFValidationError(
                f"{source}: a persona is a mapping or FFPersonaDTO, not {type(persona).__name__}", field="persona"
            )
        checked = validate_input(FFPersonaDTO, data, action=f"read {source}")
        size = len(ff_dumps(checked.model_dump(mode="json")))
        limit = self.config.panel.max_persona_bytes
        if size > limit:
            raise FFValidationError(f"{source}: persona of {size:,} bytes exceeds {limit:,}", field="persona")
        return checked

    def _write(self, persona: FFPersonaDTO, overwrite: bool) -> str:
        """Write one persona; return "registered", "replaced" or "unchanged"."""
        path = self._persona_path(persona.persona_id)
        new = persona.model_dump(mode="json")
        outcome = "registered"

        def update(current: Any) -> Any:
            nonlocal outcome
            if current is None:
                return new
            if current == new:
                outcome = "unchanged"
                return current
            if not overwrite:
                raise FFConflictError(
                    f"persona {persona.persona_id!r} is already registered with different content",
                    kind="persona",
                    key=persona.persona_id,
                )
            outcome = "replaced"
            return new

        if self.store.read_json(path, None) == new:
            return "unchanged"  # nothing to write: keep the file (and its mtime) as it is
        self.store.update_json(path, update, default=None)
        return outcome

    def _load(self, path: Path) -> FFPersonaDTO:
        try:
            raw = self.store.read_json(path)
        except FFNotFoundError as exc:
            raise FFNotFoundError(f"no persona {path.stem!r}", kind="persona", key=path.stem) from exc
        persona = self.store.load(FFPersonaDTO, raw, path)
        if persona.persona_id != path.stem:
            raise FFCorruptionError(f"file holds persona {persona.persona_id!r}, not {path.stem!r}", path=path)
        return persona

    def _read(self, persona_id: str) -> FFPersonaDTO:
        return self._load(self._persona_path(persona_id))

    def _read_all(self) -> list[FFPersonaDTO]:
        folder = self._path(PERSONAS_DIR)
        if not self.store.exists(folder):
            return []
        names = [entry.name for entry in self.store.list_dir(folder) if entry.is_file]  # no symlink followed
        return [self._load(folder / name) for name in names if name.endswith(".json") and not name.startswith(".")]

    def _load_directory(self, folder: Path, overwrite: bool) -> FFPersonaImportDTO:
        if not folder.is_dir():
            raise FFNotFoundError(f"no persona folder at {folder}", kind="directory", key=str(folder), path=folder)
        with translate_errors("list persona folder", folder):
            files = sorted(
                Path(entry.path)
                for entry in os.scandir(folder)
                if entry.name.endswith(".json") and not entry.name.startswith(".") and entry.is_file(follow_symlinks=False)
            )
        personas: list[FFPersonaDTO] = []
        seen: dict[str, str] = {}
        for file in files:
            raw = ff_loads(ff_read_bytes(file, max_bytes=self.config.panel.max_persona_bytes), path=file)  # outside the store
            if not isinstance(raw, dict):
                raise FFValidationError(f"{file.name}: a persona file holds a JSON object", field="persona", path=file)
            raw.setdefault("persona_id", file.stem)
            persona = self._validate(raw, source=file.name)
            if persona.persona_id in seen:
                raise FFValidationError(
                    f"{file.name} and {seen[persona.persona_id]} both define persona {persona.persona_id!r}",
                    field="persona_id",
                    path=file,
                )
            seen[persona.persona_id] = file.name
            personas.append(persona)
        if not overwrite:
            for persona in personas:
                current = self.store.read_json(self._persona_path(persona.persona_id), None)
                if current is not None and current != persona.model_dump(mode="json"):
                    raise FFConflictError(
                        f"persona {persona.persona_id!r} ({seen[persona.persona_id]}) differs from the registered one; "
                        "pass overwrite=True to replace it",
                        kind="persona",
                        key=persona.persona_id,
                    )
        report = FFPersonaImportDTO(source=str(folder))
        for persona in personas:
            getattr(report, self._write(persona, overwrite)).append(persona.persona_id)
        return report
