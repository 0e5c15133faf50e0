"""Whole-process time of ``scot forecast`` against statsforecast AutoETS, alternating runs.

Uses the training files of M1 and the car parts, as forecast_vs_statsforecast.py writes them
(written here when absent), and the
same command lines; each runs once untimed first (scot fills numba's cache; both write
Python's bytecode cache, :func:`forecast_vs_statsforecast.warm_env`), and the timed runs
hold the benchmark lock (``--no-lock``: they do not wait for it and share the load of
whatever else runs). Prints the median of
``--repeat`` alternating runs of each and their ratio (target: at most 0.2), keeps them in
``bench-data/forecast/speed.json`` (read by ``forecast_vs_statsforecast.py --report``) and
writes them into the speed paragraph of docs/benchmarks/forecast.md, leaving the rest of
the page as it is. Usage: ``python benchmarks/forecast_speed.py [--repeat 5] [--only
m1quarterly] [--no-lock]``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import resource
import statistics
import subprocess
import time

from forecast_vs_statsforecast import (
    KEPT,
    WORK,
    datasets,
    load_average,
    scot_cmd,
    sf_cmd,
    speed_section,
    split,
    train_file,
    warm_env,
)
from machine import RESULTS, bench_lock

SETS = (("m1quarterly", 8, "Q", 4), ("m1monthly", 18, "M", 12), ("carparts", 12, "M", 12))
#: How the speed paragraph of the page begins (see ``speed_section``).
SPEED = "Speed, `"


def _timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system of the process and its children)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - used.ru_utime) + (after.ru_stime - used.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="", help="data sets by name, comma-separated")
    parser.add_argument(
        "--no-lock",
        action="store_true",
        help="do not wait for the benchmark lock (another benchmark may be running: the "
        "alternating runs share its load; say so with the figures)",
    )
    args = parser.parse_args()
    lock = contextlib.nullcontext if args.no_lock else bench_lock
    scratch = WORK / "speed"
    scratch.mkdir(parents=True, exist_ok=True)
    before = load_average()
    sets: dict[str, dict[str, float]] = {}
    path = WORK / "speed.json"
    earlier: dict[str, str] = {}
    if args.only and path.exists():  # keep the other sets' earlier medians, and say so
        kept = json.loads(path.read_text())
        sets.update(kept["sets"])
        earlier = {"command": kept["command"], "load": kept["load"]}
    for name, horizon, freq, season in SETS:
        if args.only and name not in args.only.split(","):
            continue
        train = WORK / name / "train.parquet"
        if not train.exists():  # the training part as forecast_vs_statsforecast.py writes it
            sales = next((d[1] for d in datasets(0) if d[0] == name), None)
            if sales is None:
                print(f"{name}: data absent, skipped")
                continue
            train = train_file(name, split(sales, horizon, freq)[0])
        scot = scot_cmd(train, scratch / "scot.parquet", horizon, freq, [])
        ets = sf_cmd("AutoETS", train, scratch / "ets.json", horizon, freq, season)
        for cmd in (scot, ets):
            subprocess.run(cmd, check=True, capture_output=True, env=warm_env())
        times: dict[str, list[tuple[float, float]]] = {"scot": [], "AutoETS": []}
        with lock():
            for _ in range(args.repeat):
                times["scot"].append(_timed(scot))
                times["AutoETS"].append(_timed(ets))
        med = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
        cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
        sets[name] = {
            **med,
            "ratio": med["scot"] / med["AutoETS"],
            "scot_cpu": cpu["scot"],
            "AutoETS_cpu": cpu["AutoETS"],
            "cpu_ratio": cpu["scot"] / cpu["AutoETS"],
        }
        print(
            f"{name}: scot {med['scot']:.2f} s, AutoETS {med['AutoETS']:.2f} s "
            f"(medians of {args.repeat}), ratio {med['scot'] / med['AutoETS']:.3f}; CPU "
            f"{cpu['scot']:.2f} s vs {cpu['AutoETS']:.2f} s, ratio {sets[name]['cpu_ratio']:.3f}"
        )
    command = (
        "python benchmarks/forecast_speed.py --repeat "
        + str(args.repeat)
        + (f" --only {args.only}" if args.only else "")
        + (" --no-lock" if args.no_lock else "")
    )
    load = f"{before} -> {load_average()}"
    if earlier:  # the page names every run whose medians it shows
        command = f"{earlier['command']}`, then `{command}"
        load = f"{earlier['load']}, then {load}"
    saved = {
        "command": command,
        "load": load,
        "date": dt.date.today().isoformat(),
        "sets": sets,
    }
    (WORK / "speed.json").write_text(json.dumps(saved, indent=1))
    print(write_page())


def write_page() -> str:
    """Replace the speed paragraph of docs/benchmarks/forecast.md (or add it before the
    kept earlier runs) with the one of ``speed.json``; returns the paragraph."""
    page = RESULTS / "forecast.md"
    para = speed_section().strip()
    if not page.exists():
        return para
    lines = page.read_text().split("\n")
    at = [i for i, line in enumerate(lines) if line.startswith(SPEED)]
    if at:
        lines[at[0]] = para
    else:
        end = next((i for i, line in enumerate(lines) if line.startswith(KEPT)), len(lines))
        lines[end:end] = [para, ""]
    page.write_text("\n".join(lines))
    return para


if __name__ == "__main__":
    main()
