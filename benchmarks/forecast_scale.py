"""Peak memory and wall time of ``scot forecast`` against the number of daily series.

Runs the CLI on synthetic 2-year daily sets of growing size (the generator of
forecast_vs_statsforecast.py, written in chunks of 20,000 series) and extrapolates to 1M
series. The command reads a Parquet file in partitions of ``--batch-size`` series, so beyond
one partition the peak should stay flat; the estimate fits peak memory = a + b x series over
the runs of more than one partition. Each timed run holds the benchmark lock
(``machine.bench_lock``) and records the load average before and after it.
Usage: ``python benchmarks/forecast_scale.py [--sizes 10000,40000]``.
Results go to bench-data/forecast/scale.json and into docs/benchmarks/forecast.md.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np
from forecast_vs_statsforecast import (
    WORK,
    report,
    run_timed,
    saved_results,
    scot_cmd,
    write_synthetic,
)
from machine import write_section

TARGET = 1_000_000
LIMIT_GIB = 24.0
BATCH = 20_000


def estimate(runs: list[dict[str, Any]]) -> str:
    """Extrapolate peak memory and wall time to 1M series.

    Up to one partition (20,000 series by default) buffers grow with the series; beyond,
    memory should not grow. The fit therefore uses the runs of more than one partition when
    there are two of them.
    """
    big = [r for r in runs if r["series"] > BATCH]
    use = big if len(big) >= 2 else runs
    n_arr = np.array([r["series"] for r in use], dtype=float)
    slope, icpt = np.polyfit(n_arr, [r["peak_gib"] for r in use], 1)
    w_slope, w_icpt = np.polyfit(n_arr, [r["wall_s"] for r in use], 1)
    peak = icpt + slope * TARGET
    fits = "fits" if peak <= LIMIT_GIB else "does not fit"
    return (
        f"Linear fit over {', '.join(f'{int(n):,}' for n in n_arr)} series: peak "
        f"{icpt:.2f} GiB + {slope * 1e5:.2f} GiB per 100k series -> {peak:.1f} GiB at 1M "
        f"series x 730 days, which {fits} in {LIMIT_GIB:.0f} GiB (an estimate, not a 1M run); "
        f"wall time extrapolated {w_icpt + w_slope * TARGET:,.0f} s on this loaded machine."
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,40000,80000,160000")
    parser.add_argument(
        "--refit",
        action="store_true",
        help="recompute the estimate and the docs section from the saved runs",
    )
    args = parser.parse_args()
    if args.refit:
        saved = json.loads((WORK / "scale.json").read_text())
        saved["estimate"] = estimate(saved["runs"])
        (WORK / "scale.json").write_text(json.dumps(saved, indent=1))
        print(saved["estimate"])
        print(write_section("forecast", report(saved_results())))
        return
    folder = WORK / "scale"
    folder.mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, Any]] = []
    for n in (int(x) for x in args.sizes.split(",")):
        data = folder / f"sales{n}.parquet"
        rows = write_synthetic(data, n, 730)
        scot = scot_cmd(data, folder / "out.parquet", 28, "D", ["--batch-size", str(BATCH)])
        wall, peak, load = run_timed(scot)
        runs.append(
            {
                "series": n,
                "rows": rows,
                "wall_s": wall,
                "peak_gib": peak,
                "load": load,
            }
        )
        print(json.dumps(runs[-1]), flush=True)
        data.unlink()
    cmd = " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv])
    text = estimate(runs)
    (WORK / "scale.json").write_text(
        json.dumps({"command": cmd, "runs": runs, "estimate": text}, indent=1)
    )
    print(text)
    saved = saved_results()
    if saved:
        print(write_section("forecast", report(saved)))


if __name__ == "__main__":
    main()
