"""`mutate PACKAGE --sample N`: a uniform sample of the package's mutants and the interval of its score.

The draw must be reproducible from its seed and uniform over every mutant; the interval must be
the Wilson interval (checked against the closed form solved independently, as the roots of the
quadratic it comes from); the tally of a sample must count the sample only, and its result must
land in its own file and table without touching the full runs' table.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest

from testing.mutation import tally_workspace, update_scores_doc, write_result
from testing.mutation._sample import all_mutant_names, draw_sample, wilson_interval


def _meta(workspace: Path, source: str, codes: dict[str, int | None]) -> None:
    path = workspace / "mutants" / (source + ".meta")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"exit_code_by_key": codes}), encoding="utf-8")


def test_a_sample_is_reproducible_from_its_seed_distinct_and_bounded_by_the_population() -> None:
    population = [f"m{i}" for i in range(500)]
    first = draw_sample(population, 50, seed=7)
    assert first == draw_sample(list(reversed(population)), 50, seed=7)  # order of discovery does not matter
    assert first != draw_sample(population, 50, seed=8)
    assert len(set(first)) == 50 and set(first) <= set(population) and first == sorted(first)
    assert draw_sample(population[:10], 50, seed=7) == sorted(population[:10])
    with pytest.raises(ValueError):
        draw_sample(population, 0, seed=7)


def test_a_sample_is_uniform_over_the_population() -> None:
    # Over many seeds every mutant is drawn about equally often (a draw that favoured the first
    # files, as mutmut's fastest-first order does, would fail this by far).
    population = [f"m{i:02d}" for i in range(40)]
    draws = Counter(name for seed in range(2000) for name in draw_sample(population, 10, seed))
    expected = 2000 * 10 / 40
    assert min(draws.values()) > 0.8 * expected and max(draws.values()) < 1.2 * expected
    first_half = sum(draws[name] for name in population[:20])
    assert abs(first_half / (2000 * 10) - 0.5) < 0.02


@pytest.mark.parametrize(("detected", "checked"), [(20, 20), (279, 300), (0, 10), (1, 2), (95, 100)])
def test_the_interval_is_wilsons(detected: int, checked: int) -> None:
    # Independent computation: the Wilson bounds are the roots p of (p_hat - p)^2 = z^2 p (1 - p) / n.
    z, n, p_hat = 1.959964, checked, detected / checked
    a, b, c = 1 + z * z / n, -(2 * p_hat + z * z / n), p_hat * p_hat
    root = math.sqrt(b * b - 4 * a * c)
    expected = (round(100 * (-b - root) / (2 * a), 1), round(100 * (-b + root) / (2 * a), 1))
    low, high = wilson_interval(detected, checked)
    assert (low, high) == pytest.approx(expected, abs=0.051)
    assert low <= 100 * p_hat <= high


def test_the_interval_narrows_with_the_sample_and_refuses_nonsense() -> None:
    small, large = wilson_interval(28, 30), wilson_interval(280, 300)
    assert small[1] - small[0] > large[1] - large[0]
    assert wilson_interval(20, 20) == (83.9, 100.0)  # the textbook value for 20 of 20
    for detected, checked in ((1, 0), (5, 4), (-1, 3)):
        with pytest.raises(ValueError):
            wilson_interval(detected, checked)


def test_a_sample_tally_counts_the_sample_only_and_names_the_population(tmp_path: Path) -> None:
    _meta(tmp_path, "pkg/a.py", {"pkg.a.x_f__mutmut_1": 1, "pkg.a.x_f__mutmut_2": 0, "pkg.a.x_f__mutmut_3": 0})
    _meta(tmp_path, "pkg/b.py", {"pkg.b.x_g__mutmut_1": 1, "pkg.b.x_g__mutmut_2": None, "pkg.b.x_g__mutmut_3": 36})
    assert all_mutant_names(tmp_path, ("pkg/*",))[0] == "pkg.a.x_f__mutmut_1" and len(all_mutant_names(tmp_path, ("pkg/*",))) == 6

    sample = ["pkg.a.x_f__mutmut_1", "pkg.a.x_f__mutmut_2", "pkg.b.x_g__mutmut_2", "pkg.b.x_g__mutmut_3"]
    result = tally_workspace(tmp_path, "pkg", ("pkg/*",), only=sample)

    assert (result.mutants, result.sample_of, result.killed, result.timeout, result.survived, result.not_checked) == (4, 6, 1, 1, 1, 1)
    assert result.score == round(100 * 2 / 3, 1) and result.complete is False
    assert result.interval == list(wilson_interval(2, 3))
    assert [s["name"] for s in result.survivors] == ["pkg.a.x_f__mutmut_2"]  # x_f__mutmut_3 survived too, but is not in the sample


def test_a_sample_has_its_own_file_and_table_and_leaves_the_full_runs_alone(tmp_path: Path) -> None:
    _meta(tmp_path, "pkg/a.py", {"pkg.a.x_f__mutmut_1": 1, "pkg.a.x_f__mutmut_2": 0})
    full = tally_workspace(tmp_path, "pkg", ("pkg/*",))
    full.date, full.commit = "2026-12-05T08:00:00+00:00", "0123456789abcdef"
    sampled = tally_workspace(tmp_path, "pkg", ("pkg/*",), only=["pkg.a.x_f__mutmut_1"])
    sampled.date, sampled.commit, sampled.seed = "2026-12-06T08:00:00+00:00", "fedcba9876543210", 42
    results, doc = tmp_path / "results", tmp_path / "MUTATION.md"
    assert write_result(full, results).name == "pkg.json"
    assert write_result(sampled, results).name == "pkg.sample-42.json"
    doc.write_text("# M\n\n<!-- mutation-scores:start -->\nold\n<!-- mutation-scores:end -->\n\nafter\n", encoding="utf-8")

    update_scores_doc(doc, ["pkg", "other"], results)

    text = doc.read_text(encoding="utf-8")
    full_table = text.split("<!-- mutation-scores:start -->")[1].split("<!-- mutation-scores:end -->")[0]
    sample_table = text.split("<!-- mutation-samples:start -->")[1].split("<!-- mutation-samples:end -->")[0]
    assert "| `pkg` | 2 | 1 | 0 | 1 | 0 | 50.0 % | yes | 2026-12-05 | 0123456789 |" in full_table
    assert ("| `pkg` | 2 | 1 (42) | 1 | 0 | 0 | 100.0 % | 20.7 - 100.0 % | 0 | 100.0 % | 20.7 - 100.0 % | 2026-12-06 | fedcba9876 |"
            in sample_table)
    assert "other" not in sample_table and "after" in text
    update_scores_doc(doc, ["pkg", "other"], results)
    assert doc.read_text(encoding="utf-8") == text  # idempotent: one table of each


def test_two_samples_of_a_package_sit_side_by_side_in_the_order_they_were_drawn(tmp_path: Path) -> None:
    _meta(tmp_path, "pkg/a.py", {"pkg.a.x_f__mutmut_1": 1, "pkg.a.x_f__mutmut_2": 0})
    results, doc = tmp_path / "results", tmp_path / "MUTATION.md"
    for seed, date, only in ((7, "2026-12-07T01:00:00+00:00", ["pkg.a.x_f__mutmut_1"]), (6, "2026-12-06T01:00:00+00:00", ["pkg.a.x_f__mutmut_2"])):
        sampled = tally_workspace(tmp_path, "pkg", ("pkg/*",), only=only)
        sampled.date, sampled.commit, sampled.seed = date, "c" * 10, seed
        write_result(sampled, results)

    update_scores_doc(doc, ["pkg"], results)

    table = doc.read_text(encoding="utf-8").split("<!-- mutation-samples:start -->")[1].split("<!-- mutation-samples:end -->")[0]
    rows = [line for line in table.splitlines() if line.startswith("| `pkg`")]
    assert [row.split("|")[3].strip() for row in rows] == ["1 (6)", "1 (7)"]  # the earlier draw first
    assert [row.split("|")[7].strip() for row in rows] == ["0.0 %", "100.0 %"]
