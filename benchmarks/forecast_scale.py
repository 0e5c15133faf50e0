"""Peak memory and wall time of ``scot forecast`` against the number of daily series.

Runs the CLI on synthetic 2-year daily sets of growing size (the generator of
forecast_vs_statsforecast.py), fits peak memory = a + b x series by least squares and
extrapolates to 1M series. Usage: ``python benchmarks/forecast_scale.py [--sizes 10000,20000]``.
Results go to bench-data/forecast/scale.json and into docs/benchmarks/forecast.md.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np
from _machine import write_section
from forecast_vs_statsforecast import WORK, _run, report, saved_results, scot_cmd, synthetic

TARGET = 1_000_000
LIMIT_GIB = 24.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,25000,50000")
    args = parser.parse_args()
    folder = WORK / "scale"
    folder.mkdir(parents=True, exist_ok=True)
    runs = []
    for n in (int(x) for x in args.sizes.split(",")):
        data = folder / f"sales{n}.parquet"
        sales = synthetic(n, 730)
        sales.write_parquet(data)
        rows = sales.height
        del sales
        wall, peak = _run(scot_cmd(data, folder / "out.parquet", 28, "D", []))
        runs.append({"series": n, "rows": rows, "wall_s": wall, "peak_gib": peak})
        print(json.dumps(runs[-1]), flush=True)
        data.unlink()
    n_arr = np.array([r["series"] for r in runs], dtype=float)
    slope, icpt = np.polyfit(n_arr, [r["peak_gib"] for r in runs], 1)
    w_slope, w_icpt = np.polyfit(n_arr, [r["wall_s"] for r in runs], 1)
    peak = icpt + slope * TARGET
    estimate = (
        f"Linear fit: peak {icpt:.2f} GiB + {slope * 1e5:.2f} GiB per 100k series -> "
        f"{peak:.1f} GiB at 1M series x 730 days ({'fits' if peak <= LIMIT_GIB else 'does not fit'}"
        f" in {LIMIT_GIB:.0f} GiB; estimate, not a 1M run); wall {w_icpt + w_slope * TARGET:.0f}"
        " s extrapolated."
    )
    cmd = " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv])
    (WORK / "scale.json").write_text(
        json.dumps({"command": cmd, "runs": runs, "estimate": estimate}, indent=1)
    )
    print(estimate)
    saved = saved_results()
    if saved:
        print(write_section("forecast", report(saved)))


if __name__ == "__main__":
    main()
