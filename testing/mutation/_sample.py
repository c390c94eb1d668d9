"""A sampled mutation score: a uniform random sample of a package's mutants, and its interval.

A full run of the large packages (ff_utils, _migration, _knowledge) takes hours on 2 cores, and
a run cut by its time bound is not a fair score: mutmut checks the mutants with the fastest tests
first, so the unchecked rest is the slow, well-tested part. Checking a uniform random sample of
every mutant the package has (Wong and Mathur's "random x % selection") gives an unbiased
estimate of the whole package's score in bounded time; the Wilson interval says how far it can be
from the full score. The sample is drawn with a recorded seed, so anyone can check the same
mutants again.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

__all__ = ["all_mutant_names", "draw_sample", "wilson_interval"]

Z_95 = 1.959964  # two-sided 95 %


def all_mutant_names(workspace: Path, patterns: tuple[str, ...]) -> list[str]:
    """Every mutant mutmut generated for the files matching ``patterns``, sorted (the population)."""
    from ._results import tally_statuses

    return sorted(tally_statuses(workspace, patterns)[0])


def draw_sample(population: list[str], size: int, seed: int) -> list[str]:
    """``size`` distinct names drawn uniformly from ``population`` (all of it when smaller),
    the same for the same sorted population and seed."""
    if size < 1:
        raise ValueError("a sample needs at least one mutant")
    ordered = sorted(population)
    return sorted(random.Random(seed).sample(ordered, min(size, len(ordered))))


def wilson_interval(detected: int, checked: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for ``detected`` of ``checked`` (percent, one decimal): unlike the
    normal approximation it stays inside 0-100 and holds up near 100 %, where scores live."""
    if checked <= 0 or not 0 <= detected <= checked:
        raise ValueError(f"no interval for {detected} detected of {checked} checked")
    p = detected / checked
    centre = (p + z * z / (2 * checked)) / (1 + z * z / checked)
    half = z * math.sqrt(p * (1 - p) / checked + z * z / (4 * checked * checked)) / (1 + z * z / checked)
    return round(100 * max(0.0, centre - half), 1), round(100 * min(1.0, centre + half), 1)


def sample_record(names: list[str], seed: int, population: int) -> str:
    """What a sample workspace remembers, so a resumed run checks the same mutants."""
    return json.dumps({"seed": seed, "population": population, "names": names})
