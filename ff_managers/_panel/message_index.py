"""The in-memory index of one panel's message ids: what makes a retried write idempotent, cheaply.

A client that retries ``add_message`` after a timeout sends the same ``message_id`` again. The
writer must then tell "the same message again" (answer with the stored one, append nothing) from
"another message under a taken id" (FFConflictError) without scanning the log on every write.
So each panel this process writes to keeps an index ``message_id -> (sequence, fingerprint)``;
the fingerprint is a digest of what makes two messages the same (participant, role, content).

The index is built from the log once, the first time a write needs it (an explicit
``message_id`` or ``reply_to``), and then follows this process's appends. It is trusted only
after the check :class:`~ff_managers._panel.store.FFLockedPanel` makes under the panel's lock
against the log's last message: when another process appended meanwhile the index is marked
incomplete (rebuilt on the next need); when the log was replaced (a restore) it is dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from ff_class_configs.ff_panel_dtos import FFPanelMessageDTO
from ff_utils.ff_json_utils import ff_dumps

__all__ = ["FFMessageIndex", "ff_message_fingerprint"]


def ff_message_fingerprint(participant_id: str, role: str, content: str) -> bytes:
    """What two messages must share to be "the same message": who said it, as what, and what."""
    return hashlib.blake2b(ff_dumps([participant_id, role, content]), digest_size=16).digest()


@dataclass(slots=True)
class FFMessageIndex:
    """One panel's ids, as far as this process knows them (see the module docstring)."""

    last_sequence: int
    last_message: FFPanelMessageDTO | None
    entries: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    complete: bool = False  # entries holds every message up to last_sequence

    def add(self, messages: Iterable[FFPanelMessageDTO]) -> None:
        """Index ``messages`` (just appended, or read from the log)."""
        entries = self.entries
        for message in messages:
            entries[message.message_id] = (
                message.sequence,
                ff_message_fingerprint(message.participant_id, message.role, message.content),
            )

    def rebuild(self, messages: Iterable[FFPanelMessageDTO]) -> None:
        """Replace the entries with every message of the log; the index is complete then."""
        self.entries = {}
        self.add(messages)
        self.complete = True
