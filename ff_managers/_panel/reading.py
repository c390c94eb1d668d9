"""Reading panel logs so that one bad line never breaks a whole read or blocks later writes.

A panel log line can be bad three ways: not JSON (a corrupt byte), torn (a crash mid-append left
a last line without its newline) or JSON of the wrong shape (a record that does not fit its
model, or a message filed under another panel). :mod:`ff_utils` readers already skip the first
two; this module skips the third the same way: the record is left out, logged with its file, and
counted in :attr:`FFPanelRecordReader.skipped` (the manager's health shows it). Nothing here ever
raises for a bad *line*; only a whole document that is unreadable is FFCorruptionError.

The last message of the log matters most: its sequence number is what the next message's number
is taken from. :meth:`FFPanelRecordReader.last_message` finds the last *good* message, reading
backwards past bad lines, and (for a writer holding the panel's lock) repairs a torn last line
through :meth:`FFStore.repair_jsonl`, so the next append starts on a clean line instead of
gluing its record to the fragment.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pydantic

from ff_class_configs.ff_panel_dtos import FFPanelMessageDTO
from ff_utils.ff_errors import FFCorruptionError
from ff_utils.ff_json_utils import FFBadLine
from ff_utils.ff_logging import get_logger
from ff_utils.ff_store import FFStore

__all__ = ["FFPanelRecordReader"]

M = TypeVar("M", bound=pydantic.BaseModel)
_log = get_logger("panel")


class FFPanelRecordReader:
    """Turns stored lines into DTOs, skipping (logging, counting) the ones that do not fit."""

    def __init__(self, storage: FFStore) -> None:
        self.storage = storage
        self._skipped = 0
        self._guard = threading.Lock()

    @property
    def skipped(self) -> int:
        """Bad lines and wrong-shape records skipped by this process's panel reads so far."""
        return self._skipped

    def _report(self, path: Path, reason: str) -> None:
        with self._guard:
            self._skipped += 1
        _log.warning("skipped a panel record in %s: %s", path, reason)

    def _on_bad_line(self, bad: FFBadLine) -> None:
        self._report(bad.path, f"{'torn' if bad.torn else 'corrupt'} line at byte {bad.offset}: {bad.reason}")

    def _fit(self, model: type[M], record: Any, path: Path, panel_id: str) -> M | None:
        """``record`` as ``model``, or None (reported) when it does not fit or names another panel."""
        try:
            loaded = self.storage.load(model, record, path)
        except FFCorruptionError as exc:
            self._report(path, f"wrong shape: {exc}")
            return None
        if getattr(loaded, "panel_id", panel_id) != panel_id:
            self._report(path, f"record of panel {getattr(loaded, 'panel_id')!r} in the log of {panel_id!r}")
            return None
        return loaded

    # ------------------------------------------------------------------ reads

    def records(self, model: type[M], path: Path, panel_id: str) -> Iterator[M]:
        """Every good record of the log at ``path`` as ``model``, in file order."""
        for record in self.storage.read_jsonl(path, on_bad_line=self._on_bad_line):
            loaded = self._fit(model, record, path, panel_id)
            if loaded is not None:
                yield loaded

    def last_message(
        self, path: Path, panel_id: str, *, repair: bool = False, known: FFPanelMessageDTO | None = None
    ) -> FFPanelMessageDTO | None:
        """The log's last good message, or None when it has none.

        With ``repair`` (only under the panel's lock, which every message append holds) a torn
        last line is truncated first. ``known`` is the last message this process wrote or checked:
        a tail record with its id and sequence is taken as it, without validating it again.
        """
        last = self.last_messages(path, panel_id, 1, repair=repair, known=known)
        return last[0] if last else None

    def last_messages(
        self, path: Path, panel_id: str, n: int, *, repair: bool = False, known: FFPanelMessageDTO | None = None
    ) -> list[FFPanelMessageDTO]:
        """Up to the last ``n`` good messages, oldest first.

        Reads backwards past bad lines (``n`` records from the end, then more while some did not
        fit), so its cost stays flat in the log's length unless the tail itself is damaged. Each
        bad line is reported once, however far the search went.
        """
        wanted = n
        while True:
            found: list[FFBadLine] = []
            records = self.storage.tail_jsonl(path, wanted, on_bad_line=found.append)
            if repair and found and found[0].torn:  # only the last line can be torn: it is met first
                removed = self.storage.repair_jsonl(path)
                self._report(path, f"torn last line at byte {found.pop(0).offset} repaired ({removed} bytes removed)")
                repair = False
            fitted = [(record, self._quiet_fit(record, path, panel_id, known)) for record in records]
            good = [message for _, message in fitted if message is not None]
            if len(good) >= n or len(records) < wanted:  # enough, or the start of the file
                for line in found:
                    self._on_bad_line(line)
                for record, message in fitted:
                    if message is None:
                        self._fit(FFPanelMessageDTO, record, path, panel_id)  # reports why
                return good[len(good) - n :] if len(good) > n else good
            wanted = wanted * 4 + n

    def _quiet_fit(self, record: Any, path: Path, panel_id: str, known: FFPanelMessageDTO | None) -> FFPanelMessageDTO | None:
        if (
            known is not None
            and isinstance(record, dict)
            and record.get("message_id") == known.message_id
            and record.get("sequence") == known.sequence
        ):
            return known
        try:
            message = self.storage.load(FFPanelMessageDTO, record, path)
        except FFCorruptionError:
            return None
        return message if message.panel_id == panel_id else None
