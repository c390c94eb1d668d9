"""Checks of caller input against the panel limits. Pure: no I/O, raises FFValidationError.

Every public panel method runs its input through :class:`FFPanelInputChecker` before it writes
anything, so a bad value is refused with one error naming the field, and the data root is left as
it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ff_class_configs.ff_panel_config import FFPanelConfigDTO
from ff_class_configs.ff_panel_dtos import FFPanelDTO, FFPanelMessageInputDTO, FFPanelParticipantDTO, FFPanelType
from ff_utils.ff_errors import FFValidationError, ff_translate_errors
from ff_utils.ff_json_utils import ff_dumps

__all__ = ["FFPanelInputChecker"]


class FFPanelInputChecker:
    """Validates texts, metadata, options, participants and messages against ``limits``."""

    def __init__(self, limits: FFPanelConfigDTO) -> None:
        self.limits = limits

    # ------------------------------------------------------------------ scalars

    @staticmethod
    def text(value: Any, field: str, max_chars: int, *, allow_empty: bool = False) -> str:
        """``value`` if it is a string of at most ``max_chars`` (non-blank unless ``allow_empty``), without NUL."""
        if not isinstance(value, str):
            raise FFValidationError(f"{field} must be text, not {type(value).__name__}", field=field)
        if not allow_empty and not value.strip():
            raise FFValidationError(f"{field} is empty", field=field)
        if len(value) > max_chars:
            raise FFValidationError(f"{field} has {len(value):,} characters (at most {max_chars:,})", field=field)
        if "\x00" in value:
            raise FFValidationError(f"{field} contains a NUL character", field=field)
        return value

    def metadata(self, metadata: Mapping[str, Any] | None, *, field: str = "metadata") -> dict[str, Any]:
        """A plain dict (``{}`` for None) that JSON can hold and that fits ``max_metadata_bytes``."""
        if metadata is None:
            return {}
        if not isinstance(metadata, Mapping) or not all(isinstance(k, str) for k in metadata):
            raise FFValidationError(f"{field} must be a mapping with string keys", field=field)
        data = dict(metadata)
        try:
            size = len(ff_dumps(data))
        except FFValidationError as exc:
            raise FFValidationError(f"{field}: {exc.message}", field=field) from exc
        limit = self.limits.max_metadata_bytes
        if size > limit:
            raise FFValidationError(f"{field} of {size:,} bytes exceeds {limit:,}", field=field)
        return data

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
        """``value`` if it is a datetime, ``default`` when it is None."""
        if value is None:
            return default
        if not isinstance(value, datetime):
            raise FFValidationError(f"{field} must be a datetime", field=field, value=value)
        return value

    @staticmethod
    def count(value: Any, field: str, *, minimum: int = 1) -> int:
        """An int (not a bool) of at least ``minimum``."""
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise FFValidationError(f"{field} must be an integer >= {minimum}", field=field, value=value)
        return value

    @staticmethod
    def panel_type(value: Any) -> FFPanelType:
        try:
            return FFPanelType(value)
        except ValueError:
            allowed = ", ".join(t.value for t in FFPanelType)
            raise FFValidationError(
                f"unknown panel type {value!r}; use one of {allowed}", field="panel_type", value=value
            ) from None

    @staticmethod
    def state_changes(changes: Any) -> Mapping[str, Any]:
        """A non-empty mapping with string keys whose values JSON can hold (checked before locking)."""
        if not isinstance(changes, Mapping) or not changes or not all(isinstance(k, str) for k in changes):
            raise FFValidationError("changes must be a non-empty mapping with string keys", field="changes")
        try:
            ff_dumps(dict(changes))
        except FFValidationError as exc:
            raise FFValidationError(f"changes: {exc.message}", field="changes") from exc
        return changes

    # ------------------------------------------------------------------ participants and messages

    def participants(self, participants: Any) -> list[FFPanelParticipantDTO]:
        """Fresh, validated participant DTOs from DTOs or mappings (composition is checked elsewhere)."""
        if isinstance(participants, (str, bytes, Mapping)) or not isinstance(participants, Sequence):
            raise FFValidationError("participants must be a list", field="participants")
        seats = []
        for index, raw in enumerate(participants):
            with ff_translate_errors(f"read participant {index}"):
                data = raw.model_dump() if isinstance(raw, FFPanelParticipantDTO) else raw
                seat = FFPanelParticipantDTO.model_validate(data)  # a DTO built elsewhere is re-checked too
            if seat.name is not None:
                self.text(seat.name, f"participants.{index}.name", self.limits.max_name_chars)
            for area in seat.expertise:
                self.text(area, f"participants.{index}.expertise", self.limits.max_name_chars)
            seat.metadata = self.metadata(seat.metadata, field=f"participants.{index}.metadata")
            seats.append(seat)
        return seats

    def message(self, metadata: Mapping[str, Any] | None, **fields: Any) -> FFPanelMessageInputDTO:
        """One message to append from ``add_message``'s arguments (its fields), metadata checked."""
        with ff_translate_errors("add panel message"):
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
            with ff_translate_errors(f"read message {index}"):
                item = raw if isinstance(raw, FFPanelMessageInputDTO) else FFPanelMessageInputDTO.model_validate(raw)
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
            self.text(item.content, f"{where}.content", max_chars)
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
