"""Where a benchmark ran: cores, CPU model, the file system it wrote to, load, versions."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from pathlib import Path

__all__ = ["machine_info"]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _filesystem(path: Path) -> str:
    try:
        done = subprocess.run(["df", "-T", str(path)], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    lines = done.stdout.strip().splitlines()
    fields = lines[-1].split() if len(lines) > 1 else []
    return f"{fields[1]} ({fields[0]})" if len(fields) > 1 else "unknown"


def machine_info(work_dir: Path) -> dict[str, str]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "nproc": str(os.cpu_count() or 0),
        "cpu_model": _cpu_model(),
        "filesystem": _filesystem(work_dir),
        "work_dir": str(work_dir),
        "load_average_1_5_15": " ".join(f"{x:.2f}" for x in load),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
