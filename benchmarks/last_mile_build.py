"""Benchmark: where the old last-mile path lost against PyVRP called directly.

Two measurements, each against its floor in the same run:

* building the problem: the old path's ``pyvrp.Model`` with one ``add_edge`` call per pair of
  points against the ``ProblemData`` that ``scot_cli.route.lastmile_search.problem_data`` builds
  from the matrices (random points, 100 to 1,000 stops; median of 3);
* optional stops: the old path made every stop optional with a prize above any detour; the
  same instance with required stops (what PyVRP reads) for the same number of iterations and
  seeds: the distance found and the CPU seconds per 1,000 iterations (iterations, not time,
  so the load does not change the distances).

    .venv/bin/python benchmarks/last_mile_build.py
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from last_mile_vs_pyvrp import DATA, SCALE, arrays, read
from machine import header, write_section


def model_build(dist: np.ndarray, demand: np.ndarray) -> Any:
    """The old path: one Model call per client and per pair of points."""
    from pyvrp import Model

    n = dist.shape[0]
    model = Model()
    locs = [model.add_location(0.0, 0.0) for _ in range(n)]
    depot = model.add_depot(locs[0])
    for i in range(1, n):
        model.add_client(locs[i], delivery=[int(demand[i - 1])])
    model.add_vehicle_type(num_available=n, capacity=[100], start_depot=depot, end_depot=depot)
    for i, j in itertools.product(range(n), repeat=2):
        model.add_edge(locs[i], locs[j], distance=int(dist[i, j]), duration=int(dist[i, j]))
    return model.data()


def build_rows(sizes: list[int]) -> list[str]:
    from scot_cli.route.lastmile_search import problem_data

    rows = []
    for n in sizes:
        rng = np.random.default_rng(n)
        xy = rng.uniform(0, 10_000, size=(n + 1, 2))
        dist = np.round(np.hypot(*(xy[:, None] - xy[None, :]).transpose(2, 0, 1))).astype(int)
        demand = rng.integers(1, 10, n)
        old, new = [], []
        for _ in range(3):
            t = time.process_time()
            model_build(dist, demand)
            old.append(time.process_time() - t)
            t = time.process_time()
            problem_data(dist, demand=demand, capacity=100, vehicles=n)
            new.append(time.process_time() - t)
        o, w = statistics.median(old), statistics.median(new)
        rows.append(f"| {n:,} | {o:.3f} | {w:.4f} | {o / w:,.0f}x |")
        print(rows[-1], flush=True)
    return rows


def optional_rows(names: list[str], seeds: int, iterations: int) -> list[str]:
    import json

    from scot_cli.route.lastmile_search import problem_data, solve_data

    bks = json.loads((DATA / "bks.json").read_text())
    rows = []
    for name in names:
        rounding = bks[name]["rounding"]
        kw: dict[str, Any] = arrays(read(name, rounding))
        dist = kw.pop("distance")
        prize = np.full(dist.shape[0] - 1, 8 * (int(dist.max()) + 1))
        cells = []
        variants: list[tuple[str, dict[str, Any]]] = [
            ("required", {}),
            ("optional", {"prize": prize}),
        ]
        for label, extra in variants:
            data = problem_data(dist, **kw, **extra)
            found, cpu = [], []
            for seed in range(seeds):
                t = time.process_time()
                res = solve_data(data, time_limit=1e9, seed=seed, iterations=iterations)
                cpu.append(time.process_time() - t)
                found.append(res.distance / SCALE[rounding])
            cells.append(
                (label, statistics.median(found), 1000 * statistics.median(cpu) / iterations)
            )
        (_, dr, cr), (_, do, co) = cells
        rows.append(
            f"| {name} | {bks[name]['bks']:g} | {dr:.2f} | {do:.2f} | {cr:.2f} | {co:.2f} |"
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100,300,1000")
    ap.add_argument("--instances", default="M-n101-k10,R101,RC101")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=3000)
    args = ap.parse_args()
    if not (DATA / "bks.json").exists():
        print(f"skipped: {DATA} not found")
        return
    load = os.getloadavg()[0]
    lines = [
        header("last mile: what the old path cost"),
        f"Load average (1 min) at the start: {load:.1f} on {os.cpu_count()} cores; CPU "
        "seconds (process time), which the load inflates less than wall time.\n",
        "Building the problem, CPU seconds (median of 3): the old path's `pyvrp.Model` with "
        "an `add_edge` per pair of points, against `ProblemData` from the matrices (the "
        "floor: what the search needs).\n",
        "| stops | Model + add_edge s | ProblemData s | ratio |",
        "|---|---|---|---|",
        *build_rows([int(s) for s in args.sizes.split(",")]),
        "",
        f"Every stop optional (the old default) against required (as PyVRP reads the "
        f"instance): distance after {args.iterations:,} iterations, median of {args.seeds} "
        "seeds, and CPU ms per iteration.\n",
        "| instance | BKS | required | optional | ms/iter required | ms/iter optional |",
        "|---|---|---|---|---|---|",
        *optional_rows(args.instances.split(","), args.seeds, args.iterations),
        "",
        "Optional stops cost CPU per iteration (the prize operators run too); compare the "
        "distances per iteration to see whether that buys better routes on these instances.\n",
    ]
    path = write_section("last-mile-build", "\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
