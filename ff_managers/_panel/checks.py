"""Checks of caller input against the panel limits. Pure: no I/O, raises FFValidationError.

Every public panel method runs its input through :class:`FFPanelInputChecker` before it writes
anything, so a bad value is refused with one error naming the field, and the data root is left as
it was. The rule for each kind of field (text, JSON object, limit, timestamp) is the one every
manager follows, from :mod:`ff_managers._core.checks`; what is panel-specific here is which limit
applies to which argument, and the checks that need a panel (its participants, its messages).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ff_class_configs.ff_panel_config import FFPanelConfigDTO
from ff_class_configs.ff_panel_dtos import FFPanelDTO, FFPanelMessageInputDTO, FFPanelParticipantDTO, FFPanelType
from ff_managers._core.checks import check_content, check_json_object, check_limit, check_text, check_timestamp
from ff_managers._core.errors import input_errors, validate_input
from ff_utils.ff_errors import FFValidationError

__all__ = ["FFPanelInputChecker"]

_NO_MAXIMUM = sys.maxsize  # page sizes and sequence numbers: any int the log can hold


class FFPanelInputChecker:
    """Validates texts, metadata, options, participants and messages against ``limits``."""

    def __init__(self, limits: FFPanelConfigDTO) -> None:
        self.limits = limits

    # ------------------------------------------------------------------ scalars

    @staticmethod
    def text(value: Any, field: str, max_chars: int, *, allow_empty: bool = False) -> str:
        """``value`` if it follows the text rule: at most ``max_chars``, non-blank unless ``allow_empty``."""
        return check_text(value, field=field, max_chars=max_chars, allow_empty=allow_empty)

    @staticmethod
    def content(value: Any, field: str, max_chars: int, *, allow_empty: bool = False) -> str:
        """``value`` if it follows the content rule (what participants say: only NUL is refused)."""
        return check_content(value, field=field, max_chars=max_chars, allow_empty=allow_empty)

    def metadata(self, metadata: Mapping[str, Any] | None, *, field: str = "metadata") -> dict[str, Any]:
        """A fresh plain JSON object (``{}`` for None) that fits ``max_metadata_bytes``."""
        return check_json_object(metadata, field=field, max_bytes=self.limits.max_metadata_bytes)

    def options(self, options: Any) -> list[str]:
        """Decision options: 2 to ``max_decision_options`` distinct non-empty texts."""
        if isinstance(options, (str, bytes)) or not isinstance(options, Sequence):
            raise FFValidationError("options must be a list of text", field="options")
        limit = self.limits.max_decision_options
        if not 2 <= len(options) <= limit:
            raise FFValidationError(f"a decision needs 2 to {limit} options, got {len(options)}", field="options")
        choices = [self.text(o, "options", self.limits.max_name_chars) for o in options]
        if len(set(choices)) != len(choices):
            raise FFValidationError("options must be distinct", field="options", value=choices)
        return choices

    @staticmethod
    def moment(value: Any, field: str, default: datetime) -> datetime:
        """``value`` if it is a datetime, ``default`` when it is None (the DTO refuses a naive one)."""
        return default if value is None else check_timestamp(value, field=field)

    @staticmethod
    def count(value: Any, field: str, *, minimum: int = 1) -> int:
        """An int (not a bool) of at least ``minimum``: the limit rule, with no maximum."""
        return check_limit(value, field=field, minimum=minimum, maximum=_NO_MAXIMUM)

    @staticmethod
    def panel_type(value: Any) -> FFPanelType:
        try:
            return FFPanelType(value)
        except ValueError:
            allowed = ", ".join(t.value for t in FFPanelType)
            raise FFValidationError(
                f"unknown panel type {value!r}; use one of {allowed}", field="panel_type", value=value
            ) from None

    def state_changes(self, changes: Any) -> dict[str, Any]:
        """A fresh, non-empty JSON object within ``max_state_bytes`` (checked before locking)."""
        if not isinstance(changes, Mapping) or not changes:
            raise FFValidationError("changes must be a non-empty mapping with string keys", field="changes")
        return check_json_object(changes, field="changes", max_bytes=self.limits.max_state_bytes)

    # ------------------------------------------------------------------ participants and messages

    def participants(self, participants: Any) -> list[FFPanelParticipantDTO]:
        """Fresh, validated participant DTOs from DTOs or mappings (composition is checked elsewhere)."""
        if isinstance(participants, (str, bytes, Mapping)) or not isinstance(participants, Sequence):
            raise FFValidationError("participants must be a list", field="participants")
        seats = []
        for index, raw in enumerate(participants):
            data = raw.model_dump() if isinstance(raw, FFPanelParticipantDTO) else raw
            # A DTO built elsewhere is re-checked too.
            seat = validate_input(FFPanelParticipantDTO, data, action=f"read participant {index}")
            if seat.name is not None:
                self.text(seat.name, f"participants.{index}.name", self.limits.max_name_chars)
            for area in seat.expertise:
                self.text(area, f"participants.{index}.expertise", self.limits.max_name_chars)
            seat.metadata = self.metadata(seat.metadata, field=f"participants.{index}.metadata")
            seats.append(seat)
        return seats

    def message(self, metadata: Mapping[str, Any] | None, **fields: Any) -> FFPanelMessageInputDTO:
        """One message to append from ``add_message``'s arguments (its fields), metadata checked."""
        with input_errors(action="add panel message"):
            return FFPanelMessageInputDTO(**fields, metadata=self.metadata(metadata))

    def messages(self, messages: Any) -> list[FFPanelMessageInputDTO]:
        """Messages to import: a list of 1 to ``max_import_messages`` DTOs or mappings of their fields.

        The caller's objects are never changed: each message is a validated copy.
        """
        if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Sequence):
            raise FFValidationError("messages must be a list", field="messages")
        limit = self.limits.max_import_messages
        if not messages or len(messages) > limit:
            raise FFValidationError(f"import 1 to {limit} messages at a time, got {len(messages)}", field="messages")
        items = []
        for index, raw in enumerate(messages):
            item = raw if isinstance(raw, FFPanelMessageInputDTO) else validate_input(
                FFPanelMessageInputDTO, raw, action=f"read message {index}"
            )
            metadata = self.metadata(item.metadata, field=f"messages.{index}.metadata")
            items.append(item.model_copy(update={"metadata": metadata}))
        return items

    @staticmethod
    def require_member(panel: FFPanelDTO, participant_id: str | None, field: str) -> None:
        """Refuse a participant id the panel does not have (None passes: "nobody in particular")."""
        if participant_id is not None and panel.participant(participant_id) is None:
            raise FFValidationError(
                f"{participant_id!r} is not a participant of panel {panel.panel_id!r}", field=field, value=participant_id
            )

    def drafts(self, panel: FFPanelDTO, items: Sequence[FFPanelMessageInputDTO]) -> list[FFPanelMessageInputDTO]:
        """Check messages against the panel's participants and the size limit; fill in the role.

        Ids repeated inside the batch and self-replies are refused here; whether ids exist in the
        panel's log is the writer's check (it needs the lock).
        """
        max_chars = self.limits.max_message_chars
        batch_ids: set[str] = set()
        drafts = []
        for index, item in enumerate(items):
            where = f"messages.{index}" if len(items) > 1 else "message"
            self.content(item.content, f"{where}.content", max_chars)
            seat = panel.participant(item.participant_id)
            if seat is None:
                raise FFValidationError(
                    f"{where}: {item.participant_id!r} is not a participant of panel {panel.panel_id!r}",
                    field="participant_id",
                    value=item.participant_id,
                )
            if item.next_speaker is not None and panel.participant(item.next_speaker) is None:
                raise FFValidationError(f"{where}: next_speaker {item.next_speaker!r} is not a participant", field="next_speaker")
            if item.message_id is not None:
                if item.message_id in batch_ids:
                    raise FFValidationError(f"{where}: message_id {item.message_id!r} repeats", field="message_id")
                batch_ids.add(item.message_id)
            if item.reply_to is not None and item.reply_to == item.message_id:
                raise FFValidationError(f"{where}: a message cannot reply to itself", field="reply_to")
            role = item.role or ("user" if seat.kind == "human" else "assistant")
            drafts.append(item.model_copy(update={"role": role}))
        return drafts
