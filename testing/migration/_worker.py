"""Child process entry point: ``python -m testing.migration._worker SRC DST CONFIG [REPORT]``.

It only parses its arguments and runs :meth:`FFMigrationManager.migrate`, so a SIGKILL
(interruption trials) lands somewhere inside the real migration code. With ``REPORT`` it writes its own peak RSS there
(the benchmark). Exit 0 when the run finished and verified, 1 otherwise.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_managers import FFMigrationManager
from ff_utils.ff_json_utils import ff_read_json, ff_write_json

__all__ = ["main", "peak_rss_mb"]


def peak_rss_mb() -> float:
    """This process's peak resident set size since it exec'd (Linux ``VmHWM``).

    ``ru_maxrss`` is not used on Linux: it also counts the pages the child shared with its parent
    between fork and exec, so a child of a large parent (pytest) would report the parent's size.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main(argv: list[str]) -> int:
    source, target, config_file = (Path(a) for a in argv[:3])
    config = FFConfigurationManagerConfigDTO.model_validate(ff_read_json(config_file))
    run = asyncio.run(FFMigrationManager(config).migrate(source, target))
    if len(argv) > 3:
        ff_write_json(Path(argv[3]), {"peak_rss_mb": peak_rss_mb(), "equivalent": run.comparison.equivalent})
    return 0 if run.comparison.equivalent else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
