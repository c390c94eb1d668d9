"""Child process entry point for the interruption trials: ``python -m testing.migration._worker SRC DST CONFIG``.

It only parses its three arguments and runs :func:`migrate_root`, so a SIGKILL lands somewhere
inside the real migration code. Exit 0 when the run finished and verified, 1 otherwise.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_utils.ff_json_utils import ff_read_json
from testing.migration._engine import migrate_root

__all__ = ["main"]


def main(argv: list[str]) -> int:
    source, target, config_file = (Path(a) for a in argv)
    config = FFConfigurationManagerConfigDTO.model_validate(ff_read_json(config_file))
    run = asyncio.run(migrate_root(source, target, config))
    return 0 if run.comparison.equivalent else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
