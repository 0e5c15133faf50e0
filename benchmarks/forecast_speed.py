"""Whole-process time of ``scot forecast`` against statsforecast AutoETS, alternating runs.

Uses the M1 training files written by forecast_vs_statsforecast.py (run it first) and the
same command lines; scot runs once untimed to fill numba's cache. Prints the median of
``--repeat`` alternating runs of each and their ratio (target: at most 0.2), and keeps them
in ``bench-data/forecast/speed.json`` for the page (``forecast_vs_statsforecast.py --report``).
Usage: ``python benchmarks/forecast_speed.py [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time

from forecast_vs_statsforecast import WORK, load_average, scot_cmd, sf_cmd

SETS = (("m1quarterly", 8, "Q", 4), ("m1monthly", 18, "M", 12))


def _timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scratch = WORK / "speed"
    scratch.mkdir(parents=True, exist_ok=True)
    before = load_average()
    sets: dict[str, dict[str, float]] = {}
    for name, horizon, freq, season in SETS:
        train = WORK / name / "train.parquet"
        scot = scot_cmd(train, scratch / "scot.parquet", horizon, freq, [])
        ets = sf_cmd("AutoETS", train, scratch / "ets.json", horizon, freq, season)
        subprocess.run(scot, check=True, capture_output=True)
        times: dict[str, list[float]] = {"scot": [], "AutoETS": []}
        for _ in range(args.repeat):
            times["scot"].append(_timed(scot))
            times["AutoETS"].append(_timed(ets))
        med = {k: statistics.median(v) for k, v in times.items()}
        sets[name] = {**med, "ratio": med["scot"] / med["AutoETS"]}
        print(
            f"{name}: scot {med['scot']:.2f} s, AutoETS {med['AutoETS']:.2f} s "
            f"(medians of {args.repeat}), ratio {med['scot'] / med['AutoETS']:.3f}"
        )
    saved = {
        "command": f"python benchmarks/forecast_speed.py --repeat {args.repeat}",
        "load": f"{before} -> {load_average()}",
        "sets": sets,
    }
    (WORK / "speed.json").write_text(json.dumps(saved, indent=1))


if __name__ == "__main__":
    main()
