"""One retention pass over every user's memory folder (or one user's), and its report.

Synchronous; the manager runs a whole pass in one worker thread. What a pass decides is in
``retention.py`` (pure); how it is written without losing an entry is in ``layer_store.py``.
This module walks the users, isolates their failures and sums up what happened.
"""

from __future__ import annotations

import time
from datetime import datetime
from functools import partial

from ff_class_configs.ff_memory_config import FFMemoryConfigDTO
from ff_class_configs.ff_memory_dtos import FFRetentionReportDTO, FFUserRetentionReportDTO
from ff_managers._memory.layers import MemoryLayers
from ff_managers._memory.retention import RetentionPlanner
from ff_utils.ff_errors import FFCorruptionError
from ff_utils.ff_ids import ff_new_id

__all__ = ["MemoryRetention"]


class MemoryRetention:
    """Move, archive and compress memories as the policy says, user by user."""

    def __init__(self, layers: MemoryLayers, policy: FFMemoryConfigDTO, *, max_content_chars: int) -> None:
        self.layers = layers
        self.policy = policy
        self.max_content_chars = max_content_chars

    def run(self, now: datetime, user_id: str | None, planner: RetentionPlanner) -> FFRetentionReportDTO:
        """Apply one pass at ``now`` (UTC) to ``user_id``'s folder, or to every user's when None.

        A user whose layer files hold unreadable lines is skipped (nothing of theirs is
        rewritten) and named in the report's ``failed_users``; when ``user_id`` is given that
        FFCorruptionError is raised instead.
        """
        started = time.perf_counter()
        layout = self.layers.layout
        user_ids = [user_id] if user_id is not None else layout.child_ids(layout.users_dir(), require=None)
        reports: list[FFUserRetentionReportDTO] = []
        failed: dict[str, str] = {}
        for uid in user_ids:
            memories = self.layers.of(uid)
            if user_id is None and not memories.store.exists(memories.directory):
                continue
            try:
                plan, before = memories.apply_retention(
                    now,
                    self.policy,
                    max_content_chars=self.max_content_chars,
                    new_id=partial(ff_new_id, "mem_"),
                    planner=planner,
                )
            except FFCorruptionError as exc:
                if user_id is not None:
                    raise
                failed[uid] = str(exc)  # isolation: one user's damaged file must not stop the others
                continue
            reports.append(
                FFUserRetentionReportDTO(
                    user_id=uid,
                    moved=plan.moved,
                    archived=plan.archived,
                    compressed=plan.compressed,
                    duplicates_removed=plan.duplicates_removed,
                    counts_before=before,
                    counts_after={layer: len(entries) for layer, entries in plan.layers.items()},
                )
            )
        return FFRetentionReportDTO(
            now=now,
            users=reports,
            moved_count=sum(len(r.moved) for r in reports),
            archived_count=sum(len(r.archived) for r in reports),
            compressed_count=sum(len(r.compressed) for r in reports),
            failed_users=failed,
            duration_ms=(time.perf_counter() - started) * 1000,
        )
