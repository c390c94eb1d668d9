"""Commands over a data root itself: create one (`init`) and show what it holds (`status`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_managers.ff_data_root import ff_data_root_status, ff_ensure_data_root

from ._registry import EXIT_OK, command, data_dir_argument

__all__ = ["cmd_init", "cmd_status"]


@command("init", "create a data root with ff_meta.json naming its schema version", data_dir_argument)
def cmd_init(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    root = Path(args.data_dir or config.storage.base_path)
    meta = ff_ensure_data_root(root)
    console.print(f"data root ready: {root.resolve()} (schema version {meta.schema_version})")
    return EXIT_OK



@command("status", "show what a data root holds", data_dir_argument)
def cmd_status(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    status = ff_data_root_status(Path(args.data_dir or config.storage.base_path))
    table = Table(title=f"data root {status.path}")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("schema version", str(status.schema_version) if status.schema_version is not None else "none (not initialised)")
    table.add_row("users", str(status.users))
    table.add_row("files", f"{status.files:,}")
    table.add_row("bytes", f"{status.bytes:,}")
    for area, count in sorted(status.areas.items()):
        table.add_row(f"  files in {area}/", f"{count:,}")
    console.print(table)
    return EXIT_OK
