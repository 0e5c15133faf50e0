"""Benchmark: last-mile routing (scot_cli.route.solve_vrp, PyVRP) against best-known solutions.

Instances: the CVRPLIB and Solomon sets in ../shared/data/vrp (bks.json gives the best-known
value and the rounding convention: ``round`` = nearest integer, ``dimacs`` = one decimal,
``exact`` = unrounded; CMT6 carries a route-duration limit of 200 with service time 10, which
is honoured). Each instance is solved at the stated time limit with two seeds; the baseline in
the same run is the same search stopped after a tenth of the time. Skips when the data is
absent.

    .venv/bin/python benchmarks/route_vrp.py --time-limit 10
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import REPO, header
from route_common import write_route_section

from scot_cli.route.lastmile import VrpResult, solve_vrp

DATA = REPO.parent / "shared" / "data" / "vrp"
SCALE = {"round": 1, "dimacs": 10, "exact": 1000}


def load(name: str, rounding: str) -> dict[str, object]:
    """An instance as the arrays solve_vrp takes (distances scaled to integers)."""
    import pyvrp

    data = pyvrp.read(str(DATA / f"{name}.vrp"), round_func=rounding)
    clients = data.clients()
    vt = data.vehicle_types()[0]
    shift = 200 * SCALE[rounding] if name == "CMT6" else None
    horizon = int(data.depots()[0].tw_late)
    return {
        "distance": np.asarray(data.distance_matrix(0)),
        "duration": np.asarray(data.duration_matrix(0)),
        "demand": np.array([c.delivery[0] for c in clients]),
        "tw_early": np.array([c.tw_early for c in clients]),
        "tw_late": np.array([c.tw_late for c in clients]),
        "service": np.array([c.service_duration for c in clients]),
        "capacity": int(vt.capacity[0]),
        "vehicles": int(vt.num_available),
        "shift_duration": shift,
        "horizon": horizon if horizon < 2**62 else None,
    }


def solve(inst: dict[str, object], limit: float, seed: int) -> VrpResult:
    return solve_vrp(
        inst["distance"],  # type: ignore[arg-type]
        duration=inst["duration"],  # type: ignore[arg-type]
        demand=inst["demand"],  # type: ignore[arg-type]
        capacity=inst["capacity"],  # type: ignore[arg-type]
        vehicles=inst["vehicles"],  # type: ignore[arg-type]
        tw_early=inst["tw_early"],  # type: ignore[arg-type]
        tw_late=inst["tw_late"],  # type: ignore[arg-type]
        service=inst["service"],  # type: ignore[arg-type]
        shift_duration=inst["shift_duration"],  # type: ignore[arg-type]
        horizon=inst["horizon"],  # type: ignore[arg-type]
        optional=False,
        time_limit=limit,
        seed=seed,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--seeds", type=int, default=2)
    args = ap.parse_args()
    if not (DATA / "bks.json").exists():
        print(f"skipped: {DATA} not found")
        return
    bks = {k: v for k, v in json.loads((DATA / "bks.json").read_text()).items() if k != "_meta"}
    rows = []
    for name, meta in bks.items():
        inst = load(name, meta["rounding"])
        scale = SCALE[meta["rounding"]]
        found: dict[float, list[float]] = {args.time_limit / 10: [], args.time_limit: []}
        feasible = True
        for limit, values in found.items():
            for seed in range(args.seeds):
                res = solve(inst, limit, seed)
                feasible &= res.feasible
                values.append(res.distance / scale)
        base, best = (statistics.median(v) for v in found.values())
        rows.append((name, meta["clients"], meta["bks"], base, best, feasible))
        print(name, base, best, meta["bks"], flush=True)
    gap = [100 * (r[4] - r[2]) / r[2] for r in rows]
    lines = [
        header("route: last mile against best-known solutions"),
        f"PyVRP {pyvrp_version()} through `scot_cli.route.solve_vrp`, {args.time_limit:g} s per "
        f"instance (median of {args.seeds} seeds); baseline: the same search stopped after "
        f"{args.time_limit / 10:g} s. Distances in each instance's rounding convention.\n",
        "| instance | clients | BKS | baseline | scot route | gap to BKS | feasible |",
        "|---|---|---|---|---|---|---|",
    ]
    for (name, n, b, base, best, feas), g in zip(rows, gap, strict=True):
        lines.append(
            f"| {name} | {n} | {b:g} | {base:.2f} | {best:.2f} | {g:.2f}% | "
            f"{'yes' if feas else 'no'} |"
        )
    lines.append(
        f"\nMean gap {statistics.mean(gap):.2f}%, worst {max(gap):.2f}% "
        f"({rows[int(np.argmax(gap))][0]}).\n"
    )
    path = write_route_section("\n".join(lines))
    print(f"wrote {path} in {time.process_time():.0f} s CPU")


def pyvrp_version() -> str:
    from importlib.metadata import version

    return version("pyvrp")


if __name__ == "__main__":
    main()
