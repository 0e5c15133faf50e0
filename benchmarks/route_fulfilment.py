"""Benchmark: fulfilment assignment and truck consolidation against the myopic rule.

The myopic rule ships each line from the nearest FC with stock, on its fastest path and the
first departure (measured in the same run, on the same promises). Cases: the committed
fixtures (1,952 lines), and a generated day of about 100k lines (400 skus, 65,000 orders;
inventory and FC daily capacity scaled by 65,000 / 1,200 so stock matches the larger day),
written under bench-data/route/. Promises come from ``scot promise`` on each case. Figures are
medians of ``--repeat`` runs (one run for the large day unless asked).

    .venv/bin/python benchmarks/route_fulfilment.py --time-limit 30 --big-time-limit 120
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import REPO, bench_lock, header
from route_common import write_route_section

from scot_cli.fixtures import FixtureSpec, generate
from scot_cli.route.assign import RouteOptions, route_lines

BIG = REPO / "bench-data" / "route"
#: The rows of the page: method name -> options (the time limit is the case's).
METHODS: dict[str, dict[str, Any]] = {
    "myopic": {"method": "myopic"},
    "auto": {"method": "auto"},
    "auto --hold": {"method": "auto", "hold": True},
}
SCOT = str(Path(sys.executable).with_name("scot"))


def big_day() -> Path:
    """Generate the ~100k-line day once (scaled stock and FC capacity)."""
    if not (BIG / "orders.parquet").exists():
        BIG.mkdir(parents=True, exist_ok=True)
        tables = generate(FixtureSpec(skus=400, days=120, orders=65_000, seed=11))
        scale = 65_000 / 1_200
        tables["inventory"] = tables["inventory"].with_columns(pl.col("on_hand") * scale)
        tables["nodes"] = tables["nodes"].with_columns(pl.col("daily_capacity") * scale)
        for name, df in tables.items():
            df.write_parquet(BIG / f"{name}.parquet")
    return BIG


def promises(folder: Path, out: Path) -> pl.DataFrame:
    if not out.exists():
        subprocess.run(
            [
                SCOT,
                "promise",
                str(folder / "orders.parquet"),
                "--inventory",
                str(folder / "inventory.parquet"),
                "--nodes",
                str(folder / "nodes.parquet"),
                "--lanes",
                str(folder / "lanes.parquet"),
                "--calendar",
                str(folder / "calendar.parquet"),
                "-o",
                str(out),
            ],
            check=True,
        )
    return pl.read_parquet(out)


def run_case(folder: Path, lines: pl.DataFrame, opt: RouteOptions) -> dict[str, Any]:
    frames = {
        t: pl.read_parquet(folder / f"{t}.parquet")
        for t in ("inventory", "nodes", "lanes", "items")
    }
    start, cpu = time.perf_counter(), cpu_seconds()
    plan = route_lines(
        lines,
        inventory=frames["inventory"],
        nodes=frames["nodes"],
        lanes=frames["lanes"],
        items=frames["items"],
        options=opt,
    )
    s = plan.summary.as_dict()
    s["seconds"] = time.perf_counter() - start
    s["cpu"] = cpu_seconds() - cpu
    return s


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished children so far (route
    solves each MIP in a forked child: scot_cli/route/bounded.py)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def median_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out = dict(runs[0])
    for key in (
        "seconds",
        "cpu",
        "shipping_cost",
        "objective",
        "trucks",
        "mean_fill",
        "boxes_per_order",
        "on_time_share",
        "gap",
    ):
        vals = [r[key] for r in runs if r.get(key) is not None]
        out[key] = statistics.median(vals) if vals else None
    return out


def table_rows(case: str, results: dict[str, dict[str, Any]]) -> list[str]:
    base = results["myopic"]["shipping_cost"] if "myopic" in results else None
    rows = []
    for name, s in results.items():
        gap = "n/a" if s["gap"] is None else f"{100 * s['gap']:.1f}%"
        absolute = "n/a" if s["bound"] is None else f"{s['objective'] - s['bound']:,.0f}"
        saving = "n/a" if base is None else f"{100 * (base - s['shipping_cost']) / base:+.1f}%"
        rows.append(
            f"| {case} | {name} | {s['lines']:,} | {s['shipping_cost']:,.0f} ({saving}) | "
            f"{s['trucks']:.0f} | {s['mean_fill']:.3f} | {s['boxes_per_order']:.3f} | "
            f"{100 * s['on_time_share']:.2f}% | {s['late']} / {s['unshipped']} | {gap} | "
            f"{absolute} | "
            f"{s['seconds']:.1f} ({s['cpu']:.1f}) |"
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--big-time-limit", type=float, default=120.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--big-repeat", type=int, default=1)
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument(
        "--methods",
        default=",".join(METHODS),
        help=f"Methods run on the fixtures, comma-separated (default: {','.join(METHODS)}).",
    )
    ap.add_argument(
        "--no-lock",
        action="store_true",
        help="Do not wait for the benchmark lock (runs beside other benchmarks: say the load).",
    )
    ap.add_argument(
        "--no-page",
        action="store_true",
        help="Print the section only; leave docs/benchmarks/route.md as it is.",
    )
    ap.add_argument(
        "--big-methods",
        default=",".join(METHODS),
        help=f"Methods run on the large day, comma-separated (default: {','.join(METHODS)}).",
    )
    args = ap.parse_args()
    small = [m.strip() for m in args.methods.split(",") if m.strip()]
    cases = [("fixtures", REPO / "fixtures", args.time_limit, args.repeat, small)]
    if not args.skip_big:
        big = [m.strip() for m in args.big_methods.split(",") if m.strip()]
        cases.append(("100k-line day", big_day(), args.big_time_limit, args.big_repeat, big))
    load_before = os.getloadavg()[0]
    statuses: list[str] = []
    lines_out = [
        header("route: fulfilment against the myopic rule"),
        "Shipping cost = unit costs of the paths plus the trucks dispatched (after loading); "
        "the percentage is the saving against the myopic rule. Late / unshipped count lines "
        "(unshipped includes backorders that cannot ship today). Gap = (objective - bound) / "
        "objective with the lateness and unshipped penalties included; objective - bound is the "
        "same in cost units, comparable with the shipping cost.\n",
        "| case | method | lines | shipping cost | trucks | mean fill | boxes per order | "
        "on time | late / unshipped | gap | objective - bound | seconds (CPU) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case, folder, limit, repeat, methods in cases:
        cache = REPO / "bench-data" / f"route-promises-{folder.name}.parquet"
        lines = promises(folder, cache)
        results = {}
        for name in methods:
            opt = RouteOptions(**METHODS[name]).replace(time_limit=limit)
            with contextlib.nullcontext() if args.no_lock else bench_lock():
                runs = [run_case(folder, lines, opt) for _ in range(repeat)]
            results[name] = median_summary(runs)
            print(case, name, results[name], flush=True)
        lines_out += table_rows(case, results)
        statuses += [
            f"{case} {name}: {r['solver_status']} ({r['method']})"
            for name, r in results.items()
            if name != "myopic"
        ]
    lines_out.append(
        "\nSolver status per row (a step cut by the time limit reports `user_limit`; on the "
        "fixtures auto runs the strong LP, then the MIP over its support in a child process "
        "beside the branch and bound on the trucks that proves the gap, then the local "
        "search, and stops early once the bound meets the plan): " + "; ".join(statuses) + "."
    )
    lines_out.append(
        f"\nTime limits: {args.time_limit:g} s on the fixtures ({args.repeat} runs), "
        f"{args.big_time_limit:g} s on the large day ({args.big_repeat} run(s)); the limit "
        "bounds the solver and local search, not reading, option building or loading. With "
        "--hold the plan without holding is made first within the limit, then the hold step "
        "takes up to a quarter of it more for its search and a quarter for its bound. "
        f"Load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
        f"({os.cpu_count()} cores): the solver "
        "and the relaxation stop on wall time, so a busy machine gives them less work. "
        "Each row is a separate run: on a busy machine the first phase of a --hold run (the "
        "same computation as the auto row) can end with another plan, since both stop on "
        "wall time; within one run the hold step never raises the cost of the plan it starts "
        "from (a property test checks it).\n"
    )
    if args.no_page:
        print("\n".join(lines_out))
        return
    path = write_route_section("\n".join(lines_out))
    print(path.read_text())


if __name__ == "__main__":
    main()
