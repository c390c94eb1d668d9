"""The configuration reference, generated from the pydantic models so it cannot drift.

``python -m ff_class_configs.ff_config_reference > docs/CONFIGURATION.md`` writes it;
``tests/ff_class_configs/test_config_reference.py`` fails when the committed file is stale, so a new
setting without a line in the reference (or a changed default) is caught in CI, not by a user.

Each setting is listed with its dotted key, the ``FF_*`` variable that sets it, its type, its
default and its meaning (the field's ``description``).
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO

__all__ = ["config_reference_rows", "render_config_reference"]

_HEADER = """# Configuration reference

Generated from the pydantic models by `python -m ff_class_configs.ff_config_reference`; do not edit
by hand (a test fails when this file is stale).

Precedence, lowest first: built-in defaults < the environment's preset < the JSON file given to
`load_config(path)` / `--config` (its top level, then its `environments.<name>` block) < `FF_*`
environment variables < keyword arguments. Nested keys use `__` in variable names; values are read
as JSON when they parse (numbers, booleans, lists), else as strings. `FF_BASE_PATH` and
`FF_ENVIRONMENT` are short forms of `FF_STORAGE__BASE_PATH` and `FF_ENVIRONMENT`.
"""


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is None:
        if isinstance(annotation, type):
            if issubclass(annotation, enum.Enum):
                return " \\| ".join(repr(member.value) for member in annotation)
            return annotation.__name__
        return str(annotation).replace("typing.", "")
    args = get_args(annotation)
    name = getattr(origin, "__name__", str(origin)).replace("typing.", "")
    if name == "Literal":
        return " \\| ".join(repr(arg) for arg in args)
    if name in ("Union", "UnionType"):
        return " \\| ".join(_type_name(arg) for arg in args)
    return f"{name}[{', '.join(_type_name(arg) for arg in args)}]"


def _default(info: FieldInfo) -> str:
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
    else:
        value = info.default
    if isinstance(value, BaseModel):
        return "(section)"
    if isinstance(value, Path):
        return "`./ff_data` (in the working directory)" if value.name == "ff_data" else f"`{value}`"
    if isinstance(value, enum.Enum):
        value = value.value
    text = repr(value)
    return f"`{text}`" if len(text) <= 120 else f"`{text[:117]}...`"


def _is_section(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def config_reference_rows(
    model: type[BaseModel] = FFConfigurationManagerConfigDTO, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, str, str, str, str]]:
    """(key, variable, type, default, meaning) for every leaf setting, depth first in model order."""
    for name, info in model.model_fields.items():
        keys = (*prefix, name)
        if _is_section(info.annotation):
            yield from config_reference_rows(info.annotation, keys)
            continue
        variable = "FF_" + "__".join(key.upper() for key in keys)
        meaning = (info.description or "").replace("|", "\\|").replace("\n", " ")
        yield ".".join(keys), variable, _type_name(info.annotation), _default(info), meaning


def render_config_reference() -> str:
    """The whole reference as Markdown, one table per top-level section."""
    lines = [_HEADER]
    section = None
    for key, variable, type_name, default, meaning in config_reference_rows():
        top = key.split(".")[0] if "." in key else ""
        if top != section:
            section = top
            doc = FFConfigurationManagerConfigDTO.model_fields.get(top)
            title = (doc.annotation.__doc__ or "").strip().splitlines()[0] if doc and _is_section(doc.annotation) else ""
            heading = f"`{top}`" + (f": {title}" if title else "") if top else "Top level"
            lines += ["", f"## {heading}", ""]
            lines += ["| key | variable | type | default | meaning |", "| --- | --- | --- | --- | --- |"]
        lines.append(f"| `{key}` | `{variable}` | {type_name} | {default} | {meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_config_reference())
