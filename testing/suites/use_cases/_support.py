"""What every use case shares: registration from the catalog and reading the data root directly.

A use case reads its results back twice where it matters: through the managers' own APIs and
from the files on disk (with the ff_utils readers, never through a manager), so a manager that
answers from a cache what it never wrote is caught.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from ff_utils.ff_file_ops import ff_read_bytes, ff_safe_path
from ff_utils.ff_json_utils import ff_read_json, ff_read_jsonl
from testing._context import FFTestContext
from testing._synthetic_data import FFSyntheticDocument
from testing.runner import FFChecker
from testing.suites.use_cases._catalog import use_case_spec
from testing.suites.use_cases._registry import REGISTRY

__all__ = [
    "UseCase",
    "data_path",
    "panel_file",
    "read_bytes",
    "read_json",
    "read_jsonl",
    "register_persona",
    "reopened",
    "session_log",
    "use_case",
]

UseCase = Callable[[FFTestContext, FFChecker], Awaitable[None]]


def use_case(use_case_id: str) -> Callable[[UseCase], UseCase]:
    """Register a scenario under its catalog entry; the function's name must be the use case id.

    The wrapper stamps ``check.details["use_case"]`` first, so even a scenario that breaks in its
    first step is reported under the right id and category.
    """
    spec = use_case_spec(use_case_id)

    def register(function: UseCase) -> UseCase:
        if function.__name__ != use_case_id:
            raise ValueError(
                f"use case {use_case_id!r} must be defined by a function of that name, not {function.__name__!r}"
            )

        @functools.wraps(function)
        async def run(ctx: FFTestContext, check: FFChecker) -> None:
            check.details["use_case"] = {"id": spec.use_case_id, "category": spec.category}
            await function(ctx, check)

        REGISTRY.test(spec.name, components=spec.components, tags={"category": spec.category})(run)
        return function

    return register


def data_path(ctx: FFTestContext, *parts: str) -> Path:
    """A path under the test data root, checked like the managers check theirs."""
    return ff_safe_path(ctx.root, *parts)


def session_log(ctx: FFTestContext, user_id: str, session_id: str) -> Path:
    return data_path(ctx, "users", user_id, "sessions", session_id, "messages.jsonl")


def panel_file(ctx: FFTestContext, user_id: str, panel_id: str, name: str) -> Path:
    return data_path(ctx, "users", user_id, "panels", panel_id, name)


async def read_jsonl(path: Path) -> list[Any]:
    """Every readable record of a JSONL file on disk ([] when it does not exist)."""

    def read() -> list[Any]:
        return list(ff_read_jsonl(path)) if path.is_file() else []

    return await asyncio.to_thread(read)


async def read_json(path: Path) -> Any:
    """A JSON document on disk, or None when it does not exist."""
    return await asyncio.to_thread(ff_read_json, path, None)


async def read_bytes(path: Path) -> bytes:
    return await asyncio.to_thread(ff_read_bytes, path)


async def register_persona(ctx: FFTestContext, persona_id: str, name: str, **fields: Any) -> Any:
    """Register a persona in the panel manager's registry (personas are shared by the data root,
    so ids carry the scenario's own user id)."""
    return await ctx.panel.personas.register_persona({"persona_id": persona_id, "name": name, **fields})


@contextlib.asynccontextmanager
async def reopened(ctx: FFTestContext, name: str, *, shared_bus: bool = False) -> AsyncIterator[Any]:
    """A new instance of a manager on the same data root, as a restarted app or another process
    would have it (no caches shared with ``ctx``); shut down on exit. ``shared_bus`` keeps its
    events flowing to the context's metrics manager."""
    manager = ctx.fresh_manager(name, bus=ctx.bus if shared_bus else None)
    try:
        yield manager
    finally:
        await manager.shutdown()


def distinct_documents(
    documents: Sequence[FFSyntheticDocument], count: int, *, skip: int = 0
) -> list[FFSyntheticDocument]:
    """``count`` seeded documents (after the first ``skip`` eligible ones) whose subjects differ.

    A document's probe names its subject; two documents on one subject would make "which
    document answers this probe" ambiguous whatever the seed, so such pairs are never picked.
    """
    picked: list[FFSyntheticDocument] = []
    seen: set[str] = set()
    for document in documents:
        subject = document.title.rsplit(": ", 1)[-1]
        if subject in seen:
            continue
        seen.add(subject)
        picked.append(document)
    if len(picked) < skip + count:
        raise ValueError(f"the seeded data has {len(picked)} documents with distinct subjects, {skip + count} needed")
    return picked[skip : skip + count]
