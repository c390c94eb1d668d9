"""Blocking storage of panels: where files live, who owns a panel id, and the locked append.

Layout (under the data root)::

    panels_index/<panel_id>.json                 {"panel_id", "user_id", ...}: resolves an id to its owner
    users/<user_id>/panels/<panel_id>/panel.json    the panel document (participants, policy, status)
    users/<user_id>/panels/<panel_id>/messages.jsonl  messages, sequence 1, 2, 3... in file order
    users/<user_id>/panels/<panel_id>/insights.jsonl  decisions.jsonl  votes.jsonl
    users/<user_id>/panels/<panel_id>/state.json    free-form panel state (a game's world, a task's plan)
    users/<user_id>/panels/<panel_id>/analytics.json  written when the panel closes

Every file operation goes through the manager's :class:`~ff_utils.ff_store.FFStore`, which owns
the data root and the storage settings (durability, record size, batch interval, lock timeout).

Every change to a panel happens inside :meth:`FFPanelStore.locked`, which holds the lock of the
panel's ``panel.json``: a different path from the JSONL logs, because an append takes the log's
own lock inside and the locks are not re-entrant. Under that lock the last message is
read back (one tail read) to number the next one, so numbering is gap-free across threads and
processes; closing the panel takes the same lock, so no message lands after a close.

Nothing here validates user input; the manager does that first. This module only refuses data
on disk that is not what it wrote (FFCorruptionError).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar

import pydantic

from ff_class_configs.ff_panel_dtos import PANEL_SCHEMA_VERSION, FFPanelDTO, FFPanelMessageDTO
from ff_managers._panel.message_index import FFMessageIndex
from ff_managers._panel.reading import FFPanelRecordReader
from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFNotFoundError
from ff_utils.ff_ids import ff_is_valid_id
from ff_utils.ff_store import FFStore

__all__ = ["ff_panel_not_found", "FFPanelStore", "FFLockedPanel", "PanelLog", "PanelDocument", "PANELS_DIR", "PANELS_INDEX_DIR"]

PANELS_DIR = "panels"
PANELS_INDEX_DIR = "panels_index"
PanelLog = Literal["messages", "insights", "decisions", "votes"]
PanelDocument = Literal["panel", "state", "analytics"]

M = TypeVar("M", bound=pydantic.BaseModel)
T = TypeVar("T")


def ff_panel_not_found(panel_id: str) -> FFNotFoundError:
    """The one answer for a panel the caller may not see: missing, or another user's."""
    return FFNotFoundError(f"no panel {panel_id!r}", kind="panel", key=panel_id)


class FFLockedPanel:
    """A panel while its lock is held: the one place that reads the log's tail and appends."""

    def __init__(self, store: FFPanelStore, user_id: str, panel_id: str, panel: FFPanelDTO) -> None:
        self._store = store
        self.user_id = user_id
        self.panel_id = panel_id
        self.panel = panel
        self._messages = store.log_path(user_id, panel_id, "messages")  # checked once per lock hold
        self._synced = False

    def _index(self) -> FFMessageIndex:
        """The panel's id index, re-validated against the log's last good message (once per lock hold).

        A torn last line is repaired here (we hold the lock every append takes), so a crash
        mid-append never blocks, nor glues itself to, the next write.
        """
        key = (self.user_id, self.panel_id)
        index = self._store._indexes.get(key)
        if self._synced and index is not None:
            return index
        known = index.last_message if index is not None else None
        last = self._store.reader.last_message(self._messages, self.panel_id, repair=True, known=known)
        sequence = last.sequence if last is not None else 0
        if index is None or sequence < index.last_sequence or (
            sequence == index.last_sequence and last is not known
        ):
            # First use, or the log was replaced (a restore, a rollback): forget what we knew.
            index = self._store._indexes[key] = FFMessageIndex(sequence, last, complete=sequence == 0)
        elif sequence > index.last_sequence:
            # Another process appended. Ids we know are still there (the log is append-only),
            # but we no longer know them all.
            index.last_sequence, index.last_message, index.complete = sequence, last, False
        self._synced = True
        return index

    @property
    def log(self) -> Path:
        """The panel's messages.jsonl."""
        return self._messages

    @property
    def last_message(self) -> FFPanelMessageDTO | None:
        """The last good stored message, or None for an empty panel."""
        return self._index().last_message

    @property
    def last_sequence(self) -> int:
        return self._index().last_sequence

    def known_messages(self, ids: Iterable[str]) -> dict[str, tuple[int, bytes]]:
        """``id -> (sequence, fingerprint)`` for those of ``ids`` this panel has a message with.

        Answered from the in-memory index; the log is read (once, then the index is complete)
        only when an id is not in it and the index does not know every message.
        """
        wanted = set(ids)
        index = self._index()
        if not index.complete and any(i not in index.entries for i in wanted):
            index.rebuild(self._store.reader.records(FFPanelMessageDTO, self._messages, self.panel_id))
        entries = index.entries
        return {i: entries[i] for i in wanted if i in entries}

    def missing_message_ids(self, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` no message of this panel has."""
        wanted = set(ids)
        return wanted - self.known_messages(wanted).keys()

    def stored_messages(self, ids: Iterable[str]) -> dict[str, FFPanelMessageDTO]:
        """The stored messages with these ids (a retry's answer), read back from the log's end."""
        wanted = set(ids)
        known = self.known_messages(wanted)
        if not known:
            return {}
        reader = self._store.reader
        # Sequences are gap-free, so the oldest wanted message is this far from the end.
        depth = self.last_sequence - min(sequence for sequence, _ in known.values()) + 1
        tail = reader.last_messages(self._messages, self.panel_id, depth)
        found = {m.message_id: m for m in tail if m.message_id in wanted}
        if len(found) < len(known):  # the log was not what the index said: read it all
            found = {m.message_id: m for m in reader.records(FFPanelMessageDTO, self._messages, self.panel_id) if m.message_id in wanted}
        return found

    def append_messages(self, messages: list[FFPanelMessageDTO]) -> None:
        """Append numbered messages in one write; the index follows only on success."""
        index = self._index()
        self._store.storage.append_many(self._messages, [m.model_dump(mode="json") for m in messages])
        index.add(messages)
        index.last_sequence = messages[-1].sequence
        index.last_message = messages[-1]

    def append(self, log: PanelLog, records: list[dict[str, Any]]) -> None:
        """Append records to another log of the panel (insights, decisions, votes)."""
        if log == "messages":
            raise ValueError("messages are appended with append_messages, which numbers them")
        self._store.append(self.user_id, self.panel_id, log, records)

    def write_document(self, name: PanelDocument, data: Any) -> None:
        """Replace one of the panel's JSON documents (atomic). panel.json only through write_panel."""
        if name == "panel":
            raise ValueError("panel.json is written with write_panel")
        self._store.storage.write_json(self._store.document_path(self.user_id, self.panel_id, name), data)

    def write_panel(self, panel: FFPanelDTO) -> None:
        """Replace panel.json. We hold its lock, so update_json (which locks) must not be used."""
        self._store.storage.write_json(
            self._store.document_path(self.user_id, self.panel_id, "panel"),
            panel.model_dump(mode="json", exclude={"message_count"}),
        )
        self.panel = panel


class FFPanelStore:
    """Paths, the owner index, panel documents and logs, and the per-panel lock."""

    def __init__(self, storage: FFStore) -> None:
        self.storage = storage
        self.reader = FFPanelRecordReader(storage)
        self._indexes: dict[tuple[str, str], FFMessageIndex] = {}

    # ------------------------------------------------------------------ paths (ids validated by the caller)

    def index_path(self, panel_id: str) -> Path:
        return self.storage.path(PANELS_INDEX_DIR, f"{panel_id}.json")

    def user_panels_dir(self, user_id: str) -> Path:
        return self.storage.path("users", user_id, PANELS_DIR)

    def log_path(self, user_id: str, panel_id: str, log: PanelLog) -> Path:
        return self.storage.path("users", user_id, PANELS_DIR, panel_id, f"{log}.jsonl")

    def document_path(self, user_id: str, panel_id: str, name: PanelDocument) -> Path:
        return self.storage.path("users", user_id, PANELS_DIR, panel_id, f"{name}.json")

    # ------------------------------------------------------------------ ownership

    def owner_of(self, panel_id: str) -> str:
        """The user who owns ``panel_id``. Raises FFNotFoundError when no panel has this id."""
        path = self.index_path(panel_id)
        entry = self.storage.read_json(path, None)
        if entry is None:
            raise ff_panel_not_found(panel_id)
        owner = entry.get("user_id") if isinstance(entry, dict) else None
        if not ff_is_valid_id(owner) or entry.get("panel_id") != panel_id:
            raise FFCorruptionError(f"panel index entry for {panel_id!r} is invalid", path=path)
        return owner  # type: ignore[return-value]

    def create(self, panel: FFPanelDTO) -> None:
        """Claim the panel id in the index, then write panel.json.

        Raises FFConflictError when the id is taken. A claim whose panel.json never got written
        (a crash between the two writes) may be claimed again by the same owner.
        """
        document = self.document_path(panel.user_id, panel.panel_id, "panel")

        def claim(current: Any) -> dict[str, Any]:
            if current is not None and (
                not isinstance(current, dict) or current.get("user_id") != panel.user_id or self.storage.exists(document)
            ):
                raise FFConflictError(f"a panel with id {panel.panel_id!r} already exists", kind="panel", key=panel.panel_id)
            return {
                "panel_id": panel.panel_id,
                "user_id": panel.user_id,
                "created_at": panel.created_at.isoformat(),
                "schema_version": PANEL_SCHEMA_VERSION,
            }

        self.storage.update_json(self.index_path(panel.panel_id), claim, default=None)
        # Taking the panel lock here also creates its lock file, so later refused calls that
        # only lock (and write nothing) leave the data root byte-identical.
        with self.storage.lock(document):
            self.storage.write_json(document, panel.model_dump(mode="json", exclude={"message_count"}))

    # ------------------------------------------------------------------ reads (no lock: documents are replaced atomically)

    def read_panel(self, user_id: str, panel_id: str, *, with_count: bool = True) -> FFPanelDTO:
        """panel.json as a DTO, with ``message_count`` from the log's last sequence number."""
        panel = self._read_panel_at(self.document_path(user_id, panel_id, "panel"), user_id, panel_id)
        if with_count:
            panel.message_count = self.last_sequence(user_id, panel_id)
        return panel

    def _read_panel_at(self, path: Path, user_id: str, panel_id: str) -> FFPanelDTO:
        data = self.storage.read_json(path, None)
        if data is None:
            raise ff_panel_not_found(panel_id)
        panel = self.storage.load(FFPanelDTO, data, path)
        if panel.panel_id != panel_id or panel.user_id != user_id:
            raise FFCorruptionError(f"panel.json names panel {panel.panel_id!r} of {panel.user_id!r}", path=path)
        return panel

    def last_message(self, user_id: str, panel_id: str) -> FFPanelMessageDTO | None:
        """The log's last good message (bad lines after it are skipped and reported)."""
        return self.reader.last_message(self.log_path(user_id, panel_id, "messages"), panel_id)

    def last_sequence(self, user_id: str, panel_id: str) -> int:
        last = self.last_message(user_id, panel_id)
        return last.sequence if last is not None else 0

    def list_panel_ids(self, user_id: str) -> list[str]:
        """Ids of the panel folders of one user (only folders with a valid id name)."""
        folder = self.user_panels_dir(user_id)
        if not self.storage.exists(folder):
            return []
        # Listed through the store: no symlink is followed, to the folder or in it.
        return [entry.name for entry in self.storage.list_dir(folder) if entry.is_dir and ff_is_valid_id(entry.name)]

    def tail(self, user_id: str, panel_id: str, n: int) -> list[FFPanelMessageDTO]:
        """Up to the last ``n`` good messages, oldest first (bad lines skipped and reported)."""
        return self.reader.last_messages(self.log_path(user_id, panel_id, "messages"), panel_id, n)

    def read_document(self, user_id: str, panel_id: str, name: PanelDocument, default: Any = None) -> Any:
        return self.storage.read_json(self.document_path(user_id, panel_id, name), default)

    def records(self, user_id: str, panel_id: str, log: PanelLog, model: type[M]) -> Iterator[M]:
        """A log's good records as ``model``, in file order (bad lines and wrong shapes skipped, reported)."""
        return self.reader.records(model, self.log_path(user_id, panel_id, log), panel_id)

    # ------------------------------------------------------------------ writes

    def append(self, user_id: str, panel_id: str, log: PanelLog, records: list[dict[str, Any]]) -> None:
        """Append records (whole lines, one write) to one of the panel's logs."""
        self.storage.append_many(self.log_path(user_id, panel_id, log), records)

    @contextlib.contextmanager
    def locked(self, user_id: str, panel_id: str) -> Iterator[FFLockedPanel]:
        """Hold the panel's lock (its panel.json's) and yield the panel as it is now."""
        document = self.document_path(user_id, panel_id, "panel")
        with self.storage.lock(document):
            yield FFLockedPanel(self, user_id, panel_id, self._read_panel_at(document, user_id, panel_id))

    def change_open(self, user_id: str, panel_id: str, change: Callable[[FFLockedPanel], T]) -> T:
        """Run ``change(locked)`` under the panel's lock and return its result; a closed panel is refused
        first (FFConflictError), so nothing lands after a close."""
        with self.locked(user_id, panel_id) as locked:
            if locked.panel.status == "closed":
                raise FFConflictError(f"panel {panel_id!r} is closed", kind="panel", key=panel_id)
            return change(locked)

    def forget(self) -> None:
        """Drop every index (on shutdown); the next lock hold rebuilds what it needs."""
        self._indexes.clear()

    @property
    def cached_panels(self) -> int:
        return len(self._indexes)
