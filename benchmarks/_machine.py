"""Machine description and Markdown helpers shared by the benchmark scripts."""

from __future__ import annotations

import datetime as dt
import os
import platform
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "docs" / "benchmarks"


def machine() -> str:
    """One line: architecture, cores, memory, Python."""
    mem_kb = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {mem_kb / 2**20:.0f} GiB, "
        f"Python {platform.python_version()}"
    )


def header(title: str) -> str:
    """Section header with date, machine and the command that produced it."""
    cmd = " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv])
    return (
        f"## {title}\n\nDate: {dt.date.today().isoformat()}. Machine: {machine()}.\n"
        f"Command: `{cmd}`\n"
    )


def write_section(name: str, text: str) -> Path:
    """Write one benchmark's Markdown into docs/benchmarks/<name>.md."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    path.write_text(text)
    return path
