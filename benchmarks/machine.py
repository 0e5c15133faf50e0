"""Machine description and Markdown helpers shared by the benchmark scripts."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import platform
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "docs" / "benchmarks"
#: Timed runs of this checkout's benchmarks take turns on this lock, so that two benchmarks
#: started side by side do not slow each other down.
LOCK = REPO / "bench-data" / "bench.lock"


@contextlib.contextmanager
def bench_lock() -> Iterator[None]:
    """Hold the benchmark lock for a timed run (waiting for it is not timed)."""
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


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
