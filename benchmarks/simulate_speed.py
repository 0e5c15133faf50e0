"""Speed of ``scot simulate``: one simulated year of the fixtures under scot's policy, and a
generated 10,000-sku network over 90 days (time and peak memory), its FCs' throughput and
storage scaled from the fixture generator's 80 skus to the catalogue.

Each case runs in its own process so its peak memory is its own. The 10,000-sku case
plans on a flat forecast (the last 28 days' mean; forecasting 80,000 series is the
forecast benchmark's subject) and runs scot's policy as plan-buy per FC without place
(``transfers = false``: place's LP over 10,000 skus takes minutes a review; see
docs/benchmarks/place.md) against the baseline. Run:

    .venv/bin/python benchmarks/simulate_speed.py --case year
    .venv/bin/python benchmarks/simulate_speed.py --case large --skus 10000 --days 90

Each run writes bench-data/simulate_speed_<case>.json and replaces its own block of
docs/benchmarks/simulate.md (command, date, load, wall, CPU, peak memory, and for the year
the 3-minute target met or missed); ``--no-page`` leaves the page alone. Every simulated
day calls scot promise and scot route, so the large case's time grows with the skus.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import resource
import shlex
import sys
import time

import polars as pl
from machine import REPO, bench_lock, machine
from simulate_report import write_speed

from scot_cli.simulate import PolicySpec, simulate

OUT = REPO / "bench-data"
#: Skus the fixture generator sizes its FCs' throughput and storage for.
FIXTURE_SKUS = 80


def flat_forecast(sales: pl.DataFrame, days: int) -> pl.DataFrame:
    """The last 28 days' mean per sku and region, flat over ``days``, with a spread."""
    last = sales["date"].max()
    assert isinstance(last, dt.date)
    level = (
        sales.filter(pl.col("date") > last - dt.timedelta(days=28))
        .group_by("sku", "location")
        .agg(pl.col("units").mean().alias("mean"))
    )
    steps = pl.DataFrame({"horizon": list(range(1, days + 1))})
    return level.join(steps, how="cross").with_columns(
        (pl.lit(last) + pl.duration(days=pl.col("horizon"))).cast(pl.Date).alias("date"),
        (pl.col("mean") * 0.4).alias("p10"),
        pl.col("mean").alias("p50"),
        (pl.col("mean") * 1.8 + 1.0).alias("p90"),
        pl.lit("flat").alias("model"),
    )


def year(days: int) -> dict[str, object]:
    f = REPO / "fixtures"
    result = simulate(
        f / "sales.parquet",
        items=f / "items.parquet",
        nodes=f / "nodes.parquet",
        lanes=f / "lanes.parquet",
        inventory=f / "inventory.parquet",
        events=f / "events.parquet",
        days=days,
        policies=("scot",),
    )
    return {"summary": result.summary.lines()}


def network(skus: int, days: int) -> dict[str, pl.DataFrame]:
    """A generated network of ``skus`` skus (FC throughput and storage scaled with them) and
    a flat forecast over ``days`` and more."""
    from scot_cli.fixtures import FixtureSpec, generate

    tb = generate(FixtureSpec(skus=skus, days=120, orders=10, seed=11))
    # the generator sizes FC throughput and storage for its 80 skus: scaled with the
    # catalogue, the network can ship what it sells and the route work is a real day's
    grow = skus / FIXTURE_SKUS
    nodes = tb["nodes"].with_columns(
        pl.col("daily_capacity") * grow, pl.col("storage_capacity") * grow
    )
    return {**tb, "nodes": nodes, "forecast": flat_forecast(tb["sales"], days + 120)}


def large(tb: dict[str, pl.DataFrame], days: int) -> dict[str, object]:
    result = simulate(
        tb["sales"],
        items=tb["items"],
        nodes=tb["nodes"],
        lanes=tb["lanes"],
        inventory=tb["inventory"],
        forecast=tb["forecast"],
        days=days,
        policies=(PolicySpec(name="scot", kind="scot", transfers=False), "baseline"),
    )
    return {"summary": result.summary.lines()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--case", choices=("year", "large"), required=True)
    ap.add_argument("--skus", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=0)
    ap.add_argument(
        "--no-page", action="store_true", help="Do not write the docs/benchmarks page's block."
    )
    ap.add_argument(
        "--no-lock", action="store_true", help="Do not wait for other benchmarks' lock."
    )
    args = ap.parse_args()
    days = args.days or (365 if args.case == "year" else 90)
    with contextlib.nullcontext() if args.no_lock else bench_lock():
        made: dict[str, object] = {}
        if args.case == "large":  # generating the network is not simulating it
            t0 = time.perf_counter()
            tb = network(args.skus, days)
            made["generate_s"] = time.perf_counter() - t0
        load_start = os.getloadavg()
        wall, cpu = time.perf_counter(), time.process_time()
        extra = year(days) if args.case == "year" else large(tb, days)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    record = {
        "command": " ".join(shlex.quote(a) for a in ["python", *sys.argv]),
        "machine": machine(),
        "load_average_start": load_start,
        "load_average": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d"),
        "case": args.case,
        "skus": args.skus if args.case == "large" else 80,
        "days": days,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **made,
        **extra,
    }
    out = OUT / f"simulate_speed_{args.case}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1))
    print(json.dumps(record, indent=1))
    if not args.no_page:
        write_speed(record)
        print(f"page section written: docs/benchmarks/simulate.md (speed:{args.case})")


if __name__ == "__main__":
    main()
