"""Time the exact (s,S) policy of ``plan_buy`` on many Poisson skus.

Synthetic skus of the scale of Snyder & Shen Example 4.7: daily Poisson demand of mean 0.5
to 12, holding cost 1 per unit per day, stock-out cost 2 to 10 per unit short, order cost
1 to 20, lead time 0 to 3 days, one-day review. Timed: ``plan_buy(..., policy="ss",
distribution="poisson")`` from frames to the two output frames, and the vectorised search
alone (:func:`scot_cli.buy.ss_exact.ss_levels`) on the same demand; a sample is checked
against Zheng & Federgruen's one-sku search.

Usage: ``python benchmarks/plan_buy_exact.py [--skus 1000000] [--days 14] [--check 200]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import time

import numpy as np
import polars as pl


def synthetic(n: int, days: int, seed: int = 11) -> tuple[pl.DataFrame, ...]:
    """Forecast, items and inventory of ``n`` Poisson skus (forecast sorted by sku)."""
    rng = np.random.default_rng(seed)
    skus = pl.Series("sku", [f"S{i:07d}" for i in range(n)])
    lam = rng.uniform(0.5, 12, n)
    start = dt.date(2026, 1, 5)
    fc = pl.DataFrame(
        {
            "sku": skus.gather(np.repeat(np.arange(n), days)),
            "location": "ALL",
            "date": pl.date_range(start, start + dt.timedelta(days=days - 1), eager=True).gather(
                np.tile(np.arange(days), n)
            ),
            "horizon": np.tile(np.arange(1, days + 1), n),
            "mean": np.repeat(lam, days),
        }
    ).with_columns(
        pl.col("mean").alias("p10"),
        pl.col("mean").alias("p50"),
        pl.col("mean").alias("p90"),
        pl.lit("bench").alias("model"),
    )
    items = pl.DataFrame(
        {
            "sku": skus,
            "category": "c",
            "unit_cost": 365.0,
            "price": 500.0,
            "holding_cost_rate": 1.0,
            "stockout_cost": rng.uniform(2, 10, n),
            "order_cost": rng.uniform(1, 20, n),
            "lead_time_days": rng.integers(0, 4, n).astype(float),
            "lead_time_sd": 0.0,
            "moq": 0,
            "case_pack": 1,
            "vendor": "V1",
            "unit_volume": 1.0,
        }
    )
    inventory = pl.DataFrame(
        {"sku": skus, "node": "FC1", "on_hand": rng.integers(0, 30, n).astype(float)}
    )
    return fc, items, inventory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--check", type=int, default=200, help="skus checked one by one")
    args = parser.parse_args()

    from scot_cli.buy import plan_buy
    from scot_cli.buy.classic import poisson_pmf, ss_zheng_federgruen
    from scot_cli.buy.distributions import Poisson
    from scot_cli.buy.ss_exact import ss_levels

    fc, items, inventory = synthetic(args.skus, args.days)
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    result = plan_buy(
        fc, items=items, inventory=inventory, policy="ss", distribution="poisson", review_days=1
    )
    t1, c1 = time.perf_counter(), time.process_time()
    lam = fc.group_by("sku", maintain_order=True).agg(pl.col("mean").first())["mean"].to_numpy()
    lead = items["lead_time_days"].to_numpy()
    h = np.ones(args.skus)
    p = items["stockout_cost"].to_numpy()
    k = items["order_cost"].to_numpy()
    t2, c2 = time.perf_counter(), time.process_time()
    levels = ss_levels(
        lambda idx: (Poisson(lam[idx]), Poisson(lam[idx] * (lead[idx] + 1))), args.skus, h, p, k
    )
    t3, c3 = time.perf_counter(), time.process_time()
    policy = result.policy
    same = policy["reorder_point"].to_numpy() == levels.s
    same &= policy["order_up_to"].to_numpy() == levels.S
    rng = np.random.default_rng(3)
    checked = mismatched = 0
    for i in rng.choice(args.skus, size=min(args.check, args.skus), replace=False):
        if lead[i] != 0:
            continue  # the one-sku search is for zero lead time
        s, big_s, _ = ss_zheng_federgruen(h[i], p[i], k[i], poisson_pmf(lam[i]))
        checked += 1
        mismatched += int((s, big_s) != (levels.s[i], levels.S[i]))
    print(f"date: {dt.date.today()}  machine: {platform.machine()}, {os.cpu_count()} cores")
    print(f"load average before: {load:.1f}, after: {os.getloadavg()[0]:.1f}")
    print(f"skus: {args.skus:,}  forecast rows: {fc.height:,}")
    print(f"plan_buy policy=ss distribution=poisson: {t1 - t0:.2f} s wall, {c1 - c0:.2f} s CPU")
    print(f"ss_levels alone: {t3 - t2:.2f} s wall, {c3 - c2:.2f} s CPU", end="; ")
    print(f"exact rows {int(levels.exact.sum()):,}")
    print(f"plan_buy levels equal to ss_levels: {int(same.sum()):,} of {args.skus:,}")
    print(f"checked against Zheng-Federgruen one by one: {checked}, mismatched {mismatched}")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
    print(f"summary: {result.summary}")


if __name__ == "__main__":
    main()
