"""Mutation testing of one package at a time (issue 20), run by `python main.py mutate PACKAGE`.

mutmut 3 does the mutating and the test runs; this package only decides what it runs on (the
package map in ``[tool.mutmut.packages]`` of pyproject.toml), where (a copy of the tree outside
the checkout, so a run never touches the working files) and what is kept (per-package result JSON
in docs/mutation/ and the score table in docs/MUTATION.md).
"""

from ._results import MutationResult, render_scores_table, tally_workspace, update_scores_doc, write_result
from ._targets import MutationTarget, load_targets
from ._workspace import prepare_workspace, run_mutmut

__all__ = [
    "MutationResult",
    "MutationTarget",
    "load_targets",
    "prepare_workspace",
    "render_scores_table",
    "run_mutmut",
    "tally_workspace",
    "update_scores_doc",
    "write_result",
]
