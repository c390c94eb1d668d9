"""Planted defects inside ``ff_managers._panel`` (collected by ``tests/planted_defects``).

Each replaces one function of the private package (or one manager method) for the length of a
suite run. Most are surviving mutants of ``_panel`` that a new test killed, kept as plausible bugs:
the component suite's ``panel_detail_contracts`` must turn red on them; the listing defect must
turn ``stray_files_ignored`` red.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ff_managers._panel.events as events_module
import ff_managers._panel.panels as panels_module
from ff_managers import FFPanelSessionManager
from ff_managers._panel.message_index import ff_message_fingerprint
from ff_managers._panel.rules import ff_check_composition
from ff_managers._panel.reading import FFPanelRecordReader
from ff_managers._panel.routing import FFExpertScore, ff_topic_words
from ff_managers._panel.message_index import FFMessageIndex
from ff_managers._panel.store import FFLockedPanel, FFPanelStore
from ff_managers._panel.writer import FFPanelMessageWriter
from ff_utils.ff_errors import FFConflictError, FFValidationError
from tests._planted import PlantedDefect

__all__ = ["DEFECTS"]


def _rank(question: str, candidates: Sequence[tuple[str, Sequence[str]]], *, worst_first: bool, zero_shares: bool) -> list[FFExpertScore]:
    asked = ff_topic_words(question)
    scored = []
    for index, (participant_id, areas) in enumerate(candidates):
        score, matched = 0.0, []
        for area in areas:
            words = ff_topic_words(area)
            if not words:
                continue
            share = len(words & asked) / len(words)
            if share > 0 or (zero_shares and share >= 0):
                score += share
                matched.append(area)
        if score > 0:
            scored.append((score if worst_first else -score, index, FFExpertScore(participant_id, score, tuple(matched))))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [entry for _, _, entry in scored]


def experts_worst_first(question: str, candidates: Sequence[tuple[str, Sequence[str]]]) -> list[FFExpertScore]:
    """Experts ranked by ascending score (the sort key lost its minus): route_question picks the worst match."""
    return _rank(question, candidates, worst_first=True, zero_shares=False)


def unmatched_areas_listed(question: str, candidates: Sequence[tuple[str, Sequence[str]]]) -> list[FFExpertScore]:
    """An area sharing no word with the question counts as matched (``share >= 0``)."""
    return _rank(question, candidates, worst_first=False, zero_shares=True)


class VoteRationaleDropped(FFPanelSessionManager):
    """cast_vote stores and returns the vote without its rationale (mutant cast_vote 34: rationale=None)."""

    async def cast_vote(self, user_id: str, panel_id: str, decision_id: str, participant_id: str, option: str, *, rationale: str | None = None) -> Any:
        return await super().cast_vote(user_id, panel_id, decision_id, participant_id, option, rationale=None)


class EmptyPanelLastSequenceOne(FFPanelSessionManager):
    """The turn status of a panel with no message says last_sequence 1 (mutant _turn_status 50: ``else 1``)."""

    async def get_turn_status(self, user_id: str, panel_id: str) -> Any:
        status = await super().get_turn_status(user_id, panel_id)
        return status.model_copy(update={"last_sequence": 1}) if status.last_sequence == 0 else status


class DecisionProposerDropped(FFPanelSessionManager):
    """record_decision stores and returns the decision without its proposer (mutant record_decision 28:
    ``proposed_by=None`` in the DTO; the membership check still sees the argument)."""

    async def record_decision(self, user_id: str, panel_id: str, question: str, options: Any, *,
                              proposed_by: str | None = None, metadata: Any = None) -> Any:
        if proposed_by is not None:  # the membership check the real code still makes
            panel = await self.get_panel(user_id, panel_id)
            self._parts.check.require_member(panel, proposed_by, "proposed_by")
        return await super().record_decision(user_id, panel_id, question, options, proposed_by=None, metadata=metadata)


def _replayed_stopping_at_a_new_id(group: Any, drafts: list[Any]) -> Any:
    """The retry check stops at the first message whose id is not stored (``break`` for
    ``continue``): a batch with a new message before stored ones is taken for new messages and
    writes the stored ids a second time."""
    ids = [d.message_id for d in drafts if d.message_id is not None]
    if not ids:
        return None
    accepted = group.accepted
    known = group.locked.known_messages(i for i in ids if i not in accepted)
    taken: list[str] = []
    differ: list[str] = []
    for draft in drafts:
        message_id = draft.message_id
        if message_id in accepted:
            m = accepted[message_id]
            stored = ff_message_fingerprint(m.participant_id, m.role, m.content)
        elif message_id in known:
            stored = known[message_id][1]
        else:
            break
        taken.append(message_id)
        if stored != ff_message_fingerprint(draft.participant_id, draft.role or "", draft.content):
            differ.append(message_id)
    if not taken:
        return None
    if differ or len(taken) < len(drafts):
        raise FFConflictError(f"message ids already used in this panel by other messages: {', '.join(sorted(differ or taken))}",
                              field="message_id")
    stored_messages = group.locked.stored_messages(known)
    return [accepted[i] if i in accepted else stored_messages[i] for i in ids]


def _panel_ids_of_every_folder(self: FFPanelStore, user_id: str) -> list[str]:
    """Panel ids are the names of every sub-folder (no id check): a leftover staging folder
    (``.<panel_id>.staging.tmp``) is listed as a panel."""
    folder = self.user_panels_dir(user_id)
    if not self.storage.exists(folder):
        return []
    return [entry.name for entry in self.storage.list_dir(folder) if entry.is_dir]


def _records_skipping_bad_lines_uncounted(self: FFPanelRecordReader, model: Any, path: Any, panel_id: str) -> Any:
    """A log read whole skips its bad lines with the storage layer's default report only (mutant
    ``records`` 2: ``on_bad_line=None``): they are not counted in ``health().details["skipped_records"]``."""
    for record in self.storage.read_jsonl(path, on_bad_line=None):
        loaded = self._fit(model, record, path, panel_id)
        if loaded is not None:
            yield loaded


def _index_shared_by_a_users_panels(self: FFLockedPanel) -> FFMessageIndex:
    """The message-id index is cached per user instead of per panel (mutant ``_index`` 1 shares one for
    every panel): a panel whose last message has the id and number of another panel's is taken for
    it, and a retry there is refused as a conflict with the other panel's message."""
    key = (self.user_id, "")
    index = self._store._indexes.get(key)  # type: ignore[call-overload]
    if self._synced and index is not None:
        return index
    known = index.last_message if index is not None else None
    last = self._store.reader.last_message(self._messages, self.panel_id, repair=True, known=known)
    sequence = last.sequence if last is not None else 0
    if index is None or sequence < index.last_sequence or (sequence == index.last_sequence and last is not known):
        index = self._store._indexes[key] = FFMessageIndex(sequence, last, complete=sequence == 0)  # type: ignore[index]
    elif sequence > index.last_sequence:
        index.last_sequence, index.last_message, index.complete = sequence, last, False
    self._synced = True
    return index


def _created_without_participant_count(panel: Any) -> dict[str, Any]:
    """The ``panel.created`` payload carries its participant count under a misspelt key (mutant
    ``events.x_created`` 7): a subscriber reading ``participants`` finds nothing."""
    return {"panel_id": panel.panel_id, "panel_type": panel.panel_type.value, "turn_policy": panel.turn_policy,
            "participant": len(panel.participants)}


_TEST = "panel_detail_contracts"
DEFECTS: tuple[PlantedDefect, ...] = (
    PlantedDefect(name="experts_worst_first", what=experts_worst_first.__doc__ or "", suite="component", test=_TEST,
                  origin="mutant ff_managers._panel.routing.x_ff_rank_experts__mutmut_22",
                  patches=((panels_module, "ff_rank_experts", experts_worst_first),)),
    PlantedDefect(name="unmatched_expertise_listed", what=unmatched_areas_listed.__doc__ or "", suite="component", test=_TEST,
                  origin="mutant ff_managers._panel.routing.x_ff_rank_experts__mutmut_14",
                  patches=((panels_module, "ff_rank_experts", unmatched_areas_listed),)),
    PlantedDefect(name="vote_rationale_dropped", what=VoteRationaleDropped.__doc__ or "", suite="component", test=_TEST,
                  origin="mutant ff_managers._panel.deliberation.xǁFFPanelDeliberationǁcast_vote__mutmut_34",
                  manager_classes={"panel": VoteRationaleDropped}),
    PlantedDefect(name="empty_panel_last_sequence_one", what=EmptyPanelLastSequenceOne.__doc__ or "", suite="component", test=_TEST,
                  origin="mutant ff_managers._panel.messages.xǁFFPanelMessagesǁ_turn_status__mutmut_50",
                  manager_classes={"panel": EmptyPanelLastSequenceOne}),
    PlantedDefect(name="decision_proposer_dropped", what=" ".join((DecisionProposerDropped.__doc__ or "").split()),
                  suite="component", test=_TEST,
                  origin="mutant ff_managers._panel.deliberation.xǁFFPanelDeliberationǁrecord_decision__mutmut_28",
                  manager_classes={"panel": DecisionProposerDropped}),
    PlantedDefect(name="partial_retry_taken_as_new", what=" ".join((_replayed_stopping_at_a_new_id.__doc__ or "").split()),
                  suite="component", test=_TEST,
                  origin="mutant ff_managers._panel.writer.xǁFFPanelMessageWriterǁ_replayed__mutmut_23",
                  patches=((FFPanelMessageWriter, "_replayed", staticmethod(_replayed_stopping_at_a_new_id)),)),
    PlantedDefect(name="created_event_participant_count_misnamed",
                  what=" ".join((_created_without_participant_count.__doc__ or "").split()),
                  suite="component", test=_TEST,
                  origin="mutant ff_managers._panel.events.x_created__mutmut_7",
                  patches=((events_module, "created", _created_without_participant_count),)),
    PlantedDefect(name="bad_lines_of_whole_log_reads_uncounted",
                  what=" ".join((_records_skipping_bad_lines_uncounted.__doc__ or "").split()),
                  suite="component", test="panel_bad_line_counted",
                  origin="mutant ff_managers._panel.reading.xǁFFPanelRecordReaderǁrecords__mutmut_2",
                  patches=((FFPanelRecordReader, "records", _records_skipping_bad_lines_uncounted),)),
    PlantedDefect(name="message_index_shared_by_a_users_panels",
                  what=" ".join((_index_shared_by_a_users_panels.__doc__ or "").split()),
                  suite="component", test="panel_message_ids_per_panel",
                  origin="mutant ff_managers._panel.store.xǁFFLockedPanelǁ_index__mutmut_1",
                  patches=((FFLockedPanel, "_index", _index_shared_by_a_users_panels),)),
    PlantedDefect(
        name="panel_listing_takes_any_folder", what=" ".join((_panel_ids_of_every_folder.__doc__ or "").split()),
        origin="README", suite="component", test="stray_files_ignored",
        patches=((FFPanelStore, "list_panel_ids", _panel_ids_of_every_folder),),
    ),
)


class PanelImportOneByOne(FFPanelSessionManager):
    """A refused import batch keeps the good messages checked before the bad one (appended one by
    one as they pass), where README says "validated (turns too), then ONE append": nothing written."""

    async def import_messages(self, user_id: str, panel_id: str, messages: Any) -> Any:
        try:
            return await super().import_messages(user_id, panel_id, messages)
        except FFValidationError:
            for message in messages:  # stops at the bad one, with the earlier ones written
                await super().import_messages(user_id, panel_id, [message])
            raise


class PanelImportResentAppendsAgain(FFPanelSessionManager):
    """A re-sent import batch (every id already stored) is appended again under new ids instead of
    returning the stored messages (README: a re-sent import_messages batch appends nothing)."""

    async def import_messages(self, user_id: str, panel_id: str, messages: Any) -> Any:
        stored = {m.message_id for m in await self.get_messages(user_id, panel_id, limit=1_000)}
        if len(messages) > 1 and all(dict(m).get("message_id") in stored for m in messages):
            messages = [{k: v for k, v in dict(m).items() if k != "message_id"} for m in messages]
        return await super().import_messages(user_id, panel_id, messages)


def _composition_one_seat_over(panel_type: Any, participants: Any, *, min_participants: int, max_participants: int) -> None:
    """33 participants accepted: the upper bound compared with ``>`` max + 1 (one seat over the README's 32)."""
    ff_check_composition(panel_type, participants, min_participants=min_participants, max_participants=max_participants + 1)


def _composition_one_seat_short(panel_type: Any, participants: Any, *, min_participants: int, max_participants: int) -> None:
    """A panel of one participant accepted: the lower bound one short (README: 2 to 32 participants)."""
    ff_check_composition(panel_type, participants, min_participants=min_participants - 1, max_participants=max_participants)


def _composition_refusal_unnamed(panel_type: Any, participants: Any, *, min_participants: int, max_participants: int) -> None:
    """A participant count out of bounds is refused without naming the field ``participants``."""
    try:
        ff_check_composition(panel_type, participants, min_participants=min_participants, max_participants=max_participants)
    except FFValidationError as exc:
        raise FFValidationError(exc.message) from None


DEFECTS = (
    *DEFECTS,
    PlantedDefect(name="panel_import_appends_one_by_one", what=" ".join((PanelImportOneByOne.__doc__ or "").split()),
                  origin="README", suite="component", test=_TEST, manager_classes={"panel": PanelImportOneByOne}),
    PlantedDefect(name="panel_import_resent_appends_again", what=" ".join((PanelImportResentAppendsAgain.__doc__ or "").split()),
                  origin="README", suite="component", test=_TEST, manager_classes={"panel": PanelImportResentAppendsAgain}),
    *(PlantedDefect(name=name, what=" ".join((function.__doc__ or "").split()), origin="README", suite="component", test=_TEST,
                    patches=((panels_module, "ff_check_composition", function),))
      for name, function in (("panel_33_participants_accepted", _composition_one_seat_over),
                             ("panel_one_participant_accepted", _composition_one_seat_short),
                             ("panel_participant_count_refusal_unnamed", _composition_refusal_unnamed))),
)
