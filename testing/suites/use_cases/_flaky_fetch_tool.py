"""A tool program that fails transiently on a run's first attempt and succeeds on the retry.

The auto_task_agent use case registers it to prove the tool manager retries transient failures:
the first attempt leaves a marker file in the run's working directory (kept across attempts) and
exits with the protocol's "try again" code (75) and a retryable error document; the next attempt
finds the marker and returns the document it was asked to fetch. Run by the sandbox as
``python -P -B <this file>`` with the built-in tools' package on PYTHONPATH (stdlib only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools_builtin._protocol import ToolError, ToolTransientError, run_tool

__all__ = ["DOCUMENTS", "MARKER"]

MARKER = ".first_attempt_failed"
DOCUMENTS = {
    "q3_notes": (
        "Revenue grew in the third quarter. The new onboarding flow cut support tickets. "
        "Churn stayed flat while the enterprise pipeline doubled. Hiring for the data team is behind plan."
    ),
}


def _handle(args: dict[str, Any]) -> dict[str, Any]:
    source = args.get("source")
    if source not in DOCUMENTS:
        raise ToolError(f"unknown source {source!r}")
    marker = Path(MARKER)
    if not marker.exists():
        marker.write_text("upstream not ready\n", encoding="utf-8")
        raise ToolTransientError("upstream store not ready yet; try again")
    return {"source": source, "text": DOCUMENTS[source]}


if __name__ == "__main__":
    run_tool(_handle)
