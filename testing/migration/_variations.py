"""Legacy roots with the variations older versions and other writers of the format plausibly have.

:func:`generate_varied_root` writes a small legacy root whose every choice (how many users, which
ids, which optional fields are missing or ``null``, epoch or ISO timestamps, a BOM, CRLF, blank
lines, role case, list content, duplicate message ids, empty files and sessions, a torn line...)
is made by one ``choose`` function. The run-all suite passes ``random.Random(seed).choice``; the
property tests pass a hypothesis ``data.draw(sampled_from(...))``, so hypothesis can shrink a
failing root to its smallest form. Both get the same generator.

It returns what a correct migration must do with that root (:class:`FFVariedRootDTO`): every
readable record, in order, with its exact text, and every line that cannot be read.
:mod:`._variations_check` holds a target to it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from ff_utils.ff_errors import FFValidationError

__all__ = ["Choose", "FFExpectedSessionDTO", "FFVariedRootDTO", "generate_varied_root", "seeded_choose"]

T = TypeVar("T")
Choose = Callable[[Sequence[Any]], Any]

#: Folder names: ordinary, odd but valid, and ones the v2 id rule refuses (they must be mapped).
USER_IDS = ("alice", "b.o-b_2", "0", "zoë", "has space", "日本")
SESSION_IDS = ("chat_1", "s.2-x", "Z9", "my chat", "café", "tab\tname")
PERSONA_IDS = ("analyst", "dr._sarah", "bad persona")
_BOM = b"\xef\xbb\xbf"


class FFExpectedSessionDTO(BaseModel):
    user_dir: str
    session_dir: str
    kind: str = Field(description="chat or panel")
    contents: list[str] = Field(default_factory=list, description="texts of the records that must land, in order")
    empty_dir: bool = Field(False, description="the folder holds nothing: listed as an empty session, not imported")
    list_contents: int = Field(0, description="records whose content was a list of parts (original kept)")


class FFVariedRootDTO(BaseModel):
    """What a correct migration of the generated root does."""

    root: str
    sessions: list[FFExpectedSessionDTO] = Field(default_factory=list)
    unreadable_lines: list[str] = Field(default_factory=list, description="file:line that must be listed as unrecoverable")
    users: list[str] = Field(default_factory=list, description="user folder names")
    personas: int = 0
    documents: int = 0
    choices: int = Field(0, description="how many choices made the root (its size, for the report)")

    @property
    def records(self) -> int:
        return sum(len(s.contents) for s in self.sessions)


def seeded_choose(seed: int) -> Choose:
    """``choose`` from a seeded RNG (the suite's; the same seed gives the same root)."""
    import random

    rng = random.Random(seed)
    return lambda options: options[rng.randrange(len(options))]


class _Writer:
    def __init__(self, choose: Choose) -> None:
        self._choose = choose
        self.count = 0

    def pick(self, options: Sequence[T]) -> T:
        self.count += 1
        return self._choose(list(options))

    def timestamp(self, second: int) -> Any:
        form = self.pick(("naive", "zulu", "offset", "epoch", "epoch_float", "epoch_ms", "space"))
        if form == "naive":
            return f"2025-08-01T10:{second // 60 % 60:02d}:{second % 60:02d}"
        if form == "space":
            return f"2025-08-01 10:{second // 60 % 60:02d}:{second % 60:02d}"
        if form == "epoch_ms":
            return (1754042400 + second) * 1000
        if form == "zulu":
            return f"2025-08-01T10:{second // 60 % 60:02d}:{second % 60:02d}.5Z"
        if form == "offset":
            return f"2025-08-01T12:{second // 60 % 60:02d}:{second % 60:02d}+02:00"
        return 1754042400 + second + (0.25 if form == "epoch_float" else 0)

    def optional(self, record: dict[str, Any], key: str, value: Any) -> None:
        form = self.pick(("value", "absent", "null"))
        if form == "value":
            record[key] = value
        elif form == "null":
            record[key] = None

    def message(self, index: int, session_tag: str, persona: str | None) -> tuple[dict[str, Any], str, bool]:
        """(record, its text, content was a list)."""
        role = "user" if index % 2 == 0 else "assistant"
        role = self.pick((role, role.capitalize(), role.upper(), f" {role}\t"))
        text = f"{session_tag} message {index}: " + self.pick(("plain", "ünïcode ✓", "line\nbreak", "  spaced  ", "\"quoted\""))
        as_list = self.pick((False, False, True))
        content: Any = [{"type": "text", "text": text[:5]}, text[5:]] if as_list else text
        record: dict[str, Any] = {"role": role, "content": content}
        message_id = self.pick(("valid", "valid", "absent", "null", "invalid"))
        if message_id == "valid":
            record["message_id"] = f"msg_{session_tag}_{index}"
        elif message_id == "null":
            record["message_id"] = None
        elif message_id == "invalid":
            record["message_id"] = f"msg {index} ë"
        stamp = self.pick(("value", "value", "absent", "null"))
        if stamp != "absent":
            record["timestamp"] = None if stamp == "null" else self.timestamp(index)
        self.optional(record, "attachments", [])
        self.optional(record, "metadata", {"persona": persona} if persona else {"k": index})
        if self.pick((False, True)):
            record["legacy_extra"] = {"n": index, "tags": ["a", "b"]}
        return record, ("\n".join([text[:5], text[5:]]) if as_list else text), as_list


def _json_line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _session(w: _Writer, user_dir: Path, name: str, expected: FFVariedRootDTO, panel: bool) -> None:
    directory = user_dir / name
    directory.mkdir(parents=True)
    tag = f"{user_dir.name}/{name}"
    session = FFExpectedSessionDTO(user_dir=user_dir.name, session_dir=name, kind="panel" if panel else "chat")
    meta_form = "full" if panel else w.pick(("full", "absent", "empty", "nulls"))
    if meta_form == "full":
        data: dict[str, Any] = {"session_id": name, "title": f"Title of {name}", "created_at": w.timestamp(0),
                                "updated_at": w.timestamp(59), "metadata": {}, "message_count": 0}
        if panel:
            data["metadata"] = {"participants": ["analyst", "dr._sarah"], "session_type": "panel"}
        _write(directory / "session.json", json.dumps(data, ensure_ascii=False).encode())
    elif meta_form == "empty":
        _write(directory / "session.json", b"")
    elif meta_form == "nulls":
        _write(directory / "session.json", json.dumps({"session_id": name, "title": None, "metadata": None,
                                                       "created_at": w.timestamp(1)}).encode())
    count = w.pick((0, 1, 2, 3, 5))
    lines: list[str] = []
    last: dict[str, Any] | None = None
    for index in range(count):
        persona = w.pick(("analyst", "dr._sarah")) if panel and index % 2 else None
        record, text, as_list = w.message(index, tag.replace("/", "_").replace(" ", "_"), persona)
        duplicate = w.pick(("no", "no", "same", "differs")) if last is not None and isinstance(last.get("message_id"), str) else "no"
        if duplicate == "same":
            lines.append(_json_line(last))  # type: ignore[arg-type]
            # the identical line is kept once: nothing more to expect
        elif duplicate == "differs":
            record["message_id"] = last["message_id"]  # type: ignore[index]
        lines.append(_json_line(record))
        session.contents.append(text)
        session.list_contents += as_list
        last = record
        if w.pick((False, False, True)):
            lines.append("")  # a blank line
    if count and w.pick((False, False, True)):
        lines.append('{"role": "user", "content": "torn wri')  # unreadable: listed, not imported
        expected.unreadable_lines.append(f"users/{user_dir.name}/{name}/messages.jsonl:{len(lines)}")
    if count or w.pick((False, True)):
        newline = w.pick(("\n", "\r\n"))
        body = newline.join(lines).encode() + (newline.encode() if lines and not lines[-1].startswith('{"role": "user", "content": "torn') else b"")
        _write(directory / "messages.jsonl", (_BOM if w.pick((False, True)) else b"") + body)
    if not panel and w.pick((False, False, True)):
        body = f"# notes of {name}\n".encode()
        _write(directory / "documents" / "d1_notes.md", body)
        _write(directory / "documents" / "metadata.json", json.dumps(
            {"d1_notes.md": {"original_name": "notes.md", "mime_type": "text/markdown", "size": len(body)}}).encode())
        expected.documents += 1
    session.empty_dir = not any(directory.iterdir())
    expected.sessions.append(session)


def generate_varied_root(root: Path | str, choose: Choose, *, max_users: int = 3, max_sessions: int = 3) -> FFVariedRootDTO:
    """Write a varied legacy root at ``root`` (absent or empty). Raises FFValidationError."""
    base = Path(root)
    if base.exists() and any(base.iterdir()):
        raise FFValidationError(f"generator target is not empty: {base}", field="root", path=base)
    w = _Writer(choose)
    expected = FFVariedRootDTO(root=str(base))
    for persona in PERSONA_IDS[: w.pick((0, 2, 3))]:
        _write(base / "personas_global" / f"{persona}.json", json.dumps(
            {"persona_id": persona, "name": persona.title(), "system_prompt": f"You are {persona}."}).encode())
        expected.personas += 1
    users = w.pick(range(1, max_users + 1))
    used: list[str] = []
    for _ in range(users):
        name = w.pick([u for u in USER_IDS if u not in used])
        used.append(name)
        user_dir = base / "users" / name
        user_dir.mkdir(parents=True)
        profile = w.pick(("full", "absent", "empty", "nulls"))
        if profile == "full":
            _write(user_dir / "profile.json", json.dumps({"user_id": name, "username": name.title(), "preferences": {},
                                                          "created_at": w.timestamp(2), "team": "x"}, ensure_ascii=False).encode())
        elif profile == "empty":
            _write(user_dir / "profile.json", _BOM)
        elif profile == "nulls":
            _write(user_dir / "profile.json", json.dumps({"user_id": name, "username": None, "metadata": None}).encode())
        sessions = w.pick(range(1, max_sessions + 1))
        names: list[str] = []
        for _ in range(sessions):
            names.append(w.pick([s for s in SESSION_IDS if s not in names]))
            _session(w, user_dir, names[-1], expected, panel=False)
        if expected.personas >= 2 and w.pick((False, True)):
            _session(w, user_dir, "panel_session_01", expected, panel=True)
        expected.users.append(name)
    expected.choices = w.count
    return expected
