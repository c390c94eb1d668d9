"""Hostile ids and paths: every one is refused with FFValidationError and nothing is written.

Managers build paths as ``ff_safe_path(root, "users", ff_validate_id(user_id), ...)``. Each case
below goes through ff_validate_id, through ff_safe_path directly, and through a write
(ff_write_json / ff_append_jsonl on the path ff_safe_path returns); a snapshot of the whole tmp
tree, including a sibling "outside" folder, must be identical before and after.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_file_ops import ff_safe_path
from ff_utils.ff_ids import ff_validate_id
from ff_utils.ff_json_utils import ff_append_jsonl, ff_write_json
from tests._fakes import tree_snapshot

# Refused by BOTH ff_validate_id and ff_safe_path.
TRAVERSAL_CASES = [
    "../x", "..", ".", "", "a/../../b", "../../../../etc/passwd", "/etc/passwd", "/", "//server/share",
    "a/..", "./a", "a/./b", "a//b", "a/", "users/../..", "..\\..\\windows", "a\\b", "\\\\host\\share",
    "C:\\Windows", "c:", "a\x00b", "\x00", "../\x00", "x/\x00/../..", "a\nb", "a\rb", "a\tb", "\x1b[31m",
    "\x7f", "a\x01", "x" * 10_000, "../" * 3_000, "a/" * 2_500 + "b", "\ud800", "..\ud800",
]
# Safe as a literal file name (ff_safe_path may accept it, inside the root) but never a valid id.
UNICODE_CASES = [
    "．．", "．．/．．/etc", "\u202eexe.txt", "a\u200bb", "\u2024\u2024", "\uff0e", "..\u2215..", "\u2215etc",
    "ａdmin", "é", "\u0130", "a b", " ", "-rf", "--help", ".hidden", "_x", "~", "~root", "$HOME", "a:b",
    "a*b", "a?b", "\ufeffbom", "\u00a0", "a\u2028b", "x" * 129, "a..b", "nul\u0000",
]
# Hostile values of a type other than str (ff_safe_path does not take them either).
NON_STRING_CASES: list[object] = [None, 0, 1.5, b"bytes", ["a"], {"a": 1}, Path("a")]

ALL_STRING_CASES = TRAVERSAL_CASES + UNICODE_CASES


def test_enough_cases() -> None:
    assert len(ALL_STRING_CASES) + len(NON_STRING_CASES) >= 50


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    (root / "users" / "alice").mkdir(parents=True)
    (root / "users" / "alice" / "profile.json").write_text("{}")
    (root / "afile").write_text("not a directory")
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (root / "escape").symlink_to(outside)  # symlink pointing outside the root
    (root / "inner").symlink_to(root / "users")  # symlink pointing inside the root
    (root / "users" / "alice" / "sneaky").symlink_to(outside / "secret.txt")
    return root, outside


def _attempt_writes(root: Path, *parts: object) -> None:
    """What a careless caller would do: trust ff_safe_path and write there. Must raise first."""
    target = ff_safe_path(root, *parts)  # type: ignore[arg-type]
    ff_write_json(target / "x.json" if target.is_dir() else target, {"pwned": True})
    ff_append_jsonl(target.with_name(target.name + ".jsonl"), {"pwned": True})


def _case_id(index: int, value: object) -> str:
    """A readable id of plain ASCII: pytest escapes backslashes and non-ASCII text in ids again on a
    second collection in the same process (mutmut's), so an id that has them cannot be run by name."""
    return f"{index:02d}-" + re.sub(r"[^A-Za-z0-9._-]", "_", repr(value))[:30]


_CASES = ALL_STRING_CASES + NON_STRING_CASES


@pytest.mark.parametrize("value", _CASES, ids=[_case_id(i, v) for i, v in enumerate(_CASES)])
def test_hostile_id_is_refused_and_nothing_written(tree: tuple[Path, Path], value: object) -> None:
    root, _ = tree
    before = tree_snapshot(root.parent)
    with pytest.raises(FFValidationError):
        ff_validate_id(value, "user_id")
    if value in TRAVERSAL_CASES or not isinstance(value, str):
        with pytest.raises(FFValidationError):
            ff_safe_path(root, value)  # type: ignore[arg-type]
        with pytest.raises(FFValidationError):
            ff_safe_path(root, "users", value, "profile.json")  # type: ignore[arg-type]
        with pytest.raises(FFValidationError):
            _attempt_writes(root, "users", value)
    else:
        # ff_safe_path may accept a literal odd name, but only ever inside the root.
        try:
            resolved = ff_safe_path(root, "users", value)
        except FFValidationError:
            pass
        else:
            assert root.resolve() in resolved.parents
    assert tree_snapshot(root.parent) == before


@pytest.mark.parametrize(
    "parts",
    [
        ("escape",), ("escape", "secret.txt"), ("escape/secret.txt",), ("escape", "new.json"),
        ("inner",), ("inner", "alice", "profile.json"), ("users", "alice", "sneaky"),
        ("afile", "x.json"), ("afile/x",), ("users", "alice", "profile.json", "deeper"),
    ],
    ids=lambda p: "/".join(p),
)
def test_symlinks_and_files_in_the_way_are_refused(tree: tuple[Path, Path], parts: tuple[str, ...]) -> None:
    root, outside = tree
    before = tree_snapshot(root.parent)
    with pytest.raises(FFValidationError):
        ff_safe_path(root, *parts)
    with pytest.raises(FFValidationError):
        _attempt_writes(root, *parts)
    assert tree_snapshot(root.parent) == before
    assert (outside / "secret.txt").read_text() == "secret"


def test_safe_parts_still_write_inside_the_root(tree: tuple[Path, Path]) -> None:
    # The control case: the same helpers do write when the input is fine.
    root, _ = tree
    before = tree_snapshot(root.parent)
    target = ff_safe_path(root, "users", ff_validate_id("bob"), "profile.json")
    ff_write_json(target, {"ok": True})
    after = tree_snapshot(root.parent)
    assert set(after) - set(before) == {"root/users/bob", "root/users/bob/profile.json"}
