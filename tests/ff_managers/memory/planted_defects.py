"""Planted defects reaching ``ff_managers._memory``: surviving mutants killed since by a suite
contract check (collected by ``tests/planted_defects``)."""

from __future__ import annotations

from typing import Any

from ff_managers._core.checks import _refuse_non_plain
from datetime import UTC

from ff_managers import FFMemoryLayerManager
from ff_managers._memory import conversations, layer_store, layers, messages, retention_pass, validation
from ff_utils.ff_errors import FFNotFoundError, FFValidationError
from ff_utils.ff_json_utils import ff_dumps, ff_loads
from tests._planted import PlantedDefect

__all__ = ["DEFECTS"]


def json_object_refused_at_its_limit(value: object, *, field: str, max_bytes: int) -> dict[str, Any]:
    """Metadata of exactly max_bytes is refused (``>=`` for ``>``): mutant check_json_object 20,
    as the conversations module (sessions' metadata) sees it."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FFValidationError(f"{field} must be a mapping, not {type(value).__name__}", field=field)
    _refuse_non_plain(value, field, field, 0)
    encoded = ff_dumps(dict(value))
    if len(encoded) >= max_bytes:
        raise FFValidationError(f"{field} is {len(encoded):,} bytes as JSON; the limit is {max_bytes:,}", field=field)
    copy: dict[str, Any] = ff_loads(encoded)
    return copy


_recent = conversations.Sessions.recent
_update = conversations.Sessions.update


def recent_ignoring_limit(self: Any, user_id: str, limit: int | None) -> Any:
    """list_sessions returns every session whatever its limit (``limit is None`` inverted):
    mutant Sessions.recent 21."""
    return _recent(self, user_id, None)


def update_refusing_a_cleared_title(self: Any, user_id: str, session_id: str, *, title: object, metadata: object) -> Any:
    """update_session refuses an empty title, so a title cannot be cleared (``allow_empty=False``):
    mutant Sessions.update 15."""
    if title == "":
        raise FFValidationError("title must not be empty", field="title")
    return _update(self, user_id, session_id, title=title, metadata=metadata)


def activity_on_the_wall_clock(session: Any) -> float:
    """Sessions ordered by the wall clock of their last activity: an aware time's offset is
    replaced by UTC instead of converted (12:00+05:00 sorts after 08:00Z): mutant _activity 3."""
    moment = session.last_message_at or session.created_at
    return moment.replace(tzinfo=UTC).timestamp()


_run = retention_pass.MemoryRetention.run


def run_over_every_user(self: Any, now: Any, user_id: str | None, planner: Any) -> Any:
    """process_retention(user_id=X) walks and reports every user, not X alone (the test for a
    named user inverted): mutant MemoryRetention.run 4."""
    return _run(self, now, None, planner)


def update_without_its_time(self: Any, user_id: str, session_id: str, *, title: object, metadata: object) -> Any:
    """update_session writes its time under a misspelt key, so ``updated_at`` keeps the creation
    time: mutant Sessions.update 57."""
    policy = self.policy
    new_title = None
    if title is not None:
        new_title = conversations.check_text(title, field="title", max_chars=policy.max_title_chars, allow_empty=True)
    new_metadata = conversations.check_json_object(metadata, field="metadata", max_bytes=policy.max_metadata_bytes)
    now = self.clock()
    doc = self.layout.session_dir(user_id, session_id) / conversations.SESSION_DOC

    def change(current: dict[str, Any]) -> dict[str, Any]:
        self.store.load(conversations.FFChatSessionDTO, current, doc)
        merged = {**current.get("metadata", {}), **new_metadata}
        merged = conversations.check_json_object(merged, field="metadata", max_bytes=policy.max_metadata_bytes)
        updated = {**current, "metadata": merged, "XXupdated_atXX": now.isoformat()}
        if new_title is not None:
            updated["title"] = new_title
        return updated

    self.store.update_existing_json(doc, change, kind="session", key=session_id)
    return self.read(user_id, session_id)


def parse_layer_dropping_odd_lines(self: Any, path: Any, *, strict: bool) -> list[Any]:
    """A line of another shape in a memory layer is skipped even when retention reads it to
    rewrite the layer (``on_bad_line`` not passed on), so the pass silently drops it:
    mutant MemoryStore._parse_layer 17."""
    bad: list[Any] = []
    records = self.store.read_jsonl(path, on_bad_line=bad.append)
    entries = layer_store.load_records(self.store, layer_store.FFMemoryEntryDTO, records, path)
    if bad and strict:
        raise layer_store.FFCorruptionError(f"{len(bad)} unreadable line(s) in a memory layer", path=path)
    return entries


def context_without_the_budget_edge(self: Any, user_id: str, layer_names: Any, query: str, budget: int) -> Any:
    """get_memory_context treats a line that fills the budget exactly as too long (``>=`` for
    ``>``), so it is cut or left out: mutant MemoryLayers.context 21."""
    lines: list[str] = []
    hits: list[Any] = []
    used = omitted = 0
    for ranked in self.ranked(user_id, layer_names, query):
        line = f"- [{ranked.entry.layer}] {' '.join(ranked.entry.content.split())}"
        cost = len(line) + (1 if lines else 0)
        if used + cost >= budget:
            if lines or budget < 2:
                omitted += 1
                continue
            line = line[: budget - 1] + "…"
            cost = len(line)
        lines.append(line)
        used += cost
        hits.append(layers.search_hit(ranked))
    return layers.FFMemoryContextDTO(
        query=query, text="\n".join(lines), hits=hits, budget_chars=budget, used_chars=used, omitted=omitted
    )


def check_role_with_a_misspelt_field(role: object, allowed: Any, *, field: str = "XXroleXX") -> str:
    """add_message's refusal of an unknown role names a misspelt field (the default ``field`` of
    check_role changed; only the import passes its own): mutant check_role 1."""
    return validation.check_role(role, allowed, field=field)


def require_without_its_kind(self: Any, files: Any) -> None:
    """A missing session's FFNotFoundError carries no ``kind``: mutant Messages._require 4."""
    if not self.store.exists(files.document):
        raise FFNotFoundError(f"session {files.session_id!r} not found", kind=None, key=files.session_id)


def create_without_its_key(self: Any, session: Any) -> None:
    """A taken session id is a conflict naming ``None`` instead of the id: mutant Sessions.create 10."""
    doc = self.layout.session_dir(session.user_id, session.session_id) / conversations.SESSION_DOC
    self.store.create_json(doc, session.to_record(), kind="session", key=None)


DEFECTS: tuple[PlantedDefect, ...] = (
    PlantedDefect(name="list_sessions_limit_ignored", what=recent_ignoring_limit.__doc__ or "",
                  origin="mutant ff_managers._memory.conversations.xǁSessionsǁrecent__mutmut_21", suite="component",
                  test="memory_contracts", patches=((conversations.Sessions, "recent", recent_ignoring_limit),)),
    PlantedDefect(name="session_title_cannot_be_cleared", what=update_refusing_a_cleared_title.__doc__ or "",
                  origin="mutant ff_managers._memory.conversations.xǁSessionsǁupdate__mutmut_15", suite="component",
                  test="memory_contracts", patches=((conversations.Sessions, "update", update_refusing_a_cleared_title),)),
    PlantedDefect(name="session_metadata_refused_at_its_limit", what=json_object_refused_at_its_limit.__doc__ or "",
                  origin="mutant ff_managers._core.checks.x_check_json_object__mutmut_20", suite="component",
                  test="memory_contracts", patches=((conversations, "check_json_object", json_object_refused_at_its_limit),)),
    PlantedDefect(name="sessions_ordered_by_wall_clock", what=activity_on_the_wall_clock.__doc__ or "",
                  origin="mutant ff_managers._memory.conversations.x__activity__mutmut_3", suite="component",
                  test="memory_contracts", patches=((conversations, "_activity", activity_on_the_wall_clock),)),
    PlantedDefect(name="retention_for_one_user_walks_all", what=run_over_every_user.__doc__ or "",
                  origin="mutant ff_managers._memory.retention_pass.xǁMemoryRetentionǁrun__mutmut_4", suite="component",
                  test="memory_retention_per_layer", patches=((retention_pass.MemoryRetention, "run", run_over_every_user),)),
    PlantedDefect(name="session_update_keeps_its_time", what=update_without_its_time.__doc__ or "",
                  origin="mutant ff_managers._memory.conversations.xǁSessionsǁupdate__mutmut_57", suite="component",
                  test="memory_detail_contracts", patches=((conversations.Sessions, "update", update_without_its_time),)),
    PlantedDefect(name="retention_drops_odd_layer_lines", what=parse_layer_dropping_odd_lines.__doc__ or "",
                  origin="mutant ff_managers._memory.layer_store.xǁMemoryStoreǁ_parse_layer__mutmut_17", suite="component",
                  test="memory_detail_contracts", patches=((layer_store.MemoryStore, "_parse_layer", parse_layer_dropping_odd_lines),)),
    PlantedDefect(name="context_budget_edge_off_by_one", what=context_without_the_budget_edge.__doc__ or "",
                  origin="mutant ff_managers._memory.layers.xǁMemoryLayersǁcontext__mutmut_21", suite="component",
                  test="memory_detail_contracts", patches=((layers.MemoryLayers, "context", context_without_the_budget_edge),)),
    PlantedDefect(name="message_role_refusal_misnamed", what=check_role_with_a_misspelt_field.__doc__ or "",
                  origin="mutant ff_managers._memory.validation.x_check_role__mutmut_1", suite="component",
                  test="memory_detail_contracts", patches=((messages, "check_role", check_role_with_a_misspelt_field),)),
    PlantedDefect(name="missing_session_without_its_kind", what=require_without_its_kind.__doc__ or "",
                  origin="mutant ff_managers._memory.messages.xǁMessagesǁ_require__mutmut_4", suite="component",
                  test="memory_detail_contracts", patches=((messages.Messages, "_require", require_without_its_kind),)),
    PlantedDefect(name="session_conflict_without_its_id", what=create_without_its_key.__doc__ or "",
                  origin="mutant ff_managers._memory.conversations.xǁSessionsǁcreate__mutmut_10", suite="component",
                  test="memory_detail_contracts", patches=((conversations.Sessions, "create", create_without_its_key),)),
)


class ImportOneByOne(FFMemoryLayerManager):
    """A refused import batch keeps the good messages checked before the bad one (appended one by
    one as they pass), where README says "validated, then ONE append": nothing written."""

    async def import_messages(self, user_id: str, session_id: str, messages: Any) -> Any:
        try:
            return await super().import_messages(user_id, session_id, messages)
        except FFValidationError:
            for message in messages:  # stops at the bad one, with the earlier ones written
                await super().import_messages(user_id, session_id, [message])
            raise


DEFECTS = (
    *DEFECTS,
    PlantedDefect(name="memory_import_appends_one_by_one", what=" ".join((ImportOneByOne.__doc__ or "").split()),
                  origin="README", suite="component", test="memory_detail_contracts", manager_classes={"memory": ImportOneByOne}),
)


def append_imported_again(self: messages.Messages, files: Any, imported: list[Any]) -> int:
    """A re-sent import batch is appended again (the behaviour before 2026-12-06): a client that
    retries an import after a timeout duplicates the session's history."""
    records = [message.model_dump(mode="json") for message in imported]
    self._require(files)
    with self.store.lock(self._ids.lock_path(files.log)):
        if records:
            self._append_checked(files, records)
    return len(records)


DEFECTS = (
    *DEFECTS,
    PlantedDefect(name="memory_import_resent_appends_again", what=" ".join((append_imported_again.__doc__ or "").split()),
                  origin="README", suite="component", test="memory_detail_contracts",
                  patches=((messages.Messages, "append_imported", append_imported_again),)),
)


def record_size_refused_at_the_limit(record: dict[str, Any], max_bytes: int) -> None:
    """A message whose record is exactly ``storage.max_record_bytes`` is refused (``>=`` for ``>``):
    mutant ``check_record_size`` 2 of the 2026-12-08 sample, killed by ``test_memory_fresh8_kills.py``."""
    size = len(ff_dumps(record))
    if size >= max_bytes:
        raise FFValidationError(f"record of {size:,} bytes exceeds the limit of {max_bytes:,}", field="record")


DEFECTS = (
    *DEFECTS,
    PlantedDefect(name="memory_record_refused_at_its_limit", what=" ".join((record_size_refused_at_the_limit.__doc__ or "").split()),
                  origin="mutant ff_managers._memory.validation.x_check_record_size__mutmut_2", suite="component",
                  test="memory_record_limit", patches=((messages, "check_record_size", record_size_refused_at_the_limit),)),
)
