"""Start-up time of `scot --help` against a bare interpreter, medians of repeated runs."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import header, write_section


def _median_seconds(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(repeat: int = 15) -> None:
    scot = str(Path(sys.executable).with_name("scot"))
    bare = _median_seconds([sys.executable, "-c", "pass"], repeat)
    polars = _median_seconds([sys.executable, "-c", "import polars"], repeat)
    help_ = _median_seconds([scot, "--help"], repeat)
    text = header("Start-up: `scot --help`") + (
        f"\nMedian of {repeat} runs each.\n\n"
        "| what | median seconds |\n|---|---|\n"
        f"| `python -c pass` (baseline) | {bare:.3f} |\n"
        f"| `python -c 'import polars'` | {polars:.3f} |\n"
        f"| `scot --help` | {help_:.3f} |\n\n"
        f"`scot --help` costs {help_ / bare:.1f}x a bare interpreter start; target: well under "
        f"one second ({'met' if help_ < 0.6 else 'missed'}).\n"
    )
    print(write_section("startup", text))


if __name__ == "__main__":
    main()
