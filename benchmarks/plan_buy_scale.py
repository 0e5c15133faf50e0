"""plan-buy at scale: 1M SKUs through the single-echelon path, against a per-SKU loop.

The data is synthetic and generated in memory (nothing is written): per SKU a daily
quantile forecast over the protection horizon (lead times 2..14 days + a 7-day review),
an items row and a stock position. Timed: ``plan_buy`` from frames to the two output frames
(everything the command does between reading and writing). Baseline, measured in the same
run: a straightforward per-SKU Python loop (sum the days, ``scipy.stats.norm.ppf`` for the
order-up-to level, pack rounding) on a sample, extrapolated linearly to the full size.

Also timed (unless ``--no-cli``): the whole process, ``scot plan-buy`` as a subprocess on
Parquet files of the same data, and the command's read / plan / write steps in this process.

Usage: ``python benchmarks/plan_buy_scale.py [--skus 1000000] [--repeat 3]``; ``--json`` and
``--before`` put an earlier run (say, the previous code) side by side.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
from machine import header, write_section

HORIZON = 21
START = dt.date(2026, 1, 5)
Z90 = 1.2815515655446004


def synthetic(n: int, seed: int = 7) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Forecast, items and inventory frames for ``n`` SKUs."""
    rng = np.random.default_rng(seed)
    skus = pl.Series("sku", [f"S{i:07d}" for i in range(n)])
    level = rng.gamma(1.5, 4.0, n)
    cv = rng.uniform(0.3, 1.2, n)
    items = pl.DataFrame(
        {
            "sku": skus,
            "category": pl.Series(["c"]).extend_constant("c", n - 1),
            "unit_cost": rng.uniform(2, 80, n).round(2),
            "price": rng.uniform(90, 160, n).round(2),
            "holding_cost_rate": np.full(n, 0.25),
            "stockout_cost": np.where(rng.random(n) < 0.5, rng.uniform(1, 20, n), np.nan),
            "service_level": np.where(rng.random(n) < 0.5, 0.95, np.nan),
            "order_cost": rng.uniform(0, 60, n),
            "lead_time_days": rng.integers(2, 15, n).astype(float),
            "lead_time_sd": rng.uniform(0, 2, n),
            "moq": rng.integers(0, 3, n) * 12,
            "case_pack": rng.choice([1, 6, 12, 24], n),
            "vendor": pl.Series(["V1"]).extend_constant("V1", n - 1),
            "unit_volume": rng.uniform(0.1, 2, n),
        }
    ).with_columns(pl.col("stockout_cost", "service_level").fill_nan(None))
    items = items.with_columns(
        pl.when(pl.col("stockout_cost").is_null() & pl.col("service_level").is_null())
        .then(0.9)
        .otherwise(pl.col("service_level"))
        .alias("service_level")
    )
    day = np.tile(np.arange(HORIZON), n)
    mean = np.repeat(level, HORIZON) * (1 + 0.2 * np.sin(day * 2 * np.pi / 7))
    sd = mean * np.repeat(cv, HORIZON)
    forecast = pl.DataFrame(
        {
            "sku": skus.gather(np.repeat(np.arange(n), HORIZON)),
            "location": pl.Series(["ALL"]).extend_constant("ALL", n * HORIZON - 1),
            "date": (np.datetime64(START.isoformat(), "D") + day).astype("datetime64[D]"),
            "horizon": day + 1,
            "mean": mean,
            "p10": np.maximum(mean - Z90 * sd, 0),
            "p50": mean,
            "p90": mean + Z90 * sd * 1.15,
        }
    ).with_columns(pl.lit("bench").alias("model"))
    inventory = pl.DataFrame(
        {
            "sku": skus,
            "node": pl.Series(["FC1"]).extend_constant("FC1", n - 1),
            "on_hand": rng.poisson(level * 12).astype(float),
        }
    )
    return forecast, items, inventory


def per_sku_loop(
    forecast: pl.DataFrame, items: pl.DataFrame, inventory: pl.DataFrame, review: float = 7.0
) -> list[float]:
    """The baseline: one Python iteration per SKU with scipy (normal model, cycle target)."""
    from scipy.stats import norm

    by_sku = forecast.partition_by("sku", as_dict=True, maintain_order=True)
    stock = dict(zip(inventory["sku"], inventory["on_hand"], strict=True))
    out = []
    for row in items.iter_rows(named=True):
        days = by_sku[(row["sku"],)]
        span = row["lead_time_days"] + review
        used = days.head(int(np.ceil(span)))
        mean = float(used["mean"].sum())
        var = float((((used["p90"] - used["p10"]) / (2 * Z90)) ** 2).sum())
        var += (mean / span * row["lead_time_sd"]) ** 2
        h = row["unit_cost"] * row["holding_cost_rate"] / 365 * review
        target = row["service_level"] or row["stockout_cost"] / (row["stockout_cost"] + h)
        level = norm.ppf(target, mean, np.sqrt(var))
        need = max(level - stock[row["sku"]], 0.0)
        out.append(np.ceil(need / row["case_pack"]) * row["case_pack"])
    return out


def _median(fn, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Median wall and process-CPU seconds (CPU time sums all threads)."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def whole_process(
    forecast: pl.DataFrame, items: pl.DataFrame, inventory: pl.DataFrame, repeat: int
) -> dict[str, float]:
    """``scot plan-buy`` as a subprocess on Parquet files of the same data (median wall and
    CPU, peak resident memory), then the command's three steps timed in this process: read
    and validate the inputs, plan, write the two outputs."""
    from scot_cli.buy import BuyOptions, plan_buy
    from scot_cli.buy.schema import BUY_ORDERS, BUY_POLICY
    from scot_cli.forecast.schema import FORECAST
    from scot_cli.io import Run
    from scot_cli.schema import INVENTORY, ITEMS

    with tempfile.TemporaryDirectory(prefix="scot-plan-buy-") as tmp:
        folder = Path(tmp)
        paths = {name: folder / f"{name}.parquet" for name in ("forecast", "items", "inventory")}
        forecast.write_parquet(paths["forecast"])
        items.write_parquet(paths["items"])
        inventory.write_parquet(paths["inventory"])
        cmd = [
            sys.executable,
            "-m",
            "scot_cli",
            "plan-buy",
            str(paths["forecast"]),
            "--items",
            str(paths["items"]),
            "--inventory",
            str(paths["inventory"]),
            "-o",
            str(folder / "orders.parquet"),
            "--policy-out",
            str(folder / "policy.parquet"),
        ]
        load = os.getloadavg()[0]
        wall, cpu = [], []
        for _ in range(repeat):
            start, start_cpu = time.perf_counter(), _children_cpu()
            # run from the temporary folder: ``-m`` puts the working directory first on the
            # path, which would shadow the package given by PYTHONPATH (say, older code)
            subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL, cwd=folder)
            wall.append(time.perf_counter() - start)
            cpu.append(_children_cpu() - start_cpu)
        out = {
            "cli_wall": statistics.median(wall),
            "cli_cpu": statistics.median(cpu),
            "cli_peak": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20,
            "cli_load_before": load,
            "cli_load_after": os.getloadavg()[0],
            "input_mib": sum(p.stat().st_size for p in paths.values()) / 2**20,
        }
        options = BuyOptions()
        run = Run("plan-buy", params=options.params())
        t0 = time.perf_counter()
        fc = run.read(str(paths["forecast"]), FORECAST, role="forecast")
        its = run.read(str(paths["items"]), ITEMS, role="items")
        inv = run.read(str(paths["inventory"]), INVENTORY, role="inventory")
        t1 = time.perf_counter()
        plan = plan_buy(fc, items=its, inventory=inv, options=options)
        t2 = time.perf_counter()
        run.write(plan.policy, str(folder / "policy2.parquet"), BUY_POLICY)
        run.write(plan.orders, str(folder / "orders2.parquet"), BUY_ORDERS)
        t3 = time.perf_counter()
    out.update({"step_read": t1 - t0, "step_plan": t2 - t1, "step_write": t3 - t2})
    return out


def measure(args: argparse.Namespace) -> dict[str, float]:
    """Every figure of the report, as numbers (also written with ``--json``)."""
    from scot_cli.buy import BuyOptions, plan_buy

    t0 = time.perf_counter()
    forecast, items, inventory = synthetic(args.skus)
    res: dict[str, float] = {"gen": time.perf_counter() - t0, "rows": forecast.height}
    res["rss_data"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

    auto = BuyOptions()
    plan_buy(
        forecast.head(HORIZON * 100),
        items=items.head(100),
        inventory=inventory.head(100),
        options=auto,
    )
    res["load_before"] = os.getloadavg()[0]
    res["auto_wall"], res["auto_cpu"] = _median(
        lambda: plan_buy(forecast, items=items, inventory=inventory, options=auto), args.repeat
    )
    base = BuyOptions(policy="base_stock", distribution="normal")
    res["base_wall"], res["base_cpu"] = _median(
        lambda: plan_buy(forecast, items=items, inventory=inventory, options=base), args.repeat
    )
    res["load_after"] = os.getloadavg()[0]
    res["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

    k = min(args.sample, args.skus)
    fs, its, inv = forecast.head(k * HORIZON), items.head(k), inventory.head(k)
    import scipy.stats  # noqa: F401  (imported before timing the loop, which uses it)

    res["sample"] = k
    res["loop_cpu"] = _median(lambda: per_sku_loop(fs, its, inv), 1)[1] * args.skus / k
    plan = plan_buy(forecast, items=items, inventory=inventory, options=auto)
    res["orders"] = plan.orders.filter(pl.col("status") == "order").height
    if args.cli:
        res.update(whole_process(forecast, items, inventory, args.repeat))
    return res


def report(args: argparse.Namespace, res: dict[str, float], before: dict[str, float] | None) -> str:
    """The Markdown section (before and after side by side when ``before`` is given)."""
    runs = [before, res] if before is not None else [res]

    def cells(key: str, digits: int = 2) -> list[str]:
        return [f"{r[key]:.{digits}f}" if key in r else "" for r in runs]

    def row(what: str, wall: str, cpu: str, digits: int = 2) -> str:
        return "| " + " | ".join([what, *cells(wall, digits), *cells(cpu, digits)]) + " |\n"

    if before is None:
        head = "| what | wall s | CPU s |\n|---|---|---|\n"
    else:
        head = (
            "| what | before: wall s | after: wall s | before: CPU s | after: CPU s |\n"
            "|---|---|---|---|---|\n"
        )
    k = int(res["sample"])
    intro = ""
    if before is not None:
        intro = (
            f"\nBefore: {args.before_label}, measured with this script just before (same data, "
            "same machine, same lock). After: the code of this commit. The whole-process rows "
            "run the command, so each includes its own code's reading, validation and writing "
            "too.\n"
        )
    text = intro + (
        f"\nSynthetic data generated in memory ({args.skus:,} SKUs x {HORIZON} daily forecast "
        f"rows = {int(res['rows']):,} rows, {res['gen']:.1f} s to generate, not timed). Timed: "
        "`plan_buy` from frames to the orders and policy frames (everything the command does "
        f"between reading and writing). Medians of {args.repeat} runs.\n\n"
        + head
        + row("`plan_buy` auto policy, auto (quantile-shaped) demand", "auto_wall", "auto_cpu")
        + row("`plan_buy` base_stock, normal demand", "base_wall", "base_cpu")
    )
    if "cli_wall" in res:
        text += row(
            "whole process: `scot plan-buy` on Parquet files (auto; start-up, read, validate, "
            "plan, write both outputs)",
            "cli_wall",
            "cli_cpu",
        )
    text += row(
        f"baseline: per-SKU Python loop with scipy (normal, base stock), {k:,}-SKU sample "
        "extrapolated",
        "-",
        "loop_cpu",
        1,
    )
    met = "met" if res["auto_wall"] < 10 else "missed"
    load = f"{res['load_before']:.1f} at the start, {res['load_after']:.1f} at the end"
    if before is not None:
        load = (
            f"before runs {before['load_before']:.1f} at the start, "
            f"{before['load_after']:.1f} at the end; after runs {res['load_before']:.1f} and "
            f"{res['load_after']:.1f}"
        )
    text += (
        f"\nSpeed-up over the loop (CPU): {res['loop_cpu'] / res['auto_cpu']:.0f}x. Target "
        f"< 10 s wall for 1M SKUs (`plan_buy`, auto policy): **{met}** "
        f"({res['auto_wall']:.2f} s). Load average (1 min) during the timed runs: {load}, on "
        f"{os.cpu_count()} cores (a shared machine: wall time includes waiting for other "
        "processes; the CPU column does not, and counts every thread). "
        f"{int(res['orders']):,} orders placed.\n\n"
    )
    for label, r in (("before", before), ("after", res)):
        if r is None:
            continue
        who = f"{label.capitalize()}: p" if before is not None else "P"
        text += (
            f"{who}eak resident memory of the benchmark process {r['peak']:.2f} GiB, of which "
            f"{r['rss_data']:.2f} GiB after generating the input frames"
        )
        if "cli_wall" in r:
            text += (
                f"; of the `scot plan-buy` process {r['cli_peak']:.2f} GiB. The command's steps "
                f"in one process (one run): read and validate {r['step_read']:.2f} s, plan "
                f"{r['step_plan']:.2f} s, write {r['step_write']:.2f} s (the rest of the "
                "subprocess wall time is start-up and waiting); load average "
                f"{r['cli_load_before']:.1f} at the start of the subprocess runs, "
                f"{r['cli_load_after']:.1f} at the end"
            )
        text += ".\n\n"
    if "input_mib" in res:
        text += f"Parquet input of the whole-process runs: {res['input_mib']:.0f} MiB.\n"
    return text


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sample", type=int, default=2000)
    ap.add_argument(
        "--no-cli", dest="cli", action="store_false", help="skip the whole-process timing"
    )
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument(
        "--before",
        type=Path,
        help="figures of an earlier run (its --json) to report side by side, e.g. the "
        "previous code: PYTHONPATH=<old checkout> python plan_buy_scale.py --json before.json "
        "--no-write",
    )
    ap.add_argument(
        "--before-label",
        default="the previous code",
        help="what the --before figures are, for the report (e.g. 'commit abc1234')",
    )
    ap.add_argument("--no-write", dest="write", action="store_false", help="print only")
    args = ap.parse_args()

    res = measure(args)
    if args.json is not None:
        args.json.write_text(json.dumps(res, indent=1))
    before = json.loads(args.before.read_text()) if args.before is not None else None
    text = header("plan-buy: 1M SKUs, single-echelon, vectorised") + report(args, res, before)
    print(text)
    if args.write:
        write_section("plan-buy", text)


if __name__ == "__main__":
    main()
