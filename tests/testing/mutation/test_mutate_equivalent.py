"""The survivors a review listed as equivalent, and the score without them.

The list is what makes the second score honest, so it must be strict: an entry counts only for the
very change it describes (mutmut renumbers an edited function's mutants), a malformed or misplaced
entry is an error rather than silently ignored, and the table must show both scores side by side.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ff_utils.ff_errors import FFConfigError
from testing.mutation import MutationResult, load_targets, tally_workspace, update_scores_doc, write_result
from testing.mutation._equivalent import changed_lines, list_survivors, load_equivalents
from testing.mutation._sample import wilson_interval

ROOT = Path(__file__).resolve().parents[3]
SHOWN = """# pkg.a.x_f__mutmut_2: survived
--- pkg/a.py
+++ pkg/a.py
@@ -1,3 +1,3 @@
 def f(x):
-    return x or None
+    return x or ""
"""
ENTRY = '''[[equivalent]]
mutant = "pkg.a.x_f__mutmut_2"
diff = """
-    return x or None
+    return x or ""
"""
reason = "equivalent: callers test the value for truth only"
'''


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_diff_from_mutmut_show_and_the_one_a_run_records_have_the_same_changed_lines() -> None:
    recorded = '-    return x or None\n+    return x or ""'
    assert changed_lines(SHOWN) == changed_lines(recorded) == ("-return x or None", '+return x or ""')


def test_entries_are_read_from_every_file_of_the_package(tmp_path: Path) -> None:
    _write(tmp_path / "pkg", "a.toml", ENTRY)
    _write(tmp_path / "pkg", "b.toml", ENTRY.replace("mutmut_2", "mutmut_9"))
    _write(tmp_path / "other", "c.toml", ENTRY.replace("pkg.a", "other.a"))

    listed = load_equivalents(tmp_path, "pkg")

    assert sorted(listed) == ["pkg.a.x_f__mutmut_2", "pkg.a.x_f__mutmut_9"]
    assert listed["pkg.a.x_f__mutmut_2"].reason == "equivalent: callers test the value for truth only"
    assert listed["pkg.a.x_f__mutmut_2"].source == "a.toml"
    assert load_equivalents(tmp_path, "missing") == {}


@pytest.mark.parametrize(("text", "message"), [
    ("[[equivalent]\n", "not a readable TOML file"),
    (ENTRY.replace('reason = "equivalent: callers test the value for truth only"', 'reason = "  "'), "bad: reason"),
    (ENTRY.replace("reason", "why"), "needs exactly mutant, diff and reason"),
    (ENTRY + 'note = "x"\n', "needs exactly mutant, diff and reason"),
    (ENTRY.replace("pkg.a", "other.a"), "is not a mutant of pkg"),
    (ENTRY.replace('-    return x or None\n+    return x or ""', "    return x"), "has no changed line"),
    ('title = "x"\n' + ENTRY, "expected only \\[\\[equivalent\\]\\] tables"),
])
def test_a_malformed_entry_is_one_error_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path / "pkg", "bad.toml", text)
    with pytest.raises(FFConfigError, match=message) as caught:
        load_equivalents(tmp_path, "pkg")
    assert str(path) in str(caught.value) or "bad.toml" in str(caught.value)


def test_one_mutant_listed_for_two_changes_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path / "pkg", "a.toml", ENTRY)
    _write(tmp_path / "pkg", "b.toml", ENTRY.replace('x or ""', 'x or "XX"'))
    with pytest.raises(FFConfigError, match="listed twice with different changes"):
        load_equivalents(tmp_path, "pkg")


def test_an_entry_counts_only_for_the_change_it_describes(tmp_path: Path) -> None:
    _write(tmp_path / "pkg", "a.toml", ENTRY)
    listed = load_equivalents(tmp_path, "pkg")
    survivors = [
        {"name": "pkg.a.x_f__mutmut_2", "diff": '-    return x or None\n+    return x or ""'},   # the listed change
        {"name": "pkg.a.x_f__mutmut_3", "diff": "-    return x\n+    return None"},               # not listed
    ]
    renumbered = [{"name": "pkg.a.x_f__mutmut_2", "diff": "-    return x or None\n+    return None"}]  # the function was edited
    no_diff = [{"name": "pkg.a.x_f__mutmut_2"}]

    listing = list_survivors(survivors, listed)
    assert listing.equivalent == ("pkg.a.x_f__mutmut_2",) and listing.unlisted == ("pkg.a.x_f__mutmut_3",)
    assert list_survivors(renumbered, listed).stale == ("pkg.a.x_f__mutmut_2",)
    assert list_survivors(renumbered, listed).equivalent == ()
    assert list_survivors(no_diff, listed).unlisted == ("pkg.a.x_f__mutmut_2",)


def _sample_with_survivors(tmp_path: Path, diffs: dict[str, str]) -> Path:
    codes = {f"pkg.a.x_f__mutmut_{i}": 1 for i in range(10, 18)} | {name: 0 for name in diffs}
    meta = tmp_path / "ws" / "mutants" / "pkg" / "a.py.meta"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes}), encoding="utf-8")
    result = tally_workspace(tmp_path / "ws", "pkg", ("pkg/*",), only=sorted(codes))
    for survivor in result.survivors:
        survivor["diff"] = diffs[survivor["name"]]
    result.date, result.commit, result.seed = "2026-12-07T01:00:00+00:00", "c" * 10, 5
    write_result(result, tmp_path / "results")
    return tmp_path / "results"


def _sample_row(doc: Path) -> list[str]:
    table = doc.read_text(encoding="utf-8").split("<!-- mutation-samples:start -->")[1].split("<!-- mutation-samples:end -->")[0]
    return [cell.strip() for cell in next(line for line in table.splitlines() if line.startswith("| `pkg`")).split("|")[1:-1]]


def test_the_table_shows_the_score_without_the_listed_survivors_and_only_those(tmp_path: Path) -> None:
    results = _sample_with_survivors(tmp_path, {
        "pkg.a.x_f__mutmut_2": '-    return x or None\n+    return x or ""',
        "pkg.a.x_f__mutmut_3": "-    return x\n+    return None",
    })
    equivalents, doc = tmp_path / "equivalent", tmp_path / "MUTATION.md"
    update_scores_doc(doc, ["pkg"], results, equivalents)
    row = _sample_row(doc)
    low, high = wilson_interval(8, 10)
    assert row[3:8] == ["8", "2", "0", "80.0 %", f"{low:.1f} - {high:.1f} %"]
    assert row[8:11] == ["0", "80.0 %", row[7]]  # nothing listed yet: both scores agree

    _write(equivalents / "pkg", "review.toml", ENTRY)
    update_scores_doc(doc, ["pkg"], results, equivalents)
    low, high = wilson_interval(8, 9)
    assert _sample_row(doc)[8:11] == ["1", "88.9 %", f"{low:.1f} - {high:.1f} %"]

    # Planted: the entry describes another change of the same name (a renumbered function): it must not count.
    _write(equivalents / "pkg", "review.toml", ENTRY.replace('x or ""', 'x or "XX"'))
    update_scores_doc(doc, ["pkg"], results, equivalents)
    assert _sample_row(doc)[8:10] == ["0", "80.0 %"]


def test_the_repository_list_of_equivalent_mutants_is_well_formed() -> None:
    folder = ROOT / "docs" / "mutation" / "equivalent"
    packages = set(load_targets(ROOT / "pyproject.toml"))
    assert folder.is_dir()
    assert {path.name for path in folder.iterdir() if path.is_dir()} <= packages  # a folder per configured package
    for package in packages:
        for entry in load_equivalents(folder, package).values():  # parses, and every entry names a mutant of the package
            assert len(entry.reason) >= 15, entry  # a reason a reader can check, not a word


def test_the_command_says_how_many_survivors_are_listed_the_score_without_them_and_what_is_stale(tmp_path: Path) -> None:
    from testing.cli._mutate import _without_equivalents

    results = _sample_with_survivors(tmp_path, {
        "pkg.a.x_f__mutmut_2": '-    return x or None\n+    return x or ""',
        "pkg.a.x_f__mutmut_3": "-    return x\n+    return None",
    })
    result = MutationResult(**json.loads((results / "pkg.sample-5.json").read_text(encoding="utf-8")))
    _write(tmp_path / "eq" / "pkg", "a.toml", ENTRY + ENTRY.replace("mutmut_2", "mutmut_3"))

    line = _without_equivalents(result, tmp_path / "eq")

    low, high = wilson_interval(8, 9)
    assert line.startswith(f"1 of its 2 survivors are listed as equivalent in {tmp_path / 'eq'}")
    assert f"without them: 88.9 % (95 % interval {low:.1f}-{high:.1f} %)" in line
    assert line.endswith("1 entries name another change now (stale): pkg.a.x_f__mutmut_3")
